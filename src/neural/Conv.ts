/**
 * Convolutional layers of the neural core over NCHW Float32Array batches, with PyTorch's
 * semantics: Conv2d (weight [out, in, kh, kw], stride, zero padding; im2col + one product per
 * image), ConvTranspose2d (weight [in, out, kh, kw], stride, padding, output_padding: the adjoint
 * of Conv2d, col2im of Wᵀ·x), a ConvLSTM over a sequence [B, T, C, H, W] (gates from a "same"
 * Conv2d of concat(x_t, h_{t−1}), gate order i, f, g, o as in nn.LSTM) and SELU. Like the basic
 * layers, each keeps its last forward pass for one backward pass, adds parameter gradients into
 * `Param.grad`, returns the input's gradient and reuses its buffers from step to step.
 */
import type { Ctx } from "./Context.ts"
import type { Param, Rng } from "./Params.ts"
import { ensure, initUniform, makeParam } from "./Params.ts"

/** A size given once for both axes or as [height, width]. */
export type Pair = number | readonly [number, number]

const pair = (v: Pair): readonly [number, number] => (typeof v === "number" ? [v, v] : v)

const positiveInt = (what: string, key: string, v: number): void => {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${what}: ${key} must be a positive integer, got ${v}`)
}

const checkPair = (what: string, key: string, v: readonly [number, number], min: number): void => {
  for (const n of v) if (!Number.isInteger(n) || n < min) throw new Error(`${what}: ${key} must be ${min === 0 ? "a non-negative" : "a positive"} integer, got ${n}`)
}

/**
 * How a C × H × W image maps to im2col columns: row (c·kh + i)·kw + j, column oy·outW + ox holds
 * image[c, oy·sh − ph + i, ox·sw − pw + j] (zero outside the image).
 */
interface Geometry {
  readonly C: number
  readonly H: number
  readonly W: number
  readonly kh: number
  readonly kw: number
  readonly sh: number
  readonly sw: number
  readonly ph: number
  readonly pw: number
  readonly outH: number
  readonly outW: number
}

/** Writes the columns of the image at `src[srcOff]` into `col[colOff]`, [C·kh·kw, outH·outW]. */
const im2col = (g: Geometry, src: Float32Array, srcOff: number, col: Float32Array, colOff: number): void => {
  const { C, H, W, kh, kw, sh, sw, ph, pw, outH, outW } = g
  const n = outH * outW
  let row = colOff
  for (let c = 0; c < C; c++) {
    const plane = srcOff + c * H * W
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        for (let oy = 0; oy < outH; oy++) {
          const iy = oy * sh - ph + i
          const o = row + oy * outW
          if (iy < 0 || iy >= H) {
            col.fill(0, o, o + outW)
            continue
          }
          const line = plane + iy * W
          for (let ox = 0; ox < outW; ox++) {
            const ix = ox * sw - pw + j
            col[o + ox] = ix >= 0 && ix < W ? src[line + ix]! : 0
          }
        }
        row += n
      }
    }
  }
}

/** Adds the columns at `col[colOff]` back into the image at `dst[dstOff]` (the adjoint of im2col). */
const col2im = (g: Geometry, col: Float32Array, colOff: number, dst: Float32Array, dstOff: number): void => {
  const { C, H, W, kh, kw, sh, sw, ph, pw, outH, outW } = g
  const n = outH * outW
  let row = colOff
  for (let c = 0; c < C; c++) {
    const plane = dstOff + c * H * W
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        for (let oy = 0; oy < outH; oy++) {
          const iy = oy * sh - ph + i
          if (iy < 0 || iy >= H) continue
          const o = row + oy * outW
          const line = plane + iy * W
          for (let ox = 0; ox < outW; ox++) {
            const ix = ox * sw - pw + j
            if (ix >= 0 && ix < W) dst[line + ix] = dst[line + ix]! + col[o + ox]!
          }
        }
        row += n
      }
    }
  }
}

/** Adds, per channel, the sum of its `n` values in each of `count` blocks of [channels, n] into `g`. */
const addChannelSums = (g: Float32Array, d: Float32Array, count: number, channels: number, n: number): void => {
  for (let b = 0; b < count; b++) {
    for (let c = 0; c < channels; c++) {
      const o = (b * channels + c) * n
      let s = 0
      for (let p = 0; p < n; p++) s += d[o + p]!
      g[c] = g[c]! + s
    }
  }
}

/** Sets each channel's plane of `count` blocks of [channels, n] at y to its bias (or zero). */
const fillBias = (y: Float32Array, bias: Param | undefined, count: number, channels: number, n: number): void => {
  if (bias === undefined) {
    y.fill(0)
    return
  }
  const b = bias.value
  for (let k = 0; k < count; k++) for (let c = 0; c < channels; c++) y.fill(b[c]!, (k * channels + c) * n, (k * channels + c + 1) * n)
}

const checkImages = (what: string, x: Float32Array, B: number, C: number, H: number, W: number): void => {
  for (const [key, v] of [["batch", B], ["height", H], ["width", W]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${what}: ${key} must be a positive integer, got ${v}`)
  }
  if (x.length !== B * C * H * W) throw new Error(`${what}: input of ${x.length} values for [${B}, ${C}, ${H}, ${W}]`)
}

