/**
 * Recurrent layers of the neural core with PyTorch's semantics: an LSTM (nn.LSTM: gates i, f, g, o
 * stacked in weight_ih [4H, in] and weight_hh [4H, H]) and a GRU (nn.GRU: gates r, z, n,
 * n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h). Inputs are batch first,
 * [B, T, in] row-major; outputs are every hidden state of the last layer [B, T, H] and the last
 * hidden (and cell) state of every layer [layers, B, H]; an initial state is optional (zeros) and
 * its gradient is returned. The input projections of all time steps are one product; the
 * recurrent product runs once per step over the batch. Like the basic layers, each layer keeps its
 * last forward pass for one backward pass, adds parameter gradients into `Param.grad` and reuses
 * its output buffers from step to step.
 */
import type { Ctx } from "./Context.ts"
import { Dropout } from "./Layers.ts"
import type { Param, Rng } from "./Params.ts"
import { ensure, initUniform, makeParam } from "./Params.ts"

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v))

const positiveInt = (what: string, key: string, v: number): void => {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${what}: ${key} must be a positive integer, got ${v}`)
}

export interface RecurrentOptions {
  /** Stacked layers (PyTorch's num_layers, default 1): layer l > 0 reads layer l − 1's hidden states. */
  readonly layers?: number
  /** Dropout on every layer's output but the last while training (PyTorch's dropout, default 0). */
  readonly dropout?: number
}

export interface LstmOutput {
  /** The last layer's hidden states, [B, T, H]. */
  readonly out: Float32Array
  /** Each layer's last hidden state, [layers, B, H]. */
  readonly h: Float32Array
  /** Each layer's last cell state, [layers, B, H]. */
  readonly c: Float32Array
}

export interface LstmGrads {
  /** d loss / d input, [B, T, in]. */
  readonly dx: Float32Array
  /** d loss / d initial hidden state, [layers, B, H] (zeros were the state when none was given). */
  readonly dh0: Float32Array
  /** d loss / d initial cell state, [layers, B, H]. */
  readonly dc0: Float32Array
}

export interface GruOutput {
  /** The last layer's hidden states, [B, T, H]. */
  readonly out: Float32Array
  /** Each layer's last hidden state, [layers, B, H]. */
  readonly h: Float32Array
}

export interface GruGrads {
  /** d loss / d input, [B, T, in]. */
  readonly dx: Float32Array
  /** d loss / d initial hidden state, [layers, B, H]. */
  readonly dh0: Float32Array
}

/** PyTorch's RNN parameters of layer l: weight_ih_l{l} [G·H, in], weight_hh_l{l} [G·H, H], bias_ih_l{l}, bias_hh_l{l}, all U(±1/√H). */
const rnnParams = (name: string, l: number, gates: number, inputSize: number, hiddenSize: number, rng: Rng): [Param, Param, Param, Param] => {
  const ps: [Param, Param, Param, Param] = [
    makeParam(`${name}.weight_ih_l${l}`, [gates * hiddenSize, inputSize], true),
    makeParam(`${name}.weight_hh_l${l}`, [gates * hiddenSize, hiddenSize], true),
    makeParam(`${name}.bias_ih_l${l}`, [gates * hiddenSize], false),
    makeParam(`${name}.bias_hh_l${l}`, [gates * hiddenSize], false)
  ]
  const bound = 1 / Math.sqrt(hiddenSize)
  for (const p of ps) initUniform(p, bound, rng)
  return ps
}

/** Copies h_{t−1} of every step into rows [B·T, H]: h0 (or zeros) at t = 0, out[b, t − 1] after. */
const previousStates = (prev: Float32Array, out: Float32Array, h0: Float32Array | undefined, B: number, T: number, H: number): void => {
  for (let b = 0; b < B; b++) {
    const o = b * T * H
    if (h0 === undefined) prev.fill(0, o, o + H)
    else prev.set(h0.subarray(b * H, b * H + H), o)
    if (T > 1) prev.set(out.subarray(o, o + (T - 1) * H), o + H)
  }
}

/** Adds the column sums of `rows` rows of `d` [rows, n] into `g`. */
const addColumnSums = (g: Float32Array, d: Float32Array, rows: number, n: number): void => {
  for (let r = 0; r < rows; r++) {
    const o = r * n
    for (let j = 0; j < n; j++) g[j] = g[j]! + d[o + j]!
  }
}

const checkInput = (what: string, x: Float32Array, B: number, T: number, I: number): void => {
  positiveInt(what, "batch", B)
  positiveInt(what, "steps", T)
  if (x.length !== B * T * I) throw new Error(`${what}: input of ${x.length} values for [${B}, ${T}, ${I}]`)
}

const checkState = (what: string, key: string, s: Float32Array | undefined, n: number): void => {
  if (s !== undefined && s.length !== n) throw new Error(`${what}: ${key} has ${s.length} values, expected ${n}`)
}

/** One LSTM layer (one direction). */
export class LstmLayer {
  readonly inputSize: number
  readonly hiddenSize: number
  readonly weightIh: Param
  readonly weightHh: Param
  readonly biasIh: Param
  readonly biasHh: Param
  private B = 0
  private T = 0
  private x: Float32Array = new Float32Array(0)
  private h0: Float32Array | undefined
  private c0: Float32Array | undefined
  /** Activated gates i, f, g, o per step, [B, T, 4H]. */
  private gates: Float32Array | undefined
  private cs: Float32Array | undefined
  private out: Float32Array | undefined
  private hLast: Float32Array | undefined
  private cLast: Float32Array | undefined
  private bsum: Float32Array | undefined
  private dG: Float32Array | undefined
  private prev: Float32Array | undefined
  private dh: Float32Array | undefined
  private dc: Float32Array | undefined
  private dx: Float32Array | undefined

  constructor(name: string, layer: number, inputSize: number, hiddenSize: number, rng: Rng) {
    positiveInt("LSTM", "input size", inputSize)
    positiveInt("LSTM", "hidden size", hiddenSize)
    this.inputSize = inputSize
    this.hiddenSize = hiddenSize
    const [wih, whh, bih, bhh] = rnnParams(name, layer, 4, inputSize, hiddenSize, rng)
    this.weightIh = wih
    this.weightHh = whh
    this.biasIh = bih
    this.biasHh = bhh
  }

  params(): Array<Param> {
    return [this.weightIh, this.weightHh, this.biasIh, this.biasHh]
  }

  /** Hidden states [B, T, H] of x [B, T, in]; h0, c0 are [B, H] (zeros when absent). */
  forward(ctx: Ctx, x: Float32Array, B: number, T: number, h0?: Float32Array, c0?: Float32Array): Float32Array {
    const I = this.inputSize
    const H = this.hiddenSize
    const G = 4 * H
    const rows = B * T
    checkInput("LSTM", x, B, T, I)
    checkState("LSTM", "h0", h0, B * H)
    checkState("LSTM", "c0", c0, B * H)
    this.B = B
    this.T = T
    this.x = x
    this.h0 = h0
    this.c0 = c0
    const k = ctx.kernels
    const bsum = (this.bsum = ensure(this.bsum, G))
    const bi = this.biasIh.value
    const bh = this.biasHh.value
    for (let j = 0; j < G; j++) bsum[j] = bi[j]! + bh[j]!
    const g = (this.gates = ensure(this.gates, rows * G))
    for (let r = 0; r < rows; r++) g.set(bsum, r * G)
    k.gemm(false, true, rows, G, I, 1, x, 0, I, this.weightIh.value, 0, I, 1, g, 0, G)
    const cs = (this.cs = ensure(this.cs, rows * H))
    const out = (this.out = ensure(this.out, rows * H))
    const whh = this.weightHh.value
    for (let t = 0; t < T; t++) {
      if (t > 0) k.gemm(false, true, B, G, H, 1, out, (t - 1) * H, T * H, whh, 0, H, 1, g, t * G, T * G)
      else if (h0 !== undefined) k.gemm(false, true, B, G, H, 1, h0, 0, H, whh, 0, H, 1, g, 0, T * G)
      for (let b = 0; b < B; b++) {
        const go = (b * T + t) * G
        const ho = (b * T + t) * H
        for (let j = 0; j < H; j++) {
          const i = sigmoid(g[go + j]!)
          const f = sigmoid(g[go + H + j]!)
          const gg = Math.tanh(g[go + 2 * H + j]!)
          const o = sigmoid(g[go + 3 * H + j]!)
          const cp = t > 0 ? cs[ho - H + j]! : c0 === undefined ? 0 : c0[b * H + j]!
          const c = f * cp + i * gg
          g[go + j] = i
          g[go + H + j] = f
          g[go + 2 * H + j] = gg
          g[go + 3 * H + j] = o
          cs[ho + j] = c
          out[ho + j] = o * Math.tanh(c)
        }
      }
    }
    const hLast = (this.hLast = ensure(this.hLast, B * H))
    const cLast = (this.cLast = ensure(this.cLast, B * H))
    for (let b = 0; b < B; b++) {
      const o = (b * T + T - 1) * H
      hLast.set(out.subarray(o, o + H), b * H)
      cLast.set(cs.subarray(o, o + H), b * H)
    }
    return out
  }

  /** The last forward pass's final hidden state, [B, H]. */
  lastHidden(): Float32Array {
    return this.hLast ?? new Float32Array(0)
  }

  /** The last forward pass's final cell state, [B, H]. */
  lastCell(): Float32Array {
    return this.cLast ?? new Float32Array(0)
  }

  /**
   * Back through time from d loss / d hidden states `dOut` [B, T, H] and d loss / d final state
   * `dhLast`, `dcLast` [B, H] (each absent = zeros).
   */
  backward(ctx: Ctx, dOut: Float32Array | undefined, dhLast?: Float32Array, dcLast?: Float32Array): LstmGrads {
    const I = this.inputSize
    const H = this.hiddenSize
    const G = 4 * H
    const B = this.B
    const T = this.T
    const rows = B * T
    checkState("LSTM", "dOut", dOut, rows * H)
    checkState("LSTM", "dhLast", dhLast, B * H)
    checkState("LSTM", "dcLast", dcLast, B * H)
    const k = ctx.kernels
    const g = this.gates!
    const cs = this.cs!
    const c0 = this.c0
    const dG = (this.dG = ensure(this.dG, rows * G))
    const dh = (this.dh = ensure(this.dh, B * H))
    const dc = (this.dc = ensure(this.dc, B * H))
    if (dhLast === undefined) dh.fill(0)
    else dh.set(dhLast)
    if (dcLast === undefined) dc.fill(0)
    else dc.set(dcLast)
    const whh = this.weightHh.value
    for (let t = T - 1; t >= 0; t--) {
      for (let b = 0; b < B; b++) {
        const go = (b * T + t) * G
        const ho = (b * T + t) * H
        for (let j = 0; j < H; j++) {
          const dht = dh[b * H + j]! + (dOut === undefined ? 0 : dOut[ho + j]!)
          const i = g[go + j]!
          const f = g[go + H + j]!
          const gg = g[go + 2 * H + j]!
          const o = g[go + 3 * H + j]!
          const tc = Math.tanh(cs[ho + j]!)
          const cp = t > 0 ? cs[ho - H + j]! : c0 === undefined ? 0 : c0[b * H + j]!
          const dct = dc[b * H + j]! + dht * o * (1 - tc * tc)
          dG[go + j] = dct * gg * i * (1 - i)
          dG[go + H + j] = dct * cp * f * (1 - f)
          dG[go + 2 * H + j] = dct * i * (1 - gg * gg)
          dG[go + 3 * H + j] = dht * tc * o * (1 - o)
          dc[b * H + j] = dct * f
        }
      }
      k.gemm(false, false, B, H, G, 1, dG, t * G, T * G, whh, 0, H, 0, dh, 0, H)
    }
    const prev = (this.prev = ensure(this.prev, rows * H))
    previousStates(prev, this.out!, this.h0, B, T, H)
    k.gemm(true, false, G, I, rows, 1, dG, 0, G, this.x, 0, I, 1, this.weightIh.grad, 0, I)
    k.gemm(true, false, G, H, rows, 1, dG, 0, G, prev, 0, H, 1, this.weightHh.grad, 0, H)
    addColumnSums(this.biasIh.grad, dG, rows, G)
    addColumnSums(this.biasHh.grad, dG, rows, G)
    const dx = (this.dx = ensure(this.dx, rows * I))
    k.gemm(false, false, rows, I, G, 1, dG, 0, G, this.weightIh.value, 0, I, 0, dx, 0, I)
    return { dx, dh0: dh, dc0: dc }
  }
}

/** One GRU layer (one direction). */
export class GruLayer {
  readonly inputSize: number
  readonly hiddenSize: number
  readonly weightIh: Param
  readonly weightHh: Param
  readonly biasIh: Param
  readonly biasHh: Param
  private B = 0
  private T = 0
  private x: Float32Array = new Float32Array(0)
  private h0: Float32Array | undefined
  /** Input projections, then the activated gates r, z, n per step, [B, T, 3H]. */
  private gates: Float32Array | undefined
  /** W_hn·h_{t−1} + b_hn per step, [B, T, H]. */
  private hn: Float32Array | undefined
  private gh: Float32Array | undefined
  private out: Float32Array | undefined
  private hLast: Float32Array | undefined
  private dGi: Float32Array | undefined
  private dGh: Float32Array | undefined
  private prev: Float32Array | undefined
  private dh: Float32Array | undefined
  private dx: Float32Array | undefined

  constructor(name: string, layer: number, inputSize: number, hiddenSize: number, rng: Rng) {
    positiveInt("GRU", "input size", inputSize)
    positiveInt("GRU", "hidden size", hiddenSize)
    this.inputSize = inputSize
    this.hiddenSize = hiddenSize
    const [wih, whh, bih, bhh] = rnnParams(name, layer, 3, inputSize, hiddenSize, rng)
    this.weightIh = wih
    this.weightHh = whh
    this.biasIh = bih
    this.biasHh = bhh
  }

  params(): Array<Param> {
    return [this.weightIh, this.weightHh, this.biasIh, this.biasHh]
  }

  /** Hidden states [B, T, H] of x [B, T, in]; h0 is [B, H] (zeros when absent). */
  forward(ctx: Ctx, x: Float32Array, B: number, T: number, h0?: Float32Array): Float32Array {
    const I = this.inputSize
    const H = this.hiddenSize
    const G = 3 * H
    const rows = B * T
    checkInput("GRU", x, B, T, I)
    checkState("GRU", "h0", h0, B * H)
    this.B = B
    this.T = T
    this.x = x
    this.h0 = h0
    const k = ctx.kernels
    const g = (this.gates = ensure(this.gates, rows * G))
    const bi = this.biasIh.value
    for (let r = 0; r < rows; r++) g.set(bi, r * G)
    k.gemm(false, true, rows, G, I, 1, x, 0, I, this.weightIh.value, 0, I, 1, g, 0, G)
    const hn = (this.hn = ensure(this.hn, rows * H))
    const out = (this.out = ensure(this.out, rows * H))
    const gh = (this.gh = ensure(this.gh, B * G))
    const whh = this.weightHh.value
    const bh = this.biasHh.value
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) gh.set(bh, b * G)
      if (t > 0) k.gemm(false, true, B, G, H, 1, out, (t - 1) * H, T * H, whh, 0, H, 1, gh, 0, G)
      else if (h0 !== undefined) k.gemm(false, true, B, G, H, 1, h0, 0, H, whh, 0, H, 1, gh, 0, G)
      for (let b = 0; b < B; b++) {
        const go = (b * T + t) * G
        const ho = (b * T + t) * H
        const hgo = b * G
        for (let j = 0; j < H; j++) {
          const r = sigmoid(g[go + j]! + gh[hgo + j]!)
          const z = sigmoid(g[go + H + j]! + gh[hgo + H + j]!)
          const hnv = gh[hgo + 2 * H + j]!
          const n = Math.tanh(g[go + 2 * H + j]! + r * hnv)
          const hp = t > 0 ? out[ho - H + j]! : h0 === undefined ? 0 : h0[b * H + j]!
          g[go + j] = r
          g[go + H + j] = z
          g[go + 2 * H + j] = n
          hn[ho + j] = hnv
          out[ho + j] = (1 - z) * n + z * hp
        }
      }
    }
    const hLast = (this.hLast = ensure(this.hLast, B * H))
    for (let b = 0; b < B; b++) {
      const o = (b * T + T - 1) * H
      hLast.set(out.subarray(o, o + H), b * H)
    }
    return out
  }

  /** The last forward pass's final hidden state, [B, H]. */
  lastHidden(): Float32Array {
    return this.hLast ?? new Float32Array(0)
  }

  /** Back through time from `dOut` [B, T, H] and `dhLast` [B, H] (each absent = zeros). */
  backward(ctx: Ctx, dOut: Float32Array | undefined, dhLast?: Float32Array): GruGrads {
    const I = this.inputSize
    const H = this.hiddenSize
    const G = 3 * H
    const B = this.B
    const T = this.T
    const rows = B * T
    checkState("GRU", "dOut", dOut, rows * H)
    checkState("GRU", "dhLast", dhLast, B * H)
    const k = ctx.kernels
    const g = this.gates!
    const hn = this.hn!
    const out = this.out!
    const h0 = this.h0
    const dGi = (this.dGi = ensure(this.dGi, rows * G))
    const dGh = (this.dGh = ensure(this.dGh, rows * G))
    const dh = (this.dh = ensure(this.dh, B * H))
    if (dhLast === undefined) dh.fill(0)
    else dh.set(dhLast)
    const whh = this.weightHh.value
    for (let t = T - 1; t >= 0; t--) {
      for (let b = 0; b < B; b++) {
        const go = (b * T + t) * G
        const ho = (b * T + t) * H
        for (let j = 0; j < H; j++) {
          const dht = dh[b * H + j]! + (dOut === undefined ? 0 : dOut[ho + j]!)
          const r = g[go + j]!
          const z = g[go + H + j]!
          const n = g[go + 2 * H + j]!
          const hp = t > 0 ? out[ho - H + j]! : h0 === undefined ? 0 : h0[b * H + j]!
          const dan = dht * (1 - z) * (1 - n * n)
          const dar = dan * hn[ho + j]! * r * (1 - r)
          const daz = dht * (hp - n) * z * (1 - z)
          dGi[go + j] = dar
          dGi[go + H + j] = daz
          dGi[go + 2 * H + j] = dan
          dGh[go + j] = dar
          dGh[go + H + j] = daz
          dGh[go + 2 * H + j] = dan * r
          dh[b * H + j] = dht * z
        }
      }
      k.gemm(false, false, B, H, G, 1, dGh, t * G, T * G, whh, 0, H, 1, dh, 0, H)
    }
    const prev = (this.prev = ensure(this.prev, rows * H))
    previousStates(prev, out, h0, B, T, H)
    k.gemm(true, false, G, I, rows, 1, dGi, 0, G, this.x, 0, I, 1, this.weightIh.grad, 0, I)
    k.gemm(true, false, G, H, rows, 1, dGh, 0, G, prev, 0, H, 1, this.weightHh.grad, 0, H)
    addColumnSums(this.biasIh.grad, dGi, rows, G)
    addColumnSums(this.biasHh.grad, dGh, rows, G)
    const dx = (this.dx = ensure(this.dx, rows * I))
    k.gemm(false, false, rows, I, G, 1, dGi, 0, G, this.weightIh.value, 0, I, 0, dx, 0, I)
    return { dx, dh0: dh }
  }
}

const stackShape = (what: string, options: RecurrentOptions): { layers: number; dropout: number } => {
  const layers = options.layers ?? 1
  const dropout = options.dropout ?? 0
  positiveInt(what, "layers", layers)
  if (!(dropout >= 0 && dropout < 1)) throw new Error(`${what}: dropout must be in [0, 1), got ${dropout}`)
  return { layers, dropout }
}

const layerSlice = (s: Float32Array | undefined, l: number, n: number): Float32Array | undefined => (s === undefined ? undefined : s.subarray(l * n, l * n + n))

/** nn.LSTM(inputSize, hiddenSize, num_layers, dropout, batch_first = true); parameters named `${name}.weight_ih_l0` and so on. */
export class Lstm {
  readonly inputSize: number
  readonly hiddenSize: number
  readonly layers: ReadonlyArray<LstmLayer>
  readonly drops: ReadonlyArray<Dropout>
  private B = 0
  private h: Float32Array | undefined
  private c: Float32Array | undefined
  private dh0: Float32Array | undefined
  private dc0: Float32Array | undefined

  constructor(name: string, inputSize: number, hiddenSize: number, rng: Rng, options: RecurrentOptions = {}) {
    const { layers, dropout } = stackShape("LSTM", options)
    this.inputSize = inputSize
    this.hiddenSize = hiddenSize
    this.layers = Array.from({ length: layers }, (_, l) => new LstmLayer(name, l, l === 0 ? inputSize : hiddenSize, hiddenSize, rng))
    this.drops = Array.from({ length: layers - 1 }, () => new Dropout(dropout))
  }

  params(): Array<Param> {
    return this.layers.flatMap((l) => l.params())
  }

  /** x is [B, T, in]; h0 and c0 [layers, B, H] (zeros when absent). */
  forward(ctx: Ctx, x: Float32Array, B: number, T: number, h0?: Float32Array, c0?: Float32Array): LstmOutput {
    const H = this.hiddenSize
    const L = this.layers.length
    const n = B * H
    checkState("LSTM", "h0", h0, L * n)
    checkState("LSTM", "c0", c0, L * n)
    this.B = B
    const h = (this.h = ensure(this.h, L * n))
    const c = (this.c = ensure(this.c, L * n))
    let y = x
    for (let l = 0; l < L; l++) {
      const layer = this.layers[l]!
      y = layer.forward(ctx, y, B, T, layerSlice(h0, l, n), layerSlice(c0, l, n))
      h.set(layer.lastHidden(), l * n)
      c.set(layer.lastCell(), l * n)
      if (l < L - 1) y = this.drops[l]!.forward(ctx, y)
    }
    return { out: y, h, c }
  }

  /** From d loss / d `out` [B, T, H] and d loss / d final `h`, `c` [layers, B, H] (each absent = zeros). */
  backward(ctx: Ctx, dOut: Float32Array | undefined, dhLast?: Float32Array, dcLast?: Float32Array): LstmGrads {
    const L = this.layers.length
    const n = this.B * this.hiddenSize
    checkState("LSTM", "dhLast", dhLast, L * n)
    checkState("LSTM", "dcLast", dcLast, L * n)
    const dh0 = (this.dh0 = ensure(this.dh0, L * n))
    const dc0 = (this.dc0 = ensure(this.dc0, L * n))
    let d = dOut
    let dx: Float32Array = new Float32Array(0)
    for (let l = L - 1; l >= 0; l--) {
      const g = this.layers[l]!.backward(ctx, d, layerSlice(dhLast, l, n), layerSlice(dcLast, l, n))
      dh0.set(g.dh0, l * n)
      dc0.set(g.dc0, l * n)
      dx = g.dx
      if (l > 0) d = this.drops[l - 1]!.backward(ctx, g.dx)
    }
    return { dx, dh0, dc0 }
  }
}

/** nn.GRU(inputSize, hiddenSize, num_layers, dropout, batch_first = true); parameters named `${name}.weight_ih_l0` and so on. */
export class Gru {
  readonly inputSize: number
  readonly hiddenSize: number
  readonly layers: ReadonlyArray<GruLayer>
  readonly drops: ReadonlyArray<Dropout>
  private B = 0
  private h: Float32Array | undefined
  private dh0: Float32Array | undefined

  constructor(name: string, inputSize: number, hiddenSize: number, rng: Rng, options: RecurrentOptions = {}) {
    const { layers, dropout } = stackShape("GRU", options)
    this.inputSize = inputSize
    this.hiddenSize = hiddenSize
    this.layers = Array.from({ length: layers }, (_, l) => new GruLayer(name, l, l === 0 ? inputSize : hiddenSize, hiddenSize, rng))
    this.drops = Array.from({ length: layers - 1 }, () => new Dropout(dropout))
  }

  params(): Array<Param> {
    return this.layers.flatMap((l) => l.params())
  }

  /** x is [B, T, in]; h0 [layers, B, H] (zeros when absent). */
  forward(ctx: Ctx, x: Float32Array, B: number, T: number, h0?: Float32Array): GruOutput {
    const H = this.hiddenSize
    const L = this.layers.length
    const n = B * H
    checkState("GRU", "h0", h0, L * n)
    this.B = B
    const h = (this.h = ensure(this.h, L * n))
    let y = x
    for (let l = 0; l < L; l++) {
      const layer = this.layers[l]!
      y = layer.forward(ctx, y, B, T, layerSlice(h0, l, n))
      h.set(layer.lastHidden(), l * n)
      if (l < L - 1) y = this.drops[l]!.forward(ctx, y)
    }
    return { out: y, h }
  }

  /** From d loss / d `out` [B, T, H] and d loss / d final `h` [layers, B, H] (each absent = zeros). */
  backward(ctx: Ctx, dOut: Float32Array | undefined, dhLast?: Float32Array): GruGrads {
    const L = this.layers.length
    const n = this.B * this.hiddenSize
    checkState("GRU", "dhLast", dhLast, L * n)
    const dh0 = (this.dh0 = ensure(this.dh0, L * n))
    let d = dOut
    let dx: Float32Array = new Float32Array(0)
    for (let l = L - 1; l >= 0; l--) {
      const g = this.layers[l]!.backward(ctx, d, layerSlice(dhLast, l, n))
      dh0.set(g.dh0, l * n)
      dx = g.dx
      if (l > 0) d = this.drops[l - 1]!.backward(ctx, g.dx)
    }
    return { dx, dh0 }
  }
}
