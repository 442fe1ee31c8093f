import { describe, expect, it } from "vitest"
import { averagePathLength, isolationForest, type IsolationForestModel, linearQuantile } from "../../src/detectors/IsolationForest.ts"
import { mulberry32 } from "../../src/artifacts/Random.ts"
import { counts, decodeConfig, fitOk, range, view } from "./fixtures.ts"

describe("isolation_forest config", () => {
  it("applies loglizer's defaults", () => {
    expect(decodeConfig(isolationForest, {})).toEqual({
      n_estimators: 100,
      max_samples: 256,
      contamination: 0.03,
      seed: 0,
      term_weighting: "none",
      normalization: "none",
      train_on: "all"
    })
  })

  it.each([
    ["contamination", { contamination: 0 }],
    ["contamination", { contamination: 0.6 }],
    ["contamination", { contamination: -0.1 }],
    ["n_estimators", { n_estimators: 0 }],
    ["max_samples", { max_samples: 1 }],
    ["seed", { seed: -1 }],
    ["seed", { seed: 1.5 }],
    ["n_trees", { n_trees: 10 }]
  ])("rejects a bad %s", (key, input) => {
    expect(() => decodeConfig(isolationForest, input)).toThrow(key)
  })

  it("accepts contamination 0.5", () => {
    expect(decodeConfig(isolationForest, { contamination: 0.5 }).contamination).toBe(0.5)
  })
})

describe("isolation_forest", () => {
  it("uses scikit-learn's average path length c(n)", () => {
    expect([0, 1, 2].map(averagePathLength)).toEqual([0, 0, 1])
    // c(3) = 2(ln 2 + γ) − 4/3; c(256) = 2(ln 255 + γ) − 510/256 ≈ 10.2448 (Liu et al.'s ψ = 256).
    expect(averagePathLength(3)).toBeCloseTo(2 * (Math.LN2 + 0.5772156649) - 4 / 3, 12)
    expect(averagePathLength(256)).toBeCloseTo(10.2448, 4)
  })

  it("interpolates quantiles like numpy", () => {
    expect(linearQuantile([1, 2, 3, 4], 0.5)).toBe(2.5)
    expect(linearQuantile([1, 2, 3, 4], 0.97)).toBeCloseTo(3.91, 12)
    expect(linearQuantile([5], 0.3)).toBe(5)
  })

  it("computes the only possible forest of {0, 0, 10} by hand", () => {
    // ψ = 3, depth limit 2. Every tree splits 0 | 10 at the root: the two zeros form an all-equal leaf
    // (h = 1 + c(2) = 2), the 10 a leaf of one (h = 1). s = 2^(−h / c(3)).
    const d = view([[], [], counts([1, 10])])
    const model = fitOk(isolationForest, d, range(3), { n_estimators: 5, contamination: 0.5 })
    const c3 = averagePathLength(3)
    const out = isolationForest.score(model, d, range(3), decodeConfig(isolationForest, {}))
    expect(out.scores[0]).toBeCloseTo(2 ** (-2 / c3), 12)
    expect(out.scores[2]).toBeCloseTo(2 ** (-1 / c3), 12)
    // Threshold: median of the training scores [s0, s0, s10] = s0; only the 10 is above it.
    expect(model.threshold).toBeCloseTo(2 ** (-2 / c3), 12)
    expect([...out.predictions]).toEqual([0, 0, 1])
  })

  it("isolates an outlier and is deterministic under its seed", () => {
    const random = mulberry32(3)
    const seqs = Array.from({ length: 300 }, () => counts([1, 3 + Math.floor(random() * 2)], [2, 3 + Math.floor(random() * 2)]))
    seqs.push(counts([1, 30], [2, 1], [3, 5]))
    const d = view(seqs)
    const a = fitOk(isolationForest, d, range(301), { seed: 11 })
    const b = fitOk(isolationForest, d, range(301), { seed: 11 })
    const c = fitOk(isolationForest, d, range(301), { seed: 12 })
    expect(b).toEqual(a)
    expect(c.trees).not.toEqual(a.trees)
    expect(a.samples).toBe(256)
    const out = isolationForest.score(a, d, range(301), decodeConfig(isolationForest, {}))
    expect(Math.max(...out.scores)).toBe(out.scores[300])
    for (const s of out.scores) expect(s > 0 && s <= 1).toBe(true)
    expect(out.predictions[300]).toBe(1)
    // About `contamination` of the training rows lie above the threshold (ties keep it at or below 3%).
    expect(out.predictions.reduce((x, y) => x + y, 0)).toBeLessThanOrEqual(Math.ceil(0.03 * 301))
  })

  it("scores the same from a JSON round trip", () => {
    const d = view([[1], [1, 1], [2], [1, 2, 2], [3, 3, 3]])
    const model = fitOk(isolationForest, d, range(5), { n_estimators: 10 })
    const copy = JSON.parse(JSON.stringify(model)) as IsolationForestModel
    const config = decodeConfig(isolationForest, {})
    expect(isolationForest.score(copy, d, range(5), config)).toEqual(isolationForest.score(model, d, range(5), config))
  })

  it.each([
    ["one training row", [[1]], [0], /at least 2 training rows/],
    ["anomalies only", [[1], [2]], [1, 1], /needs normal training sequences/],
    ["an empty train split", [], [], /train split is empty/]
  ])("is invalid with %s", (_, seqs, labels, reason) => {
    const out = isolationForest.fit(view(seqs, labels), range(seqs.length), decodeConfig(isolationForest, {}))
    expect(out.status === "invalid" && out.reason).toMatch(reason)
  })
})
