/**
 * Speed probe for the native LSTM trainer (src/detectors/deeplog/NativeLstm.ts) at the DeepLog
 * size: ids input, V = 30, H = 64, 2 layers, T = 10, B = 256, softmax_ce. Times training steps
 * (forward + backward + Adam) and forward passes on one core and prints ms per step.
 * Usage: node bench/native-lstm-probe.ts [--steps N] [--warmup W]
 */
import { Adam, forward, initWeights, lossAndGradients, type LstmShape } from "../src/detectors/deeplog/NativeLstm.ts"

const arg = (name: string, d: number): number => {
  const i = process.argv.indexOf(name)
  return i < 0 ? d : Number(process.argv[i + 1])
}
const steps = arg("--steps", 10)
const warmup = arg("--warmup", 2)

const V = 30
const T = 10
const B = 256
const shape: LstmShape = { inputKind: "ids", inputSize: V, hidden: 64, layers: 2, outputSize: V }
const weights = initWeights(shape, 42)
const adam = new Adam(0.001)

// A deterministic batch: noisy repeating key patterns.
let s = 12345
const rand = (): number => {
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0
  return s / 4294967296
}
const ids = new Int32Array(B * T)
const targets = new Int32Array(B)
for (let b = 0; b < B; b++) {
  const start = Math.floor(rand() * V)
  for (let t = 0; t < T; t++) ids[b * T + t] = rand() < 0.9 ? (start + t) % V : Math.floor(rand() * V)
  targets[b] = (start + T) % V
}

const trainStep = (): number => {
  const { loss, grads } = lossAndGradients(shape, weights, ids, targets, B, T, "softmax_ce")
  adam.step(weights, grads)
  return loss
}

/** Per-call times in ms: mean, median and best. */
const timeIt = (f: () => void): { mean: number; median: number; best: number } => {
  const ms: Array<number> = []
  for (let k = 0; k < steps; k++) {
    const t0 = performance.now()
    f()
    ms.push(performance.now() - t0)
  }
  const sorted = [...ms].sort((a, b) => a - b)
  return { mean: ms.reduce((a, b) => a + b, 0) / steps, median: sorted[Math.floor(steps / 2)]!, best: sorted[0]! }
}
const show = (t: { mean: number; median: number; best: number }): string =>
  `${t.mean.toFixed(1)} ms mean, ${t.median.toFixed(1)} median, ${t.best.toFixed(1)} best`

for (let k = 0; k < warmup; k++) trainStep()
const losses: Array<number> = []
const train = timeIt(() => {
  losses.push(trainStep())
})
for (let k = 0; k < warmup; k++) forward(shape, weights, ids, B, T)
const fwd = timeIt(() => {
  forward(shape, weights, ids, B, T)
})

console.log(`native LSTM ids V=${V} H=64 L=2 T=${T} B=${B} softmax_ce (${warmup} warm-up, ${steps} timed)`)
console.log(`train step (forward + backward + Adam): ${show(train)}`)
console.log(`forward pass:                           ${show(fwd)}`)
console.log(`loss over timed steps: ${losses[0]!.toFixed(4)} -> ${losses[losses.length - 1]!.toFixed(4)}`)
