/**
 * DeepLog's parameter-value anomaly model (Du et al., CCS 2017, section 3.2): for each log key
 * (template) the parameter values of its entries form a time series of vectors, and an LSTM
 * regression model per key predicts the next vector from the previous `history` vectors. The
 * prediction errors on a held-out validation part of the training series are modelled as a
 * Gaussian N(μ, σ²); at test time a vector is anomalous when its error lies outside the
 * `confidence` interval of that Gaussian, i.e. error > μ + z·σ with z the two-sided normal
 * quantile of `confidence` (only the upper side matters: an unusually small error is not an
 * anomaly).
 *
 * Per template:
 * - Columns: a column of the series is used when it has a finite value in at least half of the
 *   training vectors (role 1) and those values are not all equal. Any non-finite value (NaN,
 *   ±Infinity) counts as missing.
 * - Normalisation: each used column is z-scored with the mean and population standard deviation
 *   of its finite values over the training vectors. A missing value becomes 0 after
 *   normalisation, i.e. the training mean, both in inputs and in targets: a missing target is
 *   "expected to be typical", so a model that predicts far from the mean there still pays for it.
 *   This keeps the LSTM input dense and the error well defined for every vector.
 * - Windows: the window of target vector i (i ≥ history) is input = normalized vectors
 *   i−history..i−1 (of any role: role 0 and 2 vectors are history too), target = vector i.
 *   Training windows are those whose target has role 1; the last floor(validationFraction · n)
 *   of them in log order are validation windows (never trained on) whose errors fit the
 *   Gaussian. When there are none, the training windows' own errors are used instead
 *   (`errorSource: "training"`; they underestimate the error, so the threshold is tighter).
 * - Error: the MSE over the used columns between prediction and normalized target.
 * - Gaussian: μ = mean of the errors, σ = their sample standard deviation (0 for one error).
 *   σ is floored at max(0.1·μ, 1e-4) (`ERROR_STD_RELATIVE_FLOOR`, `ERROR_STD_ABSOLUTE_FLOOR`):
 *   a near-perfectly predictable series (σ ≈ 0) would otherwise flag every tiny deviation
 *   forever. 1e-4 in normalized MSE is an RMS deviation of 1% of a column's standard deviation;
 *   0.1·μ only binds when the errors are far tighter than the spread of an MSE of Gaussian
 *   residuals (σ/μ = sqrt(2/d) for d independent residuals, i.e. never for d < 200). The raw σ is
 *   kept in `errorStdObserved`.
 * - Training: Adam on the MSE loss, mini-batches in a seeded shuffle per epoch. All randomness is
 *   derived from (config.seed, templateId) (weight init) and (config.seed, templateId, epoch)
 *   (shuffles), so templates are independent: a template's model is the same whether it is
 *   trained alone, with others, or after an interrupted attempt whose finished models are
 *   passed back as `hooks.done`. The same inputs give bit-identical weights.
 *
 * Plain loops on typed arrays, no Effect: this is a numeric core.
 */

import { Adam, flattenWeights, forward, initWeights, lossAndGradients, lstmScratch, parameterCount, unflattenWeights } from "./NativeLstm.ts"
import type { LstmShape, LstmWeights } from "./LstmTypes.ts"
import { seededPermutation } from "../../artifacts/Random.ts"

// ---------------------------------------------------------------------------------------------
// Public types

/** One template's parameter vectors in log order. */
export interface ParameterSeries {
  readonly templateId: number
  /** Parsed-log row of each vector (ascending = log order). */
  readonly rows: Int32Array
  /** Values per vector. */
  readonly dims: number
  /** [rows.length, dims] row-major; NaN where a value is missing or not numeric. */
  readonly values: Float64Array
  /** Per vector: 1 = training (learn from it), 2 = to be scored, 0 = context only (history for later vectors, never learnt or scored). */
  readonly role: Uint8Array
}

export const ROLE_CONTEXT = 0
export const ROLE_TRAIN = 1
export const ROLE_SCORE = 2

