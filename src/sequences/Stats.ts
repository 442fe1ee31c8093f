/**
 * Compact statistics of a set of sequences for manifests and stage summaries: sequence-length
 * statistics and label histograms, overall and per split. Everything returned is small and
 * JSON-safe (an empty selection gives count 0 and zeros, never NaN).
 */
import type { Sequences } from "../artifacts/Sequences.ts"
import { SPLIT_IGNORED, SPLIT_TEST, SPLIT_TRAIN } from "../artifacts/Sequences.ts"
import { labelHistogram, type LabelHistogram } from "./Labels.ts"

/** Sequence lengths (events per sequence). */
export interface LengthStats {
  readonly count: number
  readonly min: number
  readonly max: number
  readonly mean: number
  /** Middle value; the mean of the two middle values for an even count. */
  readonly median: number
  /** Nearest rank: the ceil(0.95 · count)-th smallest length. */
  readonly p95: number
}

/** Lengths and labels of one group of sequences. */
export interface GroupStats {
  readonly lengths: LengthStats
  readonly labels: LabelHistogram
}

/** Statistics over all sequences, and per split when split tags are given. */
export interface SequenceStats extends GroupStats {
  readonly perSplit?: { readonly train: GroupStats; readonly test: GroupStats; readonly ignored: GroupStats }
}

/** Length statistics of the sequences whose split tag is `tag` (all sequences when `split` is absent). */
export const lengthStats = (seqs: Sequences, split?: Uint8Array, tag?: number): LengthStats => {
  const n = seqs.offsets.length - 1
  if (split !== undefined && split.length !== n) throw new Error(`lengthStats: split has ${split.length} entries but there are ${n} sequences`)
  const lengths = new Int32Array(n)
  let count = 0
  let sum = 0
  for (let i = 0; i < n; i++) {
    if (split !== undefined && split[i] !== tag) continue
    const len = seqs.offsets[i + 1]! - seqs.offsets[i]!
    lengths[count++] = len
    sum += len
  }
  if (count === 0) return { count: 0, min: 0, max: 0, mean: 0, median: 0, p95: 0 }
  const sorted = lengths.subarray(0, count).sort()
  const mid = count >> 1
  return {
    count,
    min: sorted[0]!,
    max: sorted[count - 1]!,
    mean: sum / count,
    median: count % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2,
    p95: sorted[Math.max(0, Math.ceil(0.95 * count - 1e-9) - 1)]!
  }
}

/** Lengths and label histogram overall, plus per split (train, test, ignored) when `split` is given. */
export const sequenceStats = (seqs: Sequences, split?: Uint8Array): SequenceStats => {
  const all: GroupStats = { lengths: lengthStats(seqs), labels: labelHistogram(seqs.labels) }
  if (split === undefined) return all
  const group = (tag: number): GroupStats => ({ lengths: lengthStats(seqs, split, tag), labels: labelHistogram(seqs.labels, { split, tag }) })
  return { ...all, perSplit: { train: group(SPLIT_TRAIN), test: group(SPLIT_TEST), ignored: group(SPLIT_IGNORED) } }
}
