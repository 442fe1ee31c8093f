/**
 * A raw log after parsing and after mining: one row per parsed line, columnar (typed arrays and
 * packed text), so a 10M-line log never exists as 10M JS objects. `ParsedLog` is what the parse
 * stage stores; `TemplatedLog` is the template id per row plus the template table.
 */
import type { DictColumn, StringColumn } from "./Columns.ts"

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
  /**
   * With multi-line events (`parser.multiline = "continuation"`): raw lines that continued the
   * event before them (a traceback's lines), neither rows nor unparsed. Absent otherwise.
   */
  readonly continuationLines?: number
}

/** A mined template. */
export interface Template {
  readonly id: number
  /** The miner's token-level text (`<*>` for a whole token, named masks as `<:NAME:>`): what matching uses. */
  readonly text: string
  readonly count: number
  /** The parameter-exact text a person reads (docs/PARSING.md), when the miner wrote one. */
  readonly exact?: string
}

/** Template id per parsed row plus the template table. */
export interface TemplatedLog {
  readonly templateIds: Int32Array
  readonly templates: ReadonlyArray<Template>
}
