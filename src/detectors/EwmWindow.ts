/**
 * Detector `ewm_window` (issue 17's window baseline, after alog-detect's): windows are taken in
 * time order (sequence index order; the group stage's fixed windows, e.g. 50 lines with stride 25)
 * and each template's count per window is tracked by an exponentially weighted mean and variance
 * (weight `alpha`). A window's `freq_z` is the largest z-score |count − mean| / sd over the
 * templates seen so far or in it, each clipped to `z_clip`; its `unseen_rate` is the share of its
 * distinct templates never seen in an earlier window. Score = `weight_z` · min(freq_z / p95, 1) +
 * `weight_unseen` · unseen_rate, p95 being the 95th percentile of the training windows' freq_z.
 * Training walks the training windows (labels ignored), keeps the state, p95 and the threshold
 * (the `threshold_quantile` of the training scores); scoring continues the walk from that state
 * over the scored windows in time order, so the baseline keeps adapting as a stream does.
 */
import { nearestRank, thresholdQuantileKey } from "./base/Threshold.ts"
import { Effect, Schema } from "effect"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import type { FitResult } from "../artifacts/Model.ts"
import type { Detector, SequenceView } from "./base/Detector.ts"

const unit = (fallback: number) => Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 })).pipe(Schema.withDecodingDefaultKey(Effect.succeed(fallback)))

/** Hyperparameters of `ewm_window`. */
export const EwmWindowConfig = closedStruct({
  /** Weight of the newest window in the moving mean and variance, in (0, 1]. */
  alpha: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMinimum: true })).pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.3))),
  /** Largest z-score a template contributes. */
  z_clip: Schema.Finite.check(Schema.isGreaterThan(0)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(10))),
  weight_z: unit(0.6),
  weight_unseen: unit(0.4),
  /** Quantile in (0, 1] of the training scores used as threshold. */
  threshold_quantile: thresholdQuantileKey(0.95)
})

/** Decoded `ewm_window` config. */
export type EwmWindowConfig = typeof EwmWindowConfig.Type

/** The moving baseline after the training windows, p95 of their freq_z and the threshold. */
export interface EwmWindowModel {
  /** Templates seen in training, ascending, with their moving mean and variance of the count per window. */
  readonly templates: ReadonlyArray<number>
  readonly mean: ReadonlyArray<number>
  readonly variance: ReadonlyArray<number>
  readonly p95: number
  /** Anomaly iff score > threshold. */
  readonly threshold: number
}

/** The moving state while walking windows. */
interface State {
  readonly mean: Map<number, number>
  readonly variance: Map<number, number>
}

/** Variance below which a template's count is treated as constant (its sd is this one's root). */
const MIN_VARIANCE = 0.25

/** Score one window against the state, then fold it into the state; returns freq_z and unseen_rate. */
const step = (state: State, data: SequenceView, s: number, config: EwmWindowConfig): { freqZ: number; unseen: number } => {
  const counts = new Map<number, number>()
  for (let e = data.offsets[s]!; e < data.offsets[s + 1]!; e++) counts.set(data.events[e]!, (counts.get(data.events[e]!) ?? 0) + 1)
  let freqZ = 0
  let unseen = 0
  const first = state.mean.size === 0
  for (const [t, mean] of state.mean) {
    const z = Math.abs((counts.get(t) ?? 0) - mean) / Math.sqrt(Math.max(state.variance.get(t)!, MIN_VARIANCE))
    freqZ = Math.max(freqZ, Math.min(z, config.z_clip))
  }
  for (const t of counts.keys()) {
    if (state.mean.has(t)) continue
    unseen++
    // A template the baseline never had: as far from it as its count allows.
    if (!first) freqZ = Math.max(freqZ, Math.min(counts.get(t)! / Math.sqrt(MIN_VARIANCE), config.z_clip))
  }
  // Fold the window in (templates absent from it count 0; new ones start at their count).
  const a = config.alpha
  for (const [t, mean] of state.mean) {
    const x = counts.get(t) ?? 0
    const d = x - mean
    state.mean.set(t, mean + a * d)
    state.variance.set(t, (1 - a) * (state.variance.get(t)! + a * d * d))
  }
  for (const [t, x] of counts) {
    if (!state.mean.has(t)) {
      state.mean.set(t, x)
      state.variance.set(t, 0)
    }
  }
  return { freqZ, unseen: counts.size === 0 ? 0 : unseen / counts.size }
}

