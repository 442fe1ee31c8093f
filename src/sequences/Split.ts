/**
 * Train/test splits of sequences. Three ways, each tagging every sequence SPLIT_TRAIN,
 * SPLIT_TEST or SPLIT_IGNORED (left out of both, and counted):
 * - `chronologicalSplit`: sequences are ordered by first row; train = the first
 *   `train_fraction`, test = the last `test_fraction` (default: all the rest), the middle ignored.
 * - `randomSplit`: the same sizes over a seeded shuffle (mulberry32 + Fisher-Yates), an explicit
 *   alternative for comparison with papers that shuffle.
 * - `rawEntrySplit`: a boundary on the parsed rows (log entries) before grouping; sequences on
 *   one side go to that side, and those that straddle the boundary follow a policy.
 * Under `train_on_normal_entities_only`, train-side sequences not known to be normal are
 * ignored. A split that leaves train or test empty is an error naming the responsible key.
 */
import type { Sequences, SplitSequences, SplitSummary } from "../artifacts/Sequences.ts"
import { LABEL_NORMAL, SPLIT_IGNORED, SPLIT_TEST, SPLIT_TRAIN } from "../artifacts/Sequences.ts"
import { labelHistogram } from "./Labels.ts"
import { seededPermutation } from "../artifacts/Random.ts"

/** Options of `chronologicalSplit`; config spelling in brackets. */
export interface SplitOptions {
  /** Fraction of sequences (by count, in order) used for training, in (0, 1] [`train_fraction`]. */
  readonly trainFraction: number
  /**
   * Fraction of sequences at the end used for testing, in (0, 1], with train + test <= 1
   * [`test_fraction`]. Absent: every sequence after the train part is tested.
   */
  readonly testFraction?: number
  /**
   * Tag train-side sequences that are not known-normal as IGNORED [`train_on_normal_entities_only`].
   * Unknown-label sequences are ignored too: they may hide anomalies, and a normal-only training
   * set must not. Test-side sequences are never ignored, whatever their label.
   */
  readonly trainOnNormalOnly: boolean
}

/** Options of `randomSplit`: the sizes of `chronologicalSplit` plus the PRNG seed. */
export interface RandomSplitOptions extends SplitOptions {
  /** mulberry32 seed, an integer in [0, 2^32) [`seed`]. */
  readonly seed: number
}

/** What happens to a sequence with rows on both sides of a raw-entry boundary [`straddle_policy`]. */
export type StraddlePolicy =
  /** Cut it in two: the rows before the boundary train, the rest test (two sequences, same id and label). */
  | "split_partial"
  /** Whole sequence to the side of its first event. */
  | "first_event"
  /** Whole sequence to the side of its last event. */
  | "last_event"
  /** Tag it IGNORED. */
  | "drop"

/** Where a raw-entry split puts the boundary between train rows and test rows. */
export type RawBoundary =
  /** Train side = the first `n` parsed rows (integer >= 1) [`raw_first_n`]. */
  | { readonly kind: "raw_first_n"; readonly n: number }
  /** Train side = the first floor(fraction · rows) parsed rows, fraction in (0, 1] [`raw_first_fraction`]. */
  | { readonly kind: "raw_first_fraction"; readonly fraction: number }
  /**
   * Train side = the rows up to and including the k-th normal row, k = floor(fraction · normal
   * rows), fraction in (0, 1] [`raw_first_fraction_of_normal`]. `rowLabels` gives each parsed row's
   * label (`lineLabels` for line-labelled logs, `rowLabelsFromSequences` for entity labels).
   */
  | { readonly kind: "raw_first_fraction_of_normal"; readonly fraction: number; readonly rowLabels: Int8Array }

/** Options of `rawEntrySplit`. */
export interface RawEntrySplitOptions {
  readonly boundary: RawBoundary
  readonly policy: StraddlePolicy
  /** Number of parsed rows (log entries) the sequences were built from. */
  readonly rowCount: number
  /** As in `SplitOptions` [`train_on_normal_entities_only`]. */
  readonly trainOnNormalOnly: boolean
}

/**
 * Result of `rawEntrySplit`. `split[i]` tags `sequences` sequence i. `sequences` is the input
 * object itself, except under "split_partial" when some sequence straddles the boundary: then it
 * is a new Sequences in which each straddler is replaced by its train part (at its old place)
 * and its test part (placed among the test-side sequences by its first row), both keeping the
 * straddler's id and label, so (id, split) stays unique and the order stays by first row.
 */
