/**
 * Multi-head self-attention with causal and key-padding masks (PyTorch's nn.MultiheadAttention
 * with one fused input projection, as a self-attention layer): qkv = x·W_inᵀ + b_in split into
 * heads of d/h; per batch row and head P = softmax(Q·Kᵀ/√(d/h) + mask), attention dropout on P,
 * O = P·V; heads concatenated and projected by `out`. A query whose every key is masked gets a
 * zero output (no NaN). Products run per (row, head) directly on the strided qkv buffer.
 */
import type { Ctx } from "./Context.ts"
import { Linear } from "./Layers.ts"
import type { Param, Rng } from "./Params.ts"
import { ensure } from "./Params.ts"

export class SelfAttention {
  readonly dim: number
  readonly heads: number
  readonly dropout: number
  readonly inProj: Linear
  readonly outProj: Linear
  private B = 0
  private T = 0
  private qkv: Float32Array = new Float32Array(0)
  private probs: Float32Array | undefined
  private dropped: Float32Array | undefined
  private mask: Float32Array | undefined
  private dropActive = false
  private ctxOut: Float32Array | undefined
  private dqkv: Float32Array | undefined
  private dP: Float32Array | undefined
  private noPad: Uint8Array = new Uint8Array(0)

  constructor(name: string, dim: number, heads: number, dropout: number, rng: Rng) {
    if (!Number.isInteger(heads) || heads < 1 || dim % heads !== 0) throw new Error(`SelfAttention: heads (${heads}) must divide the model dimension (${dim})`)
    this.dim = dim
    this.heads = heads
    this.dropout = dropout
    this.inProj = new Linear(`${name}.in_proj`, dim, 3 * dim, rng)
    this.outProj = new Linear(`${name}.out_proj`, dim, dim, rng)
  }

  params(): Array<Param> {
    return [...this.inProj.params(), ...this.outProj.params()]
  }

  /**
   * x is [B·T, d]; `keyPad[b·T + j]` = 1 marks key j of row b as padding (never attended to);
   * `causal` hides keys after the query.
   */
  forward(ctx: Ctx, x: Float32Array, B: number, T: number, keyPad: Uint8Array | undefined, causal: boolean): Float32Array {
    const D = this.dim
    const H = this.heads
    const dh = D / H
    const D3 = 3 * D
    const scale = 1 / Math.sqrt(dh)
    this.B = B
    this.T = T
    const qkv = (this.qkv = this.inProj.forward(ctx, x, B * T))
    const probs = (this.probs = ensure(this.probs, B * H * T * T))
    const out = (this.ctxOut = ensure(this.ctxOut, B * T * D))
    this.dropActive = ctx.training && this.dropout > 0
    const dropped = this.dropActive ? (this.dropped = ensure(this.dropped, probs.length)) : probs
    const mask = this.dropActive ? (this.mask = ensure(this.mask, probs.length)) : undefined
    const k = ctx.kernels
    for (let b = 0; b < B; b++) {
      const row = b * T * D3
      for (let h = 0; h < H; h++) k.gemm(false, true, T, T, dh, scale, qkv, row + h * dh, D3, qkv, row + D + h * dh, D3, 0, probs, (b * H + h) * T * T, T)
    }
    k.attnSoftmax(probs, B, H, T, causal, keyPad ?? (this.noPad = this.noPad.length === B * T ? this.noPad : new Uint8Array(B * T)))
    if (mask !== undefined) ctx.rng.state = k.dropout(probs, dropped, mask, probs.length, this.dropout, ctx.rng.state)
    for (let b = 0; b < B; b++) {
      const row = b * T * D3
      for (let h = 0; h < H; h++) k.gemm(false, false, T, dh, T, 1, dropped, (b * H + h) * T * T, T, qkv, row + 2 * D + h * dh, D3, 0, out, b * T * D + h * dh, D)
    }
    return this.outProj.forward(ctx, out, B * T)
  }

  backward(ctx: Ctx, dy: Float32Array): Float32Array {
    const B = this.B
    const T = this.T
    const D = this.dim
    const H = this.heads
    const dh = D / H
    const D3 = 3 * D
    const scale = 1 / Math.sqrt(dh)
    const dOut = this.outProj.backward(ctx, dy)
    const qkv = this.qkv
    const probs = this.probs!
    const dropped = this.dropActive ? this.dropped! : probs
    const dqkv = (this.dqkv = ensure(this.dqkv, B * T * D3))
    const dP = (this.dP = ensure(this.dP, T * T))
    const k = ctx.kernels
    for (let b = 0; b < B; b++) {
      const row = b * T * D3
      const orow = b * T * D
      for (let h = 0; h < H; h++) {
        const p = (b * H + h) * T * T
        const q = row + h * dh
        const kk = row + D + h * dh
        const v = row + 2 * D + h * dh
        // dP = dO·Vᵀ ; dV = P_droppedᵀ·dO
        k.gemm(false, true, T, T, dh, 1, dOut, orow + h * dh, D, qkv, v, D3, 0, dP, 0, T)
        k.gemm(true, false, T, dh, T, 1, dropped, p, T, dOut, orow + h * dh, D, 0, dqkv, v, D3)
        if (this.dropActive) {
          const mask = this.mask!
          for (let e = 0; e < T * T; e++) dP[e] = dP[e]! * mask[p + e]!
        }
        k.softmaxBackward(dP, probs, p, T, scale)
        k.gemm(false, false, T, dh, T, 1, dP, 0, T, qkv, kk, D3, 0, dqkv, q, D3)
        k.gemm(true, false, T, dh, T, 1, dP, 0, T, qkv, q, D3, 0, dqkv, kk, D3)
      }
    }
    return this.inProj.backward(ctx, dqkv)
  }
}
