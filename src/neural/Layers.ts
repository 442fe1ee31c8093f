/**
 * The neural core's basic layers over row-major Float32Array batches: Linear, Embedding,
 * LayerNorm, GELU and Dropout. Each layer keeps what its backward pass needs from its last
 * forward pass, so one forward is followed by at most one backward; `backward` adds the
 * parameters' gradients into `Param.grad` and returns the gradient of the input. Output buffers
 * are reused from step to step (a caller copies what it keeps).
 */
import type { Ctx } from "./Context.ts"
import type { Param, Rng } from "./Params.ts"
import { ensure, initNormal, initUniform, makeParam } from "./Params.ts"

/** y = x·Wᵀ + b over `rows` rows; W is [out, in] (PyTorch's layout), initialised U(±1/√in) like PyTorch. */
export class Linear {
  readonly inFeatures: number
  readonly outFeatures: number
  readonly weight: Param
  readonly bias: Param | undefined
  private x: Float32Array = new Float32Array(0)
  private rows = 0
  private y: Float32Array | undefined
  private dx: Float32Array | undefined

  constructor(name: string, inFeatures: number, outFeatures: number, rng: Rng, bias = true) {
    this.inFeatures = inFeatures
    this.outFeatures = outFeatures
    this.weight = makeParam(`${name}.weight`, [outFeatures, inFeatures], true)
    this.bias = bias ? makeParam(`${name}.bias`, [outFeatures], false) : undefined
    const bound = 1 / Math.sqrt(inFeatures)
    initUniform(this.weight, bound, rng)
    if (this.bias !== undefined) initUniform(this.bias, bound, rng)
  }

  params(): Array<Param> {
    return this.bias === undefined ? [this.weight] : [this.weight, this.bias]
  }

  forward(ctx: Ctx, x: Float32Array, rows: number): Float32Array {
    const I = this.inFeatures
    const O = this.outFeatures
    this.x = x
    this.rows = rows
    const y = (this.y = ensure(this.y, rows * O))
    if (this.bias !== undefined) {
      const b = this.bias.value
      for (let r = 0; r < rows; r++) y.set(b, r * O)
    }
    ctx.kernels.gemm(false, true, rows, O, I, 1, x, 0, I, this.weight.value, 0, I, this.bias === undefined ? 0 : 1, y, 0, O)
    return y
  }

  backward(ctx: Ctx, dy: Float32Array, needInput = true): Float32Array {
    const I = this.inFeatures
    const O = this.outFeatures
    const rows = this.rows
    ctx.kernels.gemm(true, false, O, I, rows, 1, dy, 0, O, this.x, 0, I, 1, this.weight.grad, 0, I)
    if (this.bias !== undefined) {
      const db = this.bias.grad
      for (let r = 0; r < rows; r++) {
        const o = r * O
        for (let j = 0; j < O; j++) db[j] = db[j]! + dy[o + j]!
      }
    }
    const dx = (this.dx = ensure(this.dx, rows * I))
    if (needInput) ctx.kernels.gemm(false, false, rows, I, O, 1, dy, 0, O, this.weight.value, 0, I, 0, dx, 0, I)
    return dx
  }
}

/** Rows of a table by id; `paddingIdx`'s row starts at zero and never learns (PyTorch's padding_idx); initialised N(0, 1). */
export class Embedding {
  readonly count: number
  readonly dim: number
  readonly paddingIdx: number
  readonly weight: Param
  private ids: Int32Array = new Int32Array(0)
  private y: Float32Array | undefined

  constructor(name: string, count: number, dim: number, rng: Rng, paddingIdx = -1, std = 1) {
    this.count = count
    this.dim = dim
    this.paddingIdx = paddingIdx
    this.weight = makeParam(`${name}.weight`, [count, dim], false)
    initNormal(this.weight, std, rng)
    if (paddingIdx >= 0) this.weight.value.fill(0, paddingIdx * dim, (paddingIdx + 1) * dim)
  }

  params(): Array<Param> {
    return [this.weight]
  }

