/**
 * Sequences and their labels and split: groups of parsed rows (by entity, window or chunk, or
 * published sessions) with a template id per event, what the group, label, sessions and split
 * stages store. Every array is columnar; sequence i covers `offsets[i] .. offsets[i+1]`.
 */
import type { StringColumn } from "./Columns.ts"

/** Label codes used in label columns. */
export const LABEL_UNKNOWN = -1
export const LABEL_NORMAL = 0
export const LABEL_ANOMALY = 1

/**
 * Groups of parsed rows (by entity or window). Sequence i covers
 * `rows[offsets[i] .. offsets[i+1])`; `events` holds the template id of each of those rows.
 * Sequences are ordered chronologically by their first row.
 */
export interface Sequences {
  readonly ids: StringColumn
  readonly offsets: Int32Array
  readonly rows: Int32Array
  readonly events: Int32Array
  /** LABEL_UNKNOWN, LABEL_NORMAL or LABEL_ANOMALY per sequence. */
  readonly labels: Int8Array
}

/** Sequences plus what the grouping knows about them (the group stage's output). */
export interface GroupedSequences {
  readonly sequences: Sequences
  /** Stream chunks: leading context events per sequence (not to be labelled or scored). */
  readonly context?: Int32Array
  /** Time windows: rows without a timestamp (in no window). */
  readonly untimed?: number
}

/** Sequences with labels, and how many could not be labelled (the label stage's output). */
export interface LabelledSequences {
  readonly sequences: Sequences
  readonly unlabeled: number
  /** Leading context events per sequence (stream chunks), carried from the grouping. */
  readonly context?: Int32Array
  /** Per parsed row, when labels are per line (raw-entry splits count normal entries with it). */
  readonly rowLabels?: Int8Array
}

/** The split a session file gives, as the split stage's second input for pre-sequenced datasets. */
export interface PredefinedSplit {
  readonly split: Uint8Array | undefined
}

/** Sessions as labelled sequences, with the file's split tags when it gives them (the sessions stage's output). */
export interface Sessions extends LabelledSequences, PredefinedSplit {
  readonly vocabulary: Int32Array
}

/** Split tags per sequence. */
export const SPLIT_TRAIN = 0
export const SPLIT_TEST = 1
export const SPLIT_IGNORED = 2

export interface SplitSummary {
  readonly train: { readonly count: number; readonly normal: number; readonly anomaly: number; readonly unknown: number }
  readonly test: { readonly count: number; readonly normal: number; readonly anomaly: number; readonly unknown: number }
  readonly ignored: { readonly count: number; readonly normal: number; readonly anomaly: number; readonly unknown: number }
}

/** Split tags and their summary (the split stage's output). */
export interface SplitSequences {
  /** SPLIT_TRAIN, SPLIT_TEST or SPLIT_IGNORED per sequence. */
  readonly split: Uint8Array
  readonly summary: SplitSummary
  /**
   * The sequences the tags refer to, when the split changed them (a raw-entry split that cuts
   * straddling sequences in two); absent: the labelled sequences upstream.
   */
  readonly sequences?: Sequences
}

/** The sequences a split's tags refer to. */
export const splitSequences = (labelled: LabelledSequences, split: SplitSequences): Sequences => split.sequences ?? labelled.sequences

/** Indexes of the sequences with split tag `tag`. */
export const indexesWithTag = (split: Uint8Array, tag: number): Int32Array => {
  let n = 0
  for (let i = 0; i < split.length; i++) if (split[i] === tag) n++
  const out = new Int32Array(n)
  for (let i = 0, j = 0; i < split.length; i++) if (split[i] === tag) out[j++] = i
  return out
}
