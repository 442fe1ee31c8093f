/**
 * Detector `template_frequency`: a sequence is as anomalous as its rarest event. Template
 * probabilities come from training event counts with additive smoothing, keeping some mass for
 * templates never seen in training. Unsupervised: labels are ignored. A quick baseline, and a
 * reference for how a detector is written.
 */
import { nearestRank, thresholdQuantileKey } from "./base/Threshold.ts"
import { Effect, Schema } from "effect"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import type { Detector, SequenceView } from "./base/Detector.ts"
import type { FitResult } from "../artifacts/Model.ts"

/** Hyperparameters of `template_frequency`. */
export const TemplateFrequencyConfig = closedStruct({
  /** Additive smoothing α > 0. */
  smoothing: Schema.Finite.check(Schema.isGreaterThan(0)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(1))),
  /** Quantile in (0, 1] of the training scores used as threshold; 1 = the maximum. */
  threshold_quantile: thresholdQuantileKey(1)
})

/** Decoded `template_frequency` config. */
export type TemplateFrequencyConfig = typeof TemplateFrequencyConfig.Type

/** Training template counts plus the threshold chosen on the training scores. */
export interface TemplateFrequencyModel {
  /** Distinct template ids seen in training, ascending. */
  readonly templates: ReadonlyArray<number>
  /** Training occurrences of `templates[i]`. */
  readonly counts: ReadonlyArray<number>
  /** Training events N (sum of counts). */
  readonly total: number
  /** Anomaly iff score > threshold. */
  readonly threshold: number
}

/**
 * p(t) = (count(t) + α) / (N + α·(V + 1)), V = distinct training templates; the + 1 is the
 * share of every unseen template. Score = max over the sequence's events of −log p(t), 0 when
 * empty. Threshold = nearest-rank quantile q of the training scores: sorted ascending
 * s[0..n-1], threshold = s[ceil(q·n) − 1] (q = 1 gives the maximum).
 */
export const templateFrequency: Detector<TemplateFrequencyConfig, TemplateFrequencyModel> = {
  tag: "template_frequency",
  version: "1",
  configSchema: TemplateFrequencyConfig,
  supervised: false,

  fit(data: SequenceView, train: Int32Array, config: TemplateFrequencyConfig): FitResult<TemplateFrequencyModel> {
    if (train.length === 0) return { status: "invalid", reason: "template_frequency needs at least one training sequence" }
    const countOf = new Map<number, number>()
    let total = 0
    for (const s of train) {
      for (let e = data.offsets[s]!; e < data.offsets[s + 1]!; e++) {
        const t = data.events[e]!
        countOf.set(t, (countOf.get(t) ?? 0) + 1)
        total++
      }
    }
    const templates = [...countOf.keys()].sort((a, b) => a - b)
    const counts = templates.map((t) => countOf.get(t)!)
    const rarity = rarityTable(templates, counts, total, config.smoothing)
    const trainScores = Float64Array.from(train, (s) => sequenceRarity(data, s, rarity)).sort()
    return { status: "ok", model: { templates, counts, total, threshold: nearestRank(trainScores, config.threshold_quantile) } }
  },

  score(model: TemplateFrequencyModel, data: SequenceView, which: Int32Array, config: TemplateFrequencyConfig) {
    const rarity = rarityTable(model.templates, model.counts, model.total, config.smoothing)
    const scores = Float64Array.from(which, (s) => sequenceRarity(data, s, rarity))
    const predictions = Uint8Array.from(scores, (x) => (x > model.threshold ? 1 : 0))
    return { scores, predictions, threshold: model.threshold }
  }
}

interface Rarity {
  readonly seen: Map<number, number>
  readonly unseen: number
}

function rarityTable(templates: ReadonlyArray<number>, counts: ReadonlyArray<number>, total: number, alpha: number): Rarity {
  const denominator = total + alpha * (templates.length + 1)
  const seen = new Map<number, number>()
  templates.forEach((t, i) => seen.set(t, -Math.log((counts[i]! + alpha) / denominator)))
  return { seen, unseen: -Math.log(alpha / denominator) }
}

function sequenceRarity(data: SequenceView, s: number, rarity: Rarity): number {
  let max = 0
  for (let e = data.offsets[s]!; e < data.offsets[s + 1]!; e++) {
    const r = rarity.seen.get(data.events[e]!) ?? rarity.unseen
    if (r > max) max = r
  }
  return max
}
