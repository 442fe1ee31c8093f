/**
 * Benchmark (issue 7): DeepLog training backends on the exact DeepLog model (2 x LSTM 64, window
 * 10, batch 256, 28 keys + padding + unseen = 30 inputs): training steps per second (forward,
 * backward and one Adam step on the same canonical weights), forward-pass throughput, and peak
 * RSS. Each backend runs in its own child process so peak memory is its own. Candidates:
 * TensorFlow.js cpu (pure JS kernels), TensorFlow.js wasm (XNNPACK; threads where the build
 * supports them in Node), logflow's native LSTM (hand-written Float32Array loops, BPTT), and the
 * native LSTM with its matrix products on XNNPACK (`bench/lib/xnnpackGemm.ts`, issue 18's first
 * kernel experiment: same math, element-wise work still in TypeScript).
 * Usage: npm run bench:train [-- --steps N]  (--write appends the table to docs/BENCHMARKS.md)
 */
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { LstmShape } from "../src/detectors/deeplog/LstmTypes.ts"
import { Adam, forward, initWeights, lossAndGradients, type LstmScratch } from "../src/detectors/deeplog/NativeLstm.ts"
import type { GradientFn } from "../src/detectors/deeplog/Training.ts"
import { mulberry32 } from "../src/artifacts/Random.ts"
import { systemBlas } from "./lib/torchPeer.ts"
import { transformerSteps } from "./lib/transformerStep.ts"

const root = path.resolve(import.meta.dirname, "..")
const shape: LstmShape = { inputKind: "ids", inputSize: 30, hidden: 64, layers: 2, outputSize: 28 }
const B = 256
const T = 10

interface Measured {
  readonly backend: string
  /** null for scoring-only backends (NaN does not survive JSON). */
  readonly msPerStep: number | null
  readonly stepsPerSecond: number | null
  readonly forwardSeqPerSecond: number
  /** Windows per second at the scoring batch of 4096 (native and ONNX Runtime only). */
  readonly scoringSeqPerSecond?: number
  readonly peakRssMiB: number
  readonly finalLoss: number
}

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}

