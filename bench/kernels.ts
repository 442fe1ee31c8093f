/**
 * Benchmark (issue 18): the matrix product every layer of the neural core is made of, C = A·B in
 * float32, on the shapes the issue's models train with, by each kernel strategy a TypeScript
 * project can take, against PyTorch on the same CPU and threads. Evidence for choosing the core's
 * kernels. Candidates:
 * - TypeScript loops: i-k-j order, 4 rows at a time, and NativeLstm's own kernel (`gemmNT`: dot
 *   products against a transposed B, 2 rows × 4 columns per block; the transpose is made once, outside the timing);
 * - TensorFlow.js on WebAssembly (XNNPACK, SIMD), single-threaded as Node runs it;
 * - ONNX Runtime's MatMul (MLAS: AVX2/AVX-512 kernels) on 1 and 2 intra-op threads, B given as an
 *   input each call (weights change every step), call overhead included;
 * - PyTorch `torch.mm` on 1 and 2 threads (Debian's python3-torch at /usr/bin/python3:
 *   `bench/peers/torch_matmul.py`; "peer not installed" otherwise), on the system's BLAS, named in the
 *   table (Debian's default is the reference BLAS; `apt-get install libopenblas0-pthread` for OpenBLAS).
 * Each cell: GFLOP/s (2·m·k·n per product) over repeats of at least 0.5 s, after a warm-up; every
 * candidate's C is checked against the i-k-j loops' (max relative error 1e-4).
 * Usage: npm run bench:kernels; `--write` appends the table to docs/BENCHMARKS.md.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as tf from "@tensorflow/tfjs"
import * as ort from "onnxruntime-node"
import onnxProto from "onnx-proto"
import type { onnx } from "onnx-proto"

const proto = onnxProto.onnx
import { mulberry32 } from "../src/artifacts/Random.ts"
import { gemmNT } from "../src/detectors/deeplog/NativeLstm.ts"
import { useBackend } from "./lib/tfjsLstm.ts"
import { systemBlas } from "./lib/torchPeer.ts"

const root = path.resolve(import.meta.dirname, "..")

const SHAPES = [
  { name: "DeepLog LSTM gates: batch 256, [x; h] 128 -> 4·64", m: 256, k: 128, n: 256 },
  { name: "DeepLog recurrent step: batch 256, h 64 -> 4·64", m: 256, k: 64, n: 256 },
  { name: "DeepLog recurrent backward: batch 256, 4·64 -> 64", m: 256, k: 256, n: 64 },
  { name: "transformer QKV: 32×100 tokens, 128 -> 3·128", m: 3200, k: 128, n: 384 },
  { name: "transformer FFN in: 3200 tokens, 128 -> 512", m: 3200, k: 128, n: 512 },
  { name: "transformer FFN out: 3200 tokens, 512 -> 128", m: 3200, k: 512, n: 128 }
] as const

const random = mulberry32(7)
const fill = (n: number) => Float32Array.from({ length: n }, () => random() * 2 - 1)

/** C = A·B, i-k-j loops. */
const ikj = (A: Float32Array, B: Float32Array, C: Float32Array, m: number, k: number, n: number) => {
  C.fill(0)
  for (let i = 0; i < m; i++) {
    const ci = i * n
    for (let p = 0; p < k; p++) {
      const a = A[i * k + p]!
      const bp = p * n
      for (let j = 0; j < n; j++) C[ci + j]! += a * B[bp + j]!
    }
  }
}

/** C = A·B, four rows of C at a time: each B element loaded once per four multiply-adds. */
const rows4 = (A: Float32Array, B: Float32Array, C: Float32Array, m: number, k: number, n: number) => {
  C.fill(0)
  let i = 0
  for (; i + 3 < m; i += 4) {
    const c0 = i * n, c1 = c0 + n, c2 = c1 + n, c3 = c2 + n
    for (let p = 0; p < k; p++) {
      const a0 = A[i * k + p]!, a1 = A[(i + 1) * k + p]!, a2 = A[(i + 2) * k + p]!, a3 = A[(i + 3) * k + p]!
      const bp = p * n
      for (let j = 0; j < n; j++) {
        const b = B[bp + j]!
        C[c0 + j]! += a0 * b
        C[c1 + j]! += a1 * b
        C[c2 + j]! += a2 * b
        C[c3 + j]! += a3 * b
      }
    }
  }
  for (; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const a = A[i * k + p]!
      for (let j = 0; j < n; j++) C[i * n + j]! += a * B[p * n + j]!
    }
  }
}

/** Repeat `f` for at least 0.5 s after a warm-up; GFLOP/s. */
const rate = async (flops: number, f: () => unknown | Promise<unknown>): Promise<number> => {
  for (let w = 0; w < 3; w++) await f()
  let reps = 0
  const t0 = performance.now()
  let elapsed = 0
  do {
    await f()
    reps++
    elapsed = (performance.now() - t0) / 1000
  } while (elapsed < 0.5)
  return (flops * reps) / elapsed / 1e9
}

const maxRelError = (x: Float32Array, y: Float32Array): number => {
  let worst = 0
  let scale = 0
  for (let i = 0; i < x.length; i++) scale = Math.max(scale, Math.abs(y[i]!))
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!) / Math.max(scale, 1e-12))
  return worst
}

/** An ONNX graph C = MatMul(A, B) with both as inputs. */
const matmulGraph = (): Uint8Array => {
  const FLOAT = proto.TensorProto.DataType.FLOAT
  const info = (name: string, dims: ReadonlyArray<string>): onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimParam: d })) } } }
  })
  const model: onnx.IModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    producerName: "logflow bench:kernels",
    graph: { name: "matmul", node: [{ opType: "MatMul", name: "mm", input: ["A", "B"], output: ["C"] }], input: [info("A", ["m", "k"]), info("B", ["k", "n"])], output: [info("C", ["m", "n"])] }
  }
  return new Uint8Array(proto.ModelProto.encode(model).finish())
}