export interface ParameterModelConfig {
  /** Vectors of history per window (DeepLog uses a small window; 3..10 is fine). */
  readonly history: number
  readonly hidden: number
  readonly layers: number
  readonly epochs: number
  readonly batchSize: number
  readonly learningRate: number
  /** Last fraction of each template's training windows (in log order) held out to fit the Gaussian, in [0, 1). */
  readonly validationFraction: number
  /** Two-sided confidence of the normal interval, in (0, 1), e.g. 0.99. */
  readonly confidence: number
  /** Integer seed; every template derives its own seeds from it and its template id. */
  readonly seed: number
  /** Templates with fewer training windows (validation windows included) get no model. */
  readonly minTrainingWindows: number
}

export interface TemplateParameterModel {
  readonly templateId: number
  /** Columns (of the series' dims) the model uses: those with a numeric value in at least half the training vectors and non-zero variance. */
  readonly columns: ReadonlyArray<number>
  /** Columns of the series that are not used, with the reason. */
  readonly droppedColumns: ReadonlyArray<{ readonly column: number; readonly reason: string }>
  /** Per used column, from the training vectors (missing values ignored). */
  readonly mean: ReadonlyArray<number>
  /** Per used column, population standard deviation over the training vectors (missing values ignored). */
  readonly std: ReadonlyArray<number>
  /** Dense input, inputSize = outputSize = columns.length. */
  readonly shape: LstmShape
  /** flattenWeights order. */
  readonly weights: Float32Array
  /** Where the Gaussian's errors come from: validation windows, or the training windows when there are no validation windows. */
  readonly errorSource: "validation" | "training"
  readonly errorMean: number
  /** σ after the floor (see the module comment): the σ the threshold uses. */
  readonly errorStd: number
  /** σ as measured, before the floor. */
  readonly errorStdObserved: number
  /** errorMean + z · errorStd */
  readonly threshold: number
  /** Mean training loss (normalized MSE) of the last epoch. */
  readonly trainLoss: number
  readonly trainWindows: number
  readonly validationWindows: number
}

export interface ParameterModel {
  readonly templates: ReadonlyArray<TemplateParameterModel>
  readonly skipped: ReadonlyArray<{ readonly templateId: number; readonly reason: string }>
  /** Two-sided normal quantile of `confidence`. */
  readonly z: number
  readonly confidence: number
  /** Vectors of history per window (needed to score). */
  readonly history: number
}

export interface ParameterFitHooks {
  /**
   * Called after each template with the number of templates handled so far (trained, reused
   * or skipped) and the total number of templates, and the template's model (undefined when it
   * was skipped), for progress and checkpoints.
   */
  readonly onTemplate?: (done: number, total: number, model: TemplateParameterModel | undefined) => void
  /** Models already trained by an interrupted attempt (same config, same series): reused, not retrained. */
  readonly done?: ReadonlyArray<TemplateParameterModel>
}

export interface ParameterScores {
  /** Parsed row of each scored vector (ascending). */
  readonly rows: Int32Array
  readonly templateIds: Int32Array
  readonly errors: Float64Array
  /** 1 when error > that template's threshold. */
  readonly anomalous: Uint8Array
}

/** σ floor relative to the mean error (see the module comment). */
export const ERROR_STD_RELATIVE_FLOOR = 0.1
/** Absolute σ floor in normalized MSE units (see the module comment). */
export const ERROR_STD_ABSOLUTE_FLOOR = 1e-4

// ---------------------------------------------------------------------------------------------
// Inverse normal CDF (Wichura's AS 241, PPND16: relative accuracy about 1e-16)

const A = [
  3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125, 45921.953931549871457,
  67265.770927008700853, 33430.575583588128105, 2509.0809287301226727
]
const B = [
  1, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077, 21213.794301586595867, 39307.89580009271061,
  28729.085735721942674, 5226.495278852854561
]
const C = [
  1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504, 1.27045825245236838258,
  0.24178072517745061177, 0.0227238449892691845833, 7.7454501427834140764e-4
]
const D = [
  1, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455, 0.14810397642748007459,
  0.0151986665636164571966, 5.475938084995344946e-4, 1.05075007164441684324e-9
]
const E = [
  6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123, 0.026532189526576123093,
  0.0012426609473880784386, 2.71155556874348757815e-5, 2.01033439929228813265e-7
]
const F = [
  1, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525, 7.868691311456132591e-4,
  1.8463183175100546818e-5, 1.4215117583164458887e-7, 2.04426310338993978564e-15
]