export interface Conv2dOptions {
  /** Default 1. */
  readonly stride?: Pair
  /** Zeros added on each side, default 0. */
  readonly padding?: Pair
  /** Default true. */
  readonly bias?: boolean
}

/**
 * nn.Conv2d(in, out, kernel, stride, padding, bias): x [B, in, H, W] → y [B, out, Ho, Wo] with
 * Ho = ⌊(H + 2·ph − kh) / sh⌋ + 1; weight [out, in, kh, kw] and bias U(±1/√(in·kh·kw)) like PyTorch.
 */
export class Conv2d {
  readonly inChannels: number
  readonly outChannels: number
  readonly kernel: readonly [number, number]
  readonly stride: readonly [number, number]
  readonly padding: readonly [number, number]
  readonly weight: Param
  readonly bias: Param | undefined
  /** The last forward pass's output height and width. */
  outH = 0
  outW = 0
  private B = 0
  private H = 0
  private W = 0
  private cols: Float32Array | undefined
  /** The columns the last forward pass multiplied: `cols`, or the input itself for a pointwise kernel. */
  private used: Float32Array = new Float32Array(0)
  private colsAreInput = false
  private dcol: Float32Array | undefined
  private y: Float32Array | undefined
  private dx: Float32Array | undefined

  constructor(name: string, inChannels: number, outChannels: number, kernel: Pair, rng: Rng, options: Conv2dOptions = {}) {
    this.kernel = pair(kernel)
    this.stride = pair(options.stride ?? 1)
    this.padding = pair(options.padding ?? 0)
    positiveInt("Conv2d", "in channels", inChannels)
    positiveInt("Conv2d", "out channels", outChannels)
    checkPair("Conv2d", "kernel", this.kernel, 1)
    checkPair("Conv2d", "stride", this.stride, 1)
    checkPair("Conv2d", "padding", this.padding, 0)
    this.inChannels = inChannels
    this.outChannels = outChannels
    const [kh, kw] = this.kernel
    this.weight = makeParam(`${name}.weight`, [outChannels, inChannels, kh, kw], true)
    this.bias = options.bias === false ? undefined : makeParam(`${name}.bias`, [outChannels], false)
    const bound = 1 / Math.sqrt(inChannels * kh * kw)
    initUniform(this.weight, bound, rng)
    if (this.bias !== undefined) initUniform(this.bias, bound, rng)
  }

  params(): Array<Param> {
    return this.bias === undefined ? [this.weight] : [this.weight, this.bias]
  }

  /** The output height and width for an H × W input. */
  outputSize(H: number, W: number): readonly [number, number] {
    const [kh, kw] = this.kernel
    const [sh, sw] = this.stride
    const [ph, pw] = this.padding
    return [Math.floor((H + 2 * ph - kh) / sh) + 1, Math.floor((W + 2 * pw - kw) / sw) + 1]
  }

  private geometry(): Geometry {
    const [kh, kw] = this.kernel
    const [sh, sw] = this.stride
    const [ph, pw] = this.padding
    return { C: this.inChannels, H: this.H, W: this.W, kh, kw, sh, sw, ph, pw, outH: this.outH, outW: this.outW }
  }