const combine = (freqZ: number, unseen: number, p95: number, config: EwmWindowConfig): number =>
  config.weight_z * (p95 > 0 ? Math.min(freqZ / p95, 1) : freqZ > 0 ? 1 : 0) + config.weight_unseen * unseen

export const ewmWindow: Detector<EwmWindowConfig, EwmWindowModel> = {
  tag: "ewm_window",
  version: "1",
  configSchema: EwmWindowConfig,
  supervised: false,

  fit(data: SequenceView, train: Int32Array, config: EwmWindowConfig): FitResult<EwmWindowModel> {
    if (train.length === 0) return { status: "invalid", reason: "ewm_window needs at least one training window" }
    const order = Int32Array.from(train).sort()
    const state: State = { mean: new Map(), variance: new Map() }
    const parts = Array.from(order, (s) => step(state, data, s, config))
    const p95 = nearestRank(Float64Array.from(parts, (p) => p.freqZ).sort(), 0.95)
    const scores = Float64Array.from(parts, (p) => combine(p.freqZ, p.unseen, p95, config)).sort()
    const templates = [...state.mean.keys()].sort((x, y) => x - y)
    return {
      status: "ok",
      model: { templates, mean: templates.map((t) => state.mean.get(t)!), variance: templates.map((t) => state.variance.get(t)!), p95, threshold: nearestRank(scores, config.threshold_quantile) },
      report: { windows: train.length, templates: templates.length, p95_freq_z: p95 }
    }
  },

  score(model: EwmWindowModel, data: SequenceView, which: Int32Array, config: EwmWindowConfig) {
    return scoreFrom(startState(model), model, data, which, config)
  },

  /** One more pass: the baseline walks on over the `train` windows in time order; p95 and the threshold stay the run's. */
  async continueFit(model: EwmWindowModel, data: SequenceView, train: Int32Array, config: EwmWindowConfig) {
    const state = startState(model)
    for (const s of Int32Array.from(train).sort()) step(state, data, s, config)
    const templates = [...state.mean.keys()].sort((x, y) => x - y)
    return {
      status: "ok" as const,
      model: { ...model, templates, mean: templates.map((t) => state.mean.get(t)!), variance: templates.map((t) => state.variance.get(t)!) },
      report: { windows: train.length, templates: templates.length }
    }
  },

  /** The walk continued across batches: the state after one batch is where the next starts. */
  streamScorer(model: EwmWindowModel, config: EwmWindowConfig) {
    const state = startState(model)
    return { score: (data: SequenceView, which: Int32Array) => scoreFrom(state, model, data, which, config) }
  }
}

const startState = (model: EwmWindowModel): State => ({
  mean: new Map(model.templates.map((t, i) => [t, model.mean[i]!])),
  variance: new Map(model.templates.map((t, i) => [t, model.variance[i]!]))
})

/** Score the `which` windows in time order from `state` (which the walk advances), the results in `which`'s order. */
const scoreFrom = (state: State, model: EwmWindowModel, data: SequenceView, which: Int32Array, config: EwmWindowConfig) => {
  const order = Array.from(which, (s, j) => [s, j] as const).sort((x, y) => x[0] - y[0])
  const scores = new Float64Array(which.length)
  for (const [s, j] of order) {
    const p = step(state, data, s, config)
    scores[j] = combine(p.freqZ, p.unseen, model.p95, config)
  }
  const predictions = Uint8Array.from(scores, (x) => (x > model.threshold ? 1 : 0))
  return { scores, predictions, threshold: model.threshold }
}
