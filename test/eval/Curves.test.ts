import { describe, expect, it } from "vitest"
import { thresholdCurve } from "../../src/eval/Curves.ts"
import { scoreMetrics } from "../../src/eval/Metrics.ts"

describe("thresholdCurve", () => {
  it("sweeps the distinct scores: ties flagged together, rates and F1 at each threshold", () => {
    const labels = [1, 0, 1, 0, 0, 1]
    const scores = [0.9, 0.8, 0.8, 0.3, 0.1, 0.05]
    expect(thresholdCurve(labels, scores)).toEqual([
      { threshold: 0.9, fpr: 0, tpr: 1 / 3, precision: 1, recall: 1 / 3, f1: 0.5 },
      { threshold: 0.8, fpr: 1 / 3, tpr: 2 / 3, precision: 2 / 3, recall: 2 / 3, f1: 2 / 3 },
      { threshold: 0.3, fpr: 2 / 3, tpr: 2 / 3, precision: 0.5, recall: 2 / 3, f1: (2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3) },
      { threshold: 0.1, fpr: 1, tpr: 2 / 3, precision: 0.4, recall: 2 / 3, f1: (2 * 0.4 * (2 / 3)) / (0.4 + 2 / 3) },
      { threshold: 0.05, fpr: 1, tpr: 1, precision: 0.5, recall: 1, f1: 2 / 3 }
    ])
  })

  it("its ROC's trapezoid area is the AUROC the evaluate stage reports", () => {
    const labels: Array<number> = []
    const scores: Array<number> = []
    for (let i = 0; i < 500; i++) {
      labels.push(i % 7 === 0 ? 1 : 0)
      scores.push(((i * 7919) % 1000) / 1000 + (i % 7 === 0 ? 0.3 : 0))
    }
    const points = [{ fpr: 0, tpr: 0 }, ...thresholdCurve(labels, scores, 10_000)]
    let area = 0
    for (let i = 1; i < points.length; i++) area += (points[i]!.fpr - points[i - 1]!.fpr) * (points[i]!.tpr + points[i - 1]!.tpr) / 2
    const auroc = scoreMetrics(labels, scores).auroc
    expect("value" in auroc && auroc.value !== null).toBe(true)
    expect(area).toBeCloseTo((auroc as { value: number }).value, 10)
  })

  it("thins to maxPoints keeping both ends; one class only gives no curve", () => {
    const n = 1000
    const labels = Array.from({ length: n }, (_, i) => i % 2)
    const scores = Array.from({ length: n }, (_, i) => i / n)
    const thin = thresholdCurve(labels, scores, 50)
    expect(thin).toHaveLength(50)
    expect(thin[0]!.threshold).toBe(0.999)
    expect(thin[49]!.threshold).toBe(0)
    expect(thresholdCurve([0, 0], [0.1, 0.2])).toEqual([])
  })
})