  /** y [B, out, Ho, Wo] of x [B, in, H, W]. */
  forward(ctx: Ctx, x: Float32Array, B: number, H: number, W: number): Float32Array {
    checkImages("Conv2d", x, B, this.inChannels, H, W)
    const [outH, outW] = this.outputSize(H, W)
    if (outH < 1 || outW < 1) throw new Error(`Conv2d: a ${H}×${W} input is smaller than the ${this.kernel.join("×")} kernel`)
    this.B = B
    this.H = H
    this.W = W
    this.outH = outH
    this.outW = outW
    const O = this.outChannels
    const K = this.inChannels * this.kernel[0] * this.kernel[1]
    const n = outH * outW
    // A 1×1 kernel with stride 1 and no padding reads the input as its own columns.
    this.colsAreInput = K === this.inChannels && n === H * W && this.padding[0] === 0 && this.padding[1] === 0
    let cols = x
    if (!this.colsAreInput) {
      cols = this.cols = ensure(this.cols, B * K * n)
      const g = this.geometry()
      for (let b = 0; b < B; b++) im2col(g, x, b * this.inChannels * H * W, cols, b * K * n)
    }
    this.used = cols
    const y = (this.y = ensure(this.y, B * O * n))
    fillBias(y, this.bias, B, O, n)
    for (let b = 0; b < B; b++) ctx.kernels.gemm(false, false, O, n, K, 1, this.weight.value, 0, K, cols, b * K * n, n, 1, y, b * O * n, n)
    return y
  }

  /** d loss / d x from d loss / d y [B, out, Ho, Wo]; `needInput` false skips it (a first layer). */
  backward(ctx: Ctx, dy: Float32Array, needInput = true): Float32Array {
    const B = this.B
    const C = this.inChannels
    const O = this.outChannels
    const K = C * this.kernel[0] * this.kernel[1]
    const n = this.outH * this.outW
    const HW = this.H * this.W
    const cols = this.used
    const k = ctx.kernels
    if (dy.length !== B * O * n) throw new Error(`Conv2d: gradient of ${dy.length} values for [${B}, ${O}, ${this.outH}, ${this.outW}]`)
    for (let b = 0; b < B; b++) k.gemm(false, true, O, K, n, 1, dy, b * O * n, n, cols, b * K * n, n, 1, this.weight.grad, 0, K)
    if (this.bias !== undefined) addChannelSums(this.bias.grad, dy, B, O, n)
    const dx = (this.dx = ensure(this.dx, B * C * HW))
    if (!needInput) return dx
    if (this.colsAreInput) {
      for (let b = 0; b < B; b++) k.gemm(true, false, K, n, O, 1, this.weight.value, 0, K, dy, b * O * n, n, 0, dx, b * C * HW, n)
      return dx
    }
    dx.fill(0)
    const dcol = (this.dcol = ensure(this.dcol, K * n))
    const g = this.geometry()
    for (let b = 0; b < B; b++) {
      k.gemm(true, false, K, n, O, 1, this.weight.value, 0, K, dy, b * O * n, n, 0, dcol, 0, n)
      col2im(g, dcol, 0, dx, b * C * HW)
    }
    return dx
  }
}

export interface ConvTranspose2dOptions extends Conv2dOptions {
  /** Extra rows and columns on the bottom and right of the output (< stride), default 0. */
  readonly outputPadding?: Pair
}

/**
 * nn.ConvTranspose2d(in, out, kernel, stride, padding, output_padding, bias): x [B, in, H, W] →
 * y [B, out, Ho, Wo] with Ho = (H − 1)·sh − 2·ph + kh + oph; weight [in, out, kh, kw] and bias
 * U(±1/√(out·kh·kw)) like PyTorch. It is the adjoint of Conv2d with the same weight, stride and
 * padding: each input pixel scatters weight·x over the output.
 */
