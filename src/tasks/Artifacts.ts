/**
 * The artifact shapes that flow between stages. Every shape that grows with the log is columnar
 * (typed arrays), so a stage can hand it to a worker or to the cache without building one JS
 * object per line. Small summaries stay plain JSON-able objects.
 */

/** Strings packed as one UTF-8 blob plus start offsets (length n + 1). */
export interface StringColumn {
  readonly blob: Uint8Array
  readonly offsets: Int32Array
}

/**
 * A dictionary-encoded header field: codes index into `values`, the distinct values packed as
 * one UTF-8 blob (a field whose values are all distinct, like a time with microseconds, costs
 * bytes, not one JS string per line).
 */
export interface DictColumn {
  readonly values: StringColumn
  readonly codes: Int32Array
}

/** One row per parsed (format-matching) line of the raw log. */
export interface ParsedLog {
  /** Raw lines read, including the ones that did not match the format. */
  readonly rawLines: number
  /** 1-based raw line number of each parsed row. */
  readonly lineNo: Int32Array
  /** The `<Content>` field of each parsed row. */
  readonly content: StringColumn
  /** Every other header field, dictionary-encoded, in format order. */
  readonly fields: ReadonlyArray<{ readonly name: string; readonly column: DictColumn }>
  /**
   * Milliseconds since the epoch per parsed row (NaN where the line has no parseable time), when
   * the format has a timestamp; absent otherwise.
   */
  readonly timestamps?: Float64Array
  /** Raw lines that did not match the format: count and the first few for the manifest. */
  readonly unparsed: { readonly count: number; readonly samples: ReadonlyArray<{ readonly line: number; readonly text: string }> }
}

/** A mined template. */
export interface Template {
  readonly id: number
  readonly text: string
  readonly count: number
}

/** Template id per parsed row plus the template table. */
export interface TemplatedLog {
  readonly templateIds: Int32Array
  readonly templates: ReadonlyArray<Template>
}

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

/** Split tags per sequence. */
export const SPLIT_TRAIN = 0
export const SPLIT_TEST = 1
export const SPLIT_IGNORED = 2

export interface SplitSummary {
  readonly train: { readonly count: number; readonly normal: number; readonly anomaly: number; readonly unknown: number }
  readonly test: { readonly count: number; readonly normal: number; readonly anomaly: number; readonly unknown: number }
  readonly ignored: { readonly count: number; readonly normal: number; readonly anomaly: number; readonly unknown: number }
}

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

/** Scores for every sequence (NaN where not scored) and 0/1 predictions. */
export interface Scores {
  readonly scores: Float64Array
  readonly predictions: Uint8Array
  readonly threshold: number
}
