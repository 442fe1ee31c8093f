/**
 * DeepLog's training loop, independent of the backend that computes gradients: seeded weight
 * initialisation, a seeded shuffle per epoch (derived from the seed and the epoch number, so an
 * epoch replays identically after a resume), mini-batch Adam, validation loss and top-g accuracy
 * per epoch, and a checkpoint (weights, Adam moments, curves) after every epoch. Resuming from
 * the checkpoint of epoch e gives bit-identical weights to an uninterrupted run.
 */
import { seededPermutation } from "../../artifacts/Random.ts"
import type { LstmShape, LstmWeights } from "./LstmTypes.ts"
import { Adam, cloneWeights, flattenWeights, forward, initWeights, lossAndGradients, lstmScratch, unflattenWeights } from "./NativeLstm.ts"
import type { Windows } from "./Windows.ts"

export interface TrainOptions {
  readonly epochs: number
  readonly batchSize: number
  readonly learningRate: number
  readonly seed: number
  /** The g of top-g accuracy on the validation windows. */
  readonly topG: number
}

/** One epoch's curve point. */
export interface EpochCurve {
  readonly epoch: number
  readonly train_loss: number
  readonly validation_loss: number | null
  readonly validation_top_g: number | null
  readonly steps: number
  readonly seconds: number
}

/** Everything needed to continue training after `epoch` completed epochs. */
export interface TrainState {
  readonly epoch: number
  readonly weights: LstmWeights
  readonly adam: { readonly t: number; readonly m: LstmWeights; readonly v: LstmWeights }
  readonly curves: ReadonlyArray<EpochCurve>
}

export interface TrainHooks {
  /** Called after every step. */
  readonly progress?: (p: { readonly epoch: number; readonly epochs: number; readonly step: number; readonly steps: number; readonly loss: number }) => void
  /** Called after every epoch with the state to checkpoint (its arrays change afterwards: encode them at once). */
  readonly checkpoint?: (state: TrainState) => void
  /** Continue from this state instead of a fresh initialisation. */
  readonly resume?: TrainState
}

/** A gradient backend: loss and gradients of one batch (the native LSTM by default). */
export type GradientFn = (
  shape: LstmShape,
  weights: LstmWeights,
  inputs: Int32Array,
  targets: Int32Array,
  batch: number,
  steps: number
) => { readonly loss: number; readonly grads: LstmWeights }

/** Gradients from the native LSTM, with buffers reused across the steps of one training. */
const nativeGradients = (): GradientFn => {
  const scratch = lstmScratch()
  return (shape, weights, inputs, targets, batch, steps) => lossAndGradients(shape, weights, inputs, targets, batch, steps, "softmax_ce", scratch)
}

/**
 * Train (or continue training) on `train`; `validation` windows are only evaluated. A generator
 * that yields every 16 steps, so the async driver can let other work through and the sync driver
 * can run it straight; returns the final state.
 */
function* trainSteps(
  shape: LstmShape,
  train: Windows,
  validation: Windows | undefined,
  options: TrainOptions,
  hooks: TrainHooks,
  gradients: GradientFn
): Generator<void, TrainState, void> {
  if (train.count === 0) throw new Error("no training windows")
  const h = train.history
  const weights = hooks.resume === undefined ? initWeights(shape, options.seed) : cloneWeights(hooks.resume.weights)
  const adam = new Adam(options.learningRate)
  if (hooks.resume !== undefined) adam.setState(hooks.resume.adam)
  const curves: Array<EpochCurve> = [...(hooks.resume?.curves ?? [])]
  const steps = Math.ceil(train.count / options.batchSize)
  const batchInputs = new Int32Array(options.batchSize * h)
  const batchTargets = new Int32Array(options.batchSize)
  for (let epoch = (hooks.resume?.epoch ?? 0) + 1; epoch <= options.epochs; epoch++) {
    const t0 = performance.now()
    const order = seededPermutation(train.count, epochSeed(options.seed, epoch))
    let lossSum = 0
    for (let step = 0; step < steps; step++) {
      const from = step * options.batchSize
      const b = Math.min(options.batchSize, train.count - from)
      for (let j = 0; j < b; j++) {
        const w = order[from + j]!
        batchInputs.set(train.inputs.subarray(w * h, w * h + h), j * h)
        batchTargets[j] = train.targets[w]!
      }
      const { loss, grads } = gradients(shape, weights, batchInputs.subarray(0, b * h), batchTargets.subarray(0, b), b, h)
      adam.step(weights, grads)
      lossSum += loss * b
      hooks.progress?.({ epoch, epochs: options.epochs, step: step + 1, steps, loss })
      if ((step & 15) === 15) yield
    }
    const val = validation === undefined || validation.count === 0 ? undefined : evaluateWindows(shape, weights, validation, options.topG)
    curves.push({
      epoch,
      train_loss: lossSum / train.count,
      validation_loss: val?.loss ?? null,
      validation_top_g: val?.topG ?? null,
      steps,
      seconds: (performance.now() - t0) / 1000
    })
    hooks.checkpoint?.({ epoch, weights, adam: adam.state(), curves: [...curves] })
    yield
  }
  return { epoch: options.epochs, weights, adam: adam.state(), curves }
}