export class ConvTranspose2d {
  readonly inChannels: number
  readonly outChannels: number
  readonly kernel: readonly [number, number]
  readonly stride: readonly [number, number]
  readonly padding: readonly [number, number]
  readonly outputPadding: readonly [number, number]
  readonly weight: Param
  readonly bias: Param | undefined
  /** The last forward pass's output height and width. */
  outH = 0
  outW = 0
  private B = 0
  private H = 0
  private W = 0
  private x: Float32Array = new Float32Array(0)
  private col: Float32Array | undefined
  private y: Float32Array | undefined
  private dx: Float32Array | undefined

  constructor(name: string, inChannels: number, outChannels: number, kernel: Pair, rng: Rng, options: ConvTranspose2dOptions = {}) {
    this.kernel = pair(kernel)
    this.stride = pair(options.stride ?? 1)
    this.padding = pair(options.padding ?? 0)
    this.outputPadding = pair(options.outputPadding ?? 0)
    positiveInt("ConvTranspose2d", "in channels", inChannels)
    positiveInt("ConvTranspose2d", "out channels", outChannels)
    checkPair("ConvTranspose2d", "kernel", this.kernel, 1)
    checkPair("ConvTranspose2d", "stride", this.stride, 1)
    checkPair("ConvTranspose2d", "padding", this.padding, 0)
    checkPair("ConvTranspose2d", "output padding", this.outputPadding, 0)
    for (let a = 0; a < 2; a++) {
      if (this.outputPadding[a]! >= this.stride[a]!) throw new Error(`ConvTranspose2d: output padding ${this.outputPadding[a]} must be smaller than the stride ${this.stride[a]}`)
    }
    this.inChannels = inChannels
    this.outChannels = outChannels
    const [kh, kw] = this.kernel
    this.weight = makeParam(`${name}.weight`, [inChannels, outChannels, kh, kw], true)
    this.bias = options.bias === false ? undefined : makeParam(`${name}.bias`, [outChannels], false)
    const bound = 1 / Math.sqrt(outChannels * kh * kw)
    initUniform(this.weight, bound, rng)
    if (this.bias !== undefined) initUniform(this.bias, bound, rng)
  }

  params(): Array<Param> {
    return this.bias === undefined ? [this.weight] : [this.weight, this.bias]
  }

  /** The output height and width for an H × W input. */
  outputSize(H: number, W: number): readonly [number, number] {
    const [kh, kw] = this.kernel
    const [sh, sw] = this.stride
    const [ph, pw] = this.padding
    const [oh, ow] = this.outputPadding
    return [(H - 1) * sh - 2 * ph + kh + oh, (W - 1) * sw - 2 * pw + kw + ow]
  }

  /** The output image seen as the input of the adjoint Conv2d, whose output grid is this layer's input. */
  private geometry(): Geometry {
    const [kh, kw] = this.kernel
    const [sh, sw] = this.stride
    const [ph, pw] = this.padding
    return { C: this.outChannels, H: this.outH, W: this.outW, kh, kw, sh, sw, ph, pw, outH: this.H, outW: this.W }
  }

  /** y [B, out, Ho, Wo] of x [B, in, H, W]. */
  forward(ctx: Ctx, x: Float32Array, B: number, H: number, W: number): Float32Array {
    checkImages("ConvTranspose2d", x, B, this.inChannels, H, W)
    const [outH, outW] = this.outputSize(H, W)
    if (outH < 1 || outW < 1) throw new Error(`ConvTranspose2d: a ${H}×${W} input gives an empty ${outH}×${outW} output`)
    this.B = B
    this.H = H
    this.W = W
    this.outH = outH
    this.outW = outW
    this.x = x
    const Ci = this.inChannels
    const Co = this.outChannels
    const K = Co * this.kernel[0] * this.kernel[1]
    const n = H * W
    const m = outH * outW
    const col = (this.col = ensure(this.col, K * n))
    const y = (this.y = ensure(this.y, B * Co * m))
    fillBias(y, this.bias, B, Co, m)
    const g = this.geometry()
    for (let b = 0; b < B; b++) {
      ctx.kernels.gemm(true, false, K, n, Ci, 1, this.weight.value, 0, K, x, b * Ci * n, n, 0, col, 0, n)
      col2im(g, col, 0, y, b * Co * m)
    }
    return y
  }

