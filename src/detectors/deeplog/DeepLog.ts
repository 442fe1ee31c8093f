/**
 * Detector `deeplog` (Du et al., CCS 2017): an LSTM learns to predict the next log key from the
 * `history_size` keys before it, on normal training sequences. At test time an event is
 * anomalous when its true key is not among the model's `top_g` most likely next keys, or when
 * the key was never seen in training (counted separately); a sequence is anomalous when any of
 * its events is. The sequence score is the worst rank of a true next key (0 = predicted first;
 * an unseen key ranks K, the number of training keys), so threshold top_g − 0.5 gives DeepLog's
 * rule and AUROC/AUPRC rank sequences by it. With `end_marker`, the end of a sequence is one more
 * class to predict after its last event (an extension, off by default).
 *
 * Training runs on the native LSTM (src/detectors/deeplog/NativeLstm.ts; chosen by measurement,
 * see docs/BENCHMARKS.md, bench:train), checkpoints after every epoch and resumes from the last
 * intact checkpoint. The fitted model carries its ONNX export; the score stage runs it on ONNX
 * Runtime (`scoreAsync`), while `score` uses the native forward pass (same math).
 */
import { Effect, Schema } from "effect"
import { createHash } from "node:crypto"
import { closedStruct } from "../../artifacts/ClosedStruct.ts"
import type { Detector, DetectorInputs, DetectorScores, EventPredictions, FitContext, NextEventRequest, SequenceView } from "../base/Detector.ts"
import type { FitResult } from "../../artifacts/Model.ts"
import type { NextEventHits } from "../../artifacts/Scores.ts"
import { trainingRows, trainOnField } from "../base/Features.ts"
import type { LstmShape } from "./LstmTypes.ts"
import { flattenWeights, unflattenWeights, zerosLike } from "./NativeLstm.ts"
import { exportOnnx, OnnxScorer } from "./Onnx.ts"
import {
  fitParameterModel,
  type ParameterFitHooks,
  type ParameterModel,
  type ParameterModelConfig,
  ROLE_SCORE,
  ROLE_TRAIN,
  scoreParameterModel,
  type TemplateParameterModel
} from "./ParameterModel.ts"
import { parameterSeries, sequencesWithRows } from "./ParameterSeries.ts"
import {
  readCheckpoint,
  distinctHistories,
  type EpochCurve,
  checkpointValue,
  rankFromLogits,
  rankTargets,
  type TrainHooks,
  trainNextKey,
  type TrainState
} from "./Training.ts"
import { classCount, type Vocabulary, vocabularyOf, vocabularyOfKeys, type Windows, windowsOf } from "./Windows.ts"

const PositiveInt = (fallback: number) =>
  Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(fallback)))

/** Hyperparameters of `deeplog` (DeepLog's and AnomaLog's names and defaults). */
export const DeepLogConfig = closedStruct({
  /** Keys of history before the predicted one (DeepLog's h). */
  history_size: PositiveInt(10),
  /** An event is normal when its key is among the g most likely next keys. */
  top_g: PositiveInt(9),
  num_layers: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 8 })).pipe(Schema.withDecodingDefaultKey(Effect.succeed(2))),
  hidden_size: PositiveInt(64),
  epochs: PositiveInt(10),
  batch_size: PositiveInt(256),
  learning_rate: Schema.Finite.check(Schema.isGreaterThan(0)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.001))),
  /** The last fraction of the training sequences (in order), held out for validation curves. */
  validation_fraction: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMaximum: true })).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed(0.1))
  ),
  /** Seeds weight initialisation and the per-epoch shuffle (set by the registry's `seeds`). */
  random_seed: Schema.Int.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0))),
  /**
   * Predict every event, padding the history before a sequence's first events (true, as logdeep
   * does for short sessions), or only events with a full history before them (false).
   */
  pad_start: Schema.Boolean.pipe(Schema.withDecodingDefaultKey(Effect.succeed(true))),
  /**
   * Also predict the end of each sequence (an extra output class after the last event), so a
   * sequence that stops where normal ones go on is anomalous. Not in the DeepLog paper (false =
   * DeepLog as published); HDFS sessions cut short are only visible this way (docs/BENCHMARKS.md).
   */
  end_marker: Schema.Boolean.pipe(Schema.withDecodingDefaultKey(Effect.succeed(false))),
  /**
   * DeepLog's parameter-value model: per template, an LSTM over the vectors of its numeric
   * parameters (and elapsed time); a row whose vector's prediction error leaves the Gaussian
   * interval of the validation errors is anomalous, and so is its sequence. Needs a raw-log dataset.
   */
  parameter_detection_enabled: Schema.Boolean.pipe(Schema.withDecodingDefaultKey(Effect.succeed(false))),
  /** Two-sided confidence of the Gaussian interval of normal prediction errors. */
  gaussian_confidence: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMinimum: true, exclusiveMaximum: true })).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed(0.99))
  ),
  /** Include the elapsed time since the previous event of the row's sequence in each vector (needs timestamps). */
  parameter_elapsed_time: Schema.Boolean.pipe(Schema.withDecodingDefaultKey(Effect.succeed(true))),
  parameter_history_size: PositiveInt(3),
  parameter_hidden_size: PositiveInt(16),
  parameter_epochs: PositiveInt(10),
  /** Templates with fewer training vectors than this (beyond the history) get no parameter model. */
  parameter_min_windows: PositiveInt(20),
  /** DeepLog learns what normal looks like: by default from the normal training sequences only. */
  train_on: trainOnField("normal")
})

