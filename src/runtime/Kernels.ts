/**
 * The numeric kernels the neural core runs its matrix products on: logflow's native addon
 * (native/kernels.c, built at install into .build/native/kernels.node; it calls OpenBLAS when the
 * system has it) or, when the addon is absent or `FLOW_KERNELS=typescript`, TypeScript loops.
 * Every backend is deterministic for a given thread count; different backends round differently,
 * so a model records the `name` of the kernels it was trained on.
 */
import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { attnSoftmaxLoop, dropoutLoop, geluBackwardLoop, geluLoop, layerNormBackwardLoop, layerNormLoop, softmaxBackwardLoop } from "./KernelLoops.ts"
import { projectRoot } from "./ProjectRoot.ts"

/**
 * Row-major C = alpha·op(A)·op(B) + beta·C (BLAS sgemm): op(A) is M×K, op(B) K×N; `transA`
 * means A is stored K×M, `transB` that B is stored N×K; `lda`, `ldb`, `ldc` are row strides.
 */
export type Gemm = (
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: Float32Array, aOff: number, lda: number, B: Float32Array, bOff: number, ldb: number,
  beta: number, C: Float32Array, cOff: number, ldc: number
) => void

/** The elementwise kernels (src/runtime/KernelLoops.ts documents each). */
export interface ElementwiseKernels {
  readonly dropout: (x: Float32Array, y: Float32Array, mask: Float32Array, n: number, p: number, state: number) => number
  readonly gelu: (x: Float32Array, y: Float32Array, n: number) => void
  readonly geluBackward: (x: Float32Array, dy: Float32Array, dx: Float32Array, n: number) => void
  readonly attnSoftmax: (probs: Float32Array, B: number, H: number, T: number, causal: boolean, keyPad: Uint8Array) => void
  readonly softmaxBackward: (dP: Float32Array, probs: Float32Array, pOff: number, T: number, scale: number) => void
  readonly layerNorm: (x: Float32Array, y: Float32Array, xhat: Float32Array, rstd: Float32Array, rows: number, D: number, gamma: Float32Array, beta: Float32Array, eps: number) => void
  readonly layerNormBackward: (dy: Float32Array, xhat: Float32Array, rstd: Float32Array, gamma: Float32Array, dgamma: Float32Array, dbeta: Float32Array, dx: Float32Array, rows: number, D: number) => void
}

export interface Kernels extends ElementwiseKernels {
  /** "openblas", "native-loops" or "typescript": what the products ran on. */
  readonly name: string
  readonly gemm: Gemm
  /** Threads the products may use (the native BLAS only; the loops use one). */
  readonly setThreads: (n: number) => void
}

interface Addon extends ElementwiseKernels {
  gemm: Gemm
  setThreads(n: number): void
  info(): { blas: string; threads: number }
}

const loops: ElementwiseKernels = {
  dropout: dropoutLoop,
  gelu: geluLoop,
  geluBackward: geluBackwardLoop,
  attnSoftmax: attnSoftmaxLoop,
  softmaxBackward: softmaxBackwardLoop,
  layerNorm: layerNormLoop,
  layerNormBackward: layerNormBackwardLoop
}

/** The addon's path under the project root. */
export const nativeKernelsPath = (): string => path.join(projectRoot(), ".build", "native", "kernels.node")

/**
 * The kernels of this process: the native addon unless `FLOW_KERNELS=typescript` or it is not
 * built (`node scripts/build-native.ts`), then TypeScript. `prefer` overrides the environment.
 */