  /** d loss / d x from d loss / d y [B, out, Ho, Wo]; `needInput` false skips it. */
  backward(ctx: Ctx, dy: Float32Array, needInput = true): Float32Array {
    const B = this.B
    const Ci = this.inChannels
    const Co = this.outChannels
    const K = Co * this.kernel[0] * this.kernel[1]
    const n = this.H * this.W
    const m = this.outH * this.outW
    if (dy.length !== B * Co * m) throw new Error(`ConvTranspose2d: gradient of ${dy.length} values for [${B}, ${Co}, ${this.outH}, ${this.outW}]`)
    const k = ctx.kernels
    const col = (this.col = ensure(this.col, K * n))
    const dx = (this.dx = ensure(this.dx, B * Ci * n))
    const g = this.geometry()
    if (this.bias !== undefined) addChannelSums(this.bias.grad, dy, B, Co, m)
    for (let b = 0; b < B; b++) {
      im2col(g, dy, b * Co * m, col, 0)
      k.gemm(false, true, Ci, K, n, 1, this.x, b * Ci * n, n, col, 0, n, 1, this.weight.grad, 0, K)
      if (needInput) k.gemm(false, false, Ci, n, K, 1, this.weight.value, 0, K, col, 0, n, 0, dx, b * Ci * n, n)
    }
    return dx
  }
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v))

export interface ConvLstmOutput {
  /** Every hidden state, [B, T, hidden, H, W]. */
  readonly out: Float32Array
  /** The last hidden state, [B, hidden, H, W]. */
  readonly h: Float32Array
  /** The last cell state, [B, hidden, H, W]. */
  readonly c: Float32Array
}

export interface ConvLstmGrads {
  /** d loss / d x, [B, T, C, H, W]. */
  readonly dx: Float32Array
  /** d loss / d initial hidden state, [B, hidden, H, W] (zeros were the state when none was given). */
  readonly dh0: Float32Array
  /** d loss / d initial cell state, [B, hidden, H, W]. */
  readonly dc0: Float32Array
}

/**
 * A ConvLSTM cell run over a sequence x [B, T, C, H, W]: per step the gates are
 * conv(concat(x_t, h_{t−1})) with a kh × kw kernel (odd sizes), stride 1 and "same" padding,
 * split into i, f, g, o of `hidden` channels each; c_t = σ(f)·c_{t−1} + σ(i)·tanh(g),
 * h_t = σ(o)·tanh(c_t). The convolution is `${name}.conv` with weight [4·hidden, C + hidden, kh, kw]
 * and bias, initialised like Conv2d.
 */
export class ConvLstm {
  readonly inChannels: number
  readonly hiddenChannels: number
  readonly kernel: readonly [number, number]
  readonly weight: Param
  readonly bias: Param | undefined
  private B = 0
  private T = 0
  private H = 0
  private W = 0
  private h0: Float32Array | undefined
  private c0: Float32Array | undefined
  /** im2col of concat(x_t, h_{t−1}) per (b, t), [B·T, (C + hidden)·kh·kw, H·W]. */
  private cols: Float32Array | undefined
  /** Activated gates i, f, g, o per (b, t), [B·T, 4·hidden, H·W]. */
  private gates: Float32Array | undefined
  private cs: Float32Array | undefined
  private out: Float32Array | undefined
  private hLast: Float32Array | undefined
  private cLast: Float32Array | undefined
  private dG: Float32Array | undefined
  private dcol: Float32Array | undefined
  private dh: Float32Array | undefined
  private dc: Float32Array | undefined
  private dx: Float32Array | undefined

  constructor(name: string, inChannels: number, hiddenChannels: number, kernel: Pair, rng: Rng, bias = true) {
    this.kernel = pair(kernel)
    positiveInt("ConvLSTM", "in channels", inChannels)
    positiveInt("ConvLSTM", "hidden channels", hiddenChannels)
    checkPair("ConvLSTM", "kernel", this.kernel, 1)
    if (this.kernel[0] % 2 === 0 || this.kernel[1] % 2 === 0) throw new Error(`ConvLSTM: "same" padding needs an odd kernel, got ${this.kernel.join("×")}`)
    this.inChannels = inChannels
    this.hiddenChannels = hiddenChannels
    const [kh, kw] = this.kernel
    const C = inChannels + hiddenChannels
    this.weight = makeParam(`${name}.conv.weight`, [4 * hiddenChannels, C, kh, kw], true)
    this.bias = bias ? makeParam(`${name}.conv.bias`, [4 * hiddenChannels], false) : undefined
    const bound = 1 / Math.sqrt(C * kh * kw)
    initUniform(this.weight, bound, rng)
    if (this.bias !== undefined) initUniform(this.bias, bound, rng)
  }

