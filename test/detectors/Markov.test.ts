import { describe, expect, it } from "vitest"
import { markov, type MarkovModel } from "../../src/detectors/Markov.ts"
import { decodeConfig, fitOk, range, view } from "./fixtures.ts"

// Train s0..s2 = [1, 2], [1, 2], [1, 3]; queries s3.. = [2], [], [1, 9], [1, 2].
const data = view([[1, 2], [1, 2], [1, 3], [2], [], [1, 9], [1, 2]], [0, 0, 0, -1, -1, -1, -1])
const train = [0, 1, 2]
const queries = Int32Array.from([3, 4, 5, 6])

describe("markov config", () => {
  it("applies defaults", () => {
    expect(decodeConfig(markov, {})).toEqual({ order: 1, smoothing: 1, threshold_quantile: 0.97, train_on: "all" })
  })

  it.each([
    ["smoothing", { smoothing: -1 }],
    ["smoothing", { smoothing: 0 }],
    ["order", { order: 0 }],
    ["order", { order: 1.5 }],
    ["threshold_quantile", { threshold_quantile: 0 }],
    ["train_on", { train_on: "anomalies" }],
    ["n_gram", { n_gram: 2 }]
  ])("rejects a bad %s", (key, input) => {
    expect(() => decodeConfig(markov, input)).toThrow(key)
  })
})

describe("markov", () => {
  it("scores the least likely transition, order 1, by hand", () => {
    // V = 3 templates, alphabet V + 2 = 5, α = 1. Counts: S→1: 3; 1→2: 2; 1→3: 1; 2→E: 2; 3→E: 1.
    // P(1|S) = 4/8, P(2|1) = 3/8, P(3|1) = 2/8, P(E|2) = 3/7, P(E|3) = 2/6; unseen context: 1/5.
    const model = fitOk(markov, data, train, { threshold_quantile: 1 })
    expect(model.threshold).toBeCloseTo(Math.log(4), 12) // max of ln(8/3), ln(8/3), ln 4
    const out = markov.score(model, data, queries, decodeConfig(markov, {}))
    // [2]: S→2 = 1/8; [] : S→E = 1/8; [1, 9]: 1→9 = 1/8, then context 9 unseen (1/5); [1, 2]: 3/8.
    expect([...out.scores].map((s) => Number(s.toFixed(12)))).toEqual(
      [Math.log(8), Math.log(8), Math.log(8), Math.log(8 / 3)].map((s) => Number(s.toFixed(12)))
    )
    expect([...out.predictions]).toEqual([1, 1, 1, 0])
  })

  it("uses longer contexts (order 2) and the smoothing α", () => {
    // Order 2, α = 2, alphabet 5. Context (1, 2) → E twice; (1, 3) → E once; (S, 1) → 2 twice, → 3 once.
    const config = { order: 2, smoothing: 2, threshold_quantile: 1 }
    const model = fitOk(markov, data, train, config)
    expect(model.contexts.map((c) => c.context)).toEqual([[-1, -1], [-1, 1], [1, 2], [1, 3]])
    const out = markov.score(model, data, Int32Array.from([6, 2]), decodeConfig(markov, config))
    // [1, 2]: P(1|S,S) = 5/13, P(2|S,1) = 4/13, P(E|1,2) = 4/12 → max −ln = ln(13/4).
    expect(out.scores[0]).toBeCloseTo(Math.log(13 / 4), 12)
    // [1, 3]: P(3|S,1) = 3/13 → ln(13/3); P(E|1,3) = 3/11.
    expect(out.scores[1]).toBeCloseTo(Math.log(13 / 3), 12)
  })

  it("takes the threshold at a quantile of the training scores and can train on normal sequences only", () => {
    const d = view([[1, 2], [1, 2], [1, 3], [7, 7]], [0, 0, 0, 1])
    // train_on normal drops s3; training scores ln(8/3), ln(8/3), ln 4; q = 0.5 → rank 2 → ln(8/3).
    const model = fitOk(markov, d, [0, 1, 2, 3], { train_on: "normal", threshold_quantile: 0.5 })
    expect(model.threshold).toBeCloseTo(Math.log(8 / 3), 12)
    expect(model.templates).toEqual([1, 2, 3])
  })

  it("scores the same from a JSON round trip", () => {
    const model = fitOk(markov, data, train)
    const copy = JSON.parse(JSON.stringify(model)) as MarkovModel
    const config = decodeConfig(markov, {})
    expect(markov.score(copy, data, range(7), config)).toEqual(markov.score(model, data, range(7), config))
  })

  it.each([
    ["an empty train split", [], /train split is empty/],
    ["anomalies only", [3], /needs normal training sequences/]
  ])("is invalid with %s", (_, trainSet, reason) => {
    const d = view([[1], [2], [3], [4]], [0, 0, 0, 1])
    const out = markov.fit(d, Int32Array.from(trainSet), decodeConfig(markov, {}))
    expect(out.status).toBe("invalid")
    if (out.status === "invalid") expect(out.reason).toMatch(reason)
  })
})
