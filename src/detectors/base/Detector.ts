/**
 * The detector contract and the registry of detectors by tag. A detector is data plus two pure,
 * synchronous functions: `fit` learns a JSON-serialisable model from training sequences and
 * `score` turns sequences into scores, 0/1 predictions and the threshold used. Stages decode the
 * hyperparameters with `configSchema`, then call `fit` and `score`; use `getDetector(tag)` to look
 * a detector up from an experiment file.
 */
import type { Schema } from "effect"
import type { FitResult } from "../../artifacts/Model.ts"
import type { NextEventHits } from "../../artifacts/Scores.ts"

/** The columns of `Sequences` a detector reads (a `Sequences` value is a `SequenceView`). */
export interface SequenceView {
  /** Sequence i covers `events[offsets[i] .. offsets[i+1])`. */
  readonly offsets: Int32Array
  /** Template id per event. */
  readonly events: Int32Array
  /** LABEL_UNKNOWN, LABEL_NORMAL or LABEL_ANOMALY per sequence. */
  readonly labels: Int8Array
  /**
   * Leading events of each sequence that are history only (stream chunks' `continuous_context`):
   * not labelled, so never a prediction target, a feature or a training example. Only detectors
   * with `readsContext` see it; the others get the sequences without those events.
   */
  readonly context?: Int32Array | undefined
}

/** The first event of sequence s that is not context. */
export const firstOwnEvent = (data: SequenceView, s: number): number => data.offsets[s]! + (data.context?.[s] ?? 0)

/** Output of `score`, aligned with the `which` indexes it was given. */
export interface DetectorScores {
  /** Score of sequence `which[j]` at j; higher means more anomalous. */
  readonly scores: Float64Array
  /** 1 where the sequence is predicted anomalous, else 0. */
  readonly predictions: Uint8Array
  /** The decision threshold that turned scores into predictions. */
  readonly threshold: number
  /** Detector-specific diagnostic counts (e.g. DeepLog's anomalous and unseen events), reported in metrics. */
  readonly diagnostics?: Readonly<Record<string, number>>
  /** Next-event accuracy, when asked for (`NextEventRequest`) and the detector predicts next events. */
  readonly nextEvent?: NextEventHits
}

/**
 * Asks `score` for next-event accuracy over a subset of the scored sequences as well, so a
 * predictive detector computes its predictions once (`predictNext` would compute them again).
 */
export interface NextEventRequest {
  /** Sequence indexes, a subset of the scored `which`. */
  readonly which: Int32Array
  readonly ks: ReadonlyArray<number>
}

/**
 * A predictive detector's verdict material per predicted event (`Detector.predictEvents`): what an
 * alerting policy needs to judge each event by top-k or top-p and to show what was expected.
 */
export interface EventPredictions {
  /** The number of output classes (a rank >= it means the event's template was never seen in training). */
  readonly classes: number
  /** Index in `data.events` of each predicted event. */
  readonly event: Int32Array
  /** Rank of the event's true template among the predictions (0 = most likely). */
  readonly rank: Int32Array
  /** Probability mass of the classes ranked strictly above the true template (1 for an unseen one). */
  readonly massAbove: Float32Array
  /** The `k` most likely template ids per predicted event, row-major (−1 for a class that is not a template, e.g. an end marker). */
  readonly top: Int32Array
  readonly k: number
}

/** Representations a detector can read besides the sequences (built by the represent stage). */
export type DetectorNeed = "parameters" | "elapsed_time"

/** What the stages hand a detector that declared `needs`. */
export interface DetectorInputs {
  /** Parsed-log row of every event (aligned with `SequenceView.events`; −1 for pre-sequenced data). */
  readonly eventRows: Int32Array
  /** The represent stage's value per needed kind. */
  readonly representations: Readonly<Partial<Record<DetectorNeed, unknown>>>
}

/** What a long-running `fitAsync` may use: progress reports and resumable checkpoints. */
export interface FitContext {
  /** The representations the detector `needs` (absent when it needs none). */
  readonly inputs?: DetectorInputs | undefined
  /** Report progress (0..1) with a short message (epoch, loss, ETA). */
  readonly progress: (fraction: number, message?: string) => void
  /** The newest intact checkpoint an interrupted attempt left, if any: the value given to `checkpoint`, as decoded. */
  readonly resume?: { readonly step: number; readonly state: unknown } | undefined
  /**
   * Store a checkpoint for `step` (kept in the cache until the fit's output is stored): plain data
   * (JSON values, typed arrays), encoded at once, so its arrays may be reused afterwards.
   */
  readonly checkpoint?: (step: number, state: unknown) => void
}

