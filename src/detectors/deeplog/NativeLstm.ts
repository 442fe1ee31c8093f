/**
 * A dependency-free stacked LSTM with a dense head, trained by full backpropagation through time
 * on Float32Array buffers with plain single-threaded loops: a training backend candidate for
 * DeepLog. Everything is deterministic: the same inputs give bit-identical outputs.
 *
 * Model (the canonical layout other code relies on):
 * - Layer l reads in_l features per step (in_0 = inputSize, in_l = H above). `W` is row-major
 *   [in_l, 4H], `R` row-major [H, 4H], `b` [4H]; the 4H columns are four blocks of H in gate
 *   order i, f, g, o.
 * - Per step t, with h and c zero at the start of every sequence:
 *   z = x_t·W + h_{t-1}·R + b; i = σ(z_i), f = σ(z_f), g = tanh(z_g), o = σ(z_o);
 *   c_t = f⊙c_{t-1} + i⊙g; h_t = o⊙tanh(c_t). For "ids" input x_t·W is row `id` of W (a gather;
 *   no one-hot is built). Layer l + 1 reads layer l's h sequence.
 * - Head: y = h_T(last layer, last step)·Wo + bo, `Wo` row-major [H, outputSize], `bo` [outputSize].
 * - Loss "softmax_ce": mean over the batch of softmax cross-entropy of y against integer targets
 *   (Int32Array [B]). Loss "mse": mean over batch and outputs of (y − target)² (Float32Array
 *   [B, outputSize]).
 * - Batches: "ids" input is Int32Array [B, T] (batch-major), "dense" input Float32Array [B, T, D].
 *
 * Internally activations are kept time-major ([T, B, ·]) so each step reads contiguous rows.
 * Every matrix product runs as C = A·Bᵀ (dot products over contiguous rows, 2×4 register
 * blocks; operands are transposed into scratch where needed), which V8 runs ~1.5× faster than the
 * i-k-j axpy form. Input projections of layers above the first, and all weight gradients, are
 * one product over all T·B rows; only h·R and its backward dz·Rᵀ run per step. σ and tanh use a
 * table-and-polynomial exp (relative error ~1e-13, plain IEEE arithmetic, so deterministic).
 * Scratch buffers live in one module-level workspace, reused while the dimensions stay the same
 * (results never alias it). One core, no allocation inside the time loop.
 */

import type { LstmLayerWeights, LstmShape, LstmWeights } from "./LstmTypes.ts"
import { mulberry32 } from "../../artifacts/Random.ts"

export type { LstmLayerWeights, LstmShape, LstmWeights }

export type LstmLoss = "softmax_ce" | "mse"

/** Input batch: Int32Array [B, T] for ids, Float32Array [B, T, D] for dense. */
export type LstmInput = Int32Array | Float32Array

/** Targets: Int32Array [B] class indices for softmax_ce, Float32Array [B, outputSize] for mse. */
export type LstmTargets = Int32Array | Float32Array

// ---------------------------------------------------------------------------------------------
// Validation

const isPosInt = (n: number): boolean => Number.isInteger(n) && n >= 1

/** Throws unless every dimension of `shape` is valid. */
export const validateShape = (shape: LstmShape): void => {
  if (shape.inputKind !== "ids" && shape.inputKind !== "dense") {
    throw new Error(`LSTM shape: inputKind must be "ids" or "dense", got ${String(shape.inputKind)}`)
  }
  for (const key of ["inputSize", "hidden", "layers", "outputSize"] as const) {
    if (!isPosInt(shape[key])) throw new Error(`LSTM shape: ${key} must be a positive integer, got ${shape[key]}`)
  }
}

const layerInputSize = (shape: LstmShape, l: number): number => (l === 0 ? shape.inputSize : shape.hidden)

const checkLength = (what: string, a: Float32Array, expected: number): void => {
  if (!(a instanceof Float32Array)) throw new Error(`LSTM weights: ${what} must be a Float32Array`)
  if (a.length !== expected) {
    throw new Error(`LSTM weights: ${what} has length ${a.length}, expected ${expected}`)
  }
}

/** Throws unless `w` has exactly the arrays and lengths that `shape` calls for. */
export const validateWeights = (shape: LstmShape, w: LstmWeights, name = "weights"): void => {
  validateShape(shape)
  const H = shape.hidden
  const G = 4 * H
  if (w.layers.length !== shape.layers) {
    throw new Error(`LSTM ${name}: ${w.layers.length} layers, expected ${shape.layers}`)
  }
  for (let l = 0; l < shape.layers; l++) {
    const layer = w.layers[l]!
    checkLength(`${name} layer ${l} W`, layer.W, layerInputSize(shape, l) * G)
    checkLength(`${name} layer ${l} R`, layer.R, H * G)
    checkLength(`${name} layer ${l} b`, layer.b, G)
  }
  checkLength(`${name} Wo`, w.Wo, H * shape.outputSize)
  checkLength(`${name} bo`, w.bo, shape.outputSize)
}