  forward(_ctx: Ctx, ids: Int32Array): Float32Array {
    const D = this.dim
    this.ids = ids
    const y = (this.y = ensure(this.y, ids.length * D))
    const w = this.weight.value
    for (let r = 0; r < ids.length; r++) {
      const id = ids[r]!
      if (!(id >= 0 && id < this.count)) throw new Error(`Embedding: id ${id} out of range [0, ${this.count})`)
      y.set(w.subarray(id * D, id * D + D), r * D)
    }
    return y
  }

  backward(_ctx: Ctx, dy: Float32Array): void {
    const D = this.dim
    const g = this.weight.grad
    const ids = this.ids
    for (let r = 0; r < ids.length; r++) {
      const id = ids[r]!
      if (id === this.paddingIdx) continue
      const o = id * D
      const d = r * D
      for (let j = 0; j < D; j++) g[o + j] = g[o + j]! + dy[d + j]!
    }
  }
}

/** y = (x − mean) / √(var + eps) · γ + β over the last `dim` features of each row (PyTorch's LayerNorm). */
export class LayerNorm {
  readonly dim: number
  readonly eps: number
  readonly gamma: Param
  readonly beta: Param
  private xhat: Float32Array | undefined
  private rstd: Float32Array | undefined
  private y: Float32Array | undefined
  private dx: Float32Array | undefined
  private rows = 0

  constructor(name: string, dim: number, eps = 1e-5) {
    this.dim = dim
    this.eps = eps
    this.gamma = makeParam(`${name}.weight`, [dim], false)
    this.beta = makeParam(`${name}.bias`, [dim], false)
    this.gamma.value.fill(1)
  }

  params(): Array<Param> {
    return [this.gamma, this.beta]
  }

  forward(ctx: Ctx, x: Float32Array, rows: number): Float32Array {
    const D = this.dim
    this.rows = rows
    const xhat = (this.xhat = ensure(this.xhat, rows * D))
    const rstd = (this.rstd = ensure(this.rstd, rows))
    const y = (this.y = ensure(this.y, rows * D))
    ctx.kernels.layerNorm(x, y, xhat, rstd, rows, D, this.gamma.value, this.beta.value, this.eps)
    return y
  }

  backward(ctx: Ctx, dy: Float32Array): Float32Array {
    const D = this.dim
    const rows = this.rows
    const dx = (this.dx = ensure(this.dx, rows * D))
    ctx.kernels.layerNormBackward(dy, this.xhat!, this.rstd!, this.gamma.value, this.gamma.grad, this.beta.grad, dx, rows, D)
    return dx
  }
}

/** GELU with the exact normal CDF, x·Φ(x) (PyTorch's default "gelu"). */
export class Gelu {
  private x: Float32Array = new Float32Array(0)
  private y: Float32Array | undefined
  private dx: Float32Array | undefined

  forward(ctx: Ctx, x: Float32Array): Float32Array {
    this.x = x
    const y = (this.y = ensure(this.y, x.length))
    ctx.kernels.gelu(x, y, x.length)
    return y
  }

  backward(ctx: Ctx, dy: Float32Array): Float32Array {
    const x = this.x
    const dx = (this.dx = ensure(this.dx, x.length))
    ctx.kernels.geluBackward(x, dy, dx, x.length)
    return dx
  }
}

/** Inverted dropout: while training each element is zeroed with probability p and the rest scaled by 1/(1−p). */
export class Dropout {
  readonly p: number
  private mask: Float32Array | undefined
  private active = false
  private y: Float32Array | undefined
  private dx: Float32Array | undefined

  constructor(p: number) {
    if (!(p >= 0 && p < 1)) throw new Error(`Dropout: p must be in [0, 1), got ${p}`)
    this.p = p
  }

  forward(ctx: Ctx, x: Float32Array): Float32Array {
    this.active = ctx.training && this.p > 0
    if (!this.active) return x
    const mask = (this.mask = ensure(this.mask, x.length))
    const y = (this.y = ensure(this.y, x.length))
    ctx.rng.state = ctx.kernels.dropout(x, y, mask, x.length, this.p, ctx.rng.state)
    return y
  }

  backward(_ctx: Ctx, dy: Float32Array): Float32Array {
    if (!this.active) return dy
    const mask = this.mask!
    const dx = (this.dx = ensure(this.dx, dy.length))
    for (let i = 0; i < dy.length; i++) dx[i] = dy[i]! * mask[i]!
    return dx
  }
}