const poly = (c: ReadonlyArray<number>, x: number): number => {
  let v = c[c.length - 1]!
  for (let k = c.length - 2; k >= 0; k--) v = v * x + c[k]!
  return v
}

/** Φ⁻¹(p): the standard normal quantile of p ∈ [0, 1] (−Infinity at 0, Infinity at 1). */
export const inverseNormalCdf = (p: number): number => {
  if (!(p >= 0 && p <= 1)) throw new Error(`inverseNormalCdf: p must be in [0, 1], got ${p}`)
  if (p === 0) return -Infinity
  if (p === 1) return Infinity
  const q = p - 0.5
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q
    return (q * poly(A, r)) / poly(B, r)
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p))
  let x: number
  if (r <= 5) {
    r -= 1.6
    x = poly(C, r) / poly(D, r)
  } else {
    r -= 5
    x = poly(E, r) / poly(F, r)
  }
  return q < 0 ? -x : x
}

/** z of the two-sided normal interval holding `confidence` (0.99 → 2.5758): Φ⁻¹((1 + c) / 2), computed from the tail. */
export const twoSidedZ = (confidence: number): number => {
  if (!(confidence > 0 && confidence < 1)) throw new Error(`twoSidedZ: confidence must be in (0, 1), got ${confidence}`)
  return -inverseNormalCdf((1 - confidence) / 2)
}

// ---------------------------------------------------------------------------------------------
// Validation

const isPosInt = (n: number): boolean => Number.isSafeInteger(n) && n >= 1

const validateConfig = (config: ParameterModelConfig): void => {
  const fail = (field: string, what: string, got: number): never => {
    throw new Error(`parameter model config: ${field} must be ${what}, got ${String(got)}`)
  }
  for (const key of ["history", "hidden", "layers", "epochs", "batchSize"] as const) {
    if (!isPosInt(config[key])) fail(key, "a positive integer", config[key])
  }
  if (!(Number.isFinite(config.learningRate) && config.learningRate > 0)) fail("learningRate", "a positive finite number", config.learningRate)
  if (!(config.validationFraction >= 0 && config.validationFraction < 1)) fail("validationFraction", "in [0, 1)", config.validationFraction)
  if (!(config.confidence > 0 && config.confidence < 1)) fail("confidence", "in (0, 1)", config.confidence)
  if (!Number.isSafeInteger(config.seed)) fail("seed", "an integer", config.seed)
  if (!(Number.isSafeInteger(config.minTrainingWindows) && config.minTrainingWindows >= 0)) {
    fail("minTrainingWindows", "a non-negative integer", config.minTrainingWindows)
  }
}

const validateSeries = (s: ParameterSeries, index: number): void => {
  if (!Number.isInteger(s.templateId) || (s.templateId | 0) !== s.templateId) {
    throw new Error(`parameter series #${index}: templateId must be a 32-bit integer, got ${String(s.templateId)}`)
  }
  const where = `parameter series (template ${s.templateId})`
  if (!(s.rows instanceof Int32Array)) throw new Error(`${where}: rows must be an Int32Array`)
  if (!(s.values instanceof Float64Array)) throw new Error(`${where}: values must be a Float64Array`)
  if (!(s.role instanceof Uint8Array)) throw new Error(`${where}: role must be a Uint8Array`)
  if (!isPosInt(s.dims)) throw new Error(`${where}: dims must be a positive integer, got ${String(s.dims)}`)
  const n = s.rows.length
  if (s.values.length !== n * s.dims) {
    throw new Error(`${where}: values has length ${s.values.length}, expected rows.length·dims = ${n}·${s.dims} = ${n * s.dims}`)
  }
  if (s.role.length !== n) throw new Error(`${where}: role has length ${s.role.length}, expected rows.length = ${n}`)
  for (let i = 1; i < n; i++) {
    if (!(s.rows[i]! > s.rows[i - 1]!)) {
      throw new Error(`${where}: rows must be strictly ascending, but row ${s.rows[i]} at index ${i} follows row ${s.rows[i - 1]}`)
    }
  }
  for (let i = 0; i < n; i++) {
    const r = s.role[i]!
    if (r !== ROLE_CONTEXT && r !== ROLE_TRAIN && r !== ROLE_SCORE) throw new Error(`${where}: role ${r} at index ${i} is not 0, 1 or 2`)
  }
}