const validateBatch = (shape: LstmShape, input: LstmInput, batch: number, steps: number): void => {
  if (!isPosInt(batch)) throw new Error(`LSTM batch: batch size must be a positive integer, got ${batch}`)
  if (!isPosInt(steps)) throw new Error(`LSTM batch: steps must be a positive integer, got ${steps}`)
  if (shape.inputKind === "ids") {
    if (!(input instanceof Int32Array)) throw new Error("LSTM batch: ids input must be an Int32Array [B, T]")
    if (input.length !== batch * steps) {
      throw new Error(`LSTM batch: ids input has length ${input.length}, expected B·T = ${batch}·${steps} = ${batch * steps}`)
    }
    const V = shape.inputSize
    for (let i = 0; i < input.length; i++) {
      const id = input[i]!
      if (id < 0 || id >= V) {
        throw new Error(`LSTM batch: id ${id} at position ${i} (sequence ${Math.floor(i / steps)}, step ${i % steps}) is outside [0, ${V})`)
      }
    }
  } else {
    if (!(input instanceof Float32Array)) throw new Error("LSTM batch: dense input must be a Float32Array [B, T, D]")
    const D = shape.inputSize
    if (input.length !== batch * steps * D) {
      throw new Error(`LSTM batch: dense input has length ${input.length}, expected B·T·D = ${batch}·${steps}·${D} = ${batch * steps * D}`)
    }
  }
}

const validateTargets = (shape: LstmShape, targets: LstmTargets, batch: number, loss: LstmLoss): void => {
  const O = shape.outputSize
  if (loss === "softmax_ce") {
    if (!(targets instanceof Int32Array)) throw new Error("LSTM targets: softmax_ce targets must be an Int32Array [B] of class indices")
    if (targets.length !== batch) throw new Error(`LSTM targets: ${targets.length} targets, expected B = ${batch}`)
    for (let b = 0; b < batch; b++) {
      const k = targets[b]!
      if (k < 0 || k >= O) throw new Error(`LSTM targets: target ${k} of sequence ${b} is outside [0, ${O})`)
    }
  } else if (loss === "mse") {
    if (!(targets instanceof Float32Array)) throw new Error("LSTM targets: mse targets must be a Float32Array [B, outputSize]")
    if (targets.length !== batch * O) {
      throw new Error(`LSTM targets: mse targets have length ${targets.length}, expected B·outputSize = ${batch}·${O} = ${batch * O}`)
    }
  } else {
    throw new Error(`LSTM loss: unknown loss ${String(loss)}, expected "softmax_ce" or "mse"`)
  }
}

// ---------------------------------------------------------------------------------------------
// Weights: init, zeros, copy, flatten

const fillUniform = (a: Float32Array, limit: number, rand: () => number): void => {
  for (let i = 0; i < a.length; i++) a[i] = (2 * rand() - 1) * limit
}

/**
 * Deterministic initial weights from `seed` (mulberry32). Draw order: for each layer W then R,
 * then Wo. W and Wo are Glorot-uniform (limit sqrt(6 / (fan_in + fan_out)), with fan_out = 4H
 * for W as Keras counts the fused kernel), R is uniform(±1/sqrt(H)), biases are zero except the
 * forget-gate block of each b, which is 1.0 (Keras' unit_forget_bias: the cell remembers by
 * default early in training).
 */
export const initWeights = (shape: LstmShape, seed: number): LstmWeights => {
  validateShape(shape)
  const rand = mulberry32(seed)
  const H = shape.hidden
  const G = 4 * H
  const layers: Array<LstmLayerWeights> = []
  for (let l = 0; l < shape.layers; l++) {
    const inl = layerInputSize(shape, l)
    const W = new Float32Array(inl * G)
    const R = new Float32Array(H * G)
    const b = new Float32Array(G)
    fillUniform(W, Math.sqrt(6 / (inl + G)), rand)
    fillUniform(R, 1 / Math.sqrt(H), rand)
    b.fill(1, H, 2 * H)
    layers.push({ W, R, b })
  }
  const Wo = new Float32Array(H * shape.outputSize)
  fillUniform(Wo, Math.sqrt(6 / (H + shape.outputSize)), rand)
  return { layers, Wo, bo: new Float32Array(shape.outputSize) }
}

/** Zero weights of the same shapes as `like`. */
export const zerosLike = (like: LstmWeights): LstmWeights => ({
  layers: like.layers.map((l) => ({ W: new Float32Array(l.W.length), R: new Float32Array(l.R.length), b: new Float32Array(l.b.length) })),
  Wo: new Float32Array(like.Wo.length),
  bo: new Float32Array(like.bo.length)
})

