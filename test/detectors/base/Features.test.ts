import { describe, expect, it } from "vitest"
import { fitFeatures, labelledRows, trainingRows, transformFeatures } from "../../../src/detectors/base/Features.ts"
import { counts, range, view } from "../fixtures.ts"

// Train s0..s2: counts over templates (1, 2, 3) = (2, 1, 0), (0, 1, 1), (1, 0, 0). Test s3: [1, 4, 4, 3].
const data = view([counts([1, 2], [2, 1]), [2, 3], [1], [1, 4, 4, 3]], [0, 0, 1, -1])
const train = range(3)
const rows = (m: { rows: number; cols: number; values: Float64Array }) =>
  Array.from({ length: m.rows }, (_, i) => Array.from(m.values.subarray(i * m.cols, (i + 1) * m.cols)))

describe("fitFeatures / transformFeatures (loglizer's FeatureExtractor)", () => {
  it("counts over the training vocabulary and drops test-only templates", () => {
    const { model, matrix } = fitFeatures(data, train, { termWeighting: "none", normalization: "none" })
    expect(model.templateIds).toEqual([1, 2, 3])
    expect(rows(matrix)).toEqual([[2, 1, 0], [0, 1, 1], [1, 0, 0]])
    expect(rows(transformFeatures(model, data, Int32Array.from([3])))).toEqual([[1, 0, 1]])
  })

  it("weights by idf = ln(N / (df + 1e-8)) fitted on train", () => {
    // N = 3; df = (2, 2, 1).
    const idf = [Math.log(3 / (2 + 1e-8)), Math.log(3 / (2 + 1e-8)), Math.log(3 / (1 + 1e-8))]
    const { model, matrix } = fitFeatures(data, train, { termWeighting: "tf-idf", normalization: "none" })
    expect(model.idf).toEqual(idf)
    const m = rows(matrix)
    expect(m[0]![0]).toBeCloseTo(2 * idf[0]!, 12)
    expect(m[1]![2]).toBeCloseTo(idf[2]!, 12)
    const t = rows(transformFeatures(model, data, Int32Array.from([3])))[0]!
    expect(t[0]).toBeCloseTo(idf[0]!, 12)
    expect(t[2]).toBeCloseTo(idf[2]!, 12)
  })

  it("subtracts the training means after weighting (zero-mean)", () => {
    const a = Math.log(1.5)
    const { model, matrix } = fitFeatures(data, train, { termWeighting: "tf-idf", normalization: "zero-mean" })
    // Means of the weighted columns: (3a/3, 2a/3, ln 3 / 3).
    expect(model.mean[0]).toBeCloseTo(a, 7)
    expect(model.mean[1]).toBeCloseTo((2 * a) / 3, 7)
    expect(model.mean[2]).toBeCloseTo(Math.log(3) / 3, 7)
    const m = rows(matrix)
    for (let j = 0; j < 3; j++) expect(m[0]![j]! + m[1]![j]! + m[2]![j]!).toBeCloseTo(0, 12)
    // Test row (1, 0, 1) → (a − a, 0 − 2a/3, ln 3 − ln 3 / 3).
    const t = rows(transformFeatures(model, data, Int32Array.from([3])))[0]!
    expect(t[0]).toBeCloseTo(0, 7)
    expect(t[1]).toBeCloseTo((-2 * a) / 3, 7)
    expect(t[2]).toBeCloseTo((2 * Math.log(3)) / 3, 7)
  })

  it("maps nonzero entries through the sigmoid and keeps zeros (sigmoid)", () => {
    const { matrix } = fitFeatures(data, train, { termWeighting: "none", normalization: "sigmoid" })
    const s = (x: number) => 1 / (1 + Math.exp(-x))
    expect(rows(matrix)).toEqual([[s(2), s(1), 0], [0, s(1), s(1)], [s(1), 0, 0]])
  })

  it("survives a JSON round trip of the model", () => {
    const { model } = fitFeatures(data, train, { termWeighting: "tf-idf", normalization: "zero-mean" })
    const copy = JSON.parse(JSON.stringify(model)) as typeof model
    expect(transformFeatures(copy, data, range(4))).toEqual(transformFeatures(model, data, range(4)))
  })
})

describe("training selection", () => {
  it("takes every training sequence, or only the normal ones", () => {
    expect(trainingRows("x", data, train, "all")).toEqual({ status: "ok", rows: train })
    expect(trainingRows("x", data, train, "normal")).toEqual({ status: "ok", rows: Int32Array.from([0, 1]) })
    // Unlabelled-only training is fine without labels.
    expect(trainingRows("x", data, Int32Array.from([3]), "all").status).toBe("ok")
  })

  it.each([
    ["empty", [], "all", /train split is empty/],
    ["anomalies only", [2], "all", /needs normal training sequences.*0 normal, 1 anomalous/],
    ["unlabelled with train_on normal", [3], "normal", /needs normal training sequences.*0 normal, 0 anomalous, 1 unlabelled/]
  ] as const)("refuses %s", (_, which, trainOn, reason) => {
    const out = trainingRows("x", data, Int32Array.from(which), trainOn)
    expect(out.status).toBe("invalid")
    if (out.status === "invalid") expect(out.reason).toMatch(reason)
  })

  it("needs both classes for supervised detectors", () => {
    const ok = labelledRows("lr", data, range(4))
    expect(ok.status === "ok" && [...ok.rows]).toEqual([0, 1, 2])
    expect(ok.status === "ok" && [...ok.y]).toEqual([0, 0, 1])
    const bad = labelledRows("lr", data, Int32Array.from([0, 1, 3]))
    expect(bad).toEqual({
      status: "invalid",
      reason: "lr is supervised and needs normal and anomalous labelled training sequences; got 2 normal, 0 anomalous (1 unlabelled skipped)"
    })
  })
})