const validateAllSeries = (series: ReadonlyArray<ParameterSeries>): void => {
  const seen = new Set<number>()
  series.forEach((s, k) => {
    validateSeries(s, k)
    if (seen.has(s.templateId)) throw new Error(`parameter series (template ${s.templateId}): template id appears more than once`)
    seen.add(s.templateId)
  })
}

// ---------------------------------------------------------------------------------------------
// Seeds

const fmix32 = (x: number): number => {
  let h = x >>> 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Low and high 32 bits of a safe integer, mixed. */
const mixInt = (h: number, n: number): number => {
  const lo = n >>> 0
  const hi = Math.floor(n / 4294967296) >>> 0
  return fmix32(fmix32(h ^ lo) + Math.imul(hi, 0x9e3779b9))
}

const templateSeed = (seed: number, templateId: number): number => mixInt(mixInt(0x243f6a88, seed), templateId)
const initSeed = (ts: number): number => fmix32(ts ^ 0x1b873593)
const epochSeed = (ts: number, epoch: number): number => fmix32((ts + Math.imul(epoch, 0x9e3779b9)) ^ 0x85ebca6b)


// ---------------------------------------------------------------------------------------------
// Data preparation

interface ColumnChoice {
  readonly columns: Array<number>
  readonly mean: Array<number>
  readonly std: Array<number>
  readonly dropped: Array<{ column: number; reason: string }>
}

/** Column statistics over the training vectors (role 1). */
const chooseColumns = (s: ParameterSeries): ColumnChoice => {
  const n = s.rows.length
  const dims = s.dims
  let nTrain = 0
  for (let i = 0; i < n; i++) if (s.role[i] === ROLE_TRAIN) nTrain++
  const out: ColumnChoice = { columns: [], mean: [], std: [], dropped: [] }
  for (let c = 0; c < dims; c++) {
    let count = 0
    let sum = 0
    let min = Infinity
    let max = -Infinity
    for (let i = 0; i < n; i++) {
      if (s.role[i] !== ROLE_TRAIN) continue
      const v = s.values[i * dims + c]!
      if (!Number.isFinite(v)) continue
      count++
      sum += v
      if (v < min) min = v
      if (v > max) max = v
    }
    if (count === 0 || 2 * count < nTrain) {
      out.dropped.push({ column: c, reason: `numeric in ${count} of ${nTrain} training vectors (needs at least half)` })
      continue
    }
    if (min === max) {
      out.dropped.push({ column: c, reason: `constant (${min}) over the training vectors` })
      continue
    }
    const mean = sum / count
    let ss = 0
    for (let i = 0; i < n; i++) {
      if (s.role[i] !== ROLE_TRAIN) continue
      const v = s.values[i * dims + c]!
      if (!Number.isFinite(v)) continue
      ss += (v - mean) * (v - mean)
    }
    const std = Math.sqrt(ss / count)
    if (!(std > 0 && Number.isFinite(std) && Number.isFinite(mean))) {
      out.dropped.push({ column: c, reason: `standard deviation ${std} is not a positive finite number` })
      continue
    }
    out.columns.push(c)
    out.mean.push(mean)
    out.std.push(std)
  }
  return out
}

/** Normalized vectors [n, columns.length] (Float32), missing → 0. */
const normalize = (s: ParameterSeries, columns: ReadonlyArray<number>, mean: ReadonlyArray<number>, std: ReadonlyArray<number>): Float32Array => {
  const n = s.rows.length
  const K = columns.length
  const out = new Float32Array(n * K)
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) {
      const v = s.values[i * s.dims + columns[k]!]!
      const z = (v - mean[k]!) / std[k]!
      out[i * K + k] = Number.isFinite(z) ? z : 0
    }
  }
  return out
}