/** A deep copy. */
export const cloneWeights = (w: LstmWeights): LstmWeights => ({
  layers: w.layers.map((l) => ({ W: l.W.slice(), R: l.R.slice(), b: l.b.slice() })),
  Wo: w.Wo.slice(),
  bo: w.bo.slice()
})

/** The arrays of `w` in the flat order: layers in order, each W, R, b; then Wo, bo. */
export const weightArrays = (w: LstmWeights): Array<Float32Array> => {
  const out: Array<Float32Array> = []
  for (const l of w.layers) out.push(l.W, l.R, l.b)
  out.push(w.Wo, w.bo)
  return out
}

/** Number of parameters of `shape`. */
export const parameterCount = (shape: LstmShape): number => {
  validateShape(shape)
  const H = shape.hidden
  const G = 4 * H
  let n = 0
  for (let l = 0; l < shape.layers; l++) n += layerInputSize(shape, l) * G + H * G + G
  return n + H * shape.outputSize + shape.outputSize
}

/** One Float32Array of all parameters in the fixed order: layers in order, each W, R, b; then Wo, bo. */
export const flattenWeights = (w: LstmWeights): Float32Array => {
  const arrays = weightArrays(w)
  let n = 0
  for (const a of arrays) n += a.length
  const flat = new Float32Array(n)
  let off = 0
  for (const a of arrays) {
    flat.set(a, off)
    off += a.length
  }
  return flat
}

/** The inverse of flattenWeights; the result owns fresh copies (it does not view `flat`). */
export const unflattenWeights = (shape: LstmShape, flat: Float32Array): LstmWeights => {
  const n = parameterCount(shape)
  if (!(flat instanceof Float32Array)) throw new Error("LSTM unflatten: expected a Float32Array")
  if (flat.length !== n) throw new Error(`LSTM unflatten: flat weights have length ${flat.length}, expected ${n} for this shape`)
  const H = shape.hidden
  const G = 4 * H
  let off = 0
  const take = (len: number): Float32Array => {
    const a = flat.slice(off, off + len)
    off += len
    return a
  }
  const layers: Array<LstmLayerWeights> = []
  for (let l = 0; l < shape.layers; l++) {
    const W = take(layerInputSize(shape, l) * G)
    const R = take(H * G)
    const b = take(G)
    layers.push({ W, R, b })
  }
  const Wo = take(H * shape.outputSize)
  const bo = take(shape.outputSize)
  return { layers, Wo, bo }
}

// ---------------------------------------------------------------------------------------------
// Kernels

/**
 * C[cOff + m·ldc + k] (= or +=) Σ_{j<N} A[aOff + m·lda + j] · Bm[bOff + k·ldb + j] for m < M,
 * k < K: C = A·Bᵀ with strided rows. Every product in this file is put in this dot-product form
 * (transposing an operand where needed): in V8 it runs well ahead of the axpy (i-k-j) form
 * because the sums stay in registers. Blocks of 2 rows × 4 columns share their loads.
 */
