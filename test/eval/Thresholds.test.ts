import { describe, expect, it } from "vitest"
import { type ThresholdResult, applyThreshold, bestF1Threshold, chooseThreshold, fixedThreshold, interpolatedQuantile, madThreshold, percentileThreshold, sigmaThreshold } from "../../src/eval/Thresholds.ts"

const value = (r: ThresholdResult): number => {
  if (r.status !== "ok") throw new Error(r.reason)
  return r.threshold.value
}

// Normal validation scores 1..10 (labels 0), two anomalies (9.5, 20), one unlabelled (100).
const scores = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 9.5, 20, 100]
const labels = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, -1]
const validation = { scores, labels, source: "validation" as const }

describe("thresholds", () => {
  it("fixed", () => {
    expect(value(fixedThreshold(0.7))).toBe(0.7)
    expect(fixedThreshold(Number.NaN).status).toBe("invalid")
    expect([...applyThreshold([0.5, 0.7, 0.9], 0.7)]).toEqual([0, 0, 1])
  })

  it("percentile of the normal scores, linear interpolation (numpy)", () => {
    // Normal 1..10: position 0.995·9 = 8.955 → 9 + 0.955·1 = 9.955; the 50th: position 4.5 → 5.5.
    expect(value(percentileThreshold(validation, 99.5))).toBeCloseTo(9.955, 12)
    expect(value(percentileThreshold(validation, 50))).toBe(5.5)
    expect(value(percentileThreshold(validation, 100))).toBe(10)
    expect(interpolatedQuantile([1, 3], 0.25)).toBe(1.5)
    expect(percentileThreshold(validation, 0).status).toBe("invalid")
    expect(percentileThreshold(validation, 101).status).toBe("invalid")
  })

  it("three sigma: mean + 3·σ (population σ) of the normal scores", () => {
    // 1..10: mean 5.5, variance (n² − 1)/12 = 99/12 = 8.25.
    expect(value(sigmaThreshold(validation, 3))).toBeCloseTo(5.5 + 3 * Math.sqrt(8.25), 12)
    expect(value(chooseThreshold({ kind: "three_sigma" }, validation))).toBeCloseTo(5.5 + 3 * Math.sqrt(8.25), 12)
    expect(value(sigmaThreshold(validation, 2))).toBeCloseTo(5.5 + 2 * Math.sqrt(8.25), 12)
  })

  it("MAD: median + k·1.4826·median |s − median|", () => {
    // 1..10: median 5.5; deviations 0.5, 0.5, 1.5, 1.5, ..., 4.5, 4.5 → median 2.5.
    expect(value(madThreshold(validation, 3))).toBeCloseTo(5.5 + 3 * 1.4826 * 2.5, 12)
    // Mostly equal scores: MAD = 0, the threshold is the median.
    expect(value(madThreshold({ scores: [2, 2, 2, 2, 9], labels: [0, 0, 0, 0, 0], source: "train" }, 3))).toBe(2)
  })

  it("best F1 on labelled validation scores, reported as tuned", () => {
    // Descending: 20 (A) → F1 2/3; 10 (N) → 1/2; 9.5 (A) → 4/5; 9 (N) → 2/3; ... Best 4/5 after 9.5:
    // threshold = midpoint of 9.5 and the next score 9 = 9.25.
    const out = bestF1Threshold(validation)
    expect(out.status === "ok" && out.threshold).toEqual({
      kind: "best_f1",
      value: 9.25,
      basis: "best F1 (0.8) over 12 labelled validation scores (2 anomalous); tuned on validation labels",
      tunedOnLabels: true,
      validationF1: 0.8
    })
    // All anomalous is a candidate too: smallest score − 1.
    expect(value(bestF1Threshold({ scores: [3, 3], labels: [1, 1], source: "validation" }))).toBe(2)
    // Ties: 4 (A) alone and 4, 3, 2, 1 (A, N, N, A) both give F1 2/3; the larger threshold (3.5) wins.
    expect(value(bestF1Threshold({ scores: [4, 3, 2, 1, 0], labels: [1, 0, 0, 1, 0], source: "validation" }))).toBe(3.5)
  })

  it.each([
    ["percentile", { kind: "percentile", percentile: 99 }],
    ["three_sigma", { kind: "three_sigma" }],
    ["mad", { kind: "mad" }],
    ["best_f1", { kind: "best_f1" }]
  ] as const)("%s refuses test scores, missing scores and missing classes", (kind, spec) => {
    const test = chooseThreshold(spec, { ...validation, source: "test" })
    expect(test.status === "invalid" && test.reason).toMatch(/never learnt from the test split/)
    expect(chooseThreshold(spec).status).toBe("invalid")
    const noClass = chooseThreshold(spec, { scores: [1, 2], labels: kind === "best_f1" ? [0, 0] : [1, -1], source: "validation" })
    expect(noClass.status === "invalid" && noClass.reason).toMatch(kind === "best_f1" ? /needs labelled anomalies/ : /needs normal validation scores/)
    const nan = chooseThreshold(spec, { scores: [Number.NaN, 1], labels: [0, 1], source: "validation" })
    expect(nan.status === "invalid" && nan.reason).toMatch(/not a finite number/)
  })
})