/** Inputs [m, h, K] and targets [m, K] of the windows whose targets are the vector indices `targets`. */
const gatherWindows = (x: Float32Array, K: number, h: number, targets: ArrayLike<number>, from: number, to: number): { inputs: Float32Array; outputs: Float32Array } => {
  const m = to - from
  const inputs = new Float32Array(m * h * K)
  const outputs = new Float32Array(m * K)
  for (let j = 0; j < m; j++) {
    const i = targets[from + j]!
    inputs.set(x.subarray((i - h) * K, i * K), j * h * K)
    outputs.set(x.subarray(i * K, (i + 1) * K), j * K)
  }
  return { inputs, outputs }
}

const CHUNK = 256

/** Per-window MSE of the model's predictions (forward in chunks). */
const windowErrors = (shape: LstmShape, weights: LstmWeights, inputs: Float32Array, outputs: Float32Array, m: number, h: number): Float64Array => {
  const K = shape.inputSize
  const errors = new Float64Array(m)
  const scratch = lstmScratch()
  for (let from = 0; from < m; from += CHUNK) {
    const b = Math.min(CHUNK, m - from)
    const y = forward(shape, weights, inputs.subarray(from * h * K, (from + b) * h * K), b, h, scratch)
    for (let j = 0; j < b; j++) {
      let s = 0
      for (let k = 0; k < K; k++) {
        const d = y[j * K + k]! - outputs[(from + j) * K + k]!
        s += d * d
      }
      errors[from + j] = s / K
    }
  }
  return errors
}

// ---------------------------------------------------------------------------------------------
// Fit

const train = (
  shape: LstmShape,
  inputs: Float32Array,
  outputs: Float32Array,
  m: number,
  h: number,
  config: ParameterModelConfig,
  ts: number
): { weights: LstmWeights; lastLoss: number } => {
  const K = shape.inputSize
  const weights = initWeights(shape, initSeed(ts))
  const adam = new Adam(config.learningRate)
  const bs = Math.min(config.batchSize, m)
  const batchIn = new Float32Array(bs * h * K)
  const batchOut = new Float32Array(bs * K)
  const scratch = lstmScratch()
  let lastLoss = NaN
  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    const order = seededPermutation(m, epochSeed(ts, epoch))
    let lossSum = 0
    for (let from = 0; from < m; from += bs) {
      const b = Math.min(bs, m - from)
      for (let j = 0; j < b; j++) {
        const w = order[from + j]!
        batchIn.set(inputs.subarray(w * h * K, (w + 1) * h * K), j * h * K)
        batchOut.set(outputs.subarray(w * K, (w + 1) * K), j * K)
      }
      const { loss, grads } = lossAndGradients(shape, weights, batchIn.subarray(0, b * h * K), batchOut.subarray(0, b * K), b, h, "mse", scratch)
      adam.step(weights, grads)
      lossSum += loss * b
    }
    lastLoss = lossSum / m
  }
  return { weights, lastLoss }
}

const meanStd = (a: Float64Array): { mean: number; std: number } => {
  const n = a.length
  let s = 0
  for (let i = 0; i < n; i++) s += a[i]!
  const mean = s / n
  if (n < 2) return { mean, std: 0 }
  let ss = 0
  for (let i = 0; i < n; i++) ss += (a[i]! - mean) * (a[i]! - mean)
  return { mean, std: Math.sqrt(ss / (n - 1)) }
}

/** Indices of the vectors that are targets of training windows (role 1, index ≥ history). */
const trainingTargets = (s: ParameterSeries, h: number): Array<number> => {
  const out: Array<number> = []
  for (let i = h; i < s.rows.length; i++) if (s.role[i] === ROLE_TRAIN) out.push(i)
  return out
}

type Planned =
  | { readonly kind: "skip"; readonly reason: string }
  | { readonly kind: "fit"; readonly choice: ColumnChoice; readonly targets: Array<number>; readonly nFit: number; readonly nVal: number }