/** Decoded `deeplog` config. */
export type DeepLogConfig = typeof DeepLogConfig.Type

/** A trained DeepLog model: vocabulary, weights and their ONNX graph. */
export interface DeepLogModel {
  readonly format: "deeplog/1"
  readonly shape: LstmShape
  readonly history: number
  readonly topG: number
  readonly padStart: boolean
  /** Output class K (= keys.length) is "the sequence ends here". */
  readonly endMarker: boolean
  /** Template id of output class k (ascending); input indexes K and K+1 are padding and unseen keys. */
  readonly keys: ReadonlyArray<number>
  /** Canonical weights, flattened (NativeLstm's `flattenWeights` order). */
  readonly weights: Float32Array
  /** The same model as an ONNX graph (`keys` int64 [batch, history] -> `logits` [batch, K]). */
  readonly onnx: Uint8Array
  /** The parameter-value model, when enabled: per-template models and whether vectors end with the elapsed time. */
  readonly parameters?: { readonly model: ParameterModel; readonly elapsed: boolean }
  /** Anomaly iff score (worst rank of a true next key; unseen keys rank as the class count) > threshold = top_g − 0.5. */
  readonly threshold: number
}

/** The vocabulary a model was trained with. */
export const vocabularyOfModel = (m: DeepLogModel): Vocabulary => vocabularyOfKeys(m.keys, m.endMarker)

/** Everything fit needs before training starts, or why it cannot. */
const prepare = (data: SequenceView, train: Int32Array, config: DeepLogConfig) => {
  const picked = trainingRows("deeplog", data, train, config.train_on)
  if (picked.status === "invalid") return picked
  const rows = picked.rows
  if (rows.length === 0) return { status: "invalid" as const, reason: "deeplog: the training split is empty" }
  const nValidation = Math.floor(rows.length * config.validation_fraction + 1e-9)
  const fitRows = rows.subarray(0, rows.length - nValidation)
  const valRows = rows.subarray(rows.length - nValidation)
  if (fitRows.length === 0) {
    return { status: "invalid" as const, reason: `deeplog: validation_fraction ${config.validation_fraction} of ${rows.length} training sequences leaves none to train on` }
  }
  const vocab = vocabularyOf(data, fitRows, config.end_marker)
  const keys = vocab.keys
  if (keys.length === 0) return { status: "invalid" as const, reason: `deeplog: the ${fitRows.length} training sequences hold no events` }
  const classes = classCount(vocab)
  if (config.top_g >= classes) {
    const what = config.end_marker ? `the number of keys seen in training plus the end marker (${classes})` : `the number of keys seen in training (${classes})`
    return {
      status: "invalid" as const,
      reason: `deeplog: top_g ${config.top_g} is not below ${what}; every seen key would be in the top g, so choose top_g < ${classes}`
    }
  }
  const trainWindows = windowsOf(data, fitRows, vocab, config.history_size, config.pad_start)
  if (trainWindows.count === 0) {
    let longest = 0
    for (const s of fitRows) longest = Math.max(longest, data.offsets[s + 1]! - data.offsets[s]!)
    return {
      status: "invalid" as const,
      reason: `deeplog: history_size ${config.history_size} is larger than every training sequence (the longest has ${longest} events) and pad_start is false, so there is no training window`
    }
  }
  const validation = valRows.length === 0 ? undefined : windowsOf(data, valRows, vocab, config.history_size, config.pad_start)
  const shape: LstmShape = { inputKind: "ids", inputSize: keys.length + 2, hidden: config.hidden_size, layers: config.num_layers, outputSize: classes }
  return { status: "ok" as const, vocab, shape, trainWindows, validation, rows, sequences: { fit: fitRows.length, validation: valRows.length } }
}