const child = async (backend: string, steps: number): Promise<Measured> => {
  const r = mulberry32(3)
  const batches = Array.from({ length: 4 }, () => ({
    inputs: Int32Array.from({ length: B * T }, () => Math.floor(r() * shape.inputSize)),
    targets: Int32Array.from({ length: B }, () => Math.floor(r() * shape.outputSize))
  }))
  const BIG = 4096
  const big = new Int32Array(BIG * T)
  for (let k = 0; k < BIG / B; k++) big.set(batches[k % batches.length]!.inputs, k * B * T)
  let gradients: GradientFn
  let fwd: (inputs: Int32Array) => Float32Array
  const weights = initWeights(shape, 1)
  if (backend.startsWith("onnxruntime")) {
    // Scoring only: the exported graph of the same weights on ONNX Runtime's CPU provider.
    const { exportOnnx, OnnxScorer } = await import("../src/detectors/deeplog/Onnx.ts")
    const threads = Number(backend.split(":")[1] ?? "1")
    const scorer = await OnnxScorer.create(exportOnnx(shape, weights, { steps: T }), { intraOpThreads: threads })
    const passes = Math.max(20, steps)
    await scorer.run(batches[0]!.inputs, B, T)
    const t1 = performance.now()
    for (let k = 0; k < passes; k++) await scorer.run(batches[k % batches.length]!.inputs, B, T)
    const fwdMs = (performance.now() - t1) / passes
    await scorer.run(big, BIG, T)
    const t2 = performance.now()
    for (let k = 0; k < 3; k++) await scorer.run(big, BIG, T)
    const bigMs = (performance.now() - t2) / 3
    await scorer.release()
    return {
      backend, msPerStep: null, stepsPerSecond: null, forwardSeqPerSecond: (B * 1000) / fwdMs, scoringSeqPerSecond: (BIG * 1000) / bigMs,
      peakRssMiB: process.resourceUsage().maxRSS / 1024, finalLoss: Number.NaN
    }
  }
  if (backend === "native") {
    gradients = (s, w, x, y, b, t) => lossAndGradients(s, w, x, y, b, t, "softmax_ce")
    fwd = (x) => forward(shape, weights, x, B, T)
  } else if (backend === "native+xnnpack") {
    // NativeLstm with its products on TensorFlow.js's WebAssembly backend (XNNPACK).
    const tfl = await import("./lib/tfjsLstm.ts")
    await tfl.useBackend("wasm")
    const { xnnpackGemm } = await import("./lib/xnnpackGemm.ts")
    const scratch: LstmScratch = { ws: undefined, gemm: xnnpackGemm }
    gradients = (s, w, x, y, b, t) => lossAndGradients(s, w, x, y, b, t, "softmax_ce", scratch)
    fwd = (x) => forward(shape, weights, x, B, T, scratch)
  } else {
    const tfl = await import("./lib/tfjsLstm.ts")
    const [name, threads] = backend.split(":") as [string, string | undefined]
    await tfl.useBackend(name === "tfjs-wasm" ? "wasm" : "cpu", threads === undefined ? undefined : Number(threads))
    gradients = tfl.tfjsGradients()
    const f = tfl.tfjsForward(shape, weights)
    fwd = (x) => f(x, B, T)
  }
  const adam = new Adam(0.001)
  const step = (k: number) => {
    const b = batches[k % batches.length]!
    const out = gradients(shape, weights, b.inputs, b.targets, B, T)
    adam.step(weights, out.grads)
    return out.loss
  }
  // Warm-up (JIT tiers, wasm compilation), then the median of the timed steps (robust to a
  // neighbour's load on a shared machine).
  for (let k = 0; k < 3; k++) step(k)
  const times: Array<number> = []
  let loss = 0
  for (let k = 1; k <= steps; k++) {
    const t0 = performance.now()
    loss = step(k)
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  const msPerStep = times[Math.floor(times.length / 2)]!
  fwd(batches[0]!.inputs)
  const t1 = performance.now()
  const passes = Math.max(2, steps)
  for (let k = 0; k < passes; k++) fwd(batches[k % batches.length]!.inputs)
  const fwdMs = (performance.now() - t1) / passes
  let scoring: number | undefined
  if (backend === "native") {
    forward(shape, weights, big, BIG, T)
    const t2 = performance.now()
    for (let k = 0; k < 2; k++) forward(shape, weights, big, BIG, T)
    scoring = (BIG * 2 * 1000) / (performance.now() - t2)
  }
  return {
    backend,
    ...(scoring === undefined ? {} : { scoringSeqPerSecond: scoring }),
    msPerStep,
    stepsPerSecond: 1000 / msPerStep,
    forwardSeqPerSecond: (B * 1000) / fwdMs,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    finalLoss: loss
  }
}

/**
 * The same model in PyTorch (Debian's python3-torch at /usr/bin/python3, `bench/peers/torch_deeplog.py`:
 * nn.LSTM, one-hot inputs, Adam), on 1 and 2 threads: table rows, or one saying the peer is not installed.
 */
const torchRows = (steps: number): Array<string> => {
  const rows: Array<string> = []
  for (const threads of [1, 2]) {
    const r = spawnSync("/usr/bin/python3", [path.join(root, "bench/peers/torch_deeplog.py"), String(threads), String(Math.max(steps, 10))], { encoding: "utf8" })
    if (r.status !== 0) return [`| pytorch | peer not installed (\`/usr/bin/python3\` cannot import torch: \`apt-get install python3-torch\`) | | | | | | |`]
    const m = JSON.parse(r.stdout) as { torch: string; ms_per_step: number; steps_per_second: number }
    rows.push(`| pytorch ${m.torch} (${systemBlas().split(" (")[0]}):${threads} | ${Math.max(steps, 10)} | ${m.ms_per_step.toFixed(1)} | ${m.steps_per_second.toFixed(2)} | | | | |`)
  }
  return rows
}

/** The transformer shape (bench/lib/transformerStep.ts) on logflow's core and in PyTorch (bench/peers/torch_transformer.py), 1 and 2 threads. */
const transformerTable = (steps: number): string => {
  const rows: Array<string> = []
  let torch1: number | undefined
  const measured: Array<{ label: string; ms: number; loss: number }> = []
  for (const [kernels, threads, n] of [["native", 1, steps], ["native", 2, steps], ["typescript", 1, Math.max(2, Math.ceil(steps / 5))]] as const) {
    const out = execFileSync(process.execPath, [import.meta.filename, "--transformer", kernels, String(threads), String(n)], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
    const m = JSON.parse(out.split("\n").find((l) => l.startsWith("RESULT "))!.slice(7)) as { kernels: string; msPerStep: number; finalLoss: number }
    measured.push({ label: `logflow core (${m.kernels}):${threads} | ${n}`, ms: m.msPerStep, loss: m.finalLoss })
  }
  const torch: Array<{ label: string; ms: number; loss: number }> = []
  for (const threads of [1, 2]) {
    const r = spawnSync("/usr/bin/python3", [path.join(root, "bench/peers/torch_transformer.py"), String(threads), String(steps)], { encoding: "utf8" })
    if (r.status !== 0) {
      rows.push("| pytorch | peer not installed (`/usr/bin/python3` cannot import torch: `apt-get install python3-torch`) | | | | |")
      break
    }
    const m = JSON.parse(r.stdout) as { torch: string; ms_per_step: number; final_loss: number }
    if (threads === 1) torch1 = m.ms_per_step
    torch.push({ label: `pytorch ${m.torch} (${systemBlas().split(" (")[0]}):${threads} | ${steps}`, ms: m.ms_per_step, loss: m.final_loss })
  }
  for (const r of [...measured, ...torch]) {
    rows.push(`| ${r.label} | ${r.ms.toFixed(1)} | ${(1000 / r.ms).toFixed(2)} | ${torch1 === undefined ? "" : `${(torch1 / r.ms).toFixed(2)}x`} | ${r.loss.toFixed(4)} |`)
    console.log(`${r.label.replace(" | ", ", ")} steps: ${r.ms.toFixed(1)} ms/step`)
  }
  return [
    "",
    "Transformer (issue 18): next-token model, 31 ids (30 + PAD), d_model 128, 2 post-LN layers, 4 heads, FFN 512, GELU, dropout 0.1,",
    "windows of 100 (99 inputs), batch 32, cross-entropy ignoring PAD, clipping 1.0, AdamW; the same shape and batches in PyTorch",
    "(nn.TransformerEncoderLayer, causal and padding masks). Products on OpenBLAS through logflow's native addon (or TypeScript loops);",
    "elementwise kernels native (GELU vectorised with glibc's libmvec) or TypeScript.",
    "",
    "| backend:threads | steps timed | ms / step (median) | steps / s | vs PyTorch 1 thread | last loss |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...rows
  ].join("\n")
}

if (process.argv[2] === "--transformer") {
  const m = transformerSteps(process.argv[3] as "native" | "typescript", Number(process.argv[4]), Number(process.argv[5]))
  process.stdout.write(`RESULT ${JSON.stringify(m)}\n`)
} else if (process.argv[2] === "--child") {
  const m = await child(process.argv[3]!, Number(process.argv[4]))
  process.stdout.write(`RESULT ${JSON.stringify(m)}\n`)
} else {
  const steps = arg("--steps", 10)
  const candidates: ReadonlyArray<readonly [string, number]> = [
    ["tfjs-cpu", Math.max(3, Math.ceil(steps / 4))],
    ["tfjs-wasm", steps],
    ["tfjs-wasm:2", steps],
    ["native", steps],
    ["native+xnnpack", steps],
    ["onnxruntime:1", steps],
    ["onnxruntime:2", steps]
  ]
  const rows: Array<Measured & { readonly steps: number }> = []
  for (const [backend, n] of candidates) {
    const out = execFileSync(process.execPath, [import.meta.filename, "--child", backend, String(n)], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
    const line = out.split("\n").find((l) => l.startsWith("RESULT "))
    if (line === undefined) throw new Error(`${backend}: no result`)
    const m = JSON.parse(line.slice(7)) as Measured
    rows.push({ ...m, steps: n })
    console.log(`${backend}: ${m.msPerStep === null ? "–" : m.msPerStep.toFixed(1)} ms/step, ${m.forwardSeqPerSecond.toFixed(0)} seq/s forward, peak RSS ${m.peakRssMiB.toFixed(0)} MiB`)
  }
  const base = rows.find((r) => r.backend === "tfjs-wasm")!
  const native = rows.find((r) => r.backend === "native")!
  const scoringCell = (r: Measured) =>
    r.scoringSeqPerSecond === undefined
      ? ""
      : r.backend === "native"
      ? r.scoringSeqPerSecond.toFixed(0)
      : `${r.scoringSeqPerSecond.toFixed(0)} (${(r.scoringSeqPerSecond / native.scoringSeqPerSecond!).toFixed(1)}x native)`
  const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU"
  const table = [
    `### bench:train (${new Date().toISOString().slice(0, 10)})`,
    "",
    `Command: \`npm run bench:train\`; machine: ${cpu}, ${os.cpus().length} cores, Node ${process.version}, load average ${os.loadavg()[0]!.toFixed(1)} at the end.`,
    `Model: DeepLog's 2 x LSTM(${shape.hidden}), window ${T}, batch ${B}, ${shape.outputSize} keys (+ padding and unseen inputs), softmax cross-entropy, Adam;`,
    "one step = forward + backward + Adam update on the same canonical weights (the Adam update is logflow's for every backend);",
    "3 warm-up steps, then the median of the timed steps.",
    "Each backend runs in its own process (peak RSS is its own). Gradients of the native LSTM equal TensorFlow.js's",
    "(test/detectors/deeplog/TfjsParity.test.ts). onnxruntime rows: scoring only (the ONNX export of the same weights, CPU provider,",
    "1 or 2 intra-op threads); \"forward seq/s\" is windows of 10 keys per second, batches of 256, no deduplication.",
    "",
    "| backend | steps timed | ms / step (median) | steps / s | vs tfjs-wasm | forward seq/s (batch 256) | scoring seq/s (batch 4096) | peak RSS MiB |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((r) =>
      r.msPerStep === null || r.stepsPerSecond === null
        ? `| ${r.backend} | – | – | – | – | ${r.forwardSeqPerSecond.toFixed(0)} (${(r.forwardSeqPerSecond / native.forwardSeqPerSecond).toFixed(1)}x native) | ${scoringCell(r)} | ${r.peakRssMiB.toFixed(0)} |`
        : `| ${r.backend} | ${r.steps} | ${r.msPerStep.toFixed(1)} | ${r.stepsPerSecond.toFixed(2)} | ${(base.msPerStep! / r.msPerStep).toFixed(2)}x | ${r.forwardSeqPerSecond.toFixed(0)} | ${scoringCell(r)} | ${r.peakRssMiB.toFixed(0)} |`
    ),
    ...torchRows(steps),
    transformerTable(steps),
    ""
  ].join("\n")
  console.log(`\n${table}`)
  if (process.argv.includes("--write")) fs.appendFileSync(path.join(root, "docs/BENCHMARKS.md"), `\n${table}`)
}
