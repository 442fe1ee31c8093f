/**
 * The neural core's parameters, random numbers and gradient utilities. A parameter is a named
 * Float32Array with its gradient beside it; layers own their parameters and add into `grad` in
 * `backward`, so a training step is: zero the gradients, forward, loss, backward, clip, update.
 * Everything is deterministic: the same seed and inputs give the same bits.
 */

export interface Param {
  /** Dotted path, e.g. "layers.0.attn.qkv.weight" (PyTorch's state-dict spelling where one exists). */
  readonly name: string
  readonly shape: ReadonlyArray<number>
  readonly value: Float32Array
  readonly grad: Float32Array
  /** Whether AdamW's decoupled weight decay applies (matrices yes; biases, norms and embeddings no). */
  readonly decay: boolean
}

export const makeParam = (name: string, shape: ReadonlyArray<number>, decay: boolean): Param => {
  const size = shape.reduce((a, b) => a * b, 1)
  return { name, shape: [...shape], value: new Float32Array(size), grad: new Float32Array(size), decay }
}

/**
 * A seeded generator (mulberry32) whose whole state is one 32-bit integer, so a checkpoint can
 * store it and a resumed run draws the same numbers.
 */
export class Rng {
  state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  /** Standard normal (Box-Muller, one draw per call). */
  normal(): number {
    const u = 1 - this.next()
    const v = this.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }
}

export const initUniform = (p: Param, bound: number, rng: Rng): void => {
  const v = p.value
  for (let i = 0; i < v.length; i++) v[i] = (2 * rng.next() - 1) * bound
}

export const initNormal = (p: Param, std: number, rng: Rng): void => {
  const v = p.value
  for (let i = 0; i < v.length; i++) v[i] = rng.normal() * std
}

export const zeroGrads = (params: ReadonlyArray<Param>): void => {
  for (const p of params) p.grad.fill(0)
}

/** The L2 norm of all gradients together (summed in double precision, in parameter order). */
export const gradNorm = (params: ReadonlyArray<Param>): number => {
  let s = 0
  for (const p of params) {
    const g = p.grad
    for (let i = 0; i < g.length; i++) s += g[i]! * g[i]!
  }
  return Math.sqrt(s)
}

/** Scales all gradients so their joint L2 norm is at most `maxNorm` (PyTorch's clip_grad_norm_); returns the norm before. */
export const clipGradNorm = (params: ReadonlyArray<Param>, maxNorm: number): number => {
  const norm = gradNorm(params)
  if (Number.isFinite(maxNorm) && maxNorm > 0 && norm > maxNorm) {
    const scale = maxNorm / (norm + 1e-6)
    for (const p of params) {
      const g = p.grad
      for (let i = 0; i < g.length; i++) g[i] = g[i]! * scale
    }
  }
  return norm
}

export const parameterCount = (params: ReadonlyArray<Param>): number => params.reduce((n, p) => n + p.value.length, 0)

/** All values in parameter order, one array (for models and checkpoints). */
export const flattenValues = (params: ReadonlyArray<Param>): Float32Array => {
  const out = new Float32Array(parameterCount(params))
  let o = 0
  for (const p of params) {
    out.set(p.value, o)
    o += p.value.length
  }
  return out
}

/** Sets every parameter from `flat` (the layout of `flattenValues`); throws on a length mismatch. */
export const loadValues = (params: ReadonlyArray<Param>, flat: Float32Array): void => {
  const n = parameterCount(params)
  if (flat.length !== n) throw new Error(`neural: ${flat.length} stored weights for ${n} parameters`)
  let o = 0
  for (const p of params) {
    p.value.set(flat.subarray(o, o + p.value.length))
    o += p.value.length
  }
}

/** Whether any value of any parameter is NaN or infinite. */
export const hasNonFinite = (values: Float32Array): boolean => {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return true
  return false
}

/** `a` when it has `n` elements, else a new array of `n`: layers reuse their buffers across steps. */
export const ensure = (a: Float32Array | undefined, n: number): Float32Array => (a !== undefined && a.length === n ? a : new Float32Array(n))
