/**
 * Chronological train/test split of sequences (which are already ordered by first row): the
 * first floor(trainFraction·n) sequences train, the rest test. No shuffling, so no future
 * lines leak into training. Optionally keeps only known-normal sequences on the train side,
 * as semi-supervised detectors (DeepLog, PCA, invariants) expect.
 */
import type { Sequences, SplitSequences } from "../tasks/Artifacts.ts"
import { LABEL_NORMAL, SPLIT_IGNORED, SPLIT_TEST, SPLIT_TRAIN } from "../tasks/Artifacts.ts"
import { labelHistogram } from "./Labels.ts"

/** Options of `chronologicalSplit`. */
export interface SplitOptions {
  /** Fraction of sequences (by count, in order) used for training, strictly between 0 and 1. */
  readonly trainFraction: number
  /**
   * Tag train-side sequences that are not known-normal as IGNORED. Unknown-label sequences are
   * ignored too: they may hide anomalies, and a normal-only training set must not. Test-side
   * sequences are never ignored, whatever their label (evaluation decides what to do with unknowns).
   */
  readonly trainOnNormalOnly: boolean
}

/**
 * Split sequences chronologically: the first floor(trainFraction·n) are SPLIT_TRAIN (or
 * SPLIT_IGNORED under trainOnNormalOnly), the rest SPLIT_TEST. The product is nudged by 1e-9
 * before flooring, so 0.29 · 100 gives 29 rather than 28 from floating-point error.
 */
export const chronologicalSplit = (seqs: Sequences, opts: SplitOptions): SplitSequences => {
  const f = opts.trainFraction
  if (!Number.isFinite(f) || f <= 0 || f >= 1) {
    throw new Error(`chronologicalSplit: option trainFraction must be strictly between 0 and 1, got ${String(f)}`)
  }
  const n = seqs.labels.length
  if (seqs.offsets.length !== n + 1) {
    throw new Error(`chronologicalSplit: ${seqs.offsets.length - 1} sequences but ${n} labels`)
  }
  const nTrain = Math.min(n, Math.floor(f * n + 1e-9))
  const split = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    if (i >= nTrain) split[i] = SPLIT_TEST
    else if (opts.trainOnNormalOnly && seqs.labels[i] !== LABEL_NORMAL) split[i] = SPLIT_IGNORED
    else split[i] = SPLIT_TRAIN
  }
  return {
    split,
    summary: {
      train: splitCounts(seqs.labels, split, SPLIT_TRAIN),
      test: splitCounts(seqs.labels, split, SPLIT_TEST),
      ignored: splitCounts(seqs.labels, split, SPLIT_IGNORED)
    }
  }
}

const splitCounts = (labels: Int8Array, split: Uint8Array, tag: number) => {
  const h = labelHistogram(labels, { split, tag })
  return { count: h.normal + h.anomaly + h.unknown, ...h }
}