type Prepared = Extract<ReturnType<typeof prepare>, { status: "ok" }>

const trainOptions = (config: DeepLogConfig) => ({
  epochs: config.epochs,
  batchSize: config.batch_size,
  learningRate: config.learning_rate,
  seed: config.random_seed,
  topG: config.top_g
})

const parameterConfig = (config: DeepLogConfig): ParameterModelConfig => ({
  history: config.parameter_history_size,
  hidden: config.parameter_hidden_size,
  layers: 1,
  epochs: config.parameter_epochs,
  batchSize: 64,
  learningRate: config.learning_rate * 10,
  validationFraction: Math.max(config.validation_fraction, 0.1),
  confidence: config.gaussian_confidence,
  seed: config.random_seed,
  minTrainingWindows: config.parameter_min_windows
})

/** Fit the parameter-value model on the rows of the training sequences (when enabled). */
const fitParameters = (
  p: Prepared,
  data: SequenceView,
  config: DeepLogConfig,
  inputs: DetectorInputs | undefined,
  hooks: ParameterFitHooks = {}
): DeepLogModel["parameters"] => {
  if (!config.parameter_detection_enabled) return undefined
  const series = parameterSeries(data, inputs, [{ sequences: p.rows, role: ROLE_TRAIN }], config.parameter_elapsed_time)
  return { model: fitParameterModel(series, parameterConfig(config), hooks), elapsed: config.parameter_elapsed_time }
}

const finish = (
  p: Prepared,
  config: DeepLogConfig,
  state: TrainState,
  parameters: DeepLogModel["parameters"],
  resumedFrom: number | null,
  seconds: number
): FitResult<DeepLogModel> => {
  const weights = flattenWeights(state.weights)
  const onnx = exportOnnx(p.shape, state.weights, { steps: config.history_size, producer: "logflow deeplog", docString: `DeepLog next-key model, ${p.vocab.keys.length} keys` })
  const model: DeepLogModel = {
    format: "deeplog/1",
    shape: p.shape,
    history: config.history_size,
    topG: config.top_g,
    padStart: config.pad_start,
    endMarker: config.end_marker,
    keys: p.vocab.keys,
    weights,
    onnx,
    ...(parameters === undefined ? {} : { parameters }),
    threshold: config.top_g - 0.5
  }
  return {
    status: "ok",
    model,
    report: {
      keys: p.vocab.keys.length,
      sequences: p.sequences,
      windows: { train: p.trainWindows.count, validation: p.validation?.count ?? 0 },
      epochs: state.epoch,
      resumed_from_epoch: resumedFrom,
      training_seconds: Number(seconds.toFixed(3)),
      weights_sha256: createHash("sha256").update(weights).digest("hex"),
      ...(parameters === undefined
        ? {}
        : {
          parameter_model: {
            templates: parameters.model.templates.map((t) => ({
              template: t.templateId,
              columns: t.columns.length,
              train_windows: t.trainWindows,
              validation_windows: t.validationWindows,
              error_mean: t.errorMean,
              error_std: t.errorStd,
              threshold: t.threshold
            })),
            skipped: parameters.model.skipped,
            z: parameters.model.z
          }
        }),
      curves: state.curves satisfies ReadonlyArray<EpochCurve>
    }
  }
}

const fmtEta = (s: number): string => (s < 90 ? `${Math.round(s)}s` : s < 5400 ? `${Math.round(s / 60)}m` : `${(s / 3600).toFixed(1)}h`)

