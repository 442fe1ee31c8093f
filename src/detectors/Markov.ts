/**
 * Detector `markov`: an order-n Markov chain over template ids with additive smoothing. Each
 * sequence is padded with n start symbols and closed by an end symbol, so a missing first or last
 * event is a transition like any other; a sequence is as anomalous as its least likely
 * transition. Unsupervised (by default it learns from every training sequence, labels unused).
 * A baseline for the sequence models (DeepLog's view of logs without the LSTM).
 */
import { nearestRank, thresholdQuantileKey } from "./base/Threshold.ts"
import { Effect, Schema } from "effect"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import { type Detector, type SequenceView, firstOwnEvent } from "./base/Detector.ts"
import type { FitResult } from "../artifacts/Model.ts"
import type { NextEventHits } from "../artifacts/Scores.ts"
import { trainingRows, trainOnField } from "./base/Features.ts"

/** Context padding before the first event. */
const START = -1
/** The symbol after the last event. */
const END = -2

/** Hyperparameters of `markov`. */
export const MarkovConfig = closedStruct({
  /** Events of context n, an integer in [1, 10]. */
  order: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 10 })).pipe(Schema.withDecodingDefaultKey(Effect.succeed(1))),
  /** Additive smoothing α > 0. */
  smoothing: Schema.Finite.check(Schema.isGreaterThan(0)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(1))),
  /**
   * Quantile in (0, 1] of the training scores used as threshold (nearest rank); 1 = the maximum.
   * Default 0.97: about 3% of the (unlabelled, possibly contaminated) training sequences lie above
   * it, the anomaly share loglizer assumes for HDFS (isolation_forest's contamination 0.03).
   */
  threshold_quantile: thresholdQuantileKey(0.97),
  /** "all" training sequences (labels unused) or only those labelled normal. */
  train_on: trainOnField("all")
})

/** Decoded `markov` config. */
export type MarkovConfig = typeof MarkovConfig.Type

/** Transition counts from one context. */
export interface MarkovContext {
  /** The n preceding symbols (START = −1 pads the beginning). */
  readonly context: ReadonlyArray<number>
  /** Symbols seen after it (END = −2 closes a sequence), ascending, with their counts. */
  readonly next: ReadonlyArray<number>
  readonly counts: ReadonlyArray<number>
}

/** Transition counts, the training templates and the threshold. */
export interface MarkovModel {
  readonly order: number
  /** Distinct templates seen in training, ascending. */
  readonly templates: ReadonlyArray<number>
  /** Every context seen in training, in order of first occurrence. */
  readonly contexts: ReadonlyArray<MarkovContext>
  /** Anomaly iff score > threshold. */
  readonly threshold: number
}

/**
 * With V training templates, the alphabet of next symbols has V + 2 entries (the templates, END,
 * and one share for any template never seen in training):
 * P(s | c) = (count(c → s) + α) / (count(c) + α·(V + 2)), count(c) = transitions out of c; an
 * unseen context gives 1 / (V + 2). A sequence e_1..e_L is read as the transitions
 * (e_{t−n} .. e_{t−1}) → e_t for t = 1..L+1, with e_t = START for t < 1 and e_{L+1} = END.
 * Score = max_t −ln P(e_t | context_t) (an empty sequence is the single transition START^n → END).
 * Threshold = nearest-rank quantile q of the training scores: sorted ascending s[0..N−1],
 * threshold = s[ceil(q·N) − 1].
 */
