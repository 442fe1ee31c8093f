/**
 * Detector `naive_bayes`: multinomial naive Bayes over template n-gram "phrases", two classes
 * (normal, anomaly) learned from labelled training sequences. Supervised: it needs both classes
 * in training and says so (status "invalid") otherwise. The posterior is computed in log space,
 * so long sequences neither underflow nor turn into NaN.
 */
import { Effect, Schema } from "effect"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import type { Detector, SequenceView } from "./base/Detector.ts"
import type { FitResult } from "../artifacts/Model.ts"
import { LABEL_ANOMALY, LABEL_NORMAL } from "../artifacts/Sequences.ts"

const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))

/** Hyperparameters of `naive_bayes`. */
export const NaiveBayesConfig = closedStruct({
  /** Laplace (additive) smoothing α > 0. */
  smoothing: Schema.Finite.check(Schema.isGreaterThan(0)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(1))),
  /** Shortest phrase, in events (>= 1). */
  n_min: PositiveInt.pipe(Schema.withDecodingDefaultKey(Effect.succeed(1))),
  /** Longest phrase, in events (>= n_min). */
  n_max: PositiveInt.pipe(Schema.withDecodingDefaultKey(Effect.succeed(2))),
  /** Predict anomaly iff P(anomaly | phrases) >= this; in (0, 1). */
  anomalous_posterior_threshold: Schema.Finite.check(
    Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMinimum: true, exclusiveMaximum: true })
  ).pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.5))),
  /** Keep only the k phrases most frequent in training (ties: smaller phrase first); 0 = all. */
  top_k_phrases: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(0)))
}).check(
  Schema.makeFilter((c) =>
    c.n_min <= c.n_max || { path: ["n_min"], issue: `n_min (${c.n_min}) must not exceed n_max (${c.n_max})` }
  )
)

/** Decoded `naive_bayes` config. */
export type NaiveBayesConfig = typeof NaiveBayesConfig.Type

/** Phrase counts per class and labelled training sequences per class. */
export interface NaiveBayesModel {
  /** Kept phrases, each the template ids of n consecutive events joined by " ". */
  readonly phrases: ReadonlyArray<string>
  /** Occurrences of `phrases[i]` in normal training sequences. */
  readonly normalCounts: ReadonlyArray<number>
  /** Occurrences of `phrases[i]` in anomalous training sequences. */
  readonly anomalyCounts: ReadonlyArray<number>
  /** Labelled training sequences per class (class priors). */
  readonly normalSequences: number
  readonly anomalySequences: number
}

/**
 * With V kept phrases, per class c: P(c) = sequences_c / sequences and
 * P(w | c) = (count_c(w) + α) / (Σ_w' count_c(w') + α·V). A sequence's phrases outside the kept
 * set are ignored. log P(c, seq) = log P(c) + Σ_w k(w)·log P(w | c), k(w) = occurrences in seq;
 * score = P(anomaly | seq) = 1 / (1 + exp(log P(normal, seq) − log P(anomaly, seq))).
 */
export const naiveBayes: Detector<NaiveBayesConfig, NaiveBayesModel> = {
  tag: "naive_bayes",
  version: "1",
  configSchema: NaiveBayesConfig,
  supervised: true,

  fit(data: SequenceView, train: Int32Array, config: NaiveBayesConfig): FitResult<NaiveBayesModel> {
    const counts = new Map<string, [normal: number, anomaly: number]>()
    let normalSequences = 0
    let anomalySequences = 0
    let unlabelled = 0
    for (const s of train) {
      const label = data.labels[s]
      if (label !== LABEL_NORMAL && label !== LABEL_ANOMALY) {
        unlabelled++
        continue
      }
      const cls = label === LABEL_ANOMALY ? 1 : 0
      if (cls === 1) anomalySequences++
      else normalSequences++
      forEachPhrase(data, s, config, (phrase) => {
        let pair = counts.get(phrase)
        if (pair === undefined) counts.set(phrase, (pair = [0, 0]))
        pair[cls]++
      })
    }
    if (normalSequences === 0 || anomalySequences === 0) {
      return {
        status: "invalid",
        reason: `naive_bayes needs normal and anomalous labelled training sequences; got ${normalSequences} normal, ` +
          `${anomalySequences} anomalous (${unlabelled} unlabelled skipped)`
      }
    }
    const total = (p: string) => counts.get(p)![0] + counts.get(p)![1]
    let phrases = [...counts.keys()].sort((a, b) => total(b) - total(a) || (a < b ? -1 : a > b ? 1 : 0))
    if (config.top_k_phrases > 0) phrases = phrases.slice(0, config.top_k_phrases)
    return {
      status: "ok",
      model: {
        phrases,
        normalCounts: phrases.map((p) => counts.get(p)![0]),
        anomalyCounts: phrases.map((p) => counts.get(p)![1]),
        normalSequences,
        anomalySequences
      }
    }
  },

  score(model: NaiveBayesModel, data: SequenceView, which: Int32Array, config: NaiveBayesConfig) {
    const alpha = config.smoothing
    const vocabulary = model.phrases.length
    const normalTotal = model.normalCounts.reduce((a, b) => a + b, 0)
    const anomalyTotal = model.anomalyCounts.reduce((a, b) => a + b, 0)
    // Per phrase: log P(w | anomaly) − log P(w | normal).
    const logRatio = new Map<string, number>()
    model.phrases.forEach((p, i) => {
      const logAnomaly = Math.log((model.anomalyCounts[i]! + alpha) / (anomalyTotal + alpha * vocabulary))
      const logNormal = Math.log((model.normalCounts[i]! + alpha) / (normalTotal + alpha * vocabulary))
      logRatio.set(p, logAnomaly - logNormal)
    })
    const priorLogit = Math.log(model.anomalySequences) - Math.log(model.normalSequences)
    const threshold = config.anomalous_posterior_threshold
    const scores = Float64Array.from(which, (s) => {
      let logit = priorLogit
      forEachPhrase(data, s, config, (phrase) => {
        logit += logRatio.get(phrase) ?? 0
      })
      return sigmoid(logit)
    })
    const predictions = Uint8Array.from(scores, (p) => (p >= threshold ? 1 : 0))
    return { scores, predictions, threshold }
  }
}

/** Calls `f` with every phrase of sequence s, for n = n_min .. n_max. */
function forEachPhrase(data: SequenceView, s: number, config: NaiveBayesConfig, f: (phrase: string) => void): void {
  const start = data.offsets[s]!
  const end = data.offsets[s + 1]!
  for (let n = config.n_min; n <= config.n_max; n++) {
    for (let i = start; i + n <= end; i++) f(data.events.subarray(i, i + n).join(" "))
  }
}

/** 1 / (1 + e^−x) without overflow: log-sum-exp of (x, 0), written for each sign of x. */
function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x))
  const e = Math.exp(x)
  return e / (1 + e)
}
