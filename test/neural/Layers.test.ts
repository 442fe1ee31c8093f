/**
 * The neural core's transformer layers, losses and optimisers: every gradient against central
 * finite differences (loss = Σ output ⊙ R for a fixed random R, computed in double precision),
 * on the TypeScript kernels and, when built, the native ones.
 */
import { describe, expect, it } from "vitest"
import { SelfAttention } from "../../src/neural/Attention.ts"
import type { Ctx } from "../../src/neural/Context.ts"
import { Dropout, Embedding, Gelu, LayerNorm, Linear } from "../../src/neural/Layers.ts"
import { crossEntropy, meanSquaredError, targetNllAndRank } from "../../src/neural/Losses.ts"
import { Optimizer, warmupCosine } from "../../src/neural/Optim.ts"
import type { Param } from "../../src/neural/Params.ts"
import { clipGradNorm, gradNorm, makeParam, Rng, zeroGrads } from "../../src/neural/Params.ts"
import { EncoderLayer, NextTokenTransformer } from "../../src/neural/Transformer.ts"
import { loadKernels } from "../../src/runtime/Kernels.ts"

const backends = [loadKernels("typescript"), ...(loadKernels().name === "typescript" ? [] : [loadKernels()])]

const randomArray = (n: number, rng: Rng, scale = 1): Float32Array => Float32Array.from({ length: n }, () => (2 * rng.next() - 1) * scale)

const dot = (a: Float32Array, b: Float32Array): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!
  return s
}

/**
 * Checks d(Σ run() ⊙ R)/d(entries) for `picks` entries of each array in `targets` (parameters'
 * values or the input) against central differences. `run` must reset any randomness itself.
 */
const gradCheck = (
  run: () => Float32Array,
  backward: (dy: Float32Array) => Float32Array | undefined,
  params: ReadonlyArray<Param>,
  input: Float32Array | undefined,
  rng: Rng,
  picks = 6,
  h = 1e-2
): number => {
  const out = run()
  const R = randomArray(out.length, rng)
  zeroGrads(params)
  const dx = backward(R)
  const dxCopy = dx === undefined ? undefined : Float32Array.from(dx)
  const analytic = params.map((p) => Float32Array.from(p.grad))
  let worst = 0
  const check = (arr: Float32Array, grad: Float32Array): void => {
    for (let k = 0; k < picks; k++) {
      const i = rng.int(arr.length)
      const keep = arr[i]!
      arr[i] = keep + h
      const up = dot(run(), R)
      arr[i] = keep - h
      const down = dot(run(), R)
      arr[i] = keep
      const numeric = (up - down) / (2 * h)
      const err = Math.abs(numeric - grad[i]!) / Math.max(1, Math.abs(numeric), Math.abs(grad[i]!))
      worst = Math.max(worst, err)
    }
  }
  params.forEach((p, k) => check(p.value, analytic[k]!))
  if (input !== undefined && dxCopy !== undefined) check(input, dxCopy)
  return worst
}