const plan = (s: ParameterSeries, config: ParameterModelConfig): Planned => {
  const targets = trainingTargets(s, config.history)
  const nWin = targets.length
  if (nWin === 0 || nWin < config.minTrainingWindows) {
    return {
      kind: "skip",
      reason: `${nWin} training windows (role-1 vectors with at least ${config.history} vectors before them), fewer than ${Math.max(1, config.minTrainingWindows)} (minTrainingWindows)`
    }
  }
  const choice = chooseColumns(s)
  if (choice.columns.length === 0) {
    const shown = choice.dropped.slice(0, 5).map((d) => `column ${d.column}: ${d.reason}`)
    if (choice.dropped.length > 5) shown.push(`${choice.dropped.length - 5} more`)
    return { kind: "skip", reason: `no usable column (${shown.join("; ")})` }
  }
  const nVal = Math.floor(nWin * config.validationFraction)
  return { kind: "fit", choice, targets, nFit: nWin - nVal, nVal }
}

const sameNumbers = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): boolean => a.length === b.length && a.every((v, k) => Object.is(v, b[k]))

/** Throws unless `done` fits what this series and config would train. */
const checkDone = (s: ParameterSeries, p: Planned, model: TemplateParameterModel, config: ParameterModelConfig): void => {
  const where = `parameter model: reused model of template ${s.templateId}`
  if (p.kind === "skip") throw new Error(`${where}: this series would be skipped (${p.reason}), so the model does not belong to it`)
  const K = p.choice.columns.length
  const { shape } = model
  if (shape.inputKind !== "dense" || shape.inputSize !== K || shape.outputSize !== K || shape.hidden !== config.hidden || shape.layers !== config.layers) {
    throw new Error(`${where}: shape ${JSON.stringify(shape)} does not match the config and the series' ${K} usable columns`)
  }
  if (!(model.weights instanceof Float32Array) || model.weights.length !== parameterCount(shape)) {
    throw new Error(`${where}: weights do not have the ${parameterCount(shape)} parameters of its shape`)
  }
  if (!sameNumbers(model.columns, p.choice.columns) || !sameNumbers(model.mean, p.choice.mean) || !sameNumbers(model.std, p.choice.std)) {
    throw new Error(`${where}: columns or their statistics differ from this series'`)
  }
  if (model.trainWindows !== p.nFit || model.validationWindows !== p.nVal) {
    throw new Error(`${where}: ${model.trainWindows}/${model.validationWindows} train/validation windows, this series and config give ${p.nFit}/${p.nVal}`)
  }
}

const fitTemplate = (s: ParameterSeries, p: Extract<Planned, { kind: "fit" }>, config: ParameterModelConfig, z: number): TemplateParameterModel => {
  const { choice, targets, nFit, nVal } = p
  const h = config.history
  const K = choice.columns.length
  const shape: LstmShape = { inputKind: "dense", inputSize: K, hidden: config.hidden, layers: config.layers, outputSize: K }
  const x = normalize(s, choice.columns, choice.mean, choice.std)
  const fit = gatherWindows(x, K, h, targets, 0, nFit)
  const { weights, lastLoss } = train(shape, fit.inputs, fit.outputs, nFit, h, config, templateSeed(config.seed, s.templateId))
  const errorSource = nVal > 0 ? "validation" : "training"
  const errors =
    nVal > 0
      ? (() => {
          const val = gatherWindows(x, K, h, targets, nFit, nFit + nVal)
          return windowErrors(shape, weights, val.inputs, val.outputs, nVal, h)
        })()
      : windowErrors(shape, weights, fit.inputs, fit.outputs, nFit, h)
  const { mean, std } = meanStd(errors)
  const errorStd = Math.max(std, ERROR_STD_RELATIVE_FLOOR * mean, ERROR_STD_ABSOLUTE_FLOOR)
  return {
    templateId: s.templateId,
    columns: choice.columns,
    droppedColumns: choice.dropped,
    mean: choice.mean,
    std: choice.std,
    shape,
    weights: flattenWeights(weights),
    errorSource,
    errorMean: mean,
    errorStd,
    errorStdObserved: std,
    threshold: mean + z * errorStd,
    trainLoss: lastLoss,
    trainWindows: nFit,
    validationWindows: nVal
  }
}

