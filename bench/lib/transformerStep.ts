/**
 * bench:train's transformer shape on logflow's neural core, the same as bench/peers/torch_transformer.py:
 * 31 ids (30 templates + PAD), d_model 128, 2 post-LN layers, 4 heads, FFN 512, GELU, dropout 0.1,
 * max_len 100; batches of 32 windows of 100 events (input 99, target 99), the last 10 positions of
 * every fourth window padded; cross-entropy ignoring PAD, clipping at 1.0, AdamW (3e-4, β 0.9/0.98,
 * weight decay 0.01). Returns the median ms per step after 3 warm-up steps.
 */
import { crossEntropy } from "../../src/neural/Losses.ts"
import { Optimizer } from "../../src/neural/Optim.ts"
import { clipGradNorm, Rng, zeroGrads } from "../../src/neural/Params.ts"
import { NextTokenTransformer } from "../../src/neural/Transformer.ts"
import { loadKernels } from "../../src/runtime/Kernels.ts"

export const TRANSFORMER_BENCH = { vocab: 31, pad: 30, dModel: 128, layers: 2, heads: 4, ffn: 512, dropout: 0.1, maxLen: 100, batch: 32, window: 100 } as const

export const transformerSteps = (kernelsName: "native" | "typescript", threads: number, steps: number): { readonly kernels: string; readonly msPerStep: number; readonly finalLoss: number } => {
  const kernels = loadKernels(kernelsName)
  kernels.setThreads(threads)
  const s = TRANSFORMER_BENCH
  const rng = new Rng(3)
  const model = new NextTokenTransformer(s, rng)
  const params = model.params()
  const opt = new Optimizer(params, { kind: "adamw", lr: 3e-4, beta1: 0.9, beta2: 0.98, weightDecay: 0.01 })
  const T = s.window - 1
  const batches = Array.from({ length: 4 }, () => {
    const seq = new Int32Array(s.batch * s.window)
    for (let i = 0; i < seq.length; i++) seq[i] = rng.int(s.pad)
    for (let b = 0; b < s.batch; b += 4) seq.fill(s.pad, (b + 1) * s.window - 10, (b + 1) * s.window)
    const x = new Int32Array(s.batch * T)
    const y = new Int32Array(s.batch * T)
    for (let b = 0; b < s.batch; b++) {
      x.set(seq.subarray(b * s.window, b * s.window + T), b * T)
      y.set(seq.subarray(b * s.window + 1, (b + 1) * s.window), b * T)
    }
    return { x, y }
  })
  const ctx = { kernels, training: true, rng }
  let loss = 0
  const step = (k: number): void => {
    const { x, y } = batches[k % batches.length]!
    zeroGrads(params)
    const logits = model.forward(ctx, x, s.batch, T)
    const ce = crossEntropy(logits, s.batch * T, s.vocab, y, { ignoreIndex: s.pad })
    model.backward(ctx, ce.grad)
    clipGradNorm(params, 1)
    opt.step()
    loss = ce.loss
  }
  for (let k = 0; k < 3; k++) step(k)
  const times: Array<number> = []
  for (let k = 0; k < steps; k++) {
    const t0 = performance.now()
    step(k)
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  return { kernels: kernels.name, msPerStep: times[Math.floor(times.length / 2)]!, finalLoss: loss }
}