/** Parameter-value anomalies of the `which` sequences: per position of `which`, 1 when one of its rows is flagged. */
const parameterFlags = (model: DeepLogModel, data: SequenceView, which: Int32Array, inputs: DetectorInputs | undefined) => {
  if (model.parameters === undefined) return undefined
  const series = parameterSeries(data, inputs, [{ sequences: which, role: ROLE_SCORE }], model.parameters.elapsed)
  const scored = scoreParameterModel(model.parameters.model, series)
  const flaggedRows = new Set<number>()
  scored.anomalous.forEach((a, j) => { if (a === 1) flaggedRows.add(scored.rows[j]!) })
  return { flagged: sequencesWithRows(data, inputs!.eventRows, which, flaggedRows), vectors: scored.rows.length, anomalies: flaggedRows.size }
}

/** Scores of the `which` sequences from per-window ranks (and parameter-value flags, which rank above any key). */
const scoresFromRanks = (
  model: DeepLogModel,
  windows: Windows,
  rank: Int32Array,
  which: Int32Array,
  params?: ReturnType<typeof parameterFlags>
): DetectorScores => {
  const K = model.shape.outputSize
  const position = new Map<number, number>()
  which.forEach((s, j) => position.set(s, j))
  const scores = new Float64Array(which.length)
  let anomalousEvents = 0
  let unseenEvents = 0
  // Sequences flagged by a seen key ranked outside the top g (the rest are flagged only by unseen keys).
  const flaggedBySeen = new Uint8Array(which.length)
  for (let w = 0; w < windows.count; w++) {
    const j = position.get(windows.sequence[w]!)!
    const r = rank[w]!
    if (r > scores[j]!) scores[j] = r
    if (r >= model.topG) anomalousEvents++
    if (r >= K) unseenEvents++
    else if (r >= model.topG) flaggedBySeen[j] = 1
  }
  let onlyUnseen = 0
  const predictions = new Uint8Array(which.length)
  for (let j = 0; j < which.length; j++) {
    predictions[j] = scores[j]! > model.threshold ? 1 : 0
    if (predictions[j] === 1 && flaggedBySeen[j] === 0) onlyUnseen++
  }
  let onlyParameters = 0
  if (params !== undefined) {
    for (let j = 0; j < which.length; j++) {
      if (params.flagged[j] !== 1) continue
      if (predictions[j] === 0) onlyParameters++
      scores[j] = Math.max(scores[j]!, K + 1)
      predictions[j] = 1
    }
  }
  return {
    scores,
    predictions,
    threshold: model.threshold,
    diagnostics: {
      events: windows.count,
      anomalous_events: anomalousEvents,
      unseen_key_events: unseenEvents,
      sequences_flagged_only_by_unseen_keys: onlyUnseen,
      ...(params === undefined
        ? {}
        : { parameter_vectors_scored: params.vectors, parameter_anomalous_rows: params.anomalies, sequences_flagged_only_by_parameters: onlyParameters })
    }
  }
}

const SCORE_CHUNK = 4096

