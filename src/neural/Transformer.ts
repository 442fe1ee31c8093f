/**
 * A causal next-token transformer on the neural core: token embedding (PAD row fixed at zero) plus
 * learned positional embedding, dropout, `layers` post-LN encoder layers (PyTorch's
 * TransformerEncoderLayer with norm_first = false and GELU: x = LN1(x + Drop(SA(x)));
 * x = LN2(x + Drop(W2·Drop(GELU(W1·x))))), a final layer norm and a linear head over the
 * vocabulary. Attention is causal and never attends to PAD keys.
 */
import { SelfAttention } from "./Attention.ts"
import type { Ctx } from "./Context.ts"
import { Dropout, Embedding, Gelu, LayerNorm, Linear } from "./Layers.ts"
import type { Param, Rng } from "./Params.ts"
import { ensure } from "./Params.ts"

export interface TransformerShape {
  /** Output classes and embedding rows, PAD included. */
  readonly vocab: number
  /** The PAD id (< vocab). */
  readonly pad: number
  readonly dModel: number
  readonly layers: number
  readonly heads: number
  readonly ffn: number
  readonly dropout: number
  /** Longest input (positions 0 .. maxLen−1). */
  readonly maxLen: number
}

/** Throws naming the key of the first invalid dimension. */
export const validateTransformerShape = (s: TransformerShape): void => {
  for (const key of ["vocab", "dModel", "layers", "heads", "ffn", "maxLen"] as const) {
    if (!Number.isInteger(s[key]) || s[key] < 1) throw new Error(`transformer: ${key} must be a positive integer, got ${s[key]}`)
  }
  if (s.dModel % s.heads !== 0) throw new Error(`transformer: heads (${s.heads}) must divide d_model (${s.dModel})`)
  if (!(s.dropout >= 0 && s.dropout < 1)) throw new Error(`transformer: dropout must be in [0, 1), got ${s.dropout}`)
  if (!Number.isInteger(s.pad) || s.pad < 0 || s.pad >= s.vocab) throw new Error(`transformer: pad ${s.pad} is not an id below vocab ${s.vocab}`)
}

export class EncoderLayer {
  readonly attn: SelfAttention
  readonly drop1: Dropout
  readonly ln1: LayerNorm
  readonly ff1: Linear
  readonly act = new Gelu()
  readonly dropFf: Dropout
  readonly ff2: Linear
  readonly drop2: Dropout
  readonly ln2: LayerNorm
  private s1: Float32Array | undefined
  private s2: Float32Array | undefined
  private rows = 0

  constructor(name: string, dModel: number, heads: number, ffn: number, dropout: number, rng: Rng) {
    this.attn = new SelfAttention(`${name}.self_attn`, dModel, heads, dropout, rng)
    this.drop1 = new Dropout(dropout)
    this.ln1 = new LayerNorm(`${name}.norm1`, dModel)
    this.ff1 = new Linear(`${name}.linear1`, dModel, ffn, rng)
    this.dropFf = new Dropout(dropout)
    this.ff2 = new Linear(`${name}.linear2`, ffn, dModel, rng)
    this.drop2 = new Dropout(dropout)
    this.ln2 = new LayerNorm(`${name}.norm2`, dModel)
  }

  params(): Array<Param> {
    return [...this.attn.params(), ...this.ff1.params(), ...this.ff2.params(), ...this.ln1.params(), ...this.ln2.params()]
  }

  forward(ctx: Ctx, x: Float32Array, B: number, T: number, keyPad: Uint8Array | undefined): Float32Array {
    const rows = B * T
    this.rows = rows
    const a = this.drop1.forward(ctx, this.attn.forward(ctx, x, B, T, keyPad, true))
    const s1 = (this.s1 = ensure(this.s1, x.length))
    for (let i = 0; i < s1.length; i++) s1[i] = x[i]! + a[i]!
    const h = this.ln1.forward(ctx, s1, rows)
    const f = this.drop2.forward(ctx, this.ff2.forward(ctx, this.dropFf.forward(ctx, this.act.forward(ctx, this.ff1.forward(ctx, h, rows))), rows))
    const s2 = (this.s2 = ensure(this.s2, x.length))
    for (let i = 0; i < s2.length; i++) s2[i] = h[i]! + f[i]!
    return this.ln2.forward(ctx, s2, rows)
  }