/**
 * Fits one model per series (template); templates without enough training windows or without a
 * usable column are recorded in `skipped` with the reason. Models in `hooks.done` are checked
 * against the series and config and reused as they are (the same objects).
 */
export const fitParameterModel = (series: ReadonlyArray<ParameterSeries>, config: ParameterModelConfig, hooks: ParameterFitHooks = {}): ParameterModel => {
  validateConfig(config)
  validateAllSeries(series)
  const z = twoSidedZ(config.confidence)
  const done = new Map<number, TemplateParameterModel>()
  const known = new Set(series.map((s) => s.templateId))
  for (const m of hooks.done ?? []) {
    if (!known.has(m.templateId)) throw new Error(`parameter model: reused model of template ${m.templateId} has no series`)
    if (done.has(m.templateId)) throw new Error(`parameter model: reused models hold template ${m.templateId} more than once`)
    done.set(m.templateId, m)
  }
  const templates: Array<TemplateParameterModel> = []
  const skipped: Array<{ templateId: number; reason: string }> = []
  series.forEach((s, k) => {
    const p = plan(s, config)
    const reused = done.get(s.templateId)
    let model: TemplateParameterModel | undefined
    if (reused !== undefined) {
      checkDone(s, p, reused, config)
      model = reused
    } else if (p.kind === "fit") {
      model = fitTemplate(s, p, config, z)
    } else {
      skipped.push({ templateId: s.templateId, reason: p.reason })
    }
    if (model !== undefined) templates.push(model)
    hooks.onTemplate?.(k + 1, series.length, model)
  })
  return { templates, skipped, z, confidence: config.confidence, history: config.history }
}

// ---------------------------------------------------------------------------------------------
// Score

/**
 * Scores every vector with role 2 that has a model and at least `history` vectors before it in its
 * series (any role counts as history). Results are sorted by row (then template id).
 */
export const scoreParameterModel = (model: ParameterModel, series: ReadonlyArray<ParameterSeries>): ParameterScores => {
  if (!isPosInt(model.history)) throw new Error(`parameter model: history must be a positive integer, got ${String(model.history)}`)
  validateAllSeries(series)
  const h = model.history
  const byTemplate = new Map<number, TemplateParameterModel>()
  for (const t of model.templates) byTemplate.set(t.templateId, t)
  const rows: Array<number> = []
  const templateIds: Array<number> = []
  const errors: Array<number> = []
  const anomalous: Array<number> = []
  for (const s of series) {
    const t = byTemplate.get(s.templateId)
    if (t === undefined) continue
    for (const c of t.columns) {
      if (!(Number.isInteger(c) && c >= 0 && c < s.dims)) {
        throw new Error(`parameter series (template ${s.templateId}): model column ${c} is outside the series' ${s.dims} dims`)
      }
    }
    const targets: Array<number> = []
    for (let i = h; i < s.rows.length; i++) if (s.role[i] === ROLE_SCORE) targets.push(i)
    if (targets.length === 0) continue
    const K = t.columns.length
    const weights = unflattenWeights(t.shape, t.weights)
    const x = normalize(s, t.columns, t.mean, t.std)
    for (let from = 0; from < targets.length; from += CHUNK) {
      const to = Math.min(targets.length, from + CHUNK)
      const w = gatherWindows(x, K, h, targets, from, to)
      const e = windowErrors(t.shape, weights, w.inputs, w.outputs, to - from, h)
      for (let j = 0; j < to - from; j++) {
        rows.push(s.rows[targets[from + j]!]!)
        templateIds.push(s.templateId)
        errors.push(e[j]!)
        anomalous.push(e[j]! > t.threshold ? 1 : 0)
      }
    }
  }
  const order = rows.map((_, k) => k).sort((a, b) => rows[a]! - rows[b]! || templateIds[a]! - templateIds[b]!)
  return {
    rows: Int32Array.from(order, (k) => rows[k]!),
    templateIds: Int32Array.from(order, (k) => templateIds[k]!),
    errors: Float64Array.from(order, (k) => errors[k]!),
    anomalous: Uint8Array.from(order, (k) => anomalous[k]!)
  }
}
