import type { Threshold } from "../artifacts/Model.ts"
/**
 * Decision thresholds chosen from scores: a fixed value, a percentile of normal validation scores,
 * mean + k·σ (3-sigma), median + k·MAD, or the threshold with the best F1 on a validation split.
 * Every kind follows one rule: an item is anomalous iff its score > the threshold. Use them to
 * turn a detector's scores into predictions with a threshold learnt away from the test split:
 * each data-driven kind refuses scores that come from the test split.
 */

/** Where the scores a threshold is learnt from come from; "test" is refused. */
export type ThresholdSource = "train" | "validation" | "test"

/** How to choose a threshold; config spelling in brackets. */
export type ThresholdSpec =
  | { readonly kind: "fixed"; readonly value: number }
  /** The `percentile`-th percentile (in (0, 100]) of the normal scores, e.g. 99.5. */
  | { readonly kind: "percentile"; readonly percentile: number }
  /** mean + k·σ of the normal scores (k = 3 by default) [`three_sigma`]. */
  | { readonly kind: "three_sigma"; readonly k?: number }
  /** median + k·1.4826·MAD of the normal scores (k = 3 by default) [`mad`]. */
  | { readonly kind: "mad"; readonly k?: number }
  /** The threshold that maximises F1 on labelled validation scores [`best_f1`]. */
  | { readonly kind: "best_f1" }

/** A threshold, or why none can be chosen. */
export type ThresholdResult =
  | { readonly status: "ok"; readonly threshold: Threshold }
  | { readonly status: "invalid"; readonly reason: string }

/** Scores with their labels (1 anomaly, 0 normal, anything else unlabelled and skipped) and their split. */
export interface LabelledScores {
  readonly scores: ArrayLike<number>
  readonly labels: ArrayLike<number>
  readonly source: ThresholdSource
}

/** Choose a threshold by `spec` (dispatches to the functions below). */
export const chooseThreshold = (spec: ThresholdSpec, data?: LabelledScores): ThresholdResult => {
  if (spec.kind === "fixed") return fixedThreshold(spec.value)
  if (data === undefined) return { status: "invalid", reason: `a ${spec.kind} threshold needs scores to learn from` }
  switch (spec.kind) {
    case "percentile":
      return percentileThreshold(data, spec.percentile)
    case "three_sigma":
      return sigmaThreshold(data, spec.k ?? 3)
    case "mad":
      return madThreshold(data, spec.k ?? 3)
    case "best_f1":
      return bestF1Threshold(data)
  }
}

/** 1 where score > threshold, else 0. */
export const applyThreshold = (scores: ArrayLike<number>, threshold: number): Uint8Array =>
  Uint8Array.from({ length: scores.length }, (_, i) => (scores[i]! > threshold ? 1 : 0))

/** A given value (finite). */
export const fixedThreshold = (value: number): ThresholdResult =>
  Number.isFinite(value)
    ? { status: "ok", threshold: { kind: "fixed", value, basis: `fixed value ${value}`, tunedOnLabels: false } }
    : { status: "invalid", reason: `a fixed threshold must be a finite number, got ${value}` }

/**
 * The p-th percentile of the normal scores with linear interpolation between ranks (numpy's
 * default): sorted ascending s[0..n−1], position (p/100)·(n − 1), interpolated between its
 * neighbours. p = 100 gives the largest normal score.
 */
export const percentileThreshold = (data: LabelledScores, percentile: number): ThresholdResult => {
  if (!(percentile > 0 && percentile <= 100)) return { status: "invalid", reason: `percentile must be in (0, 100], got ${percentile}` }
  const normal = normalScores(data, "percentile")
  if (normal.status === "invalid") return normal
  const value = interpolatedQuantile(normal.sorted, percentile / 100)
  return ok("percentile", value, `${percentile}th percentile of ${normal.sorted.length} normal ${data.source} scores`)
}

/** mean + k·σ of the normal scores, σ the population standard deviation (divide by n). */
export const sigmaThreshold = (data: LabelledScores, k: number): ThresholdResult => {
  if (!(k >= 0 && Number.isFinite(k))) return { status: "invalid", reason: `three_sigma k must be a finite number >= 0, got ${k}` }
  const normal = normalScores(data, "three_sigma")
  if (normal.status === "invalid") return normal
  const s = normal.sorted
  const mean = s.reduce((a, b) => a + b, 0) / s.length
  const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / s.length)
  return ok("three_sigma", mean + k * sd, `mean ${fmt(mean)} + ${k}·σ (σ = ${fmt(sd)}) of ${s.length} normal ${data.source} scores`)
}

/**
 * median + k·1.4826·MAD of the normal scores, MAD = median |s − median| (1.4826 makes it estimate
 * σ for normal data). When most normal scores are equal, MAD = 0 and the threshold is the median.
 */