export const deepLog: Detector<DeepLogConfig, DeepLogModel> = {
  tag: "deeplog",
  version: "1",
  configSchema: DeepLogConfig,
  supervised: false,
  readsContext: true,

  fit(data: SequenceView, train: Int32Array, config: DeepLogConfig, inputs?: DetectorInputs): FitResult<DeepLogModel> {
    const p = prepare(data, train, config)
    if (p.status === "invalid") return p
    const t0 = performance.now()
    const state = trainNextKey(p.shape, p.trainWindows, p.validation, trainOptions(config), {}, { yielding: false })
    return finish(p, config, state, fitParameters(p, data, config, inputs), null, (performance.now() - t0) / 1000)
  },

  needs: (config: DeepLogConfig) =>
    config.parameter_detection_enabled ? (config.parameter_elapsed_time ? ["parameters", "elapsed_time"] : ["parameters"]) : [],

  async fitAsync(data: SequenceView, train: Int32Array, config: DeepLogConfig, ctx: FitContext): Promise<FitResult<DeepLogModel>> {
    const p = prepare(data, train, config)
    if (p.status === "invalid") return p
    let resume: TrainState | undefined
    let doneParameters: ReadonlyArray<TemplateParameterModel> = []
    if (ctx.resume !== undefined) {
      try {
        const read = readCheckpoint(p.shape, ctx.resume.state)
        resume = read.state.epoch > config.epochs ? undefined : read.state
        const extra = read.extra as { parameterModels?: ReadonlyArray<TemplateParameterModel> } | undefined
        if (resume !== undefined && resume.epoch === config.epochs && config.parameter_detection_enabled) doneParameters = extra?.parameterModels ?? []
      } catch (e) {
        ctx.progress(0, `checkpoint unusable (${e instanceof Error ? e.message : String(e)}); training from scratch`)
        resume = undefined
      }
    }
    const t0 = performance.now()
    const firstEpoch = (resume?.epoch ?? 0) + 1
    let lastLoss = Number.NaN
    const hooks: TrainHooks = {
      ...(resume === undefined ? {} : { resume }),
      progress: ({ epoch, epochs, step, steps, loss }) => {
        lastLoss = loss
        const done = (epoch - 1) * steps + step
        const total = epochs * steps
        const doneHere = done - (firstEpoch - 1) * steps
        const elapsed = (performance.now() - t0) / 1000
        const eta = doneHere > 0 ? (elapsed / doneHere) * (total - done) : 0
        ctx.progress(done / total, `epoch ${epoch}/${epochs} step ${step}/${steps} loss ${lastLoss.toFixed(4)} ETA ${fmtEta(eta)}`)
      },
      checkpoint: (state) => ctx.checkpoint?.(state.epoch, checkpointValue(p.shape, state))
    }
    const state = await trainNextKey(p.shape, p.trainWindows, p.validation, trainOptions(config), hooks, { yielding: true })
    // The parameter-value models, one template at a time, each followed by a checkpoint.
    const finished: Array<TemplateParameterModel> = [...doneParameters]
    const parameters = fitParameters(p, data, config, ctx.inputs, {
      done: doneParameters,
      onTemplate: (done, total, model) => {
        ctx.progress(1, `parameter models ${done}/${total}`)
        if (model === undefined || finished.includes(model)) return
        finished.push(model)
        ctx.checkpoint?.(config.epochs + done, checkpointValue(p.shape, state, { parameterModels: finished }))
      }
    })
    return finish(p, config, state, parameters, resume === undefined ? null : resume.epoch, (performance.now() - t0) / 1000)
  },

  score(model: DeepLogModel, data: SequenceView, which: Int32Array, _config: DeepLogConfig, inputs?: DetectorInputs, nextEvent?: NextEventRequest): DetectorScores {
    const windows = windowsOf(data, which, vocabularyOfModel(model), model.history, model.padStart)
    const { rank } = rankTargets(model.shape, unflattenWeights(model.shape, model.weights), windows)
    return withNextEvent(scoresFromRanks(model, windows, rank, which, parameterFlags(model, data, which, inputs)), windows, rank, data, nextEvent)
  },

  async scoreAsync(model: DeepLogModel, data: SequenceView, which: Int32Array, _config: DeepLogConfig, inputs?: DetectorInputs, nextEvent?: NextEventRequest): Promise<DetectorScores> {
    const windows = windowsOf(data, which, vocabularyOfModel(model), model.history, model.padStart)
    const rank = await onnxRanks(model, windows)
    return withNextEvent(scoresFromRanks(model, windows, rank, which, parameterFlags(model, data, which, inputs)), windows, rank, data, nextEvent)
  },

  /** Top-k hits of the true next key over every event of the `which` sequences (unseen keys never hit). */
  predictNext(model: DeepLogModel, data: SequenceView, which: Int32Array, ks: ReadonlyArray<number>): NextEventHits {
    const windows = windowsOf(data, which, vocabularyOfModel(model), model.history, model.padStart)
    return topKHits(windows, rankTargets(model.shape, unflattenWeights(model.shape, model.weights), windows).rank, ks)
  },

  async predictNextAsync(model: DeepLogModel, data: SequenceView, which: Int32Array, ks: ReadonlyArray<number>): Promise<NextEventHits> {
    const windows = windowsOf(data, which, vocabularyOfModel(model), model.history, model.padStart)
    return topKHits(windows, await onnxRanks(model, windows), ks)
  },

  /**
   * More epochs from the model's weights over the `train` sequences (a fresh Adam state: the
   * bundle keeps no optimiser moments), with the model's vocabulary: keys first seen in them stay
   * unseen (the input and output layers keep their size). Same threshold (top g).
   */
  async continueFit(model: DeepLogModel, data: SequenceView, train: Int32Array, config: DeepLogConfig, options: { readonly epochs: number }): Promise<FitResult<DeepLogModel>> {
    if (model.parameters !== undefined) return { status: "invalid", reason: "deeplog: a model with the parameter-value model cannot continue training from a bundle yet" }
    const all = windowsOf(data, train, vocabularyOfModel(model), model.history, model.padStart)
    // A target the model has no class for (a key first seen now) cannot be learnt: those windows are left out (their keys still appear as unseen inputs).
    const keep: Array<number> = []
    for (let w = 0; w < all.count; w++) if (all.targets[w]! < model.shape.outputSize) keep.push(w)
    const h = all.history
    const windows: Windows = {
      history: h,
      count: keep.length,
      inputs: Int32Array.from({ length: keep.length * h }, (_, i) => all.inputs[keep[Math.floor(i / h)]! * h + (i % h)]!),
      targets: Int32Array.from(keep, (w) => all.targets[w]!),
      sequence: Int32Array.from(keep, (w) => all.sequence[w]!),
      event: Int32Array.from(keep, (w) => all.event[w]!),
      ...(all.isEnd === undefined ? {} : { isEnd: Uint8Array.from(keep, (w) => all.isEnd![w]!) })
    }
    if (windows.count === 0) return { status: "invalid", reason: `deeplog: the ${train.length} new sequences give no training window with a key the model knows` }
    const weights = unflattenWeights(model.shape, model.weights)
    const t0 = performance.now()
    const state = await trainNextKey(
      model.shape,
      windows,
      undefined,
      { ...trainOptions(config), epochs: options.epochs },
      { resume: { epoch: 0, weights, adam: { t: 0, m: zerosLike(weights), v: zerosLike(weights) }, curves: [] } },
      { yielding: true }
    )
    const flat = flattenWeights(state.weights)
    const unseen = all.count - windows.count
    return {
      status: "ok",
      model: { ...model, weights: flat, onnx: exportOnnx(model.shape, state.weights, { steps: model.history, producer: "logflow deeplog", docString: `DeepLog next-key model, ${model.keys.length} keys` }) },
      report: {
        continued_epochs: options.epochs,
        windows: windows.count,
        unseen_key_windows: unseen,
        training_seconds: Number(((performance.now() - t0) / 1000).toFixed(3)),
        weights_sha256: createHash("sha256").update(flat).digest("hex"),
        curves: state.curves
      }
    }
  },

  /** Every event's rank, mass above and top k, on ONNX Runtime (each distinct history once); end-marker windows left out. */
  async predictEvents(model: DeepLogModel, data: SequenceView, which: Int32Array, k: number): Promise<EventPredictions> {
    const windows = windowsOf(data, which, vocabularyOfModel(model), model.history, model.padStart)
    const K = model.shape.outputSize
    const kk = Math.min(k, K)
    const d = distinctHistories(windows)
    const logits = await onnxLogits(model, d)
    // Per distinct history: softmax probabilities and the k most likely classes.
    const prob = new Float32Array(d.count * K)
    const topClass = new Int32Array(d.count * kk)
    for (let u = 0; u < d.count; u++) {
      const row = u * K
      let max = Number.NEGATIVE_INFINITY
      for (let c = 0; c < K; c++) max = Math.max(max, logits[row + c]!)
      let sum = 0
      for (let c = 0; c < K; c++) sum += (prob[row + c] = Math.exp(logits[row + c]! - max))
      for (let c = 0; c < K; c++) prob[row + c] = prob[row + c]! / sum
      topK(logits, row, K, kk, topClass, u * kk)
    }
    let count = 0
    for (let w = 0; w < windows.count; w++) if (windows.event[w]! >= 0) count++
    const event = new Int32Array(count)
    const rank = new Int32Array(count)
    const massAbove = new Float32Array(count)
    const top = new Int32Array(count * kk)
    const templateOf = (c: number) => (c < model.keys.length ? model.keys[c]! : -1)
    for (let w = 0, j = 0; w < windows.count; w++) {
      if (windows.event[w]! < 0) continue
      const u = d.of[w]!
      const row = u * K
      const y = windows.targets[w]!
      event[j] = windows.event[w]!
      if (y >= K) {
        rank[j] = K
        massAbove[j] = 1
      } else {
        const own = logits[row + y]!
        let r = 0
        let mass = 0
        for (let c = 0; c < K; c++) {
          const z = logits[row + c]!
          if (z > own || (z === own && c < y)) {
            r++
            mass += prob[row + c]!
          }
        }
        rank[j] = r
        massAbove[j] = mass
      }
      for (let i = 0; i < kk; i++) top[j * kk + i] = templateOf(topClass[u * kk + i]!)
      j++
    }
    return { classes: K, event, rank, massAbove, top, k: kk }
  }
}

