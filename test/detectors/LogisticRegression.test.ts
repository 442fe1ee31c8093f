import { describe, expect, it } from "vitest"
import { fitFeatures } from "../../src/detectors/base/Features.ts"
import { logisticRegression, type LogisticRegressionModel } from "../../src/detectors/LogisticRegression.ts"
import { mulberry32 } from "../../src/artifacts/Random.ts"
import { counts, decodeConfig, fitOk, range, view } from "./fixtures.ts"

const raw = { term_weighting: "none" }

describe("logistic_regression config", () => {
  it("applies loglizer's defaults", () => {
    expect(decodeConfig(logisticRegression, {})).toEqual({ C: 100, tol: 0.01, max_iter: 100, term_weighting: "tf-idf", normalization: "none" })
  })

  it.each([
    ["C", { C: 0 }],
    ["C", { C: -1 }],
    ["tol", { tol: 0 }],
    ["max_iter", { max_iter: 0 }],
    ["penalty", { penalty: "l1" }]
  ])("rejects a bad %s", (key, input) => {
    expect(() => decodeConfig(logisticRegression, input)).toThrow(key)
  })
})

describe("logistic_regression", () => {
  it("puts the log-odds in the unpenalised intercept when every row is the same", () => {
    // Four copies of x = (1): the penalty makes w = 0 and b = logit(1/4) = ln(1/3); P(anomaly) = 1/4.
    const d = view([[1], [1], [1], [1]], [1, 0, 0, 0])
    const model = fitOk(logisticRegression, d, range(4), { ...raw, tol: 1e-10 })
    expect(model.weights[0]).toBeCloseTo(0, 6)
    expect(model.intercept).toBeCloseTo(Math.log(1 / 3), 6)
    const out = logisticRegression.score(model, d, range(4), decodeConfig(logisticRegression, raw))
    expect(out.scores[0]).toBeCloseTo(0.25, 6)
    expect([...out.predictions]).toEqual([0, 0, 0, 0])
  })

  it("reaches the optimum: ∇F = w + C Σ (p_i − y_i) x_i = 0 and Σ (p_i − y_i) = 0", () => {
    const random = mulberry32(5)
    const seqs: Array<Array<number>> = []
    const labels: Array<number> = []
    for (let i = 0; i < 60; i++) {
      const a = Math.floor(random() * 4)
      const b = Math.floor(random() * 4)
      seqs.push(counts([1, a], [2, b], [3, 1]))
      labels.push(a + random() * 2 > b + 1 ? 1 : 0)
    }
    const d = view(seqs, labels)
    for (const C of [0.5, 100]) {
      const model = fitOk(logisticRegression, d, range(60), { ...raw, C, tol: 1e-12 })
      const { matrix } = fitFeatures(d, range(60), { termWeighting: "none", normalization: "none" })
      const grad = model.weights.slice()
      let gradB = 0
      for (let i = 0; i < 60; i++) {
        let z = model.intercept
        for (let j = 0; j < 3; j++) z += model.weights[j]! * matrix.values[i * 3 + j]!
        const r = 1 / (1 + Math.exp(-z)) - labels[i]!
        for (let j = 0; j < 3; j++) grad[j]! += C * r * matrix.values[i * 3 + j]!
        gradB += r
      }
      for (const g of grad) expect(Math.abs(g)).toBeLessThan(1e-6 * C)
      expect(Math.abs(gradB)).toBeLessThan(1e-6)
    }
  })

  it("scores the same from a JSON round trip", () => {
    const d = view([[1], [1, 2], [2, 2], [3], [1, 3]], [0, 0, 1, 1, 0])
    const model = fitOk(logisticRegression, d, range(5))
    const copy = JSON.parse(JSON.stringify(model)) as LogisticRegressionModel
    const config = decodeConfig(logisticRegression, {})
    expect(logisticRegression.score(copy, d, range(5), config)).toEqual(logisticRegression.score(model, d, range(5), config))
  })

  it.each([
    ["no anomalies", [0, 0, -1], /got 2 normal, 0 anomalous \(1 unlabelled skipped\)/],
    ["no normal sequences", [1, 1, 1], /got 0 normal, 3 anomalous/],
    ["no labels", [-1, -1, -1], /got 0 normal, 0 anomalous/]
  ])("is invalid with %s", (_, labels, reason) => {
    const out = logisticRegression.fit(view([[1], [2], [3]], labels), range(3), decodeConfig(logisticRegression, {}))
    expect(out.status === "invalid" && out.reason).toMatch(reason)
  })

  it("stays finite on perfectly separable data (the penalty bounds the weights)", () => {
    const d = view([[1], [1], [2, 2], [2, 2, 2]], [0, 0, 1, 1])
    const model = fitOk(logisticRegression, d, range(4), { C: 1e6 })
    expect(model.weights.every(Number.isFinite) && Number.isFinite(model.intercept)).toBe(true)
    const out = logisticRegression.score(model, d, range(4), decodeConfig(logisticRegression, {}))
    expect([...out.predictions]).toEqual([0, 0, 1, 1])
  })
})

describe("logistic_regression training curve (issue 16)", () => {
  it("reports the objective at step 0 and after each Newton step, never rising, one point per iteration", () => {
    const random = mulberry32(9)
    const seqs: Array<Array<number>> = []
    const labels: Array<number> = []
    for (let i = 0; i < 80; i++) {
      const a = Math.floor(random() * 5)
      seqs.push(counts([1, a], [2, 4 - a], [3, 1]))
      labels.push(a > 2 ? 1 : 0)
    }
    const d = view(seqs, labels)
    const fit = logisticRegression.fit(d, range(80), decodeConfig(logisticRegression, { ...raw, C: 1, tol: 1e-8 }))
    if (fit.status !== "ok") throw new Error(fit.reason)
    const curve = fit.report!.curves as Array<{ split: string; metric: string; step: number; samples: number; value: number }>
    expect(curve[0]).toMatchObject({ split: "train", metric: "objective", step: 0, samples: 0 })
    expect(curve[0]!.value).toBeCloseTo(80 * Math.log(2), 10) // w = 0: every p = 1/2
    expect(curve.map((p) => p.step)).toEqual(Array.from({ length: curve.length }, (_, i) => i))
    // A step after which the objective stopped falling ends the loop before `iterations` counts it.
    expect([fit.model.iterations + 1, fit.model.iterations + 2]).toContain(curve.length)
    expect(curve.at(-1)!.samples).toBe(80 * (curve.length - 1))
    for (let i = 1; i < curve.length; i++) expect(curve[i]!.value).toBeLessThanOrEqual(curve[i - 1]!.value)
  })
})
