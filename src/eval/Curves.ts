/**
 * Threshold curves of a scored test set, for reports: ROC (false positive rate, true positive
 * rate), precision-recall and F1 by threshold, each swept over the distinct scores (a sample is
 * flagged when its score >= the threshold) and thinned to at most `maxPoints` points (the first and
 * last kept), so a chart of a million-window run stays small.
 */

export interface CurvePoint {
  readonly threshold: number
  readonly fpr: number
  readonly tpr: number
  readonly precision: number
  readonly recall: number
  readonly f1: number
}

/** The curve points of `scores` against `labels` (1 = anomaly); empty when either class is missing. */
export const thresholdCurve = (labels: ArrayLike<number>, scores: ArrayLike<number>, maxPoints = 200): Array<CurvePoint> => {
  const n = scores.length
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!)
  let positives = 0
  for (let i = 0; i < n; i++) positives += labels[i] === 1 ? 1 : 0
  const negatives = n - positives
  if (positives === 0 || negatives === 0) return []
  const points: Array<CurvePoint> = []
  let tp = 0
  let fp = 0
  for (let k = 0; k < n;) {
    const threshold = scores[order[k]!]!
    // Every sample with this score is flagged at this threshold.
    while (k < n && scores[order[k]!] === threshold) {
      if (labels[order[k]!] === 1) tp++
      else fp++
      k++
    }
    const precision = tp / (tp + fp)
    const recall = tp / positives
    points.push({ threshold, fpr: fp / negatives, tpr: recall, precision, recall, f1: tp === 0 ? 0 : (2 * precision * recall) / (precision + recall) })
  }
  if (points.length <= maxPoints) return points
  const step = (points.length - 1) / (maxPoints - 1)
  return Array.from({ length: maxPoints }, (_, i) => points[Math.round(i * step)]!)
}