export const madThreshold = (data: LabelledScores, k: number): ThresholdResult => {
  if (!(k >= 0 && Number.isFinite(k))) return { status: "invalid", reason: `mad k must be a finite number >= 0, got ${k}` }
  const normal = normalScores(data, "mad")
  if (normal.status === "invalid") return normal
  const median = interpolatedQuantile(normal.sorted, 0.5)
  const deviations = Float64Array.from(normal.sorted, (v) => Math.abs(v - median)).sort()
  const mad = interpolatedQuantile(deviations, 0.5)
  return ok("mad", median + k * 1.4826 * mad, `median ${fmt(median)} + ${k}·1.4826·MAD (MAD = ${fmt(mad)}) of ${normal.sorted.length} normal ${data.source} scores`)
}

/**
 * The threshold with the highest F1 on labelled scores. Candidates: one value below every score
 * (all anomalous: the smallest score − 1) and the midpoint between each pair of consecutive
 * distinct scores; rule score > t. Ties go to the largest candidate (fewest alarms). Needs at
 * least one anomaly. The result is tuned on labels: report it as a validation-tuned threshold.
 */
export const bestF1Threshold = (data: LabelledScores): ThresholdResult => {
  const refused = refuseTest(data, "best_f1")
  if (refused !== undefined) return refused
  if (data.scores.length !== data.labels.length) {
    return { status: "invalid", reason: `best_f1: ${data.scores.length} scores but ${data.labels.length} labels` }
  }
  const items: Array<{ score: number; anomaly: boolean }> = []
  for (let i = 0; i < data.scores.length; i++) {
    const label = data.labels[i]
    if (label !== 0 && label !== 1) continue
    const score = data.scores[i]!
    if (!Number.isFinite(score)) return { status: "invalid", reason: `best_f1: score ${i} is ${score}, not a finite number` }
    items.push({ score, anomaly: label === 1 })
  }
  const positives = items.filter((it) => it.anomaly).length
  if (positives === 0) {
    return { status: "invalid", reason: `best_f1 needs labelled anomalies among the ${data.source} scores; got 0 of ${items.length} labelled` }
  }
  items.sort((a, b) => b.score - a.score)
  // Walk down the distinct scores: after taking every item with score >= s_k, tp and fp are known.
  let tp = 0
  let fp = 0
  let bestF1 = 0
  let bestValue = items[0]!.score
  for (let k = 0; k < items.length; ) {
    const score = items[k]!.score
    while (k < items.length && items[k]!.score === score) {
      if (items[k]!.anomaly) tp++
      else fp++
      k++
    }
    const f1 = (2 * tp) / (2 * tp + fp + (positives - tp))
    const value = k < items.length ? score + (items[k]!.score - score) / 2 : score - 1
    if (f1 > bestF1) {
      bestF1 = f1
      bestValue = value
    }
  }
  return {
    status: "ok",
    threshold: {
      kind: "best_f1",
      value: bestValue,
      basis: `best F1 (${fmt(bestF1)}) over ${items.length} labelled ${data.source} scores (${positives} anomalous); tuned on ${data.source} labels`,
      tunedOnLabels: true,
      validationF1: bestF1
    }
  }
}

/** Quantile q in [0, 1] of ascending values, linear interpolation between ranks. */
export const interpolatedQuantile = (sorted: ArrayLike<number>, q: number): number => {
  const pos = q * (sorted.length - 1)
  const lo = Math.floor(pos)
  const hi = Math.min(lo + 1, sorted.length - 1)
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!)
}

function ok(kind: Threshold["kind"], value: number, basis: string): ThresholdResult {
  return { status: "ok", threshold: { kind, value, basis, tunedOnLabels: false } }
}

function refuseTest(data: LabelledScores, kind: string): { status: "invalid"; reason: string } | undefined {
  if (data.source === "test") {
    return { status: "invalid", reason: `${kind}: thresholds are never learnt from the test split; pass validation (or train) scores` }
  }
  return undefined
}

/** The finite scores labelled normal, ascending, or why there are none. */
function normalScores(data: LabelledScores, kind: string): { status: "ok"; sorted: Float64Array } | { status: "invalid"; reason: string } {
  const refused = refuseTest(data, kind)
  if (refused !== undefined) return refused
  if (data.scores.length !== data.labels.length) {
    return { status: "invalid", reason: `${kind}: ${data.scores.length} scores but ${data.labels.length} labels` }
  }
  const out: Array<number> = []
  for (let i = 0; i < data.scores.length; i++) {
    if (data.labels[i] !== 0) continue
    const s = data.scores[i]!
    if (!Number.isFinite(s)) return { status: "invalid", reason: `${kind}: normal score ${i} is ${s}, not a finite number` }
    out.push(s)
  }
  if (out.length === 0) return { status: "invalid", reason: `${kind} needs normal ${data.source} scores; none of the ${data.scores.length} is labelled normal` }
  return { status: "ok", sorted: Float64Array.from(out).sort() }
}

function fmt(v: number): string {
  return Number(v.toPrecision(6)).toString()
}
