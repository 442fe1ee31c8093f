/**
 * Chronological stream chunks: the parsed rows cut, in log order, into consecutive chunks of
 * `chunkSize` rows, for detectors that read the log as one stream (DeepLog-style next-event
 * prediction over a whole BGL or Thunderbird log) but are trained and scored per chunk.
 *
 * `continuous_context` (our definition): each chunk after the first is prefixed with the k rows
 * immediately before it (the tail of the previous chunk), as context that is read but not
 * scored, so a detector with a history of up to k events sees an unbroken stream across chunk
 * boundaries. `true` means k = chunkSize (the whole previous chunk), `false` or 0 means none.
 */
import type { ParsedLog, TemplatedLog } from "../artifacts/Log.ts"
import type { Sequences } from "../artifacts/Sequences.ts"
import { LABEL_UNKNOWN } from "../artifacts/Sequences.ts"
import { prefixedIntegerIds } from "./Ids.ts"

/** Options of `streamChunks`; config spelling in brackets. */
export interface StreamChunkOptions {
  /** Rows per chunk, integer >= 1 [`chunk_size`]; the last chunk may be shorter. */
  readonly chunkSize: number
  /** Context rows carried from before each chunk: integer >= 0, or true = chunkSize, false = 0 (default) [`continuous_context`]. */
  readonly continuousContext?: boolean | number
}

/** Chunks as sequences, and how many leading events of each are context (not to be scored or labelled). */
export interface StreamChunks {
  /**
   * Chunk i covers rows `rows[offsets[i] .. offsets[i+1])`: first `context[i]` context rows,
   * then its own rows. Ids are `c<first own row>`; labels are LABEL_UNKNOWN.
   */
  readonly sequences: Sequences
  readonly context: Int32Array
}

/** Context rows per chunk that `continuous_context` asks for: true = a whole chunk, false = none. */
export const contextRows = (continuousContext: boolean | number | undefined, chunkSize: number): number =>
  continuousContext === true ? chunkSize : continuousContext === false || continuousContext === undefined ? 0 : continuousContext

/** Cut the rows into chunks [c·size, min((c+1)·size, n)), each prefixed with up to k earlier rows as context. */
export const streamChunks = (parsed: ParsedLog, templated: TemplatedLog, opts: StreamChunkOptions): StreamChunks => {
  const size = opts.chunkSize
  if (!Number.isSafeInteger(size) || size < 1) throw new Error(`streamChunks: chunk_size must be an integer >= 1, got ${String(size)}`)
  const cc = opts.continuousContext ?? false
  const k = contextRows(cc, size)
  if (!Number.isSafeInteger(k) || k < 0) {
    throw new Error(`streamChunks: continuous_context must be true, false or an integer >= 0 (context rows), got ${String(cc)}`)
  }
  const n = parsed.lineNo.length
  if (templated.templateIds.length !== n) {
    throw new Error(`streamChunks: templateIds has ${templated.templateIds.length} rows but the parsed log has ${n}`)
  }

  const count = Math.ceil(n / size)
  const offsets = new Int32Array(count + 1)
  const context = new Int32Array(count)
  const firsts = new Float64Array(count)
  for (let c = 0; c < count; c++) {
    const start = c * size
    context[c] = Math.min(k, start)
    firsts[c] = start
    offsets[c + 1] = offsets[c]! + context[c]! + Math.min(size, n - start)
  }
  const total = offsets[count]!
  const rows = new Int32Array(total)
  const events = new Int32Array(total)
  const templateIds = templated.templateIds
  for (let c = 0; c < count; c++) {
    let at = offsets[c]!
    for (let row = c * size - context[c]!, stop = Math.min((c + 1) * size, n); row < stop; row++, at++) {
      rows[at] = row
      events[at] = templateIds[row]!
    }
  }
  return {
    sequences: { ids: prefixedIntegerIds("c", firsts), offsets, rows, events, labels: new Int8Array(count).fill(LABEL_UNKNOWN) },
    context
  }
}
