/**
 * The feature matrix of loglizer's classic detectors (its `FeatureExtractor`): template count
 * vectors over the training vocabulary, optionally TF-IDF weighted and normalised, fitted on the
 * training sequences and applied unchanged to the scored ones. Also the config keys and the
 * training-set selection every count-vector detector shares. Use `fitFeatures` in `fit` and
 * `transformFeatures` (with the JSON `FeatureModel`) in `score`.
 */
import { Effect, Schema } from "effect"
import { countVectors, denseCounts } from "../../representations/CountVectors.ts"
import { vocabularyOf, type Vocabulary } from "../../representations/Vocabulary.ts"
import { LABEL_ANOMALY, LABEL_NORMAL, type Sequences } from "../../artifacts/Sequences.ts"
import type { SequenceView } from "./Detector.ts"

/** `term_weighting`: "tf-idf" multiplies column j by idf_j; "none" keeps raw counts. */
export type TermWeighting = "tf-idf" | "none"
/** `normalization`: "zero-mean" subtracts the training column means; "sigmoid" maps nonzeros x to 1 / (1 + e^−x). */
export type Normalization = "zero-mean" | "sigmoid" | "none"
/** `train_on` of unsupervised detectors: every training sequence, or only those labelled normal. */
export type TrainOn = "all" | "normal"

/** Config field `term_weighting` with a default. */
export const termWeightingField = (byDefault: TermWeighting) =>
  Schema.Literals(["tf-idf", "none"]).pipe(Schema.withDecodingDefaultKey(Effect.succeed(byDefault)))

/** Config field `normalization` with a default. */
export const normalizationField = (byDefault: Normalization) =>
  Schema.Literals(["zero-mean", "sigmoid", "none"]).pipe(Schema.withDecodingDefaultKey(Effect.succeed(byDefault)))

/** Config field `train_on` with a default. */
export const trainOnField = (byDefault: TrainOn) =>
  Schema.Literals(["all", "normal"]).pipe(Schema.withDecodingDefaultKey(Effect.succeed(byDefault)))

/** Config field `seed`: an integer in [0, 2^32), default 0. */
export const seedField = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 2 ** 32 - 1 })).pipe(
  Schema.withDecodingDefaultKey(Effect.succeed(0))
)

/** Row-major dense matrix: entry (i, j) is `values[i * cols + j]`. */
export interface DenseMatrix {
  readonly rows: number
  readonly cols: number
  readonly values: Float64Array
}

/** What `transformFeatures` needs, as plain JSON. */
export interface FeatureModel {
  /** Template id of each column (the training vocabulary, ascending ids). */
  readonly templateIds: ReadonlyArray<number>
  readonly termWeighting: TermWeighting
  readonly normalization: Normalization
  /** idf_j per column under "tf-idf", else empty. */
  readonly idf: ReadonlyArray<number>
  /** Training column means (after weighting) under "zero-mean", else empty. */
  readonly mean: ReadonlyArray<number>
}

/** Options of `fitFeatures`. */
export interface FeatureOptions {
  readonly termWeighting: TermWeighting
  readonly normalization: Normalization
}

/**
 * Fit on the sequences at `train` (N rows) and return their transformed matrix. loglizer's
 * formulas, in order:
 * - counts: X_ij = occurrences of template j in sequence i; the columns are the templates seen
 *   in training (loglizer: the DataFrame columns of the training Counters; we order them by
 *   ascending id, which no model depends on). Test-only templates are dropped (loglizer's
 *   default `oov=False`).
 * - "tf-idf": df_j = #{i : X_ij > 0}, idf_j = ln(N / (df_j + 1e-8)), X_ij ← X_ij · idf_j.
 * - then "zero-mean": mean_j = (1/N) Σ_i X_ij over training rows, X_ij ← X_ij − mean_j;
 *   or "sigmoid": X_ij ← 1 / (1 + e^−X_ij) where X_ij ≠ 0 (zeros stay 0).
 */
export const fitFeatures = (
  data: SequenceView,
  train: Int32Array,
  opts: FeatureOptions
): { readonly model: FeatureModel; readonly matrix: DenseMatrix } => {
  const subset = selectSequences(data, train)
  const vocab = vocabularyOf(subset.events)
  const matrix = denseOver(subset, vocab)
  const { rows, cols, values } = matrix
  const idf: Array<number> = []
  if (opts.termWeighting === "tf-idf") {
    for (let j = 0; j < cols; j++) {
      let df = 0
      for (let i = 0; i < rows; i++) if (values[i * cols + j]! > 0) df++
      idf.push(Math.log(rows / (df + 1e-8)))
    }
  }
  const mean: Array<number> = []
  if (opts.normalization === "zero-mean") {
    for (let j = 0; j < cols; j++) {
      let sum = 0
      for (let i = 0; i < rows; i++) sum += values[i * cols + j]! * (idf.length > 0 ? idf[j]! : 1)
      mean.push(rows === 0 ? 0 : sum / rows)
    }
  }
  const model: FeatureModel = {
    templateIds: Array.from(vocab.templateIds),
    termWeighting: opts.termWeighting,
    normalization: opts.normalization,
    idf,
    mean
  }
  applyWeighting(matrix, model)
  return { model, matrix }
}

/** The matrix of the sequences at `which` under a fitted model (rows aligned with `which`). */
export const transformFeatures = (model: FeatureModel, data: SequenceView, which: Int32Array): DenseMatrix => {
  const matrix = denseOver(selectSequences(data, which), vocabularyOf(model.templateIds))
  applyWeighting(matrix, model)
  return matrix
}