export interface RawEntrySplit extends SplitSequences {
  readonly sequences: Sequences
  /** Rows < boundaryRow are the train side, rows >= boundaryRow the test side. */
  readonly boundaryRow: number
  /** Input sequences with rows on both sides, before the policy was applied. */
  readonly straddling: number
}

/**
 * Chronological split: the first floor(train_fraction·n) sequences train (or are ignored under
 * trainOnNormalOnly), the last floor(test_fraction·n) test (n − train when test_fraction is
 * absent), the rest ignored. Products are nudged by 1e-9 before flooring, so 0.29 · 100 is 29.
 */
export const chronologicalSplit = (seqs: Sequences, opts: SplitOptions): SplitSequences => {
  const n = sequenceCount(seqs, "chronologicalSplit")
  const { nTrain, nTest } = splitSizes(n, opts)
  const split = new Uint8Array(n).fill(SPLIT_IGNORED)
  for (let i = 0; i < nTrain; i++) split[i] = SPLIT_TRAIN
  for (let i = n - nTest; i < n; i++) split[i] = SPLIT_TEST
  return finish(seqs.labels, split, opts.trainOnNormalOnly, "train_fraction")
}

/**
 * Seeded random split with the sizes of `chronologicalSplit`: shuffle the sequence indexes with
 * Fisher-Yates driven by `mulberry32(seed)` (for i = n−1 … 1: j = floor(next() · (i + 1)), swap),
 * then the first nTrain shuffled indexes train, the last nTest test, the rest are ignored.
 * Sequences keep their order; only the tags are random. Same seed, same split.
 */
export const randomSplit = (seqs: Sequences, opts: RandomSplitOptions): SplitSequences => {
  const n = sequenceCount(seqs, "randomSplit")
  if (!Number.isInteger(opts.seed) || opts.seed < 0 || opts.seed > 0xffffffff) {
    throw new Error(`randomSplit: seed must be an integer in [0, 2^32), got ${String(opts.seed)}`)
  }
  const { nTrain, nTest } = splitSizes(n, opts)
  const order = seededPermutation(n, opts.seed)
  const split = new Uint8Array(n).fill(SPLIT_IGNORED)
  for (let k = 0; k < nTrain; k++) split[order[k]!] = SPLIT_TRAIN
  for (let k = n - nTest; k < n; k++) split[order[k]!] = SPLIT_TEST
  return finish(seqs.labels, split, opts.trainOnNormalOnly, "train_fraction")
}

/**
 * Raw-entry split: put a boundary on the parsed rows (see `RawBoundary`), then tag each sequence
 * by the side its rows fall on; a sequence with rows on both sides follows `opts.policy`. Throws
 * naming the boundary key when a side ends up empty (or `train_on_normal_entities_only` when only
 * that option emptied train), and `straddle_policy` when an unknown policy is given.
 */
export const rawEntrySplit = (seqs: Sequences, opts: RawEntrySplitOptions): RawEntrySplit => {
  const n = sequenceCount(seqs, "rawEntrySplit")
  const policy = opts.policy
  if (policy !== "split_partial" && policy !== "first_event" && policy !== "last_event" && policy !== "drop") {
    throw new Error(`rawEntrySplit: straddle_policy must be one of split_partial, first_event, last_event, drop; got ${JSON.stringify(policy)}`)
  }
  const boundaryRow = boundaryOf(opts.boundary, opts.rowCount)
  const key = opts.boundary.kind
  const { offsets, rows } = seqs

  const split = new Uint8Array(n)
  const straddlers: Array<number> = []
  for (let i = 0; i < n; i++) {
    const from = offsets[i]!
    const end = offsets[i + 1]!
    if (from === end) {
      split[i] = SPLIT_IGNORED
      continue
    }
    let before = false
    let after = false
    for (let p = from; p < end; p++) {
      if (rows[p]! < boundaryRow) before = true
      else after = true
    }
    if (before !== after) {
      split[i] = before ? SPLIT_TRAIN : SPLIT_TEST
      continue
    }
    straddlers.push(i)
    if (policy === "first_event") split[i] = rows[from]! < boundaryRow ? SPLIT_TRAIN : SPLIT_TEST
    else if (policy === "last_event") split[i] = rows[end - 1]! < boundaryRow ? SPLIT_TRAIN : SPLIT_TEST
    else if (policy === "drop") split[i] = SPLIT_IGNORED
    else split[i] = SPLIT_TRAIN // split_partial: this slot keeps the train part
  }

  if (policy !== "split_partial" || straddlers.length === 0) {
    const out = finish(seqs.labels, split, opts.trainOnNormalOnly, key)
    return { ...out, sequences: seqs, boundaryRow, straddling: straddlers.length }
  }
  const cut = cutStraddlers(seqs, split, straddlers, boundaryRow)
  const out = finish(cut.sequences.labels, cut.split, opts.trainOnNormalOnly, key)
  return { ...out, sequences: cut.sequences, boundaryRow, straddling: straddlers.length }
}