/** The `k` classes of largest logit in `logits[row, row + K)`, ties by class index, into `out[at, at + k)`. */
const topK = (logits: Float32Array, row: number, K: number, k: number, out: Int32Array, at: number): void => {
  let n = 0
  for (let c = 0; c < K; c++) {
    const z = logits[row + c]!
    // insertion into the sorted prefix out[at, at + n)
    let i = n < k ? n : k
    if (i === k && !(z > logits[row + out[at + k - 1]!]!)) continue
    if (n < k) n++
    while (i > 0 && z > logits[row + out[at + i - 1]!]!) {
      if (i < k) out[at + i] = out[at + i - 1]!
      i--
    }
    out[at + i] = c
  }
}

/** The scores plus next-event hits over the requested sequences, from the same ranks (a window depends only on its own sequence). */
const withNextEvent = (out: DetectorScores, windows: Windows, rank: Int32Array, data: SequenceView, request: NextEventRequest | undefined): DetectorScores => {
  if (request === undefined) return out
  const member = new Uint8Array(data.offsets.length - 1)
  for (const s of request.which) member[s] = 1
  return { ...out, nextEvent: topKHits(windows, rank, request.ks, member) }
}

/** How many windows have their true next key within the top k, per k (the end marker's windows excluded; with `member`, only its sequences' windows). */
const topKHits = (windows: Windows, rank: Int32Array, ks: ReadonlyArray<number>, member?: Uint8Array): NextEventHits => {
  let events = 0
  const hits = ks.map(() => 0)
  for (let w = 0; w < rank.length; w++) {
    if (windows.isEnd?.[w] === 1) continue
    if (member !== undefined && member[windows.sequence[w]!] !== 1) continue
    events++
    ks.forEach((k, j) => { if (rank[w]! < k) hits[j]!++ })
  }
  return { ks, events, hits }
}

