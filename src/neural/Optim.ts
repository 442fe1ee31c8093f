/**
 * Optimisers and learning-rate schedules of the neural core, with PyTorch's update rules:
 * - SGD (momentum μ: buf = μ·buf + g, buf = g on the first step; p −= lr·buf), L2 weight decay added to g;
 * - Adam (bias-corrected moments; p −= lr·m̂/(√v̂ + ε)), L2 weight decay added to g;
 * - AdamW (the same with decoupled decay p −= lr·λ·p first), applied to parameters marked `decay`
 *   (weight matrices, not biases, norms or embeddings).
 * Their state is plain data (`state()` / `setState`) for checkpoints.
 */
import type { Param } from "./Params.ts"

export interface OptimizerConfig {
  readonly kind: "sgd" | "adam" | "adamw"
  readonly lr: number
  readonly beta1?: number
  readonly beta2?: number
  readonly eps?: number
  readonly weightDecay?: number
  readonly momentum?: number
}

export interface OptimizerState {
  readonly t: number
  /** First moments (SGD: momentum buffers), all parameters in order. */
  readonly m: Float32Array
  /** Second moments (empty for SGD). */
  readonly v: Float32Array
}

export class Optimizer {
  readonly config: OptimizerConfig
  readonly params: ReadonlyArray<Param>
  private t = 0
  private readonly m: Array<Float32Array>
  private readonly v: Array<Float32Array>

  constructor(params: ReadonlyArray<Param>, config: OptimizerConfig) {
    if (!(config.lr > 0) || !Number.isFinite(config.lr)) throw new Error(`optimizer: lr must be a positive number, got ${config.lr}`)
    for (const key of ["beta1", "beta2"] as const) {
      const b = config[key]
      if (b !== undefined && !(b >= 0 && b < 1)) throw new Error(`optimizer: ${key} must be in [0, 1), got ${b}`)
    }
    this.config = config
    this.params = params
    this.m = params.map((p) => new Float32Array(config.kind === "sgd" && (config.momentum ?? 0) === 0 ? 0 : p.value.length))
    this.v = params.map((p) => new Float32Array(config.kind === "sgd" ? 0 : p.value.length))
  }

  get steps(): number {
    return this.t
  }

  /** One update of every parameter from its gradient, at learning rate `lr` (default the config's). */
  step(lr = this.config.lr): void {
    this.t += 1
    const c = this.config
    const wd = c.weightDecay ?? 0
    if (c.kind === "sgd") {
      const mu = c.momentum ?? 0
      this.params.forEach((p, a) => {
        const w = p.value
        const g = p.grad
        const buf = this.m[a]!
        for (let i = 0; i < w.length; i++) {
          let gi = g[i]! + wd * w[i]!
          if (mu !== 0) {
            gi = this.t === 1 ? gi : mu * buf[i]! + gi
            buf[i] = gi
          }
          w[i] = w[i]! - lr * gi
        }
      })
      return
    }
    const b1 = c.beta1 ?? 0.9
    const b2 = c.beta2 ?? 0.999
    const eps = c.eps ?? 1e-8
    const bc1 = 1 - Math.pow(b1, this.t)
    const sbc2 = Math.sqrt(1 - Math.pow(b2, this.t))
    const stepSize = lr / bc1
    const decoupled = c.kind === "adamw"
    this.params.forEach((p, a) => {
      const w = p.value
      const g = p.grad
      const m = this.m[a]!
      const v = this.v[a]!
      const decayFactor = decoupled && p.decay ? 1 - lr * wd : 1
      const l2 = decoupled ? 0 : wd
      for (let i = 0; i < w.length; i++) {
        const gi = g[i]! + l2 * w[i]!
        const mi = b1 * m[i]! + (1 - b1) * gi
        const vi = b2 * v[i]! + (1 - b2) * gi * gi
        m[i] = mi
        v[i] = vi
        w[i] = w[i]! * decayFactor - (stepSize * mi) / (Math.sqrt(vi) / sbc2 + eps)
      }
    })
  }

  state(): OptimizerState {
    const cat = (arrays: ReadonlyArray<Float32Array>): Float32Array => {
      const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0))
      let o = 0
      for (const a of arrays) {
        out.set(a, o)
        o += a.length
      }
      return out
    }
    return { t: this.t, m: cat(this.m), v: cat(this.v) }
  }

  setState(state: OptimizerState): void {
    const split = (flat: Float32Array, into: ReadonlyArray<Float32Array>, what: string): void => {
      const n = into.reduce((s, a) => s + a.length, 0)
      if (flat.length !== n) throw new Error(`optimizer state: ${what} has ${flat.length} values, expected ${n}`)
      let o = 0
      for (const a of into) {
        a.set(flat.subarray(o, o + a.length))
        o += a.length
      }
    }
    if (!Number.isInteger(state.t) || state.t < 0) throw new Error(`optimizer state: step count ${state.t} is not a non-negative integer`)
    split(state.m, this.m, "m")
    split(state.v, this.v, "v")
    this.t = state.t
  }
}

/**
 * Linear warm-up then cosine decay (the schedule of Hugging Face's get_cosine_schedule_with_warmup):
 * the factor of the base learning rate at 0-based `step` of `total`: step/warmup during warm-up,
 * then 0.5·(1 + cos(π·progress)) down to `minFactor`.
 */
export const warmupCosine = (step: number, warmup: number, total: number, minFactor = 0): number => {
  if (step < warmup) return step / Math.max(1, warmup)
  const progress = Math.min(1, (step - warmup) / Math.max(1, total - warmup))
  return minFactor + (1 - minFactor) * 0.5 * (1 + Math.cos(Math.PI * progress))
}