type Row = { shape: (typeof SHAPES)[number]; cells: Map<string, number | string> }
const rows: Array<Row> = SHAPES.map((shape) => ({ shape, cells: new Map() }))
const columns = ["TS i-k-j", "TS 4 rows", "TS NativeLstm gemmNT", "tfjs wasm (XNNPACK)", "ORT MatMul 1 thread", "ORT MatMul 2 threads", "PyTorch 1 thread", "PyTorch 2 threads"]

await useBackend("wasm")
const graph = matmulGraph()
const sessions = new Map<number, ort.InferenceSession>()
for (const threads of [1, 2]) sessions.set(threads, await ort.InferenceSession.create(graph, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: "sequential" }))

for (const row of rows) {
  const { m, k, n } = row.shape
  const flops = 2 * m * k * n
  const A = fill(m * k)
  const B = fill(k * n)
  const reference = new Float32Array(m * n)
  ikj(A, B, reference, m, k, n)
  const C = new Float32Array(m * n)
  const check = (name: string, got: Float32Array) => {
    const e = maxRelError(got, reference)
    if (e > 1e-4) throw new Error(`${name} on ${m}x${k}x${n}: relative error ${e}`)
  }
  row.cells.set("TS i-k-j", await rate(flops, () => ikj(A, B, C, m, k, n)))
  row.cells.set("TS 4 rows", await rate(flops, () => rows4(A, B, C, m, k, n)))
  check("TS 4 rows", C)
  const BT = new Float32Array(n * k)
  for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) BT[j * k + p] = B[p * n + j]!
  row.cells.set("TS NativeLstm gemmNT", await rate(flops, () => gemmNT(A, 0, k, m, k, BT, 0, k, n, C, 0, n, false)))
  check("TS NativeLstm gemmNT", C)
  const ta = tf.tensor2d(A, [m, k])
  const tb = tf.tensor2d(B, [k, n])
  row.cells.set("tfjs wasm (XNNPACK)", await rate(flops, () => {
    const c = tf.matMul(ta, tb)
    c.dataSync()
    c.dispose()
  }))
  const tc = tf.matMul(ta, tb)
  check("tfjs wasm", tc.dataSync() as Float32Array)
  tc.dispose()
  ta.dispose()
  tb.dispose()
  for (const [threads, session] of sessions) {
    const feeds = { A: new ort.Tensor("float32", A, [m, k]), B: new ort.Tensor("float32", B, [k, n]) }
    row.cells.set(`ORT MatMul ${threads} thread${threads === 1 ? "" : "s"}`, await rate(flops, () => session.run(feeds)))
    check(`ORT ${threads}`, (await session.run(feeds)).C!.data as Float32Array)
  }
}

const python = "/usr/bin/python3"
for (const threads of [1, 2]) {
  const name = `PyTorch ${threads} thread${threads === 1 ? "" : "s"}`
  const r = fs.existsSync(python) ? spawnSync(python, [path.join(root, "bench/peers/torch_matmul.py"), String(threads), ...SHAPES.map((s) => `${s.m},${s.k},${s.n}`)], { encoding: "utf8" }) : undefined
  if (r === undefined || r.status !== 0) {
    for (const row of rows) row.cells.set(name, "peer not installed")
    continue
  }
  const out = JSON.parse(r.stdout) as { results: Array<{ shape: string; gflops: number }>; torch: string }
  out.results.forEach((x, i) => rows[i]!.cells.set(name, x.gflops))
}

const cell = (v: number | string | undefined) => (typeof v === "number" ? v.toFixed(2) : (v ?? "-"))
/** Microseconds per product at a rate (what one call costs, overhead included). */
const micros = (r: Row, c: string) => {
  const v = r.cells.get(c)
  return typeof v === "number" ? ((2 * r.shape.m * r.shape.k * r.shape.n) / (v * 1e9)) * 1e6 : Number.NaN
}
const section = `## Matrix product kernels for the neural core (issue 18): \`npm run bench:kernels\`

${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? "cpu"} (${os.cpus().length} cores), Node ${process.version}, onnxruntime-node ${ort.env.versions.common}, PyTorch from
Debian's python3-torch on ${systemBlas()}. GFLOP/s of C = A·B (float32, 2·m·k·n per product; repeats of at least 0.5 s after a warm-up;
every result checked against the i-k-j loops). ONNX Runtime gets B as an input on every call, as changing weights would be.

| shape (m × k × n) | ${columns.join(" | ")} |
| --- | ${columns.map(() => "---:").join(" | ")} |
${rows.map((r) => `| ${r.shape.name} (${r.shape.m}×${r.shape.k}×${r.shape.n}) | ${columns.map((c) => cell(r.cells.get(c))).join(" | ")} |`).join("\n")}

Time per product in µs (the same runs): ${rows.map((r) => `${r.shape.m}×${r.shape.k}×${r.shape.n}: TS NativeLstm ${micros(r, "TS NativeLstm gemmNT").toFixed(0)}, XNNPACK ${micros(r, "tfjs wasm (XNNPACK)").toFixed(0)}, ORT ${micros(r, "ORT MatMul 1 thread").toFixed(0)}`).join("; ")}.
`
console.log(section)
if (process.argv.includes("--write")) fs.appendFileSync(path.join(root, "docs/BENCHMARKS.md"), `\n${section}`)
