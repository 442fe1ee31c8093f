/**
 * Streaming a log file through a format, row by row, without holding the file: `scanParsed`
 * (synchronous reads) and `scanParsedAsync` (stoppable between chunks). What `flow parse`, its
 * reading thread (scanWorker.ts) and the benchmarks read files with; it imports only the parsing
 * core, so a worker that runs it starts quickly.
 */
import {
  type CompiledFormat,
  DEFAULT_MAX_LINE_BYTES,
  type LineOptions,
  LineParser,
  newUnparsedCounter,
  type TextEncoding,
  type UnparsedLines
} from "../parsing/LogFormat.ts"
import { type LineVisitor, readLines, readLinesAsync } from "../parsing/LineReader.ts"

/** Where a row's content lies in the read buffer (see `ParsedRow.contentBytes`). */
export interface ContentBytes {
  readonly buffer: Uint8Array
  readonly start: number
  readonly end: number
  readonly utf8: boolean
}

/** A parsed row during `scanParsed`; valid only inside the callback. */
export interface ParsedRow {
  /** 1-based raw line number. */
  readonly lineNo: number
  /** The `<Content>` field as a fresh string. */
  content(): string
  /** Field f (format order) as a string; "" for a field of an absent optional part. */
  field(f: number): string
  /**
   * The `<Content>` bytes in the current read buffer, and whether they are UTF-8 (false for
   * latin1-decoded logs with non-ASCII bytes: then use `content()`). Valid only during the
   * callback: the same object is updated for every row (no allocation per line).
   */
  contentBytes(): ContentBytes
}

/** What `scanParsed` read. */
export interface ScanStats {
  readonly rawLines: number
  readonly parsedLines: number
  /** Lines that continued the event before them (`line.multiline`; 0 without). */
  readonly continuationLines: number
  readonly bytes: number
  readonly unparsed: UnparsedLines
}

/**
 * Stream a file through a format: every parsed row goes to `onRow`, unparsed lines are counted
 * (and sampled) by reason, continuation lines (`line.multiline`) counted. Memory is `readLines`' buffer whatever the file's size.
 */
export const scanParsed = (
  file: string,
  format: CompiledFormat,
  line: LineOptions,
  onRow: (row: ParsedRow) => void,
  maxUnparsedSamples = 5
): ScanStats => {
  const rows = parsedRows(format, line, onRow, maxUnparsedSamples)
  return rows.stats(readLines(file, rows.visitor, rows.options))
}

/** `scanParsed` with asynchronous reads (see `readLinesAsync`): stoppable between chunks by `signal`. */
export const scanParsedAsync = async (
  file: string,
  format: CompiledFormat,
  line: LineOptions,
  onRow: (row: ParsedRow) => void,
  maxUnparsedSamples = 5,
  signal?: AbortSignal
): Promise<ScanStats> => {
  const rows = parsedRows(format, line, onRow, maxUnparsedSamples)
  return rows.stats(await readLinesAsync(file, rows.visitor, { ...rows.options, signal }))
}

/** The line visitor of a scan, and its statistics once the file is read. */
const parsedRows = (format: CompiledFormat, line: LineOptions, onRow: (row: ParsedRow) => void, maxUnparsedSamples: number) => {
  const parser = new LineParser(format, line)
  const unparsed = newUnparsedCounter(maxUnparsedSamples)
  const contentIndex = format.contentIndex
  const starts = parser.starts
  const ends = parser.ends
  let buf: Buffer = Buffer.alloc(0)
  // Decoding per row (not slices of one chunk-wide string) keeps the miner's remembered
  // strings from pinning whole chunks in memory.
  let decode: TextEncoding = "latin1"
  let lineNo = 0
  let parsedLines = 0
  let continuationLines = 0
  const continuation = parser.continuation
  const decodeField = (f: number): string => {
    const s = starts[f]!
    if (s < 0) return ""
    return decode === "latin1" && LATIN1_SLICE !== undefined ? LATIN1_SLICE.call(buf, s, ends[f]!) : buf.toString(decode, s, ends[f]!)
  }
  const bytes: { buffer: Uint8Array; start: number; end: number; utf8: boolean } = { buffer: buf, start: 0, end: 0, utf8: true }
  let utf8 = true
  const row: ParsedRow = {
    get lineNo() {
      return lineNo
    },
    content: () => decodeField(contentIndex),
    field: decodeField,
    contentBytes: () => {
      const s = starts[contentIndex]!
      const e = ends[contentIndex]!
      bytes.buffer = buf
      bytes.start = s < 0 ? 0 : s
      bytes.end = e < 0 ? 0 : e
      bytes.utf8 = utf8
      return bytes
    }
  }
  const visitor: LineVisitor = {
    chunk: (b, from, to) => {
      buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)
      parser.setBuffer(buf, from, to)
      // ASCII decodes the same either way, and latin1 is the cheaper decoder.
      decode = parser.encoding === "latin1" || parser.bufferAscii ? "latin1" : "utf8"
      utf8 = parser.encoding !== "latin1" || parser.bufferAscii
    },
    line: (b, start, end, n) => {
      const status = parser.parseLine(start, end)
      if (status === "parsed") {
        lineNo = n
        parsedLines++
        onRow(row)
      } else if (continuation && status === "no_match" && parsedLines > 0) continuationLines++
      else unparsed.add(n, status, b, start, end, parser.encoding)
    },
    tooLong: (n, head) => unparsed.add(n, "too_long", head, 0, head.length, parser.encoding)
  }
  return {
    visitor,
    options: { maxLineBytes: line.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES },
    stats: (read: { lines: number; bytes: number }): ScanStats => ({ rawLines: read.lines, parsedLines, continuationLines, bytes: read.bytes, unparsed: unparsed.result() })
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Node's `Buffer#latin1Slice` (what `toString("latin1", s, e)` calls after checking its
 * arguments), when present: a fifth less time per row on the streaming path. Not in Node's
 * typings, hence looked up rather than called by name.
 */
const LATIN1_SLICE: ((this: Buffer, start: number, end: number) => string) | undefined = (() => {
  const f: unknown = Reflect.get(Buffer.prototype, "latin1Slice")
  return typeof f === "function" ? (f as (this: Buffer, start: number, end: number) => string) : undefined
})()