export const gemmNT = (
  A: Float32Array,
  aOff: number,
  lda: number,
  M: number,
  N: number,
  Bm: Float32Array,
  bOff: number,
  ldb: number,
  K: number,
  C: Float32Array,
  cOff: number,
  ldc: number,
  accumulate: boolean
): void => {
  const M2 = M - (M % 2)
  const K4 = K - (K % 4)
  let m = 0
  for (; m < M2; m += 2) {
    const a0 = aOff + m * lda
    const a1 = a0 + lda
    const c0 = cOff + m * ldc
    const c1 = c0 + ldc
    let k = 0
    for (; k < K4; k += 4) {
      const b0 = bOff + k * ldb
      const b1 = b0 + ldb
      const b2 = b1 + ldb
      const b3 = b2 + ldb
      let s0 = 0
      let s1 = 0
      let s2 = 0
      let s3 = 0
      let t0 = 0
      let t1 = 0
      let t2 = 0
      let t3 = 0
      for (let j = 0; j < N; j++) {
        const x = A[a0 + j]!
        const y = A[a1 + j]!
        const p0 = Bm[b0 + j]!
        const p1 = Bm[b1 + j]!
        const p2 = Bm[b2 + j]!
        const p3 = Bm[b3 + j]!
        s0 += x * p0
        s1 += x * p1
        s2 += x * p2
        s3 += x * p3
        t0 += y * p0
        t1 += y * p1
        t2 += y * p2
        t3 += y * p3
      }
      if (accumulate) {
        C[c0 + k] = C[c0 + k]! + s0
        C[c0 + k + 1] = C[c0 + k + 1]! + s1
        C[c0 + k + 2] = C[c0 + k + 2]! + s2
        C[c0 + k + 3] = C[c0 + k + 3]! + s3
        C[c1 + k] = C[c1 + k]! + t0
        C[c1 + k + 1] = C[c1 + k + 1]! + t1
        C[c1 + k + 2] = C[c1 + k + 2]! + t2
        C[c1 + k + 3] = C[c1 + k + 3]! + t3
      } else {
        C[c0 + k] = s0
        C[c0 + k + 1] = s1
        C[c0 + k + 2] = s2
        C[c0 + k + 3] = s3
        C[c1 + k] = t0
        C[c1 + k + 1] = t1
        C[c1 + k + 2] = t2
        C[c1 + k + 3] = t3
      }
    }
    for (; k < K; k++) {
      const b0 = bOff + k * ldb
      let s0 = 0
      let t0 = 0
      for (let j = 0; j < N; j++) {
        const p0 = Bm[b0 + j]!
        s0 += A[a0 + j]! * p0
        t0 += A[a1 + j]! * p0
      }
      C[c0 + k] = accumulate ? C[c0 + k]! + s0 : s0
      C[c1 + k] = accumulate ? C[c1 + k]! + t0 : t0
    }
  }
  if (m < M) {
    const a0 = aOff + m * lda
    const c0 = cOff + m * ldc
    let k = 0
    for (; k < K4; k += 4) {
      const b0 = bOff + k * ldb
      const b1 = b0 + ldb
      const b2 = b1 + ldb
      const b3 = b2 + ldb
      let s0 = 0
      let s1 = 0
      let s2 = 0
      let s3 = 0
      for (let j = 0; j < N; j++) {
        const x = A[a0 + j]!
        s0 += x * Bm[b0 + j]!
        s1 += x * Bm[b1 + j]!
        s2 += x * Bm[b2 + j]!
        s3 += x * Bm[b3 + j]!
      }
      C[c0 + k] = accumulate ? C[c0 + k]! + s0 : s0
      C[c0 + k + 1] = accumulate ? C[c0 + k + 1]! + s1 : s1
      C[c0 + k + 2] = accumulate ? C[c0 + k + 2]! + s2 : s2
      C[c0 + k + 3] = accumulate ? C[c0 + k + 3]! + s3 : s3
    }
    for (; k < K; k++) {
      const b0 = bOff + k * ldb
      let s0 = 0
      for (let j = 0; j < N; j++) s0 += A[a0 + j]! * Bm[b0 + j]!
      C[c0 + k] = accumulate ? C[c0 + k]! + s0 : s0
    }
  }
}

/** dst[dOff + c·rows + r] = src[sOff + r·cols + c]: a [rows, cols] block transposed to [cols, rows]. */
const transpose = (src: Float32Array, sOff: number, rows: number, cols: number, dst: Float32Array, dOff: number): void => {
  for (let r = 0; r < rows; r++) {
    const s = sOff + r * cols
    const d = dOff + r
    for (let c = 0; c < cols; c++) dst[d + c * rows] = src[s + c]!
  }
}

// ---------------------------------------------------------------------------------------------
// Activations. exp by range reduction to |r| ≤ ln2/128 with two table lookups and a degree-4
// polynomial: relative error ~1e-13 (far below float32 resolution), built from IEEE arithmetic
// only, so deterministic across engines, and about twice as fast as Math.exp here.

const INV_STEP = 64 / Math.LN2
/** ln2/64 split in two: the high part has 24 significant bits, so n·STEP_HI is exact. */
const STEP_HI = Math.fround(Math.LN2 / 64)
const STEP_LO = Math.LN2 / 64 - STEP_HI
/** 1.5·2^52: adding and subtracting it rounds a double of magnitude < 2^51 to the nearest integer. */
const ROUND = 6755399441055744
/** POW2[q + 1023] = 2^q for q in [-1023, 1023]; FRAC[s] = 2^(s/64) for s in [0, 64). */
const POW2 = Float64Array.from({ length: 2047 }, (_, i) => Math.pow(2, i - 1023))
const FRAC = Float64Array.from({ length: 64 }, (_, i) => Math.pow(2, i / 64))

/** e^x for x clamped to [−700, 700]: x = (n/64)·ln2 + r, |r| ≤ ln2/128, e^r by a degree-4 Taylor polynomial. */
const expFast = (x: number): number => {
  const xc = x > 700 ? 700 : x < -700 ? -700 : x
  const nf = xc * INV_STEP + ROUND - ROUND
  const n = nf | 0
  const r = xc - nf * STEP_HI - nf * STEP_LO
  const p = 1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24))))
  return POW2[(n >> 6) + 1023]! * FRAC[n & 63]! * p
}

const sigmoid = (x: number): number => 1 / (1 + expFast(-x))

/** tanh: odd Taylor series near zero (no cancellation), (1 − e^{−2|x|}) / (1 + e^{−2|x|}) elsewhere. */
const tanhFast = (x: number): number => {
  const ax = x < 0 ? -x : x
  if (ax < 0.125) {
    const x2 = x * x
    return x * (1 + x2 * (-1 / 3 + x2 * (2 / 15 + x2 * (-17 / 315 + x2 * (62 / 2835)))))
  }
  const e = expFast(-2 * ax)
  const t = (1 - e) / (1 + e)
  return x < 0 ? -t : t
}