/**
 * Train (or continue training) on `train`: the steps of `trainSteps`, driven on the calling thread.
 * `yieldEvery: true` lets the event loop through every few steps (progress, messages, a
 * checkpoint's store) and gives the same result as driving them straight.
 */
export const trainNextKey: {
  (shape: LstmShape, train: Windows, validation: Windows | undefined, options: TrainOptions, hooks: TrainHooks, mode: { readonly yielding: true }, gradients?: GradientFn): Promise<TrainState>
  (shape: LstmShape, train: Windows, validation: Windows | undefined, options: TrainOptions, hooks: TrainHooks, mode: { readonly yielding: false }, gradients?: GradientFn): TrainState
} = ((shape: LstmShape, train: Windows, validation: Windows | undefined, options: TrainOptions, hooks: TrainHooks, mode: { readonly yielding: boolean }, gradients: GradientFn = nativeGradients()) => {
  const it = trainSteps(shape, train, validation, options, hooks, gradients)
  return mode.yielding ? driveYielding(it) : driveStraight(it)
}) as never

const driveStraight = <A>(it: Generator<unknown, A>): A => {
  for (;;) {
    const r = it.next()
    if (r.done === true) return r.value
  }
}

const driveYielding = async <A>(it: Generator<unknown, A>): Promise<A> => {
  for (;;) {
    const r = it.next()
    if (r.done === true) return r.value
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** Mean cross-entropy over windows with a known target, and the share whose target is in the top g. */
export const evaluateWindows = (shape: LstmShape, weights: LstmWeights, windows: Windows, g: number): { readonly loss: number; readonly topG: number } => {
  const ranks = rankTargets(shape, weights, windows)
  let loss = 0
  let known = 0
  let hits = 0
  for (let w = 0; w < windows.count; w++) {
    if (ranks.logProb[w]! !== Number.NEGATIVE_INFINITY) {
      loss -= ranks.logProb[w]!
      known++
    }
    if (ranks.rank[w]! < g) hits++
  }
  return { loss: known === 0 ? 0 : loss / known, topG: hits / windows.count }
}

/** The distinct histories of `windows` ([count, history] inputs) and, per window, the index of its history. */
export const distinctHistories = (windows: Windows): { readonly count: number; readonly inputs: Int32Array; readonly of: Int32Array } => {
  const h = windows.history
  const index = new Map<string, number>()
  const of = new Int32Array(windows.count)
  const firsts: Array<number> = []
  for (let w = 0; w < windows.count; w++) {
    const key = windows.inputs.subarray(w * h, w * h + h).join(",")
    let u = index.get(key)
    if (u === undefined) {
      u = firsts.length
      index.set(key, u)
      firsts.push(w)
    }
    of[w] = u
  }
  const inputs = new Int32Array(firsts.length * h)
  firsts.forEach((w, u) => inputs.set(windows.inputs.subarray(w * h, w * h + h), u * h))
  return { count: firsts.length, inputs, of }
}

/**
 * For every window, the rank of its true next key among the model's predictions (0 = most
 * likely; ties broken by class index, as a stable sort would) and its log-probability. A target
 * never seen in training has rank K (the number of classes) and log-probability −∞. Each distinct
 * history is run through the model once (log windows repeat a lot).
 */
export const rankTargets = (
  shape: LstmShape,
  weights: LstmWeights,
  windows: Windows,
  chunk = 1024
): { readonly rank: Int32Array; readonly logProb: Float64Array } => {
  const K = shape.outputSize
  const h = windows.history
  const d = distinctHistories(windows)
  const logits = new Float32Array(d.count * K)
  const scratch = lstmScratch()
  for (let from = 0; from < d.count; from += chunk) {
    const b = Math.min(chunk, d.count - from)
    logits.set(forward(shape, weights, d.inputs.subarray(from * h, (from + b) * h), b, h, scratch), from * K)
  }
  const rank = new Int32Array(windows.count)
  const logProb = new Float64Array(windows.count)
  rankFromLogits(logits, K, windows.targets, rank, logProb, d.of)
  return { rank, logProb }
}

/**
 * Ranks and log-probabilities of `targets` from logits (shared by every scoring backend): target j
 * is ranked in logits row `rows[j]` (default: row j) of a row-major [rows, K] array.
 */
export const rankFromLogits = (
  logits: Float32Array,
  K: number,
  targets: Int32Array,
  rank: Int32Array,
  logProb: Float64Array,
  rows?: Int32Array
): void => {
  for (let j = 0; j < targets.length; j++) {
    const y = targets[j]!
    const row = (rows === undefined ? j : rows[j]!) * K
    if (y >= K) {
      rank[j] = K
      logProb[j] = Number.NEGATIVE_INFINITY
      continue
    }
    const own = logits[row + y]!
    let r = 0
    let max = Number.NEGATIVE_INFINITY
    for (let k = 0; k < K; k++) {
      const z = logits[row + k]!
      if (z > own || (z === own && k < y)) r++
      if (z > max) max = z
    }
    let sum = 0
    for (let k = 0; k < K; k++) sum += Math.exp(logits[row + k]! - max)
    rank[j] = r
    logProb[j] = own - max - Math.log(sum)
  }
}

const epochSeed = (seed: number, epoch: number): number => (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + epoch * 0x27d4eb2f) >>> 0


/**
 * A checkpoint as plain data (fresh typed arrays, so the engine may encode it later): the state plus
 * the shape it belongs to (checked on load), and any `extra` data (typed arrays allowed).
 */
export const checkpointValue = (shape: LstmShape, state: TrainState, extra?: unknown): unknown => ({
  format: "logflow-deeplog-checkpoint/1",
  shape,
  epoch: state.epoch,
  weights: flattenWeights(state.weights),
  adam: { t: state.adam.t, m: flattenWeights(state.adam.m), v: flattenWeights(state.adam.v) },
  curves: state.curves,
  ...(extra === undefined ? {} : { extra })
})

/** Read a checkpoint back; throws when it is not a checkpoint of this shape. */
export const readCheckpoint = (shape: LstmShape, value: unknown): { readonly state: TrainState; readonly extra: unknown } => {
  const v = (value ?? {}) as {
    format?: unknown
    shape?: unknown
    epoch?: unknown
    weights?: unknown
    adam?: { t?: unknown; m?: unknown; v?: unknown }
    curves?: unknown
    extra?: unknown
  }
  if (typeof v !== "object" || v.format !== "logflow-deeplog-checkpoint/1") throw new Error("not a DeepLog checkpoint")
  if (JSON.stringify(v.shape) !== JSON.stringify(shape)) throw new Error(`checkpoint is for model shape ${JSON.stringify(v.shape)}, not ${JSON.stringify(shape)}`)
  if (typeof v.epoch !== "number" || !(v.weights instanceof Float32Array) || v.adam === undefined || typeof v.adam.t !== "number" ||
    !(v.adam.m instanceof Float32Array) || !(v.adam.v instanceof Float32Array) || !Array.isArray(v.curves)) {
    throw new Error("checkpoint is malformed")
  }
  // Copies: decoded views may alias the cache's buffer, and training writes weights in place.
  return {
    state: {
      epoch: v.epoch,
      weights: unflattenWeights(shape, v.weights.slice()),
      adam: { t: v.adam.t, m: unflattenWeights(shape, v.adam.m.slice()), v: unflattenWeights(shape, v.adam.v.slice()) },
      curves: v.curves as ReadonlyArray<EpochCurve>
    },
    extra: v.extra
  }
}