/**
 * A log anomaly detector. `Config` is what `configSchema` decodes to; `Model` must be plain
 * data: JSON values, or typed arrays inside them (it is cached with the binary codec), so
 * `score` must accept a model that went through `decodeValue(encodeValue(model))`.
 */
export interface Detector<Config, Model> {
  /** Stable name used in experiment files, e.g. "template_frequency". */
  readonly tag: string
  /** Bump when fit or score output changes for the same inputs (part of cache keys). */
  readonly version: string
  /** Decodes hyperparameters from TOML-like input: unknown keys rejected, defaults applied. */
  readonly configSchema: Schema.Codec<Config, unknown>
  /** Whether `fit` needs labelled training sequences. */
  readonly supervised: boolean
  /**
   * Whether the detector reads `SequenceView.context` (predictors that use the events before a
   * target as history: DeepLog, Markov). Others are given the sequences without context events.
   */
  readonly readsContext?: boolean
  /** Learns a model from the sequences at the `train` indexes. */
  fit(data: SequenceView, train: Int32Array, config: Config, inputs?: DetectorInputs): FitResult<Model>
  /** Scores the sequences at the `which` indexes. */
  score(model: Model, data: SequenceView, which: Int32Array, config: Config, inputs?: DetectorInputs, nextEvent?: NextEventRequest): DetectorScores
  /**
   * Long-running detectors (neural ones): `fit` with progress and checkpoints. The fit stage
   * prefers it to `fit`; both must learn the same model from the same inputs.
   */
  fitAsync?(data: SequenceView, train: Int32Array, config: Config, ctx: FitContext): Promise<FitResult<Model>>
  /** Detectors with a faster asynchronous scorer (e.g. ONNX Runtime); the score stage prefers it. */
  scoreAsync?(model: Model, data: SequenceView, which: Int32Array, config: Config, inputs?: DetectorInputs, nextEvent?: NextEventRequest): Promise<DetectorScores>
  /**
   * The representations this config reads besides the sequences (e.g. DeepLog's parameter-value
   * model: parameters and elapsed times); the plan wires those represent stages into fit and score.
   */
  needs?(config: Config): ReadonlyArray<DetectorNeed>
  /**
   * Predictive detectors only: over every event of the `which` sequences, how often the true next
   * event is among the model's k most likely, for each k in `ks`.
   */
  predictNext?(model: Model, data: SequenceView, which: Int32Array, ks: ReadonlyArray<number>): NextEventHits
  /**
   * Detectors that can go on learning from a fitted model (`flow train --from`): the model after
   * `epochs` more epochs (or one more pass) over the `train` sequences, same output classes and
   * threshold. Absent: the detector must be trained anew.
   */
  continueFit?(model: Model, data: SequenceView, train: Int32Array, config: Config, options: { readonly epochs: number }): Promise<FitResult<Model>>
  /**
   * Detectors whose scores depend on the sequences scored before (a moving baseline): a scorer
   * for a stream scored batch by batch, its state carried from one call to the next, so batches
   * in order score as one call over all of them would. `flow detect` prefers it to `score`.
   */
  streamScorer?(model: Model, config: Config): { score(data: SequenceView, which: Int32Array): DetectorScores }
  /**
   * Predictive detectors only: per event of the `which` sequences it predicts, the rank and mass
   * above of its true template and the `k` most likely templates (for `flow detect`'s alerting).
   */
  predictEvents?(model: Model, data: SequenceView, which: Int32Array, k: number): Promise<EventPredictions>
  /** The same as `predictNext` on a faster asynchronous scorer; the score stage prefers it. */
  predictNextAsync?(model: Model, data: SequenceView, which: Int32Array, ks: ReadonlyArray<number>): Promise<NextEventHits>
}

/**
 * A detector whose config and model types are hidden. Sound use: pass `fit` only a config
 * decoded by the same detector's `configSchema`, and `score` only a model from its own `fit`
 * (or its JSON round trip). Assignability from `Detector<C, M>` relies on method parameter
 * bivariance, which is why `fit` and `score` are declared as methods.
 */
export type AnyDetector = Detector<unknown, unknown>

/** Thrown by `getDetector` for a tag no detector has. */
export class UnknownDetectorError extends Error {
  readonly tag: string
  readonly known: ReadonlyArray<string>
  constructor(tag: string, known: ReadonlyArray<string>) {
    super(`unknown detector "${tag}"; known detectors: ${known.join(", ")}`)
    this.name = "UnknownDetectorError"
    this.tag = tag
    this.known = known
  }
}
