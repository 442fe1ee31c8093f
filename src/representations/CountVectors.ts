/**
 * Template count vectors: one row per sequence, one column per vocabulary template, the number
 * of times the template occurs in the sequence (loglizer's event count matrix), for PCA,
 * invariant mining, log clustering and the count-based baselines. Stored sparse as CSR typed
 * arrays (a sequence touches few templates); `denseCounts` expands when a model wants a matrix.
 */
import type { Sequences } from "../artifacts/Sequences.ts"
import type { Vocabulary } from "./Vocabulary.ts"

/** Compressed sparse rows: row i's nonzeros are `indices/data[indptr[i] .. indptr[i+1])`, columns ascending. */
export interface CountMatrix {
  readonly rows: number
  readonly cols: number
  readonly indptr: Int32Array
  readonly indices: Int32Array
  readonly data: Int32Array
  /** Out-of-vocabulary events per row (not in any column). */
  readonly oov: Int32Array
}

/** Count vectors of every sequence over `vocab`. Two passes over the events; scratch space is per column, never per row. */
export const countVectors = (seqs: Sequences, vocab: Vocabulary): CountMatrix => {
  const n = seqs.offsets.length - 1
  const cols = vocab.templateIds.length
  const { offsets, events } = seqs
  const { index } = vocab
  const stamp = new Int32Array(cols).fill(-1)
  const indptr = new Int32Array(n + 1)
  const oov = new Int32Array(n)
  const column = (t: number): number => (t >= 0 && t < index.length ? index[t]! : -1)

  for (let i = 0; i < n; i++) {
    let nnz = 0
    for (let p = offsets[i]!, end = offsets[i + 1]!; p < end; p++) {
      const c = column(events[p]!)
      if (c < 0) oov[i]++
      else if (stamp[c] !== i) {
        stamp[c] = i
        nnz++
      }
    }
    indptr[i + 1] = indptr[i]! + nnz
  }

  const indices = new Int32Array(indptr[n]!)
  const data = new Int32Array(indptr[n]!)
  const counts = new Int32Array(cols)
  for (let i = 0; i < n; i++) {
    const base = indptr[i]!
    let used = 0
    for (let p = offsets[i]!, end = offsets[i + 1]!; p < end; p++) {
      const c = column(events[p]!)
      if (c < 0) continue
      if (counts[c] === 0) indices[base + used++] = c
      counts[c]++
    }
    if (used > 1) indices.subarray(base, base + used).sort()
    for (let k = base; k < base + used; k++) {
      data[k] = counts[indices[k]!]!
      counts[indices[k]!] = 0
    }
  }
  return { rows: n, cols, indptr, indices, data, oov }
}

/** Row-major dense Float64Array (rows × cols) of a count matrix. */
export const denseCounts = (m: CountMatrix): Float64Array => {
  const out = new Float64Array(m.rows * m.cols)
  for (let i = 0; i < m.rows; i++) {
    for (let k = m.indptr[i]!; k < m.indptr[i + 1]!; k++) out[i * m.cols + m.indices[k]!] = m.data[k]!
  }
  return out
}
