/**
 * Metrics for anomaly detection (anomaly = positive class): the confusion matrix and its ratios
 * from 0/1 predictions, threshold-free AUROC and AUPRC from the scores, and `metricBlock`, which
 * bundles them with a status (valid, invalid, not_applicable, diagnostic_only) and its reason.
 * Unlabelled items (label −1) are skipped. Every ratio has an explicit value for its 0/0 case
 * and an undefined score metric is `null` with a reason, so results are safe to write as JSON.
 */
import type { BinaryMetrics } from "../artifacts/Metrics.ts"

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

/** A threshold-free metric: a number, or null with the reason it is undefined. */
export type ScoreMetric = { readonly value: number } | { readonly value: null; readonly reason: string }

/** Area under the ROC curve and average precision of scores against labels (higher score = more anomalous). */
export interface ScoreMetrics {
  readonly auroc: ScoreMetric
  readonly auprc: ScoreMetric
}

/**
 * AUROC and AUPRC over the items with label 0 or 1 (`which` selects indexes, default all).
 * AUROC = P(score of a random anomaly > score of a random normal item) + ½·P(equal), computed as
 * the Mann-Whitney U with mid-ranks for ties: (Σ ranks of anomalies − n₁(n₁ + 1)/2) / (n₁·n₀);
 * this equals the trapezoid area under the ROC curve. AUPRC = average precision (scikit-learn's
 * `average_precision_score`): thresholds at each distinct score, descending,
 * AP = Σ_k (R_k − R_{k−1})·P_k, with tied scores entering together. Both are null with a reason
 * when the labelled items lack a class or a score is not finite.
 */
export const scoreMetrics = (labels: ArrayLike<number>, scores: ArrayLike<number>, which?: Int32Array): ScoreMetrics => {
  if (scores.length !== labels.length) throw new Error(`scoreMetrics: ${labels.length} labels but ${scores.length} scores`)
  const items: Array<{ score: number; anomaly: boolean }> = []
  const count = which === undefined ? labels.length : which.length
  for (let j = 0; j < count; j++) {
    const i = which === undefined ? j : which[j]!
    if (i < 0 || i >= labels.length) throw new Error(`scoreMetrics: index ${i} is outside 0..${labels.length - 1}`)
    const label = labels[i]
    if (label !== 0 && label !== 1) continue
    const score = scores[i]!
    if (!Number.isFinite(score)) {
      const reason = `score of item ${i} is ${score}, not a finite number`
      return { auroc: { value: null, reason }, auprc: { value: null, reason } }
    }
    items.push({ score, anomaly: label === 1 })
  }
  const positives = items.filter((it) => it.anomaly).length
  const negatives = items.length - positives
  if (positives === 0 || negatives === 0) {
    const reason = `undefined with ${positives} anomalous and ${negatives} normal labelled items (both classes are needed)`
    return { auroc: { value: null, reason }, auprc: { value: null, reason } }
  }
  items.sort((a, b) => a.score - b.score)
  // Mid-ranks (1-based) over ascending scores.
  let rankSum = 0
  for (let k = 0; k < items.length; ) {
    let end = k
    let anomalies = 0
    while (end < items.length && items[end]!.score === items[k]!.score) {
      if (items[end]!.anomaly) anomalies++
      end++
    }
    rankSum += anomalies * ((k + 1 + end) / 2)
    k = end
  }
  const auroc = (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives)
  // Average precision, descending scores.
  let tp = 0
  let fp = 0
  let ap = 0
  for (let k = items.length - 1; k >= 0; ) {
    const score = items[k]!.score
    let gained = 0
    while (k >= 0 && items[k]!.score === score) {
      if (items[k]!.anomaly) gained++
      else fp++
      k--
    }
    tp += gained
    ap += (gained / positives) * (tp / (tp + fp))
  }
  return { auroc: { value: auroc }, auprc: { value: ap } }
}

/** valid: computed; invalid: the detector could not produce scores; not_applicable: nothing to evaluate; diagnostic_only: computed but not a fair result. */
export type MetricStatus = "valid" | "invalid" | "not_applicable" | "diagnostic_only"

/** One block of metrics with its status and the reason for it. */
export type MetricBlock =
  | ({
    readonly status: "valid" | "diagnostic_only"
    readonly reason: string
    /** Labelled items counted. */
    readonly evaluated: number
    readonly anomalous: number
    /** The threshold behind the predictions. */
    readonly threshold: number
    readonly auroc: number | null
    readonly auprc: number | null
    /** Why auroc / auprc are null, when they are. */
    readonly scoreMetricsReason: string | null
  } & BinaryMetrics)
  | { readonly status: "invalid" | "not_applicable"; readonly reason: string }

/** What `metricBlock` evaluates: labels, scores and predictions share one index space. */
export interface MetricInput {
  readonly labels: ArrayLike<number>
  readonly scores: ArrayLike<number>
  readonly predictions: ArrayLike<number>
  readonly threshold: number
  /** Indexes to count (default all). */
  readonly which?: Int32Array
  /**
   * Set when the numbers are not a fair result, e.g. "threshold tuned on the evaluated labels
   * (best F1)"; the block is then diagnostic_only with this reason.
   */
  readonly diagnostic?: string
}

/**
 * The metric block of predictions and scores: not_applicable (with its reason) when no item is
 * labelled, else the confusion counts, ratios, AUROC and AUPRC, valid or (with `diagnostic`)
 * diagnostic_only. Use `invalidBlock` when the detector produced no scores.
 */
export const metricBlock = (input: MetricInput): MetricBlock => {
  const binary = binaryMetrics(input.labels, input.predictions, input.which)
  const evaluated = binary.tp + binary.fp + binary.tn + binary.fn
  if (evaluated === 0) return { status: "not_applicable", reason: "no labelled item to evaluate" }
  const { auroc, auprc } = scoreMetrics(input.labels, input.scores, input.which)
  const anomalous = binary.tp + binary.fn
  const counted = `${evaluated} labelled items (${anomalous} anomalous)`
  return {
    status: input.diagnostic === undefined ? "valid" : "diagnostic_only",
    reason: input.diagnostic === undefined ? `computed over ${counted}` : `${input.diagnostic}; computed over ${counted}`,
    evaluated,
    anomalous,
    threshold: input.threshold,
    ...binary,
    auroc: auroc.value,
    auprc: auprc.value,
    scoreMetricsReason: auroc.value === null ? auroc.reason : auprc.value === null ? auprc.reason : null
  }
}

/** The block of a run whose detector could not be fitted or scored. */
export const invalidBlock = (reason: string): MetricBlock => ({ status: "invalid", reason })
