import { describe, expect, it } from "vitest"
import { pca, type PcaModel, qStatistic } from "../../src/detectors/PCA.ts"
import { counts, decodeConfig, fitOk, view } from "./fixtures.ts"

// Templates A = 1, B = 2. Training counts (4,1), (0,1), (2,2), (2,0): means (2, 1), so the zero-mean
// rows are (2,0), (−2,0), (0,1), (0,−1) and C = XᵀX / 4 = diag(2, 0.5).
const train = [counts([1, 4], [2, 1]), counts([2, 1]), counts([1, 2], [2, 2]), counts([1, 2])]
// Queries: (3, 3) → centred (1, 2); (6, 1) → (4, 0).
const data = view([...train, counts([1, 3], [2, 3]), counts([1, 6], [2, 1])], [0, 0, 0, 0, -1, -1])
const raw = { term_weighting: "none", normalization: "zero-mean" }

// Q-statistic for the residual eigenvalue 0.5 alone: φ1 = 0.5, φ2 = 0.25, φ3 = 0.125,
// h0 = 1 − 2·0.5·0.125 / (3·0.0625) = 1/3, Q = 0.5·(c·√(2·0.25·(1/9)) / 0.5 + 1 + 0.25·(1/3)(−2/3) / 0.25)^3.
const q = (c: number) => 0.5 * (c * Math.sqrt(0.5 / 9) / 0.5 + 1 - 2 / 9) ** 3

describe("pca config", () => {
  it("applies loglizer's defaults", () => {
    expect(decodeConfig(pca, {})).toEqual({
      n_components: 0.95,
      threshold: "q_statistic",
      c_alpha: 3.2905,
      term_weighting: "tf-idf",
      normalization: "zero-mean",
      train_on: "all"
    })
  })

  it.each([
    ["n_components", { n_components: 0 }],
    ["n_components", { n_components: 1.5 }],
    ["c_alpha", { c_alpha: -1 }],
    ["threshold", { threshold: -2 }],
    ["threshold", { threshold: "auto" }],
    ["term_weighting", { term_weighting: "bm25" }],
    ["normalization", { normalization: "unit" }],
    ["components", { components: 2 }]
  ])("rejects a bad %s", (key, input) => {
    expect(() => decodeConfig(pca, input)).toThrow(key)
  })
})

describe("pca", () => {
  it("keeps the components for the variance fraction and computes SPE and the Q threshold by hand", () => {
    for (const config of [{ ...raw, n_components: 0.5 }, { ...raw, n_components: 1 }]) {
      const model = fitOk(pca, data, [0, 1, 2, 3], config)
      expect(model.eigenvalues.map((v) => Number(v.toFixed(12)))).toEqual([2, 0.5])
      expect(model.components.length).toBe(1)
      expect(Math.abs(model.components[0]![0]!)).toBeCloseTo(1, 12)
      expect(model.threshold).toBeCloseTo(q(3.2905), 10)
      const out = pca.score(model, data, Int32Array.from([4, 5]), decodeConfig(pca, config))
      expect(out.scores[0]).toBeCloseTo(4, 12) // residual of (1, 2) along B
      expect(out.scores[1]).toBeCloseTo(0, 12)
      expect(out.threshold).toBe(model.threshold)
      expect([...out.predictions]).toEqual([q(3.2905) < 4 ? 1 : 0, 0])
    }
  })

  it("uses c_alpha and a fixed threshold", () => {
    expect(fitOk(pca, data, [0, 1, 2, 3], { ...raw, n_components: 1, c_alpha: 1.96 }).threshold).toBeCloseTo(q(1.96), 10)
    const model = fitOk(pca, data, [0, 1, 2, 3], { ...raw, n_components: 1, threshold: 3 })
    const out = pca.score(model, data, Int32Array.from([4, 5]), decodeConfig(pca, { ...raw, threshold: 3 }))
    expect([...out.predictions]).toEqual([1, 0])
  })

  it("matches the Q-statistic formula with several residual eigenvalues", () => {
    // λ = (3, 1): φ = (4, 10, 28), h0 = 1 − 2·4·28 / (3·100) = 0.25333..
    const out = qStatistic([3, 1], 2)
    const h0 = 1 - (2 * 4 * 28) / 300
    const expected = 4 * ((2 * Math.sqrt(2 * 10 * h0 * h0)) / 4 + 1 + (10 * h0 * (h0 - 1)) / 16) ** (1 / h0)
    expect(out.status === "ok" && out.threshold).toBeCloseTo(expected, 9)
    expect(qStatistic([0, 0], 3).status).toBe("invalid")
  })

  it("scores the same from a JSON round trip", () => {
    const model = fitOk(pca, data, [0, 1, 2, 3], { ...raw, n_components: 1 })
    const copy = JSON.parse(JSON.stringify(model)) as PcaModel
    const config = decodeConfig(pca, raw)
    const which = Int32Array.from([0, 4, 5])
    expect(pca.score(copy, data, which, config)).toEqual(pca.score(model, data, which, config))
  })

  it.each([
    ["no residual subspace", { ...raw, n_components: 2 }, [0, 1, 2, 3], /leaving no residual subspace/],
    ["zero variance", raw, [1, 1], /zero variance/],
    ["an empty train split", raw, [], /train split is empty/]
  ])("is invalid with %s", (_, config, trainSet, reason) => {
    const out = pca.fit(data, Int32Array.from(trainSet), decodeConfig(pca, config))
    expect(out.status).toBe("invalid")
    if (out.status === "invalid") expect(out.reason).toMatch(reason)
  })

  it("is invalid when the residual variance is zero", () => {
    // Rows on a line: (1,1), (2,2), (3,3) zero-meaned → one nonzero eigenvalue.
    const d = view([counts([1, 1], [2, 1]), counts([1, 2], [2, 2]), counts([1, 3], [2, 3])])
    const out = pca.fit(d, Int32Array.from([0, 1, 2]), decodeConfig(pca, { ...raw, n_components: 1 }))
    expect(out.status === "invalid" && out.reason).toMatch(/residual subspace has zero variance/)
  })
})