describe.each(backends.map((k) => [k.name, k] as const))("neural layers on %s kernels", (_name, kernels) => {
  const ctxOf = (training: boolean, seed = 1): Ctx => ({ kernels, training, rng: new Rng(seed) })

  it("Linear: y = x·Wᵀ + b and its gradients", () => {
    const rng = new Rng(7)
    const layer = new Linear("l", 5, 3, rng)
    const x = randomArray(4 * 5, rng)
    const ctx = ctxOf(false)
    const y = layer.forward(ctx, x, 4)
    const W = layer.weight.value
    const b = layer.bias!.value
    expect(y[1 * 3 + 2]).toBeCloseTo(b[2]! + [0, 1, 2, 3, 4].reduce((s, k) => s + x[5 + k]! * W[2 * 5 + k]!, 0), 5)
    expect(gradCheck(() => layer.forward(ctx, x, 4), (dy) => layer.backward(ctx, dy), layer.params(), x, rng)).toBeLessThan(1e-2)
  })

  it("Embedding: rows by id, the padding row never learns", () => {
    const rng = new Rng(8)
    const emb = new Embedding("e", 6, 4, rng, 5)
    const ids = Int32Array.from([0, 5, 3, 3, 1])
    const ctx = ctxOf(false)
    const y = emb.forward(ctx, ids)
    expect(Array.from(y.subarray(4, 8))).toEqual([0, 0, 0, 0])
    zeroGrads(emb.params())
    emb.backward(ctx, new Float32Array(y.length).fill(1))
    const g = emb.weight.grad
    expect(Array.from(g.subarray(3 * 4, 4 * 4))).toEqual([2, 2, 2, 2])
    expect(Array.from(g.subarray(5 * 4, 6 * 4))).toEqual([0, 0, 0, 0])
    expect(() => emb.forward(ctx, Int32Array.from([6]))).toThrow(/out of range/)
    const free = new Embedding("f", 6, 4, rng)
    expect(gradCheck(() => free.forward(ctx, ids), (dy) => { free.backward(ctx, dy); return undefined }, free.params(), undefined, rng, 10)).toBeLessThan(1e-2)
  })

  it("LayerNorm normalises each row and its gradients match", () => {
    const rng = new Rng(9)
    const ln = new LayerNorm("n", 8)
    ln.gamma.value.set(randomArray(8, rng, 2))
    ln.beta.value.set(randomArray(8, rng))
    const x = randomArray(3 * 8, rng, 3)
    const ctx = ctxOf(false)
    const plain = new LayerNorm("p", 8).forward(ctx, x, 3)
    let mean = 0
    for (let j = 0; j < 8; j++) mean += plain[8 + j]!
    expect(mean / 8).toBeCloseTo(0, 5)
    expect(gradCheck(() => ln.forward(ctx, x, 3), (dy) => ln.backward(ctx, dy), ln.params(), x, rng, 8, 1e-2)).toBeLessThan(2e-2)
  })

  it("GELU matches x·Φ(x) and its gradient", () => {
    const rng = new Rng(10)
    const g = new Gelu()
    const x = randomArray(40, rng, 4)
    const ctx = ctxOf(false)
    const y = g.forward(ctx, Float32Array.from([0, 1, -1, 3]))
    expect(y[0]).toBe(0)
    expect(y[1]).toBeCloseTo(0.8413447, 5)
    expect(y[2]).toBeCloseTo(-0.1586553, 5)
    expect(y[3]).toBeCloseTo(2.9959502, 5)
    expect(gradCheck(() => g.forward(ctx, x), (dy) => g.backward(ctx, dy), [], x, rng, 20, 1e-3)).toBeLessThan(1e-2)
  })

  it("Dropout zeroes about p of the elements while training, scales the rest, and is the identity otherwise", () => {
    const d = new Dropout(0.25)
    const x = new Float32Array(4000).fill(1)
    expect(d.forward(ctxOf(false), x)).toBe(x)
    const y = d.forward(ctxOf(true), x)
    const zeros = y.filter((v) => v === 0).length
    expect(zeros).toBeGreaterThan(900)
    expect(zeros).toBeLessThan(1100)
    expect(y.find((v) => v !== 0)).toBeCloseTo(1 / 0.75, 6)
    const dx = d.backward(ctxOf(true), new Float32Array(4000).fill(2))
    expect(Array.from(dx).every((v, i) => (y[i] === 0 ? v === 0 : Math.abs(v - 2 / 0.75) < 1e-6))).toBe(true)
    expect(() => new Dropout(1)).toThrow(/\[0, 1\)/)
  })

  it("self-attention: causal and padding masks hold and gradients match (with attention dropout)", () => {
    const rng = new Rng(11)
    const B = 2
    const T = 5
    const D = 8
    const attn = new SelfAttention("a", D, 2, 0.2, rng)
    const x = randomArray(B * T * D, rng)
    const pad = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 1, 1])
    // causality: changing a later position never changes an earlier output
    const ctx0 = ctxOf(false)
    const y0 = Float32Array.from(attn.forward(ctx0, x, B, T, pad, true))
    const x2 = Float32Array.from(x)
    for (let j = 0; j < D; j++) x2[3 * D + j] = x2[3 * D + j]! + 5 // row 0, position 3
    for (let j = 0; j < D; j++) x2[(T + 4) * D + j] = 9 // row 1, position 4: a padded key
    const y1 = attn.forward(ctx0, x2, B, T, pad, true)
    for (let i = 0; i < 3 * D; i++) expect(y1[i]).toBe(y0[i])
    for (let i = T * D; i < (T + 4) * D; i++) expect(y1[i]).toBeCloseTo(y0[i]!, 6)
    expect(() => new SelfAttention("b", 8, 3, 0, rng)).toThrow(/divide/)
    let seed = 0
    const run = (): Float32Array => attn.forward({ kernels, training: true, rng: new Rng(seed) }, x, B, T, pad, true)
    seed = 5
    const ctxT: Ctx = { kernels, training: true, rng: new Rng(5) }
    expect(gradCheck(run, (dy) => { run(); return attn.backward(ctxT, dy) }, attn.params(), x, rng, 8, 1e-2)).toBeLessThan(2e-2)
  })

  it("a post-LN encoder layer's gradients match (dropout on)", () => {
    const rng = new Rng(12)
    const layer = new EncoderLayer("l", 8, 2, 16, 0.1, rng)
    const x = randomArray(2 * 4 * 8, rng)
    const pad = new Uint8Array(8)
    pad[7] = 1
    const run = (): Float32Array => layer.forward({ kernels, training: true, rng: new Rng(21) }, x, 2, 4, pad)
    const ctxT: Ctx = { kernels, training: true, rng: new Rng(21) }
    expect(gradCheck(run, (dy) => { run(); return layer.backward(ctxT, dy) }, layer.params(), x, rng, 5, 1e-2)).toBeLessThan(3e-2)
  })

  it("the next-token transformer with cross-entropy (padding ignored, label smoothing) has matching gradients", () => {
    const rng = new Rng(13)
    const shape = { vocab: 7, pad: 6, dModel: 8, layers: 2, heads: 2, ffn: 16, dropout: 0.1, maxLen: 6 }
    const model = new NextTokenTransformer(shape, rng)
    const ids = Int32Array.from([1, 2, 3, 4, 5, 0, 2, 2, 3, 6, 6, 6])
    const targets = Int32Array.from([2, 3, 4, 5, 0, 1, 2, 3, 6, 6, 6, 6])
    const params = model.params()
    const lossOf = (): number => {
      const logits = model.forward({ kernels, training: true, rng: new Rng(4) }, ids, 2, 6)
      return crossEntropy(logits, 12, 7, targets, { ignoreIndex: 6, smoothing: 0.1 }).loss
    }
    zeroGrads(params)
    const ctxT: Ctx = { kernels, training: true, rng: new Rng(4) }
    const logits = model.forward(ctxT, ids, 2, 6)
    const ce = crossEntropy(logits, 12, 7, targets, { ignoreIndex: 6, smoothing: 0.1 })
    expect(ce.count).toBe(8)
    model.backward(ctxT, ce.grad)
    expect(Array.from(model.tok.weight.grad.subarray(6 * 8, 7 * 8)).every((v) => v === 0)).toBe(true)
    let worst = 0
    for (const p of params) {
      for (let k = 0; k < 3; k++) {
        const i = rng.int(p.value.length)
        const keep = p.value[i]!
        const h = 1e-2
        p.value[i] = keep + h
        const up = lossOf()
        p.value[i] = keep - h
        const down = lossOf()
        p.value[i] = keep
        const numeric = (up - down) / (2 * h)
        worst = Math.max(worst, Math.abs(numeric - p.grad[i]!) / Math.max(0.05, Math.abs(numeric)))
      }
    }
    expect(worst).toBeLessThan(5e-2)
    expect(() => model.forward(ctxT, new Int32Array(14), 2, 7)).toThrow(/max_len/)
  })
})