/** Split tags to summary; applies trainOnNormalOnly and rejects an empty side. */
const finish = (labels: Int8Array, split: Uint8Array, trainOnNormalOnly: boolean, key: string): SplitSequences => {
  let sideTrain = 0
  for (let i = 0; i < split.length; i++) {
    if (split[i] !== SPLIT_TRAIN) continue
    sideTrain++
    if (trainOnNormalOnly && labels[i] !== LABEL_NORMAL) split[i] = SPLIT_IGNORED
  }
  const summary: SplitSummary = {
    train: splitCounts(labels, split, SPLIT_TRAIN),
    test: splitCounts(labels, split, SPLIT_TEST),
    ignored: splitCounts(labels, split, SPLIT_IGNORED)
  }
  const n = split.length
  if (sideTrain === 0) throw new Error(`split: ${key} leaves the train split empty (${n} sequences)`)
  if (summary.train.count === 0) {
    throw new Error(`split: train_on_normal_entities_only leaves the train split empty: none of the ${sideTrain} train-side sequences is labelled normal`)
  }
  if (summary.test.count === 0) throw new Error(`split: ${key} leaves the test split empty (${n} sequences)`)
  return { split, summary }
}

const splitCounts = (labels: Int8Array, split: Uint8Array, tag: number) => {
  const h = labelHistogram(labels, { split, tag })
  return { count: h.normal + h.anomaly + h.unknown, ...h }
}

const sequenceCount = (seqs: Sequences, fn: string): number => {
  const n = seqs.labels.length
  if (seqs.offsets.length !== n + 1) throw new Error(`${fn}: ${seqs.offsets.length - 1} sequences but ${n} labels`)
  return n
}

const validFraction = (key: string, f: number): void => {
  if (typeof f !== "number" || !(f > 0 && f <= 1)) throw new Error(`split: ${key} must be in (0, 1], got ${String(f)}`)
}

const splitSizes = (n: number, opts: SplitOptions): { nTrain: number; nTest: number } => {
  validFraction("train_fraction", opts.trainFraction)
  if (opts.testFraction !== undefined) {
    validFraction("test_fraction", opts.testFraction)
    if (opts.trainFraction + opts.testFraction > 1 + 1e-9) {
      throw new Error(`split: train_fraction + test_fraction must be at most 1, got ${opts.trainFraction} + ${opts.testFraction}`)
    }
  }
  const nTrain = Math.min(n, Math.floor(opts.trainFraction * n + 1e-9))
  const nTest = opts.testFraction === undefined ? n - nTrain : Math.min(n - nTrain, Math.floor(opts.testFraction * n + 1e-9))
  if (nTest === 0 && nTrain > 0) {
    throw new Error(
      opts.testFraction === undefined
        ? `split: train_fraction ${opts.trainFraction} leaves the test split empty (${n} sequences)`
        : `split: test_fraction ${opts.testFraction} leaves the test split empty (${n} sequences)`
    )
  }
  return { nTrain, nTest }
}

const boundaryOf = (b: RawBoundary, rowCount: number): number => {
  if (!Number.isSafeInteger(rowCount) || rowCount < 0) throw new Error(`rawEntrySplit: rowCount must be an integer >= 0, got ${String(rowCount)}`)
  switch (b.kind) {
    case "raw_first_n":
      if (!Number.isSafeInteger(b.n) || b.n < 1) throw new Error(`split: raw_first_n must be an integer >= 1, got ${String(b.n)}`)
      if (b.n >= rowCount) throw new Error(`split: raw_first_n ${b.n} leaves no entry for the test split (the log has ${rowCount} parsed rows)`)
      return b.n
    case "raw_first_fraction":
      validFraction("raw_first_fraction", b.fraction)
      return Math.floor(b.fraction * rowCount + 1e-9)
    case "raw_first_fraction_of_normal": {
      validFraction("raw_first_fraction_of_normal", b.fraction)
      const labels = b.rowLabels
      if (labels.length !== rowCount) throw new Error(`rawEntrySplit: rowLabels has ${labels.length} rows but rowCount is ${rowCount}`)
      let normal = 0
      for (let row = 0; row < rowCount; row++) if (labels[row] === LABEL_NORMAL) normal++
      const k = Math.floor(b.fraction * normal + 1e-9)
      if (k === 0) throw new Error(`split: raw_first_fraction_of_normal ${b.fraction} of ${normal} normal entries leaves the train split empty`)
      for (let row = 0, seen = 0; row < rowCount; row++) {
        if (labels[row] === LABEL_NORMAL && ++seen === k) return row + 1
      }
      return rowCount
    }
    default:
      throw new Error(`rawEntrySplit: unknown boundary kind ${JSON.stringify((b as { kind: unknown }).kind)}`)
  }
}

