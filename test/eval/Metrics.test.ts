import { describe, expect, it } from "vitest"
import { binaryMetrics, invalidBlock, metricBlock, scoreMetrics } from "../../src/eval/Metrics.ts"

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

describe("scoreMetrics (AUROC, AUPRC)", () => {
  it("computes AUROC as Mann-Whitney U with ties counting half", () => {
    // Anomalies 0.9, 0.5; normals 0.5, 0.3, 0.1. Pairs: (0.9 vs all) 3 wins; (0.5 vs 0.5) ½, (0.5 vs 0.3, 0.1) 2.
    // AUROC = 5.5 / 6.
    const m = scoreMetrics([1, 1, 0, 0, 0], [0.9, 0.5, 0.5, 0.3, 0.1])
    expect(m.auroc.value).toBeCloseTo(5.5 / 6, 15)
    // AP: threshold 0.9 → P 1, R ½; threshold 0.5 (two items enter) → P 2/3, R 1: ½·1 + ½·2/3 = 5/6.
    expect(m.auprc.value).toBeCloseTo(5 / 6, 15)
  })

  it("is 1 for a perfect ranking, 0 for a reversed one, ½ for constant scores", () => {
    expect(scoreMetrics([0, 1, 0, 1], [0.1, 0.8, 0.2, 0.9])).toEqual({ auroc: { value: 1 }, auprc: { value: 1 } })
    expect(scoreMetrics([0, 1], [0.9, 0.1]).auroc.value).toBe(0)
    const flat = scoreMetrics([0, 1, 0, 1], [3, 3, 3, 3])
    expect(flat.auroc.value).toBe(0.5)
    expect(flat.auprc.value).toBe(0.5) // one threshold: precision 1/2 at recall 1
  })

  it("skips unlabelled items and honours `which`", () => {
    const m = scoreMetrics([1, 0, -1, 0], [0.2, 0.5, 0.9, 0.1], Int32Array.from([0, 2, 3]))
    expect(m.auroc.value).toBe(1)
  })

  it("is null with a reason when a class is missing or a score is not finite", () => {
    expect(scoreMetrics([0, 0, -1], [0.1, 0.2, 0.3])).toEqual({
      auroc: { value: null, reason: "undefined with 0 anomalous and 2 normal labelled items (both classes are needed)" },
      auprc: { value: null, reason: "undefined with 0 anomalous and 2 normal labelled items (both classes are needed)" }
    })
    expect(scoreMetrics([1], [0.1]).auprc.value).toBeNull()
    expect(scoreMetrics([], []).auroc.value).toBeNull()
    const nan = scoreMetrics([1, 0], [Number.NaN, 0.1])
    expect(nan.auroc.value === null && nan.auroc.reason).toMatch(/not a finite number/)
  })
})

describe("metricBlock", () => {
  const labels = [1, 1, 0, 0, -1]
  const scores = [0.9, 0.4, 0.6, 0.1, 0.5]
  const predictions = [1, 0, 1, 0, 1]

  it("is valid with counts, ratios, AUROC and AUPRC", () => {
    const block = metricBlock({ labels, scores, predictions, threshold: 0.5 })
    expect(block).toEqual({
      status: "valid",
      reason: "computed over 4 labelled items (2 anomalous)",
      evaluated: 4,
      anomalous: 2,
      threshold: 0.5,
      tp: 1,
      fp: 1,
      tn: 1,
      fn: 1,
      precision: 0.5,
      recall: 0.5,
      f1: 0.5,
      accuracy: 0.5,
      auroc: 0.75, // pairs: 0.9 beats both, 0.4 beats 0.1 only
      auprc: 0.5 + 0.5 * (2 / 3), // 0.9 → P 1 R ½; 0.6 → P ½; 0.4 → P 2/3 R 1
      scoreMetricsReason: null
    })
  })

  it("is diagnostic_only when told why, not_applicable without labels, invalid when given a reason", () => {
    const diag = metricBlock({ labels, scores, predictions, threshold: 0.5, diagnostic: "threshold tuned on the evaluated labels (best F1)" })
    expect(diag.status).toBe("diagnostic_only")
    expect(diag.reason).toMatch(/^threshold tuned on the evaluated labels \(best F1\); computed over 4/)
    expect(metricBlock({ labels: [-1], scores: [1], predictions: [1], threshold: 0 })).toEqual({ status: "not_applicable", reason: "no labelled item to evaluate" })
    expect(invalidBlock("pca: zero variance")).toEqual({ status: "invalid", reason: "pca: zero variance" })
  })

  it("keeps the confusion counts and says why AUROC is null when a class is missing", () => {
    const block = metricBlock({ labels: [0, 0], scores: [0.1, 0.7], predictions: [0, 1], threshold: 0.5 })
    expect(block.status === "valid" && [block.fp, block.tn, block.auroc, block.scoreMetricsReason]).toEqual([
      1,
      1,
      null,
      "undefined with 0 anomalous and 2 normal labelled items (both classes are needed)"
    ])
  })
})