// ---------------------------------------------------------------------------------------------
// Workspace

interface Workspace {
  readonly key: string
  /** The product kernel of this workspace's calls. */
  readonly gemm: GemmNT
  /** Time-major dense input [T·B, D] and its transpose [D, T·B] (dense only; empty for ids). */
  readonly xs: Float32Array
  readonly xsT: Float32Array
  /** Per layer: Wᵀ [4H, in_l] and Rᵀ [4H, H]; Woᵀ [O, H]. */
  readonly WT: Array<Float32Array>
  readonly RT: Array<Float32Array>
  readonly WoT: Float32Array
  /** Per layer: activated gates [T·B, 4H] (pre-activations until the step runs). */
  readonly gates: Array<Float32Array>
  /** Per layer: c_t, tanh(c_t), h_t [T·B, H] (row t·B + b), and hᵀ [H, T·B]. */
  readonly cs: Array<Float32Array>
  readonly tcs: Array<Float32Array>
  readonly hs: Array<Float32Array>
  readonly hsT: Array<Float32Array>
  /** Gate gradients dz [T·B, 4H] of the layer being back-propagated and dzᵀ [4H, T·B]. */
  readonly dz: Float32Array
  readonly dzT: Float32Array
  /** Gradient reaching h_t from above, [T·B, H]; two, used alternately. */
  readonly dhIn: readonly [Float32Array, Float32Array]
  /** Recurrent carries [B, H]. */
  readonly dhNext: Float32Array
  readonly dcNext: Float32Array
  /** Head outputs, then their gradient [B, O], and its transpose [O, B]. */
  readonly dy: Float32Array
  readonly dyT: Float32Array
}

/** Buffers one training loop reuses across its calls (rebuilt when the batch shape changes). */
export interface LstmScratch {
  ws: Workspace | undefined
  /** The product kernel (default `gemmNT`): another implementation of the same contract, e.g. a vectorised one. */
  readonly gemm?: GemmNT
}

/** `gemmNT`'s contract: C (+)= A·Bᵀ over strided rows. */
export type GemmNT = typeof gemmNT

/** Scratch for `forward` and `lossAndGradients`: pass the same one to the calls of one loop. */
export const lstmScratch = (): LstmScratch => ({ ws: undefined })

const workspace = (shape: LstmShape, B: number, T: number, scratch: LstmScratch | undefined): Workspace => {
  const key = `${shape.inputKind}/${shape.inputSize}/${shape.hidden}/${shape.layers}/${shape.outputSize}/${B}/${T}`
  if (scratch?.ws !== undefined && scratch.ws.key === key && scratch.ws.gemm === (scratch.gemm ?? gemmNT)) return scratch.ws
  const H = shape.hidden
  const G = 4 * H
  const L = shape.layers
  const O = shape.outputSize
  const rows = T * B
  const many = (n: number): Array<Float32Array> => Array.from({ length: L }, () => new Float32Array(n))
  const dense = shape.inputKind === "dense" ? rows * shape.inputSize : 0
  const built: Workspace = {
    key,
    gemm: scratch?.gemm ?? gemmNT,
    xs: new Float32Array(dense),
    xsT: new Float32Array(dense),
    WT: Array.from({ length: L }, (_, l) => new Float32Array(G * layerInputSize(shape, l))),
    RT: many(G * H),
    WoT: new Float32Array(O * H),
    gates: many(rows * G),
    cs: many(rows * H),
    tcs: many(rows * H),
    hs: many(rows * H),
    hsT: many(rows * H),
    dz: new Float32Array(rows * G),
    dzT: new Float32Array(rows * G),
    dhIn: [new Float32Array(rows * H), new Float32Array(rows * H)],
    dhNext: new Float32Array(B * H),
    dcNext: new Float32Array(B * H),
    dy: new Float32Array(B * O),
    dyT: new Float32Array(B * O)
  }
  if (scratch !== undefined) scratch.ws = built
  return built
}

// ---------------------------------------------------------------------------------------------
// Forward

