/**
 * Speed probe for ONNX scoring (src/detectors/deeplog/Onnx.ts) at the DeepLog size: ids input,
 * V = 30, H = 64, 2 layers, T = 10, random weights (uniform ±0.3). Exports the model, then times
 * onnxruntime-node (CPU, one intra-op thread) scoring `--batches` batches of `--batch` sequences
 * (after warm-up) and prints sequences/s. Usage: node bench/onnx-probe.ts [--batches N] [--batch B] [--threads K]
 */
import * as os from "node:os"
import { exportOnnx, OnnxScorer } from "../src/detectors/deeplog/Onnx.ts"
import type { LstmShape, LstmWeights } from "../src/detectors/deeplog/LstmTypes.ts"

const arg = (name: string, d: number): number => {
  const i = process.argv.indexOf(name)
  return i < 0 ? d : Number(process.argv[i + 1])
}
const batches = arg("--batches", 20)
const B = arg("--batch", 256)
const threads = arg("--threads", 1)
const warmup = 3

const V = 30
const H = 64
const T = 10
const shape: LstmShape = { inputKind: "ids", inputSize: V, hidden: H, layers: 2, outputSize: V }

let s = 12345
const rand = (): number => {
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0
  return s / 4294967296
}
const uniform = (n: number) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * 0.3)
const weights: LstmWeights = {
  layers: [0, 1].map((l) => ({ W: uniform((l === 0 ? V : H) * 4 * H), R: uniform(H * 4 * H), b: uniform(4 * H) })),
  Wo: uniform(H * V),
  bo: uniform(V)
}
const inputs = Array.from({ length: batches }, () => Int32Array.from({ length: B * T }, () => Math.floor(rand() * V)))

const tExport = performance.now()
const model = exportOnnx(shape, weights)
const exportMs = performance.now() - tExport
const tCreate = performance.now()
const scorer = await OnnxScorer.create(model, { intraOpThreads: threads })
const createMs = performance.now() - tCreate

for (let k = 0; k < warmup; k++) await scorer.run(inputs[k % batches], B, T)
const t0 = performance.now()
let checksum = 0
for (const input of inputs) checksum += (await scorer.run(input, B, T))[0]
const ms = performance.now() - t0
await scorer.release()

console.log(`ONNX (onnxruntime-node CPU, ${threads} intra-op thread) ids V=${V} H=${H} L=2 T=${T}; ${os.cpus()[0]?.model ?? "?"}`)
console.log(`model ${(model.length / 1024).toFixed(1)} KiB, export ${exportMs.toFixed(1)} ms, session ${createMs.toFixed(1)} ms`)
console.log(`${batches} batches x ${B}: ${ms.toFixed(1)} ms, ${(ms / batches).toFixed(2)} ms/batch, ${Math.round((batches * B * 1000) / ms)} sequences/s (checksum ${checksum.toFixed(4)})`)