  params(): Array<Param> {
    return this.bias === undefined ? [this.weight] : [this.weight, this.bias]
  }

  private geometry(C: number): Geometry {
    const [kh, kw] = this.kernel
    const H = this.H
    const W = this.W
    return { C, H, W, kh, kw, sh: 1, sw: 1, ph: (kh - 1) / 2, pw: (kw - 1) / 2, outH: H, outW: W }
  }

  /** x is [B, T, C, H, W]; h0 and c0 [B, hidden, H, W] (zeros when absent). */
  forward(ctx: Ctx, x: Float32Array, B: number, T: number, H: number, W: number, h0?: Float32Array, c0?: Float32Array): ConvLstmOutput {
    const C = this.inChannels
    const Hc = this.hiddenChannels
    if (!Number.isInteger(T) || T < 1) throw new Error(`ConvLSTM: steps must be a positive integer, got ${T}`)
    checkImages("ConvLSTM", x, B * T, C, H, W)
    const n = H * W
    const S = Hc * n
    for (const [key, s] of [["h0", h0], ["c0", c0]] as const) {
      if (s !== undefined && s.length !== B * S) throw new Error(`ConvLSTM: ${key} has ${s.length} values, expected ${B * S}`)
    }
    this.B = B
    this.T = T
    this.H = H
    this.W = W
    this.h0 = h0
    this.c0 = c0
    const [kh, kw] = this.kernel
    const K = (C + Hc) * kh * kw
    const Kx = C * kh * kw
    const G = 4 * Hc
    const gx = this.geometry(C)
    const gh = this.geometry(Hc)
    const cols = (this.cols = ensure(this.cols, B * T * K * n))
    const gates = (this.gates = ensure(this.gates, B * T * G * n))
    const cs = (this.cs = ensure(this.cs, B * T * S))
    const out = (this.out = ensure(this.out, B * T * S))
    fillBias(gates, this.bias, B * T, G, n)
    const w = this.weight.value
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const s = b * T + t
        const co = s * K * n
        im2col(gx, x, s * C * n, cols, co)
        if (t > 0) im2col(gh, out, (s - 1) * S, cols, co + Kx * n)
        else if (h0 !== undefined) im2col(gh, h0, b * S, cols, co + Kx * n)
        else cols.fill(0, co + Kx * n, co + K * n)
        const go = s * G * n
        ctx.kernels.gemm(false, false, G, n, K, 1, w, 0, K, cols, co, n, 1, gates, go, n)
        const so = s * S
        for (let e = 0; e < S; e++) {
          const i = sigmoid(gates[go + e]!)
          const f = sigmoid(gates[go + S + e]!)
          const g = Math.tanh(gates[go + 2 * S + e]!)
          const o = sigmoid(gates[go + 3 * S + e]!)
          const cp = t > 0 ? cs[so - S + e]! : c0 === undefined ? 0 : c0[b * S + e]!
          const c = f * cp + i * g
          gates[go + e] = i
          gates[go + S + e] = f
          gates[go + 2 * S + e] = g
          gates[go + 3 * S + e] = o
          cs[so + e] = c
          out[so + e] = o * Math.tanh(c)
        }
      }
    }
    const h = (this.hLast = ensure(this.hLast, B * S))
    const c = (this.cLast = ensure(this.cLast, B * S))
    for (let b = 0; b < B; b++) {
      const o = (b * T + T - 1) * S
      h.set(out.subarray(o, o + S), b * S)
      c.set(cs.subarray(o, o + S), b * S)
    }
    return { out, h, c }
  }

  /** Back through time from `dOut` [B, T, hidden, H, W] and `dhLast`, `dcLast` [B, hidden, H, W] (each absent = zeros). */
  backward(ctx: Ctx, dOut: Float32Array | undefined, dhLast?: Float32Array, dcLast?: Float32Array): ConvLstmGrads {
    const B = this.B
    const T = this.T
    const C = this.inChannels
    const Hc = this.hiddenChannels
    const n = this.H * this.W
    const S = Hc * n
    for (const [key, d, len] of [["dOut", dOut, B * T * S], ["dhLast", dhLast, B * S], ["dcLast", dcLast, B * S]] as const) {
      if (d !== undefined && d.length !== len) throw new Error(`ConvLSTM: ${key} has ${d.length} values, expected ${len}`)
    }
    const [kh, kw] = this.kernel
    const K = (C + Hc) * kh * kw
    const Kx = C * kh * kw
    const G = 4 * Hc
    const gx = this.geometry(C)
    const gh = this.geometry(Hc)
    const k = ctx.kernels
    const cols = this.cols!
    const gates = this.gates!
    const cs = this.cs!
    const c0 = this.c0
    const w = this.weight.value
    const dw = this.weight.grad
    const dG = (this.dG = ensure(this.dG, G * n))
    const dcol = (this.dcol = ensure(this.dcol, K * n))
    const dh = (this.dh = ensure(this.dh, B * S))
    const dc = (this.dc = ensure(this.dc, B * S))
    const dx = (this.dx = ensure(this.dx, B * T * C * n))
    if (dhLast === undefined) dh.fill(0)
    else dh.set(dhLast)
    if (dcLast === undefined) dc.fill(0)
    else dc.set(dcLast)
    dx.fill(0)
    for (let b = 0; b < B; b++) {
      const hb = b * S
      for (let t = T - 1; t >= 0; t--) {
        const s = b * T + t
        const go = s * G * n
        const so = s * S
        for (let e = 0; e < S; e++) {
          const dht = dh[hb + e]! + (dOut === undefined ? 0 : dOut[so + e]!)
          const i = gates[go + e]!
          const f = gates[go + S + e]!
          const g = gates[go + 2 * S + e]!
          const o = gates[go + 3 * S + e]!
          const tc = Math.tanh(cs[so + e]!)
          const cp = t > 0 ? cs[so - S + e]! : c0 === undefined ? 0 : c0[hb + e]!
          const dct = dc[hb + e]! + dht * o * (1 - tc * tc)
          dG[e] = dct * g * i * (1 - i)
          dG[S + e] = dct * cp * f * (1 - f)
          dG[2 * S + e] = dct * i * (1 - g * g)
          dG[3 * S + e] = dht * tc * o * (1 - o)
          dc[hb + e] = dct * f
        }
        k.gemm(false, true, G, K, n, 1, dG, 0, n, cols, s * K * n, n, 1, dw, 0, K)
        if (this.bias !== undefined) addChannelSums(this.bias.grad, dG, 1, G, n)
        k.gemm(true, false, K, n, G, 1, w, 0, K, dG, 0, n, 0, dcol, 0, n)
        col2im(gx, dcol, 0, dx, s * C * n)
        dh.fill(0, hb, hb + S)
        col2im(gh, dcol, Kx * n, dh, hb)
      }
    }
    return { dx, dh0: dh, dc0: dc }
  }
}

const SELU_ALPHA = 1.6732632423543772848170429916717
const SELU_SCALE = 1.0507009873554804934193349852946

/** SELU: scale·x for x > 0, scale·α·(eˣ − 1) otherwise (PyTorch's nn.SELU). */
export class Selu {
  private x: Float32Array = new Float32Array(0)
  private y: Float32Array | undefined
  private dx: Float32Array | undefined

  forward(_ctx: Ctx, x: Float32Array): Float32Array {
    this.x = x
    const y = (this.y = ensure(this.y, x.length))
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!
      y[i] = v > 0 ? SELU_SCALE * v : SELU_SCALE * SELU_ALPHA * Math.expm1(v)
    }
    return y
  }

  backward(_ctx: Ctx, dy: Float32Array): Float32Array {
    const x = this.x
    const dx = (this.dx = ensure(this.dx, x.length))
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!
      dx[i] = dy[i]! * (v > 0 ? SELU_SCALE : SELU_SCALE * SELU_ALPHA * Math.exp(v))
    }
    return dx
  }
}