/** Runs every layer over the batch, keeping all activations in `ws`. */
const forwardLayers = (shape: LstmShape, w: LstmWeights, input: LstmInput, B: number, T: number, ws: Workspace): void => {
  const H = shape.hidden
  const G = 4 * H
  const BH = B * H
  const BG = B * G
  const rows = T * B
  if (shape.inputKind === "dense") {
    const D = shape.inputSize
    const xs = ws.xs
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const src = (b * T + t) * D
        xs.set(input.subarray(src, src + D), (t * B + b) * D)
      }
    }
  }
  for (let l = 0; l < shape.layers; l++) {
    const { W, R, b: bias } = w.layers[l]!
    const inl = layerInputSize(shape, l)
    const z = ws.gates[l]!
    const cs = ws.cs[l]!
    const tcs = ws.tcs[l]!
    const hs = ws.hs[l]!
    const RT = ws.RT[l]!
    transpose(R, 0, H, G, RT, 0)
    // Bias and input contribution for all steps at once: z[t·B + b] = b + x_{t,b}·W.
    for (let r = 0; r < rows; r++) z.set(bias, r * G)
    if (l === 0 && shape.inputKind === "ids") {
      for (let t = 0; t < T; t++) {
        for (let bb = 0; bb < B; bb++) {
          const zr = (t * B + bb) * G
          const wr = input[bb * T + t]! * G - zr
          const end = zr + G
          for (let c = zr; c < end; c++) z[c] = z[c]! + W[wr + c]!
        }
      }
    } else {
      const WT = ws.WT[l]!
      transpose(W, 0, inl, G, WT, 0)
      const X = l === 0 ? ws.xs : ws.hs[l - 1]!
      ws.gemm(X, 0, inl, rows, inl, WT, 0, inl, G, z, 0, G, true)
    }
    // The recurrence.
    for (let t = 0; t < T; t++) {
      const zOff = t * BG
      const sOff = t * BH
      if (t > 0) ws.gemm(hs, sOff - BH, H, B, H, RT, 0, H, G, z, zOff, G, true)
      for (let bb = 0; bb < B; bb++) {
        const zr = zOff + bb * G
        const sr = sOff + bb * H
        for (let j = 0; j < H; j++) {
          const i = sigmoid(z[zr + j]!)
          const f = sigmoid(z[zr + H + j]!)
          const g = tanhFast(z[zr + 2 * H + j]!)
          const o = sigmoid(z[zr + 3 * H + j]!)
          z[zr + j] = i
          z[zr + H + j] = f
          z[zr + 2 * H + j] = g
          z[zr + 3 * H + j] = o
          const cPrev = t > 0 ? cs[sr - BH + j]! : 0
          const c = f * cPrev + i * g
          cs[sr + j] = c
          const tc = tanhFast(c)
          tcs[sr + j] = tc
          hs[sr + j] = o * tc
        }
      }
    }
  }
}

/** y [B, O] = h_T·Wo + bo from the last layer's last step in `ws`. */
const head = (shape: LstmShape, w: LstmWeights, B: number, T: number, ws: Workspace, y: Float32Array): void => {
  const O = shape.outputSize
  const H = shape.hidden
  for (let bb = 0; bb < B; bb++) y.set(w.bo, bb * O)
  transpose(w.Wo, 0, H, O, ws.WoT, 0)
  ws.gemm(ws.hs[shape.layers - 1]!, (T - 1) * B * H, H, B, H, ws.WoT, 0, H, O, y, 0, O, true)
}

/** Head outputs [B, outputSize] (logits for classification) of a batch of B sequences of T steps. */
export const forward = (shape: LstmShape, weights: LstmWeights, input: LstmInput, batch: number, steps: number, scratch?: LstmScratch): Float32Array => {
  validateWeights(shape, weights)
  validateBatch(shape, input, batch, steps)
  const ws = workspace(shape, batch, steps, scratch)
  forwardLayers(shape, weights, input, batch, steps, ws)
  const y = new Float32Array(batch * shape.outputSize)
  head(shape, weights, batch, steps, ws, y)
  return y
}

// ---------------------------------------------------------------------------------------------
// Loss and backpropagation through time