export const markov: Detector<MarkovConfig, MarkovModel> = {
  tag: "markov",
  version: "2",
  configSchema: MarkovConfig,
  supervised: false,
  readsContext: true,

  fit(data: SequenceView, train: Int32Array, config: MarkovConfig): FitResult<MarkovModel> {
    const picked = trainingRows("markov", data, train, config.train_on)
    if (picked.status === "invalid") return picked
    const table = new Map<string, { context: Array<number>; next: Map<number, number> }>()
    const templates = new Set<number>()
    for (const s of picked.rows) {
      forEachTransition(data, s, config.order, (context, symbol) => {
        const key = context.join(" ")
        let entry = table.get(key)
        if (entry === undefined) table.set(key, (entry = { context: [...context], next: new Map() }))
        entry.next.set(symbol, (entry.next.get(symbol) ?? 0) + 1)
        if (symbol >= 0) templates.add(symbol)
      })
    }
    const contexts = [...table.values()].map(({ context, next }) => {
      const symbols = [...next.keys()].sort((a, b) => a - b)
      return { context, next: symbols, counts: symbols.map((s) => next.get(s)!) }
    })
    const model = { order: config.order, templates: [...templates].sort((a, b) => a - b), contexts, threshold: 0 }
    const trainScores = scoresOf(model, data, picked.rows, config.smoothing).sort()
    return { status: "ok", model: { ...model, threshold: nearestRank(trainScores, config.threshold_quantile) } }
  },

  score(model: MarkovModel, data: SequenceView, which: Int32Array, config: MarkovConfig) {
    const scores = scoresOf(model, data, which, config.smoothing)
    const predictions = Uint8Array.from(scores, (x) => (x > model.threshold ? 1 : 0))
    return { scores, predictions, threshold: model.threshold }
  },

  /** Ranks a context's next symbols by training count (ties: smaller id first); an unseen context ranks nothing. */
  predictNext(model: MarkovModel, data: SequenceView, which: Int32Array, ks: ReadonlyArray<number>): NextEventHits {
    const ranked = new Map<string, Array<number>>()
    for (const c of model.contexts) {
      const order = c.next.map((s, k) => [s, c.counts[k]!] as const).sort((a, b) => b[1] - a[1] || a[0] - b[0])
      ranked.set(c.context.join(" "), order.map(([s]) => s))
    }
    let events = 0
    const hits = ks.map(() => 0)
    for (const s of which) {
      forEachTransition(data, s, model.order, (context, symbol) => {
        if (symbol === END) return
        events++
        const rank = ranked.get(context.join(" "))?.indexOf(symbol) ?? -1
        if (rank >= 0) ks.forEach((k, j) => { if (rank < k) hits[j]!++ })
      })
    }
    return { ks, events, hits }
  }
}

/**
 * Calls `f(context, symbol)` for every transition of sequence s (the context array is reused). A
 * stream chunk's context events (`data.context`) only fill the history: no transition ends on one.
 */
function forEachTransition(data: SequenceView, s: number, order: number, f: (context: ReadonlyArray<number>, symbol: number) => void): void {
  const start = data.offsets[s]!
  const end = data.offsets[s + 1]!
  const own = firstOwnEvent(data, s)
  const context = new Array<number>(order).fill(START)
  for (let p = start; p <= end; p++) {
    const symbol = p < end ? data.events[p]! : END
    if (p >= own) f(context, symbol)
    context.shift()
    context.push(symbol)
  }
}

function scoresOf(model: Omit<MarkovModel, "threshold">, data: SequenceView, which: Int32Array, alpha: number): Float64Array {
  const alphabet = model.templates.length + 2
  const byContext = new Map<string, { next: Map<number, number>; total: number }>()
  for (const c of model.contexts) {
    const next = new Map<number, number>()
    c.next.forEach((s, k) => next.set(s, c.counts[k]!))
    byContext.set(c.context.join(" "), { next, total: c.counts.reduce((a, b) => a + b, 0) })
  }
  return Float64Array.from(which, (s) => {
    let worst = 0
    forEachTransition(data, s, model.order, (context, symbol) => {
      const entry = byContext.get(context.join(" "))
      const surprisal = entry === undefined
        ? Math.log(alphabet)
        : -Math.log(((entry.next.get(symbol) ?? 0) + alpha) / (entry.total + alpha * alphabet))
      if (surprisal > worst) worst = surprisal
    })
    return worst
  })
}
