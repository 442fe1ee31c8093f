// The native LSTM (logflow's training backend) against TensorFlow.js on the same canonical
// weights: equal loss and gradients, and equal weights after a few Adam steps.
import { describe, expect, it } from "vitest"
import { tfjsGradients, useBackend } from "../../../bench/lib/tfjsLstm.ts"
import type { LstmShape, LstmWeights } from "../../../src/detectors/deeplog/LstmTypes.ts"
import { Adam, initWeights, lossAndGradients, weightArrays } from "../../../src/detectors/deeplog/NativeLstm.ts"
import { mulberry32 } from "../../../src/artifacts/Random.ts"

const shape: LstmShape = { inputKind: "ids", inputSize: 7, hidden: 5, layers: 2, outputSize: 5 }
const B = 9
const T = 6

const batch = (seed: number) => {
  const r = mulberry32(seed)
  return {
    inputs: Int32Array.from({ length: B * T }, () => Math.floor(r() * shape.inputSize)),
    targets: Int32Array.from({ length: B }, () => Math.floor(r() * shape.outputSize))
  }
}

const maxRelDiff = (a: LstmWeights, b: LstmWeights): number => {
  const xs = weightArrays(a)
  const ys = weightArrays(b)
  let worst = 0
  xs.forEach((x, k) => {
    const y = ys[k]!
    expect(y.length).toBe(x.length)
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!) / Math.max(1e-3, Math.abs(x[i]!)))
  })
  return worst
}

describe("native LSTM vs TensorFlow.js (cpu)", () => {
  it("computes the same loss and gradients", async () => {
    await useBackend("cpu")
    const tfjs = tfjsGradients()
    const w = initWeights(shape, 11)
    for (const seed of [1, 2, 3]) {
      const { inputs, targets } = batch(seed)
      const a = lossAndGradients(shape, w, inputs, targets, B, T, "softmax_ce")
      const b = tfjs(shape, w, inputs, targets, B, T)
      expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-5)
      expect(maxRelDiff(a.grads, b.grads)).toBeLessThan(1e-3)
    }
  })

  it("reaches the same weights after 20 Adam steps", async () => {
    await useBackend("cpu")
    const tfjs = tfjsGradients()
    const wa = initWeights(shape, 5)
    const wb = initWeights(shape, 5)
    const adamA = new Adam(0.01)
    const adamB = new Adam(0.01)
    for (let step = 0; step < 20; step++) {
      const { inputs, targets } = batch(100 + step)
      adamA.step(wa, lossAndGradients(shape, wa, inputs, targets, B, T, "softmax_ce").grads)
      adamB.step(wb, tfjs(shape, wb, inputs, targets, B, T).grads)
    }
    expect(maxRelDiff(wa, wb)).toBeLessThan(1e-3)
  })
})