/** The batch loss and its gradient for every weight (fresh arrays, same layout as the weights). */
export const lossAndGradients = (
  shape: LstmShape,
  weights: LstmWeights,
  input: LstmInput,
  targets: LstmTargets,
  batch: number,
  steps: number,
  loss: LstmLoss,
  scratch?: LstmScratch
): { loss: number; grads: LstmWeights } => {
  validateWeights(shape, weights)
  validateBatch(shape, input, batch, steps)
  validateTargets(shape, targets, batch, loss)
  const B = batch
  const T = steps
  const H = shape.hidden
  const G = 4 * H
  const O = shape.outputSize
  const L = shape.layers
  const BH = B * H
  const BG = B * G
  const rows = T * B
  const ws = workspace(shape, B, T, scratch)
  forwardLayers(shape, weights, input, B, T, ws)
  const dy = ws.dy
  head(shape, weights, B, T, ws, dy)

  // Loss and dL/dy (overwriting y in place).
  let total = 0
  if (loss === "softmax_ce") {
    const scale = 1 / B
    for (let bb = 0; bb < B; bb++) {
      const r = bb * O
      let max = -Infinity
      for (let k = 0; k < O; k++) max = Math.max(max, dy[r + k]!)
      let sum = 0
      for (let k = 0; k < O; k++) sum += Math.exp(dy[r + k]! - max)
      const target = targets[bb]!
      total += max + Math.log(sum) - dy[r + target]!
      for (let k = 0; k < O; k++) dy[r + k] = (Math.exp(dy[r + k]! - max) / sum) * scale
      dy[r + target] = dy[r + target]! - scale
    }
    total /= B
  } else {
    const n = B * O
    const scale = 2 / n
    for (let k = 0; k < n; k++) {
      const d = dy[k]! - targets[k]!
      total += d * d
      dy[k] = d * scale
    }
    total /= n
  }

  const grads = zerosLike(weights)
  for (let l = 0; l < L; l++) transpose(ws.hs[l]!, 0, rows, H, ws.hsT[l]!, 0)
  // Head: dWo = h_Tᵀ·dy, dbo = Σ_b dy, dh_T = dy·Woᵀ.
  const lastOff = (T - 1) * BH
  transpose(dy, 0, B, O, ws.dyT, 0)
  ws.gemm(ws.hsT[L - 1]!, (T - 1) * B, rows, H, B, ws.dyT, 0, B, O, grads.Wo, 0, O, false)
  for (let bb = 0; bb < B; bb++) for (let k = 0; k < O; k++) grads.bo[k] = grads.bo[k]! + dy[bb * O + k]!
  let dhIn = ws.dhIn[0]
  let dhBelow = ws.dhIn[1]
  dhIn.fill(0, 0, lastOff)
  ws.gemm(dy, 0, O, B, O, weights.Wo, 0, O, H, dhIn, lastOff, H, false)

  const dz = ws.dz
  const dzT = ws.dzT
  const dhNext = ws.dhNext
  const dcNext = ws.dcNext
  for (let l = L - 1; l >= 0; l--) {
    const { W, R } = weights.layers[l]!
    const gl = grads.layers[l]!
    const act = ws.gates[l]!
    const cs = ws.cs[l]!
    const tcs = ws.tcs[l]!
    dhNext.fill(0)
    dcNext.fill(0)
    for (let t = T - 1; t >= 0; t--) {
      const zOff = t * BG
      const sOff = t * BH
      for (let bb = 0; bb < B; bb++) {
        const zr = zOff + bb * G
        const sr = sOff + bb * H
        const nr = bb * H
        for (let j = 0; j < H; j++) {
          const i = act[zr + j]!
          const f = act[zr + H + j]!
          const g = act[zr + 2 * H + j]!
          const o = act[zr + 3 * H + j]!
          const tc = tcs[sr + j]!
          const dh = dhIn[sr + j]! + dhNext[nr + j]!
          const dc = dcNext[nr + j]! + dh * o * (1 - tc * tc)
          const cPrev = t > 0 ? cs[sr - BH + j]! : 0
          dz[zr + j] = dc * g * i * (1 - i)
          dz[zr + H + j] = dc * cPrev * f * (1 - f)
          dz[zr + 2 * H + j] = dc * i * (1 - g * g)
          dz[zr + 3 * H + j] = dh * tc * o * (1 - o)
          dcNext[nr + j] = dc * f
        }
      }
      // dh_{t-1} = dz_t·Rᵀ
      if (t > 0) ws.gemm(dz, zOff, G, B, G, R, 0, G, H, dhNext, 0, H, false)
    }
    // Weight gradients over all steps at once, from dzᵀ [4H, T·B].
    transpose(dz, 0, rows, G, dzT, 0)
    const db = gl.b
    for (let j = 0; j < G; j++) {
      const r = j * rows
      let s = 0
      for (let m = 0; m < rows; m++) s += dzT[r + m]!
      db[j] = s
    }
    // dR = Σ_{t≥1} h_{t-1}ᵀ·dz_t: columns 0..(T-1)·B of hᵀ line up with columns B..T·B of dzᵀ.
    if (T > 1) ws.gemm(ws.hsT[l]!, 0, rows, H, rows - B, dzT, B, rows, G, gl.R, 0, G, false)
    if (l === 0 && shape.inputKind === "ids") {
      const dW = gl.W
      for (let t = 0; t < T; t++) {
        for (let bb = 0; bb < B; bb++) {
          const zr = (t * B + bb) * G
          const wr = input[bb * T + t]! * G - zr
          const end = zr + G
          for (let c = zr; c < end; c++) dW[wr + c] = dW[wr + c]! + dz[c]!
        }
      }
    } else if (l === 0) {
      const D = shape.inputSize
      transpose(ws.xs, 0, rows, D, ws.xsT, 0)
      ws.gemm(ws.xsT, 0, rows, D, rows, dzT, 0, rows, G, gl.W, 0, G, false)
    } else {
      ws.gemm(ws.hsT[l - 1]!, 0, rows, H, rows, dzT, 0, rows, G, gl.W, 0, G, false)
      // Gradient reaching the layer below: dx = dz·Wᵀ.
      ws.gemm(dz, 0, G, rows, G, W, 0, G, H, dhBelow, 0, H, false)
      const swap = dhIn
      dhIn = dhBelow
      dhBelow = swap
    }
  }
  return { loss: total, grads }
}

