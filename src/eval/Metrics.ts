/**
 * Binary classification metrics for anomaly predictions (anomaly = positive class). Use it on a
 * detector's 0/1 predictions against the sequence labels; unlabelled items (label −1) are
 * skipped. Every ratio has an explicit value for its 0/0 case, so results are always finite
 * numbers and safe to write as JSON.
 */

/** Confusion matrix and the ratios derived from it. */
export interface BinaryMetrics {
  readonly tp: number
  readonly fp: number
  readonly tn: number
  readonly fn: number
  /** tp / (tp + fp); 0 when nothing was predicted anomalous. */
  readonly precision: number
  /** tp / (tp + fn); 0 when there are no anomalies. */
  readonly recall: number
  /** 2·tp / (2·tp + fp + fn), the harmonic mean of precision and recall; 0 when tp = 0. */
  readonly f1: number
  /** (tp + tn) / items; 0 when there are no labelled items. */
  readonly accuracy: number
}

/**
 * Metrics over the items with label 0 (normal) or 1 (anomaly); other labels are skipped. A
 * nonzero prediction means anomaly. `labels` and `predictions` share one index space; `which`
 * (default: every index) selects the items to count.
 */
export const binaryMetrics = (
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
  which?: Int32Array
): BinaryMetrics => {
  if (predictions.length !== labels.length) {
    throw new Error(`binaryMetrics: ${labels.length} labels but ${predictions.length} predictions`)
  }
  let tp = 0
  let fp = 0
  let tn = 0
  let fn = 0
  const count = which === undefined ? labels.length : which.length
  for (let j = 0; j < count; j++) {
    const i = which === undefined ? j : which[j]!
    if (i < 0 || i >= labels.length) throw new Error(`binaryMetrics: index ${i} is outside 0..${labels.length - 1}`)
    const label = labels[i]
    if (label !== 0 && label !== 1) continue
    const predicted = predictions[i] !== 0
    if (label === 1) {
      if (predicted) tp++
      else fn++
    } else if (predicted) fp++
    else tn++
  }
  const items = tp + fp + tn + fn
  return {
    tp,
    fp,
    tn,
    fn,
    precision: ratio(tp, tp + fp),
    recall: ratio(tp, tp + fn),
    f1: ratio(2 * tp, 2 * tp + fp + fn),
    accuracy: ratio(tp + tn, items)
  }
}

function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator
}
