/**
 * Losses of the neural core, each returning the mean loss and writing its gradient with respect
 * to the predictions: softmax cross-entropy over logits with an ignored target (padding) and
 * label smoothing (PyTorch's CrossEntropyLoss(ignore_index, label_smoothing) with mean
 * reduction), and mean squared error.
 */
import { ensure } from "./Params.ts"

export interface CrossEntropyOptions {
  /** Rows whose target is this id add nothing to the loss or the gradient (−1: none). */
  readonly ignoreIndex?: number
  /** ε: the target distribution is (1−ε)·one-hot + ε/C. */
  readonly smoothing?: number
}

export interface LossResult {
  /** The mean loss over the counted rows (0 when none counts). */
  readonly loss: number
  /** Rows (or elements, for MSE) that counted. */
  readonly count: number
  /** d loss / d predictions, same layout as the predictions. */
  readonly grad: Float32Array
}

/** Cross-entropy of `logits` [rows, C] against `targets` [rows]; `grad` may be a buffer to reuse. */
export const crossEntropy = (
  logits: Float32Array,
  rows: number,
  C: number,
  targets: Int32Array,
  options: CrossEntropyOptions = {},
  grad?: Float32Array
): LossResult => {
  const ignore = options.ignoreIndex ?? -1
  const eps = options.smoothing ?? 0
  const g = ensure(grad, rows * C)
  let count = 0
  for (let r = 0; r < rows; r++) if (targets[r] !== ignore) count++
  let total = 0
  const inv = count === 0 ? 0 : 1 / count
  for (let r = 0; r < rows; r++) {
    const o = r * C
    const t = targets[r]!
    if (t === ignore) {
      g.fill(0, o, o + C)
      continue
    }
    if (!(t >= 0 && t < C)) throw new Error(`crossEntropy: target ${t} out of range [0, ${C}) at row ${r}`)
    let max = -Infinity
    for (let c = 0; c < C; c++) if (logits[o + c]! > max) max = logits[o + c]!
    let sum = 0
    for (let c = 0; c < C; c++) sum += Math.exp(logits[o + c]! - max)
    const logZ = max + Math.log(sum)
    let nll = logZ - logits[o + t]!
    if (eps > 0) {
      let meanNll = 0
      for (let c = 0; c < C; c++) meanNll += logZ - logits[o + c]!
      nll = (1 - eps) * nll + (eps * meanNll) / C
    }
    total += nll
    for (let c = 0; c < C; c++) {
      const p = Math.exp(logits[o + c]! - logZ)
      g[o + c] = (p - (eps / C) - (c === t ? 1 - eps : 0)) * inv
    }
  }
  return { loss: count === 0 ? 0 : total / count, count, grad: g }
}

/** Mean over all elements of (pred − target)². */
export const meanSquaredError = (pred: Float32Array, target: Float32Array, grad?: Float32Array): LossResult => {
  if (pred.length !== target.length) throw new Error(`meanSquaredError: ${pred.length} predictions for ${target.length} targets`)
  const n = pred.length
  const g = ensure(grad, n)
  let total = 0
  for (let i = 0; i < n; i++) {
    const d = pred[i]! - target[i]!
    total += d * d
    g[i] = n === 0 ? 0 : (2 * d) / n
  }
  return { loss: n === 0 ? 0 : total / n, count: n, grad: g }
}

/**
 * Per row: the negative log-likelihood of its target and the target's rank among the logits
 * (0 = most likely; ties count as above), for scoring. Ignored rows get NaN and rank −1.
 */
export const targetNllAndRank = (
  logits: Float32Array,
  rows: number,
  C: number,
  targets: Int32Array,
  ignoreIndex = -1
): { readonly nll: Float64Array; readonly rank: Int32Array } => {
  const nll = new Float64Array(rows)
  const rank = new Int32Array(rows)
  for (let r = 0; r < rows; r++) {
    const o = r * C
    const t = targets[r]!
    if (t === ignoreIndex || !(t >= 0 && t < C)) {
      nll[r] = NaN
      rank[r] = -1
      continue
    }
    let max = -Infinity
    for (let c = 0; c < C; c++) if (logits[o + c]! > max) max = logits[o + c]!
    let sum = 0
    for (let c = 0; c < C; c++) sum += Math.exp(logits[o + c]! - max)
    nll[r] = max + Math.log(sum) - logits[o + t]!
    const lt = logits[o + t]!
    let above = 0
    for (let c = 0; c < C; c++) if (c !== t && logits[o + c]! >= lt) above++
    rank[r] = above
  }
  return { nll, rank }
}
