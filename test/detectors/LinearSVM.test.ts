import { describe, expect, it } from "vitest"
import { linearSvm, type LinearSvmModel } from "../../src/detectors/LinearSVM.ts"
import { mulberry32 } from "../../src/artifacts/Random.ts"
import { counts, decodeConfig, fitOk, range, view } from "./fixtures.ts"

// One template, counts 0 (normal) and 2 (anomalous): z0 = b, z1 = 2w + b.
const d = view([[], [1, 1]], [0, 1])
const exact = { term_weighting: "none", tol: 1e-10, max_iter: 2000 }

describe("svm config", () => {
  it("applies loglizer's defaults", () => {
    expect(decodeConfig(linearSvm, {})).toEqual({
      penalty: "l1",
      C: 1,
      tol: 0.01,
      max_iter: 100,
      seed: 0,
      term_weighting: "tf-idf",
      normalization: "none"
    })
  })

  it.each([
    ["C", { C: 0 }],
    ["tol", { tol: -1 }],
    ["max_iter", { max_iter: 0 }],
    ["penalty", { penalty: "elasticnet" }],
    ["seed", { seed: -3 }],
    ["kernel", { kernel: "rbf" }]
  ])("rejects a bad %s", (key, input) => {
    expect(() => decodeConfig(linearSvm, input)).toThrow(key)
  })
})

describe("svm", () => {
  it("solves the L1 problem by hand: min |w| + |b| + (1 + b)₊² + (1 − 2w − b)₊² at w = 1/2, b = −1/4", () => {
    // Stationarity with w > 0, b < 0 and both margins violated: 1 − 4(1 − 2w − b) = 0 and
    // −1 + 2(1 + b) − 2(1 − 2w − b) = 0, i.e. 2w + b = 3/4 and w + b = 1/4.
    const model = fitOk(linearSvm, d, [0, 1], exact)
    expect(model.weights[0]).toBeCloseTo(0.5, 6)
    expect(model.bias).toBeCloseTo(-0.25, 6)
    const out = linearSvm.score(model, d, range(2), decodeConfig(linearSvm, exact))
    expect(out.scores[0]).toBeCloseTo(-0.25, 6)
    expect(out.scores[1]).toBeCloseTo(0.75, 6)
    expect([...out.predictions]).toEqual([0, 1])
  })

  it("solves the L2 problem by hand: w = 4/5.8, b = −0.8·w", () => {
    // ½(w² + b²) + (1 + b)² + (1 − 2w − b)²: w − 4(1 − 2w − b) = 0 and 5b + 4w = 0.
    const model = fitOk(linearSvm, d, [0, 1], { ...exact, penalty: "l2" })
    expect(model.weights[0]).toBeCloseTo(4 / 5.8, 6)
    expect(model.bias).toBeCloseTo((-0.8 * 4) / 5.8, 6)
  })

  it("is deterministic under its seed and satisfies the L1 optimality conditions", () => {
    const random = mulberry32(9)
    const seqs: Array<Array<number>> = []
    const labels: Array<number> = []
    for (let i = 0; i < 80; i++) {
      const a = Math.floor(random() * 5)
      const b = Math.floor(random() * 5)
      seqs.push(counts([1, a], [2, b], [3, Math.floor(random() * 3)]))
      labels.push(a > b + (random() < 0.1 ? -2 : 1) ? 1 : 0)
    }
    const data = view(seqs, labels)
    const config = { term_weighting: "none", tol: 1e-9, max_iter: 5000, seed: 4 }
    const model = fitOk(linearSvm, data, range(80), config)
    expect(fitOk(linearSvm, data, range(80), config)).toEqual(model)
    // KKT: g_j + sign(w_j) = 0 where w_j ≠ 0, |g_j| <= 1 where w_j = 0 (g = gradient of the loss).
    const w = [...model.weights, model.bias]
    const x = (i: number) => [...[1, 2, 3].map((t) => seqs[i]!.filter((e) => e === t).length), 1]
    const g = [0, 0, 0, 0]
    for (let i = 0; i < 80; i++) {
      const y = labels[i] === 1 ? 1 : -1
      const xi = x(i)
      const m = 1 - y * xi.reduce((s, v, j) => s + v * w[j]!, 0)
      if (m > 0) xi.forEach((v, j) => (g[j]! -= 2 * y * v * m))
    }
    w.forEach((wj, j) => {
      if (wj !== 0) expect(Math.abs(g[j]! + Math.sign(wj))).toBeLessThan(1e-4)
      else expect(Math.abs(g[j]!)).toBeLessThanOrEqual(1 + 1e-4)
    })
  })

  it("scores the same from a JSON round trip", () => {
    const data = view([[1], [1, 2], [2, 2], [3], [1, 3]], [0, 0, 1, 1, 0])
    const model = fitOk(linearSvm, data, range(5))
    const copy = JSON.parse(JSON.stringify(model)) as LinearSvmModel
    const config = decodeConfig(linearSvm, {})
    expect(linearSvm.score(copy, data, range(5), config)).toEqual(linearSvm.score(model, data, range(5), config))
  })

  it.each([
    ["no anomalies", [0, 0], /got 2 normal, 0 anomalous/],
    ["no normal sequences", [1, 1], /got 0 normal, 2 anomalous/]
  ])("is invalid with %s", (_, labels, reason) => {
    const out = linearSvm.fit(view([[1], [2]], labels), range(2), decodeConfig(linearSvm, {}))
    expect(out.status === "invalid" && out.reason).toMatch(reason)
  })
})

describe("svm training curve (issue 16)", () => {
  it.each(["l1", "l2"] as const)("%s: the objective at epoch 0 (the number of rows: every margin loss 1) and after each pass, never rising", (penalty) => {
    const random = mulberry32(3)
    const seqs: Array<Array<number>> = []
    const labels: Array<number> = []
    for (let i = 0; i < 60; i++) {
      const a = Math.floor(random() * 5)
      seqs.push(counts([1, a], [2, 4 - a], [3, 1]))
      labels.push(a > 2 ? 1 : 0)
    }
    const d = view(seqs, labels)
    const fit = linearSvm.fit(d, range(60), decodeConfig(linearSvm, { term_weighting: "none", penalty, C: 1 }))
    if (fit.status !== "ok") throw new Error(fit.reason)
    const curve = fit.report!.curves as Array<{ split: string; metric: string; epoch: number; value: number }>
    expect(curve[0]).toEqual({ split: "train", metric: "objective", epoch: 0, value: 60 })
    expect(curve.map((p) => p.epoch)).toEqual(Array.from({ length: curve.length }, (_, i) => i))
    expect(curve.length).toBe(fit.model.passes + 1)
    for (let i = 1; i < curve.length; i++) expect(curve[i]!.value).toBeLessThanOrEqual(curve[i - 1]!.value + 1e-9)
    expect(curve.at(-1)!.value).toBeLessThan(60)
  })
})
