/**
 * NativeLstm's product kernel contract (`gemmNT`: C (+)= A·Bᵀ over strided rows) on TensorFlow.js's
 * WebAssembly backend (XNNPACK), synchronously: A is copied into a contiguous tensor, B transposed
 * into one (the backend's product with a transposed operand ran 3x slower), the product read back
 * and written (or added) into C. For bench:train's comparison (issue 18's kernel choice) only.
 */
import * as tf from "@tensorflow/tfjs"
import type { GemmNT } from "../../src/detectors/deeplog/NativeLstm.ts"

const rowsOf = (X: Float32Array, off: number, ld: number, rows: number, cols: number): Float32Array => {
  if (ld === cols) return X.subarray(off, off + rows * cols)
  const out = new Float32Array(rows * cols)
  for (let r = 0; r < rows; r++) out.set(X.subarray(off + r * ld, off + r * ld + cols), r * cols)
  return out
}

/** Bm's K rows of N (stride ldb) transposed into [N, K]: the backend's product is fastest without a transposed operand. */
const transposed = (Bm: Float32Array, off: number, ld: number, K: number, N: number): Float32Array => {
  const out = new Float32Array(N * K)
  for (let k = 0; k < K; k++) {
    const row = off + k * ld
    for (let j = 0; j < N; j++) out[j * K + k] = Bm[row + j]!
  }
  return out
}

export const xnnpackGemm: GemmNT = (A, aOff, lda, M, N, Bm, bOff, ldb, K, C, cOff, ldc, accumulate) => {
  if (M === 0 || K === 0) return
  const c = tf.tidy(() => tf.matMul(tf.tensor2d(rowsOf(A, aOff, lda, M, N), [M, N]), tf.tensor2d(transposed(Bm, bOff, ldb, K, N), [N, K])))
  const out = c.dataSync() as Float32Array
  c.dispose()
  for (let m = 0; m < M; m++) {
    const row = cOff + m * ldc
    if (accumulate) for (let k = 0; k < K; k++) C[row + k] = C[row + k]! + out[m * K + k]!
    else C.set(out.subarray(m * K, m * K + K), row)
  }
}