export const loadKernels = (prefer?: "native" | "typescript"): Kernels => {
  const want = prefer ?? (process.env["FLOW_KERNELS"] === "typescript" ? "typescript" : "native")
  if (want === "native") {
    const file = nativeKernelsPath()
    if (existsSync(file)) {
      const addon = createRequire(path.join(projectRoot(), "package.json"))(file) as Addon
      const blas = addon.info().blas
      return {
        name: blas === "none" ? "native-loops" : "openblas",
        gemm: addon.gemm,
        setThreads: (n) => addon.setThreads(n),
        dropout: addon.dropout,
        gelu: addon.gelu,
        geluBackward: addon.geluBackward,
        attnSoftmax: addon.attnSoftmax,
        softmaxBackward: addon.softmaxBackward,
        layerNorm: addon.layerNorm,
        layerNormBackward: addon.layerNormBackward
      }
    }
  }
  return { name: "typescript", gemm: tsGemm, setThreads: () => undefined, ...loops }
}

/**
 * The TypeScript product: op(A) and op(B)ᵀ copied into contiguous rows, then dot products over
 * K in 2×4 register blocks (the form V8 runs fastest), in double precision per dot product.
 */
export const tsGemm: Gemm = (transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc) => {
  if (M === 0 || N === 0) return
  for (let i = 0; i < M; i++) {
    const r = cOff + i * ldc
    if (beta === 0) C.fill(0, r, r + N)
    else if (beta !== 1) for (let j = 0; j < N; j++) C[r + j] = beta * C[r + j]!
  }
  if (K === 0 || alpha === 0) return
  // a: [M, K] rows; b: [N, K] rows (op(B) transposed)
  let a: Float32Array
  let ao = 0
  let la = K
  if (!transA) { a = A; ao = aOff; la = lda } else {
    a = new Float32Array(M * K)
    for (let k = 0; k < K; k++) for (let i = 0; i < M; i++) a[i * K + k] = A[aOff + k * lda + i]!
  }
  let b: Float32Array
  let bo = 0
  let lb = K
  if (transB) { b = B; bo = bOff; lb = ldb } else {
    b = new Float32Array(N * K)
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) b[j * K + k] = B[bOff + k * ldb + j]!
  }
  let i = 0
  for (; i + 1 < M; i += 2) {
    const a0 = ao + i * la
    const a1 = a0 + la
    let j = 0
    for (; j + 3 < N; j += 4) {
      const b0 = bo + j * lb
      const b1 = b0 + lb
      const b2 = b1 + lb
      const b3 = b2 + lb
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0
      for (let k = 0; k < K; k++) {
        const x0 = a[a0 + k]!
        const x1 = a[a1 + k]!
        const y0 = b[b0 + k]!
        const y1 = b[b1 + k]!
        const y2 = b[b2 + k]!
        const y3 = b[b3 + k]!
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3
      }
      const c0 = cOff + i * ldc + j
      const c1 = c0 + ldc
      C[c0] = C[c0]! + alpha * s00; C[c0 + 1] = C[c0 + 1]! + alpha * s01; C[c0 + 2] = C[c0 + 2]! + alpha * s02; C[c0 + 3] = C[c0 + 3]! + alpha * s03
      C[c1] = C[c1]! + alpha * s10; C[c1 + 1] = C[c1 + 1]! + alpha * s11; C[c1 + 2] = C[c1 + 2]! + alpha * s12; C[c1 + 3] = C[c1 + 3]! + alpha * s13
    }
    for (; j < N; j++) {
      const b0 = bo + j * lb
      let s0 = 0, s1 = 0
      for (let k = 0; k < K; k++) { const y = b[b0 + k]!; s0 += a[a0 + k]! * y; s1 += a[a1 + k]! * y }
      C[cOff + i * ldc + j] = C[cOff + i * ldc + j]! + alpha * s0
      C[cOff + (i + 1) * ldc + j] = C[cOff + (i + 1) * ldc + j]! + alpha * s1
    }
  }
  for (; i < M; i++) {
    const a0 = ao + i * la
    for (let j = 0; j < N; j++) {
      const b0 = bo + j * lb
      let s = 0
      for (let k = 0; k < K; k++) s += a[a0 + k]! * b[b0 + k]!
      C[cOff + i * ldc + j] = C[cOff + i * ldc + j]! + alpha * s
    }
  }
}
