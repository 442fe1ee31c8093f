import { describe, expect, it } from "vitest"
import { fitFeatures } from "../../src/detectors/base/Features.ts"
import { integerInvariant, invariantsMining, type InvariantsMiningModel, roundHalfEven } from "../../src/detectors/InvariantsMining.ts"
import { counts, decodeConfig, fitOk, range, view } from "./fixtures.ts"

// Templates 5 (open), 7 (close), 9 (noise): every training sequence opens as often as it closes.
const abc = [[1, 1, 0], [2, 2, 1], [1, 1, 3], [3, 3, 0], [1, 1, 1], [2, 2, 2]]
const train = abc.map(([a, b, c]) => counts([5, a!], [7, b!], [9, c!]))
const queries = [counts([5, 2], [7, 1]), counts([5, 4], [7, 4], [9, 7]), counts([9, 1])]
const data = view([...train, ...queries])

describe("invariants_mining config", () => {
  it("applies loglizer's defaults", () => {
    expect(decodeConfig(invariantsMining, {})).toEqual({
      percentage: 0.98,
      epsilon: 0.5,
      longest_invariant: 0,
      scale_list: [1, 2, 3],
      term_weighting: "none",
      normalization: "none",
      train_on: "all"
    })
  })

  it.each([
    ["percentage", { percentage: 0 }],
    ["percentage", { percentage: 1.1 }],
    ["epsilon", { epsilon: -0.5 }],
    ["longest_invariant", { longest_invariant: -1 }],
    ["scale_list", { scale_list: [] }],
    ["scale_list", { scale_list: [0] }],
    ["percent", { percent: 0.9 }]
  ])("rejects a bad %s", (key, input) => {
    expect(() => decodeConfig(invariantsMining, input)).toThrow(key)
  })
})

describe("invariants_mining", () => {
  it("mines open − close = 0 and flags sequences that break it", () => {
    // Invariant space: (1, −1, 0)/√2 annihilates every row; no other unit direction keeps all six
    // rows within ε = 0.5 (row (3,3,0) forces a small (1,1,0) part, then (1,1,3) breaks it), so r = 1.
    const model = fitOk(invariantsMining, data, range(6))
    expect(model.dimension).toBe(1)
    expect(model.invariants).toEqual([{ columns: [0, 1], theta: [1, -1] }])
    const out = invariantsMining.score(model, data, range(6, 9), decodeConfig(invariantsMining, {}))
    expect([...out.scores]).toEqual([1, 0, 0])
    expect([...out.predictions]).toEqual([1, 0, 0])
    expect(out.threshold).toBe(1e-6)
  })

  it("finds a three-template invariant (a + b = c) unless longest_invariant stops at pairs", () => {
    const rows = [[1, 0, 1], [0, 1, 1], [1, 1, 2], [2, 1, 3], [1, 3, 4], [3, 1, 4], [2, 2, 4]]
    const d = view([...rows.map(([a, b, c]) => counts([1, a!], [2, b!], [3, c!])), counts([1, 1], [2, 1], [3, 1])])
    const model = fitOk(invariantsMining, d, range(7))
    expect(model.invariants).toEqual([{ columns: [0, 1, 2], theta: [1, 1, -1] }])
    const out = invariantsMining.score(model, d, Int32Array.from([7]), decodeConfig(invariantsMining, {}))
    expect(out.scores[0]).toBe(1)
    expect(fitOk(invariantsMining, d, range(7), { longest_invariant: 2 }).invariants).toEqual([])
  })

  it("scales θ to integers with the scale list (3a = 2b needs scale 2)", () => {
    const d = view([counts([1, 2], [2, 3]), counts([1, 4], [2, 6]), counts([1, 6], [2, 9])])
    const { matrix } = fitFeatures(d, range(3), { termWeighting: "none", normalization: "none" })
    // Eigenvector ∝ (3, −2): scale 1 rounds to (−2, 1) (−1.5 to even), which fails; scale 2 gives (−3, 2).
    expect(integerInvariant(matrix, [0, 1], [1, 2, 3], 1)).toEqual([-3, 2])
    expect(integerInvariant(matrix, [0, 1], [1], 1)).toBeUndefined()
  })

  it("rounds half to even like numpy", () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6].map(roundHalfEven)).toEqual([0, 2, 2, 0, -2, 2, -3])
  })

  it("scores the same from a JSON round trip", () => {
    const model = fitOk(invariantsMining, data, range(6))
    const copy = JSON.parse(JSON.stringify(model)) as InvariantsMiningModel
    const config = decodeConfig(invariantsMining, {})
    expect(invariantsMining.score(copy, data, range(9), config)).toEqual(invariantsMining.score(model, data, range(9), config))
  })

  it.each([
    ["an empty train split", [], [], /train split is empty/],
    ["anomalies only", [[1, 2]], [1], /needs normal training sequences/],
    ["only empty sequences", [[], []], [0, 0], /no events/]
  ])("is invalid with %s", (_, seqs, labels, reason) => {
    const d = view(seqs, labels)
    const out = invariantsMining.fit(d, range(seqs.length), decodeConfig(invariantsMining, {}))
    expect(out.status).toBe("invalid")
    if (out.status === "invalid") expect(out.reason).toMatch(reason)
  })
})