describe("losses", () => {
  it("cross-entropy equals PyTorch's on a hand case (smoothing, ignore index) and its gradient sums to zero per row", () => {
    const logits = Float32Array.from([1, 2, 3, 0, 0, 0, 5, 1, 0])
    const targets = Int32Array.from([2, -100, 0])
    const plain = crossEntropy(logits, 3, 3, targets, { ignoreIndex: -100 })
    const nll0 = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 3
    const nll2 = Math.log(Math.exp(5) + Math.exp(1) + 1) - 5
    expect(plain.loss).toBeCloseTo((nll0 + nll2) / 2, 6)
    expect(plain.count).toBe(2)
    const smooth = crossEntropy(logits, 3, 3, targets, { ignoreIndex: -100, smoothing: 0.3 })
    const lz0 = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3))
    const lz2 = Math.log(Math.exp(5) + Math.exp(1) + 1)
    const row = (lz: number, ls: ReadonlyArray<number>, t: number): number => 0.7 * (lz - ls[t]!) + (0.3 / 3) * ls.reduce((s, l) => s + lz - l, 0)
    expect(smooth.loss).toBeCloseTo((row(lz0, [1, 2, 3], 2) + row(lz2, [5, 1, 0], 0)) / 2, 6)
    expect(Array.from(smooth.grad.subarray(3, 6))).toEqual([0, 0, 0])
    expect(smooth.grad[0]! + smooth.grad[1]! + smooth.grad[2]!).toBeCloseTo(0, 6)
    expect(() => crossEntropy(logits, 3, 3, Int32Array.from([3, 0, 0]))).toThrow(/out of range/)
  })

  it("MSE and per-row NLL and rank", () => {
    const m = meanSquaredError(Float32Array.from([1, 2]), Float32Array.from([0, 4]))
    expect(m.loss).toBe(2.5)
    expect(Array.from(m.grad)).toEqual([1, -2])
    const r = targetNllAndRank(Float32Array.from([0, 3, 1, 2, 2, 0]), 2, 3, Int32Array.from([2, 9]), 9)
    expect(r.rank[0]).toBe(1)
    expect(r.nll[0]).toBeCloseTo(Math.log(1 + Math.exp(3) + Math.exp(1)) - 1, 6)
    expect(r.rank[1]).toBe(-1)
  })
})