/** Logits [distinct history, class] of the model's graph on ONNX Runtime. */
const onnxLogits = async (model: DeepLogModel, d: ReturnType<typeof distinctHistories>, options: { readonly threads?: number } = {}): Promise<Float32Array> => {
  const K = model.shape.outputSize
  const h = model.history
  const logits = new Float32Array(d.count * K)
  if (d.count === 0) return logits
  const scorer = await OnnxScorer.create(model.onnx, { intraOpThreads: options.threads ?? 1 })
  try {
    for (let from = 0; from < d.count; from += SCORE_CHUNK) {
      const b = Math.min(SCORE_CHUNK, d.count - from)
      logits.set(await scorer.run(d.inputs.subarray(from * h, (from + b) * h), b, h), from * K)
    }
  } finally {
    await scorer.release()
  }
  return logits
}

/** Per-window ranks of the true next key, computed by ONNX Runtime from the model's graph (each distinct history once). */
export const onnxRanks = async (model: DeepLogModel, windows: Windows, options: { readonly threads?: number } = {}): Promise<Int32Array> => {
  const rank = new Int32Array(windows.count)
  if (windows.count === 0) return rank
  const d = distinctHistories(windows)
  const logits = await onnxLogits(model, d, options)
  rankFromLogits(logits, model.shape.outputSize, windows.targets, rank, new Float64Array(windows.count), d.of)
  return rank
}