// ---------------------------------------------------------------------------------------------
// Adam

/** Adam's checkpointable state: the step count and the first and second moments. */
export interface AdamState {
  readonly t: number
  readonly m: LstmWeights
  readonly v: LstmWeights
}

const EMPTY: LstmWeights = { layers: [], Wo: new Float32Array(0), bo: new Float32Array(0) }

const sameLayout = (a: LstmWeights, b: LstmWeights): boolean => {
  const x = weightArrays(a)
  const y = weightArrays(b)
  return x.length === y.length && x.every((arr, k) => arr.length === y[k]!.length)
}

/**
 * Adam with bias correction: m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
 * p −= lr · m̂ / (sqrt(v̂) + ε) with m̂ = m / (1−β1^t), v̂ = v / (1−β2^t). The moments are
 * allocated on the first step; before it, `state()` reports t = 0 with empty moments (no layers,
 * zero-length Wo and bo), which `setState` and `restore` accept as "fresh".
 */
export class Adam {
  readonly learningRate: number
  readonly beta1: number
  readonly beta2: number
  readonly epsilon: number
  private t = 0
  private m: LstmWeights = EMPTY
  private v: LstmWeights = EMPTY

  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7) {
    if (!(learningRate > 0) || !Number.isFinite(learningRate)) throw new Error(`Adam: learning rate must be a positive number, got ${learningRate}`)
    if (!(beta1 >= 0 && beta1 < 1)) throw new Error(`Adam: beta1 must be in [0, 1), got ${beta1}`)
    if (!(beta2 >= 0 && beta2 < 1)) throw new Error(`Adam: beta2 must be in [0, 1), got ${beta2}`)
    if (!(epsilon >= 0) || !Number.isFinite(epsilon)) throw new Error(`Adam: epsilon must be a non-negative number, got ${epsilon}`)
    this.learningRate = learningRate
    this.beta1 = beta1
    this.beta2 = beta2
    this.epsilon = epsilon
  }

  /** A new Adam resuming from `state` (copied). */
  static restore(learningRate: number, state: AdamState, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7): Adam {
    const adam = new Adam(learningRate, beta1, beta2, epsilon)
    adam.setState(state)
    return adam
  }

  /** One update of `params` in place from `grads`. */
  step(params: LstmWeights, grads: LstmWeights): void {
    if (!sameLayout(params, grads)) throw new Error("Adam: gradients do not have the layout of the parameters")
    if (this.t === 0 && this.m.layers.length === 0 && this.m.Wo.length === 0) {
      this.m = zerosLike(params)
      this.v = zerosLike(params)
    } else if (!sameLayout(params, this.m)) {
      throw new Error("Adam: parameters do not have the layout of the optimizer state")
    }
    this.t += 1
    const b1 = this.beta1
    const b2 = this.beta2
    const lr = this.learningRate
    const eps = this.epsilon
    const bc1 = 1 - Math.pow(b1, this.t)
    const bc2 = 1 - Math.pow(b2, this.t)
    const ps = weightArrays(params)
    const gs = weightArrays(grads)
    const ms = weightArrays(this.m)
    const vs = weightArrays(this.v)
    for (let a = 0; a < ps.length; a++) {
      const p = ps[a]!
      const g = gs[a]!
      const m = ms[a]!
      const v = vs[a]!
      for (let k = 0; k < p.length; k++) {
        const gk = g[k]!
        const mk = b1 * m[k]! + (1 - b1) * gk
        const vk = b2 * v[k]! + (1 - b2) * gk * gk
        m[k] = mk
        v[k] = vk
        p[k] = p[k]! - (lr * (m[k]! / bc1)) / (Math.sqrt(v[k]! / bc2) + eps)
      }
    }
  }

  /** A deep copy of the state, for checkpoints. */
  state(): AdamState {
    return { t: this.t, m: cloneWeights(this.m), v: cloneWeights(this.v) }
  }

  /** Replaces the state with a deep copy of `state`. */
  setState(state: AdamState): void {
    if (!Number.isInteger(state.t) || state.t < 0) throw new Error(`Adam: state step count must be a non-negative integer, got ${state.t}`)
    if (!sameLayout(state.m, state.v)) throw new Error("Adam: state moments m and v differ in layout")
    const empty = state.m.layers.length === 0 && state.m.Wo.length === 0
    if (state.t > 0 && empty) throw new Error(`Adam: state at step ${state.t} has no moments`)
    this.t = state.t
    this.m = empty ? EMPTY : cloneWeights(state.m)
    this.v = empty ? EMPTY : cloneWeights(state.v)
  }
}