  backward(ctx: Ctx, dy: Float32Array): Float32Array {
    const ds2 = this.ln2.backward(ctx, dy)
    const dh = this.ff1.backward(ctx, this.act.backward(ctx, this.dropFf.backward(ctx, this.ff2.backward(ctx, this.drop2.backward(ctx, ds2)))))
    for (let i = 0; i < dh.length; i++) dh[i] = dh[i]! + ds2[i]!
    const ds1 = this.ln1.backward(ctx, dh)
    const dx = this.attn.backward(ctx, this.drop1.backward(ctx, ds1))
    for (let i = 0; i < dx.length; i++) dx[i] = dx[i]! + ds1[i]!
    return dx
  }
}

export class NextTokenTransformer {
  readonly shape: TransformerShape
  readonly tok: Embedding
  readonly pos: Embedding
  readonly drop: Dropout
  readonly layers: ReadonlyArray<EncoderLayer>
  readonly norm: LayerNorm
  readonly head: Linear
  private x: Float32Array | undefined
  private positions: Int32Array = new Int32Array(0)
  private keyPad: Uint8Array = new Uint8Array(0)

  constructor(shape: TransformerShape, rng: Rng) {
    validateTransformerShape(shape)
    this.shape = shape
    this.tok = new Embedding("tok", shape.vocab, shape.dModel, rng, shape.pad)
    this.pos = new Embedding("pos", shape.maxLen, shape.dModel, rng)
    this.drop = new Dropout(shape.dropout)
    this.layers = Array.from({ length: shape.layers }, (_, l) => new EncoderLayer(`layers.${l}`, shape.dModel, shape.heads, shape.ffn, shape.dropout, rng))
    this.norm = new LayerNorm("norm", shape.dModel)
    this.head = new Linear("head", shape.dModel, shape.vocab, rng)
  }

  /** Every parameter in a fixed order (the layout of stored weights). */
  params(): Array<Param> {
    return [...this.tok.params(), ...this.pos.params(), ...this.layers.flatMap((l) => l.params()), ...this.norm.params(), ...this.head.params()]
  }

  /** Logits [B·T, vocab] for `ids` [B, T] (row-major); T ≤ maxLen. */
  forward(ctx: Ctx, ids: Int32Array, B: number, T: number): Float32Array {
    const s = this.shape
    if (T > s.maxLen) throw new Error(`transformer: input of ${T} positions is longer than max_len ${s.maxLen}`)
    if (ids.length !== B * T) throw new Error(`transformer: ${ids.length} ids for a batch of ${B} × ${T}`)
    const rows = B * T
    if (this.positions.length !== rows) {
      this.positions = new Int32Array(rows)
      for (let r = 0; r < rows; r++) this.positions[r] = r % T
      this.keyPad = new Uint8Array(rows)
    }
    for (let r = 0; r < rows; r++) this.keyPad[r] = ids[r] === s.pad ? 1 : 0
    const te = this.tok.forward(ctx, ids)
    const pe = this.pos.forward(ctx, this.positions)
    const x = (this.x = ensure(this.x, rows * s.dModel))
    for (let i = 0; i < x.length; i++) x[i] = te[i]! + pe[i]!
    let h = this.drop.forward(ctx, x)
    for (const layer of this.layers) h = layer.forward(ctx, h, B, T, this.keyPad)
    return this.head.forward(ctx, this.norm.forward(ctx, h, rows), rows)
  }

  backward(ctx: Ctx, dlogits: Float32Array): void {
    let d = this.norm.backward(ctx, this.head.backward(ctx, dlogits))
    for (let l = this.layers.length - 1; l >= 0; l--) d = this.layers[l]!.backward(ctx, d)
    d = this.drop.backward(ctx, d)
    this.tok.backward(ctx, d)
    this.pos.backward(ctx, d)
  }
}