/** The split_partial rebuild: straddlers keep their train part in place; test parts join the test side by first row. */
const cutStraddlers = (
  seqs: Sequences,
  split: Uint8Array,
  straddlers: ReadonlyArray<number>,
  boundaryRow: number
): { sequences: Sequences; split: Uint8Array } => {
  const { offsets, rows, events, labels, ids } = seqs
  const n = split.length
  const isStraddler = new Uint8Array(n)
  for (const i of straddlers) isStraddler[i] = 1

  // Output order: the sequences whose first row is before the boundary (straddlers as their
  // train part), then the test side merged by first row: whole test sequences (already ordered)
  // and the straddlers' test parts (sorted by their first test row); ties put whole ones first.
  const firstTestRow = (i: number): number => {
    for (let p = offsets[i]!; p < offsets[i + 1]!; p++) if (rows[p]! >= boundaryRow) return rows[p]!
    return -1
  }
  const parts = straddlers.map((i) => ({ i, first: firstTestRow(i) })).sort((a, b) => a.first - b.first || a.i - b.i)
  const order: Array<number> = [] // sequence index, or -(k + 1) for test part k
  const wholeTest: Array<number> = []
  for (let i = 0; i < n; i++) {
    const from = offsets[i]!
    if (isStraddler[i] === 1 || (from < offsets[i + 1]! && rows[from]! < boundaryRow)) order.push(i)
    else if (from < offsets[i + 1]!) wholeTest.push(i)
    else order.push(i) // empty sequences keep their place (ignored)
  }
  let a = 0
  let b = 0
  while (a < wholeTest.length || b < parts.length) {
    if (b === parts.length || (a < wholeTest.length && rows[offsets[wholeTest[a]!]!]! <= parts[b]!.first)) order.push(wholeTest[a++]!)
    else order.push(-(b++ + 1))
  }

  const m = order.length
  const outOffsets = new Int32Array(m + 1)
  const outLabels = new Int8Array(m)
  const outSplit = new Uint8Array(m)
  const idOffsets = new Int32Array(m + 1)
  const source = new Int32Array(m)
  for (let k = 0; k < m; k++) {
    const o = order[k]!
    const i = o >= 0 ? o : parts[-o - 1]!.i
    source[k] = i
    let len = 0
    if (o >= 0 && isStraddler[i] === 1) {
      for (let p = offsets[i]!; p < offsets[i + 1]!; p++) if (rows[p]! < boundaryRow) len++
    } else if (o < 0) {
      for (let p = offsets[i]!; p < offsets[i + 1]!; p++) if (rows[p]! >= boundaryRow) len++
    } else {
      len = offsets[i + 1]! - offsets[i]!
    }
    outOffsets[k + 1] = outOffsets[k]! + len
    outLabels[k] = labels[i]!
    outSplit[k] = o >= 0 ? split[i]! : SPLIT_TEST
    idOffsets[k + 1] = idOffsets[k]! + ids.offsets[i + 1]! - ids.offsets[i]!
  }
  const total = outOffsets[m]!
  const outRows = new Int32Array(total)
  const outEvents = new Int32Array(total)
  const idBlob = new Uint8Array(idOffsets[m]!)
  for (let k = 0; k < m; k++) {
    const o = order[k]!
    const i = source[k]!
    const keep = o < 0 ? 1 : isStraddler[i] === 1 ? 0 : 2 // 0: rows before, 1: rows from the boundary, 2: all
    let at = outOffsets[k]!
    for (let p = offsets[i]!; p < offsets[i + 1]!; p++) {
      const row = rows[p]!
      if (keep === 0 && row >= boundaryRow) continue
      if (keep === 1 && row < boundaryRow) continue
      outRows[at] = row
      outEvents[at] = events[p]!
      at++
    }
    idBlob.set(ids.blob.subarray(ids.offsets[i]!, ids.offsets[i + 1]!), idOffsets[k]!)
  }
  return {
    sequences: { ids: { blob: idBlob, offsets: idOffsets }, offsets: outOffsets, rows: outRows, events: outEvents, labels: outLabels },
    split: outSplit
  }
}