describe("optimisers", () => {
  const one = (): Param => {
    const p = makeParam("w", [2], true)
    p.value.set([1, -2])
    p.grad.set([0.5, -1])
    return p
  }

  it("Adam, AdamW and SGD follow PyTorch's update rules", () => {
    const a = one()
    new Optimizer([a], { kind: "adam", lr: 0.1 }).step()
    // first step: m̂ = g, v̂ = g², update = lr·g/(|g| + ε) = ±0.1
    expect(a.value[0]).toBeCloseTo(0.9, 6)
    expect(a.value[1]).toBeCloseTo(-1.9, 6)
    const w = one()
    new Optimizer([w], { kind: "adamw", lr: 0.1, weightDecay: 0.5 }).step()
    expect(w.value[0]).toBeCloseTo(1 * (1 - 0.05) - 0.1, 6)
    const s = one()
    const sgd = new Optimizer([s], { kind: "sgd", lr: 0.1, momentum: 0.9 })
    sgd.step()
    sgd.step()
    // buf = g, then 0.9·g + g
    expect(s.value[0]).toBeCloseTo(1 - 0.1 * 0.5 - 0.1 * 0.95, 6)
  })

  it("state round-trips: a restored optimizer takes the same next step", () => {
    const p = one()
    const q = one()
    const o1 = new Optimizer([p], { kind: "adamw", lr: 0.01, weightDecay: 0.1 })
    o1.step()
    const o2 = new Optimizer([q], { kind: "adamw", lr: 0.01, weightDecay: 0.1 })
    q.value.set(p.value)
    o2.setState(o1.state())
    o1.step()
    o2.step()
    expect(Array.from(q.value)).toEqual(Array.from(p.value))
    expect(() => o2.setState({ t: 1, m: new Float32Array(3), v: new Float32Array(2) })).toThrow(/m has 3/)
  })

  it("warm-up then cosine, and clipping by global norm", () => {
    expect(warmupCosine(0, 10, 110)).toBe(0)
    expect(warmupCosine(5, 10, 110)).toBe(0.5)
    expect(warmupCosine(10, 10, 110)).toBe(1)
    expect(warmupCosine(60, 10, 110)).toBeCloseTo(0.5, 10)
    expect(warmupCosine(110, 10, 110)).toBeCloseTo(0, 10)
    const p = one()
    p.grad.set([3, 4])
    expect(clipGradNorm([p], 1)).toBe(5)
    expect(gradNorm([p])).toBeCloseTo(1, 5)
  })
})
