import { describe, expect, it } from "vitest"
import { binaryMetrics } from "../../src/eval/Metrics.ts"

describe("binaryMetrics", () => {
  it("computes a known confusion matrix, skipping unlabelled items", () => {
    const labels = Int8Array.from([1, 1, 1, 0, 0, 0, 0, -1])
    const predictions = Uint8Array.from([1, 1, 0, 1, 0, 0, 0, 1])
    // tp = 2 (items 0, 1), fn = 1 (item 2), fp = 1 (item 3), tn = 3; item 7 is unlabelled.
    expect(binaryMetrics(labels, predictions)).toEqual({
      tp: 2,
      fp: 1,
      tn: 3,
      fn: 1,
      precision: 2 / 3,
      recall: 2 / 3,
      f1: 2 / 3,
      accuracy: 5 / 7
    })
  })

  it("counts only the selected indexes", () => {
    const labels = [1, 1, 1, 0, 0, 0, 0, -1]
    const predictions = [1, 1, 0, 1, 0, 0, 0, 1]
    // Items 0, 2, 3, 4: tp = 1, fn = 1, fp = 1, tn = 1. f1 = 2·1 / (2·1 + 1 + 1) = 1/2.
    const m = binaryMetrics(labels, predictions, Int32Array.from([0, 2, 3, 4, 7]))
    expect(m).toEqual({ tp: 1, fp: 1, tn: 1, fn: 1, precision: 0.5, recall: 0.5, f1: 0.5, accuracy: 0.5 })
  })

  it("uses precision ≠ recall to check the f1 formula", () => {
    // tp = 1, fp = 3, fn = 0: precision 1/4, recall 1, f1 = 2·(1/4)·1 / (1/4 + 1) = 2/5.
    const m = binaryMetrics([1, 0, 0, 0], [1, 1, 1, 1])
    expect(m.precision).toBe(0.25)
    expect(m.recall).toBe(1)
    expect(m.f1).toBeCloseTo(2 / 5, 15)
    expect(m.accuracy).toBe(0.25)
  })

  it("is 1 everywhere when all predictions are correct", () => {
    const m = binaryMetrics([0, 1, 0, 1], [0, 1, 0, 1])
    expect(m).toEqual({ tp: 2, fp: 0, tn: 2, fn: 0, precision: 1, recall: 1, f1: 1, accuracy: 1 })
  })

  it("defines 0/0 as 0 when there are no positives", () => {
    // No anomalies and none predicted: precision, recall, f1 are 0/0 → 0; accuracy is 1.
    const m = binaryMetrics([0, 0, 0], [0, 0, 0])
    expect(m).toEqual({ tp: 0, fp: 0, tn: 3, fn: 0, precision: 0, recall: 0, f1: 0, accuracy: 1 })
    // Anomalies present but none predicted: precision 0/0 → 0, recall 0/2 = 0.
    const missed = binaryMetrics([1, 1, 0], [0, 0, 0])
    expect(missed).toMatchObject({ tp: 0, fn: 2, tn: 1, precision: 0, recall: 0, f1: 0, accuracy: 1 / 3 })
  })

  it("is all zeros, never NaN, with no labelled items", () => {
    for (const m of [binaryMetrics([], []), binaryMetrics([-1, -1], [1, 0])]) {
      expect(m).toEqual({ tp: 0, fp: 0, tn: 0, fn: 0, precision: 0, recall: 0, f1: 0, accuracy: 0 })
      expect(JSON.parse(JSON.stringify(m))).toEqual(m)
    }
  })

  it("treats any nonzero prediction as anomaly", () => {
    expect(binaryMetrics([1, 0], [2, 0]).tp).toBe(1)
  })

  it("rejects mismatched lengths and out-of-range indexes", () => {
    expect(() => binaryMetrics([0, 1], [0])).toThrow(/2 labels but 1 predictions/)
    expect(() => binaryMetrics([0, 1], [0, 1], Int32Array.from([2]))).toThrow(/index 2/)
  })
})