/** Why a training set is unusable, or the indexes to train on (`train_on` = "normal": labelled normal only). */
export const trainingRows = (
  tag: string,
  data: SequenceView,
  train: Int32Array,
  trainOn: TrainOn
): { readonly status: "ok"; readonly rows: Int32Array } | { readonly status: "invalid"; readonly reason: string } => {
  const { normal, anomaly, unlabelled } = labelCounts(data, train)
  const counts = `${normal} normal, ${anomaly} anomalous, ${unlabelled} unlabelled`
  if (train.length === 0) return { status: "invalid", reason: `${tag} needs training sequences; the train split is empty` }
  if (normal === 0 && (trainOn === "normal" || anomaly > 0)) {
    return { status: "invalid", reason: `${tag} needs normal training sequences; the train split has ${counts}` }
  }
  if (trainOn === "all") return { status: "ok", rows: train }
  return { status: "ok", rows: train.filter((s) => data.labels[s] === LABEL_NORMAL) }
}

/** Labelled training sequences and their 0/1 labels, or why a supervised detector cannot use them. */
export const labelledRows = (
  tag: string,
  data: SequenceView,
  train: Int32Array
): { readonly status: "ok"; readonly rows: Int32Array; readonly y: Uint8Array } | { readonly status: "invalid"; readonly reason: string } => {
  const { normal, anomaly, unlabelled } = labelCounts(data, train)
  if (normal === 0 || anomaly === 0) {
    return {
      status: "invalid",
      reason: `${tag} is supervised and needs normal and anomalous labelled training sequences; got ${normal} normal, ` +
        `${anomaly} anomalous (${unlabelled} unlabelled skipped)`
    }
  }
  const rows = train.filter((s) => data.labels[s] === LABEL_NORMAL || data.labels[s] === LABEL_ANOMALY)
  return { status: "ok", rows, y: Uint8Array.from(rows, (s) => (data.labels[s] === LABEL_ANOMALY ? 1 : 0)) }
}

/** A count-vector detector's training matrix, or why its training set is unusable. */
export type TrainingFeatures<Extra = {}> =
  | ({ readonly status: "ok"; readonly features: FeatureModel; readonly x: DenseMatrix } & Extra)
  | { readonly status: "invalid"; readonly reason: string }

/** The feature settings every count-vector detector's config has. */
export interface FeatureConfig {
  readonly term_weighting: TermWeighting
  readonly normalization: Normalization
}

/**
 * The opening of every unsupervised count-vector detector's fit: the training rows `train_on`
 * picks (`trainingRows`), then their count vectors weighted and normalised as configured
 * (`fitFeatures`).
 */
export const trainingFeatures = (
  tag: string,
  data: SequenceView,
  train: Int32Array,
  config: FeatureConfig & { readonly train_on: TrainOn }
): TrainingFeatures => {
  const picked = trainingRows(tag, data, train, config.train_on)
  if (picked.status === "invalid") return picked
  const { model, matrix } = fitFeatures(data, picked.rows, { termWeighting: config.term_weighting, normalization: config.normalization })
  return { status: "ok", features: model, x: matrix }
}

/** The same for supervised ones: the labelled training rows (`labelledRows`), their matrix and 0/1 labels. */
export const labelledFeatures = (
  tag: string,
  data: SequenceView,
  train: Int32Array,
  config: FeatureConfig
): TrainingFeatures<{ readonly y: Uint8Array }> => {
  const picked = labelledRows(tag, data, train)
  if (picked.status === "invalid") return picked
  const { model, matrix } = fitFeatures(data, picked.rows, { termWeighting: config.term_weighting, normalization: config.normalization })
  return { status: "ok", features: model, x: matrix, y: picked.y }
}

/** Row i of a dense matrix (a view). */
export const rowOf = (m: DenseMatrix, i: number): Float64Array => m.values.subarray(i * m.cols, (i + 1) * m.cols)

function labelCounts(data: SequenceView, which: Int32Array): { normal: number; anomaly: number; unlabelled: number } {
  let normal = 0
  let anomaly = 0
  for (const s of which) {
    if (data.labels[s] === LABEL_NORMAL) normal++
    else if (data.labels[s] === LABEL_ANOMALY) anomaly++
  }
  return { normal, anomaly, unlabelled: which.length - normal - anomaly }
}

/** The selected sequences as a compact `Sequences` (ids and rows are not used by `countVectors`). */
function selectSequences(data: SequenceView, which: Int32Array): Sequences {
  let total = 0
  for (const s of which) total += data.offsets[s + 1]! - data.offsets[s]!
  const offsets = new Int32Array(which.length + 1)
  const events = new Int32Array(total)
  which.forEach((s, k) => {
    const from = data.offsets[s]!
    const to = data.offsets[s + 1]!
    events.set(data.events.subarray(from, to), offsets[k]!)
    offsets[k + 1] = offsets[k]! + (to - from)
  })
  return {
    ids: { blob: new Uint8Array(0), offsets: new Int32Array(which.length + 1) },
    offsets,
    rows: new Int32Array(total),
    events,
    labels: new Int8Array(which.length)
  }
}

function denseOver(seqs: Sequences, vocab: Vocabulary): { rows: number; cols: number; values: Float64Array } {
  const m = countVectors(seqs, vocab)
  return { rows: m.rows, cols: m.cols, values: denseCounts(m) }
}

function applyWeighting(m: DenseMatrix, model: FeatureModel): void {
  const { rows, cols, values } = m
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let x = values[i * cols + j]!
      if (model.termWeighting === "tf-idf") x *= model.idf[j]!
      if (model.normalization === "zero-mean") x -= model.mean[j]!
      else if (model.normalization === "sigmoid" && x !== 0) x = 1 / (1 + Math.exp(-x))
      values[i * cols + j] = x
    }
  }
}
