/**
 * LogHub/logparser-style log formats such as `<Date> <Time> <Pid> <Level> <Component>: <Content>`.
 * `compileFormat` turns a format into the matcher logparser's `generate_logformat_regex` builds
 * (runs of spaces match `\s+`, each `<Field>` is a lazy group, `(...)?` an optional part, anchored
 * at both ends); `LineParser` matches one line of UTF-8 (or Latin-1) bytes in place; `parseLog`
 * splits a whole log into the columnar `ParsedLog`. Bad input never throws: a line that does not
 * match, is not valid UTF-8, holds a NUL byte or is longer than `maxLineBytes` is counted and
 * sampled with its reason, and never reaches the columns. With `multiline: "continuation"` a line
 * that does not match the format continues the event before it instead (a traceback's lines):
 * counted as a continuation line, not unparsed.
 */
import { Buffer, isAscii, isUtf8 } from "node:buffer"
import { type DictColumn, growInt32, type StringColumn } from "../artifacts/Columns.ts"
import type { ParsedLog } from "../artifacts/Log.ts"
import { timestampColumn, type TimestampSpec } from "./Timestamp.ts"
import { ByteInterner } from "../artifacts/ByteInterner.ts"

/** A compiled log format: field names, the content field, and an equivalent anchored RegExp. */
export interface CompiledFormat {
  readonly format: string
  /** Field names in format order. */
  readonly fieldNames: ReadonlyArray<string>
  /** Index of `Content` in `fieldNames`. */
  readonly contentIndex: number
  /** Fields inside an optional part `(...)?`: their value is "" on lines without that part. */
  readonly optionalFields: ReadonlyArray<string>
  /** The logparser-equivalent regex (flag `s`), one named group per field; for reference and checks. */
  readonly regex: RegExp
  /** Matcher program over UTF-8 bytes: element kinds (byte, whitespace run, field, optional part, end) and their arguments. */
  readonly kinds: Int8Array
  readonly args: Int32Array
}

/** Why a raw line is not a row: format mismatch, bytes that are not UTF-8, a NUL byte, or over `maxLineBytes`. */
export type UnparsedReason = "no_match" | "invalid_utf8" | "nul_byte" | "too_long"

/** Every unparsed reason, in report order. */
export const UNPARSED_REASONS: ReadonlyArray<UnparsedReason> = ["no_match", "invalid_utf8", "nul_byte", "too_long"]

/** What `LineParser.parseLine` made of one line. */
export type LineStatus = "parsed" | UnparsedReason

/** One kept unparsed line: 1-based line number, reason, and its text (cut to 500 characters, U+FFFD for bad bytes). */
export interface UnparsedSample {
  readonly line: number
  readonly reason: UnparsedReason
  readonly text: string
}

/** Unparsed lines: total, count per reason, and the first few. */
export interface UnparsedLines {
  readonly count: number
  readonly byReason: Readonly<Record<UnparsedReason, number>>
  readonly samples: ReadonlyArray<UnparsedSample>
}

/** `parseLog`'s result: a `ParsedLog` whose unparsed lines also carry their reasons. */
export interface ParseOutput extends ParsedLog {
  readonly unparsed: UnparsedLines
}

/**
 * Why `multiline` cannot be used with `format`, or undefined when it can: "continuation" needs a
 * header field besides `<Content>` (with `<Content>` alone every line would start an event).
 */
export const multilineProblem = (format: CompiledFormat, multiline: Multiline | undefined): string | undefined => {
  if (multiline === undefined || multiline === "none") return undefined
  if (multiline !== "continuation") return `must be "none" or "continuation", got ${JSON.stringify(multiline)}`
  return format.fieldNames.length > 1
    ? undefined
    : `"continuation" needs a format with a header field besides <Content> (${JSON.stringify(format.format)} has none): lines that do not match the header continue the event before them`
}

/**
 * How bytes become text. `utf8` (default): a line that is not valid UTF-8 is unparsed
 * (`invalid_utf8`), never silently repaired. `latin1`: every byte is one character (U+0000 to
 * U+00FF), as logparser reads logs (ISO-8859-1); use it for logs in a legacy 8-bit encoding.
 */
export type TextEncoding = "utf8" | "latin1"

/**
 * Multi-line events. `none` (default): every raw line is an event or unparsed. `continuation`: a
 * line that does not match the format (`no_match`) belongs to the last parsed event, whose
 * content stays its first line (the one the miner templates); such lines are counted as
 * continuation lines, not unparsed. A `no_match` line before the first parsed line is still
 * unparsed, and so is every line that is bad for another reason (`invalid_utf8`, `nul_byte`,
 * `too_long`). A format needs a header field besides `<Content>` for it (`multilineProblem`).
 */
export type Multiline = "none" | "continuation"

/** Line handling shared by `LineParser` and `parseLog`. */
export interface LineOptions {
  /** Strip leading and trailing whitespace (JavaScript `\s`) before matching, as logparser's `line.strip()` does (default false: only one final `\r` is dropped). */
  readonly trim?: boolean
  /** Default "utf8". */
  readonly encoding?: TextEncoding
  /** Longest line, in bytes without its line break, that is parsed (default 1 MiB); longer lines are unparsed (`too_long`). */
  readonly maxLineBytes?: number
  /** Default "none"; see `Multiline`. */
  readonly multiline?: Multiline
}

/** Options of `parseLog`. */
export interface ParseOptions extends LineOptions {
  /** How many unparsed lines to keep as samples (default 5). */
  readonly maxUnparsedSamples?: number
  /** Build `timestamps` from header fields this way (see Timestamp.ts); absent: no timestamps. */
  readonly timestamp?: TimestampSpec
}

/** Default `maxLineBytes`: 1 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 1 << 20

/**
 * Compile a format. Between fields, text is literal except that a run of spaces matches any
 * whitespace run (`\s+`), `\x` stands for the character `x` (so logparser formats written as
 * regex fragments like `\[<Time>\]` work), and `(...)?` marks an optional part, as in logparser's
 * `<Component>(\[<PID>\])?: <Content>` (a `(` without a matching `)?` stays literal; parts do not
 * nest). Throws on a missing `<Content>`, a duplicate, empty, unterminated or non-identifier
 * field, a `>` that closes no field right after a name (`Level>`; `->` is literal), two fields with nothing between them, or an empty or nested
 * optional part.
 */
export const compileFormat = (format: string): CompiledFormat => {
  const fail = (why: string): never => {
    throw new Error(`Invalid log format ${JSON.stringify(format)}: ${why}`)
  }
  const kinds: Array<number> = []
  const args: Array<number> = []
  const fieldNames: Array<string> = []
  const optionalFields: Array<string> = []
  let regex = "^"
  let i = 0
  /** Index in `kinds` of the open optional part's K_OPT, or -1. */
  let openPart = -1
  let partEnd = -1
  while (i < format.length) {
    if (i === partEnd) {
      if (kinds.length === openPart + 1) fail(`empty optional part at position ${i}`)
      args[openPart] = kinds.length + 0
      regex += ")?"
      openPart = -1
      partEnd = -1
      i += 2
      continue
    }
    const ch = format[i]!
    if (ch === "<") {
      const close = format.indexOf(">", i + 1)
      const nextOpen = format.indexOf("<", i + 1)
      if (close < 0 || (nextOpen >= 0 && nextOpen < close)) {
        fail(`unterminated field at position ${i} (write \\< for a literal "<")`)
      }
      const name = format.slice(i + 1, close)
      if (!FIELD_NAME.test(name)) fail(`ill-formed field <${name}> at position ${i} (names must be identifiers like <Content>)`)
      if (fieldNames.includes(name)) fail(`duplicate field <${name}>`)
      kinds.push(K_FIELD)
      args.push(fieldNames.length)
      fieldNames.push(name)
      if (openPart >= 0) optionalFields.push(name)
      regex += `(?<${name}>.*?)`
      i = close + 1
    } else if (ch === ">" && i > 0 && FIELD_CHAR.test(format[i - 1]!)) {
      // `Level>`: a field missing its "<". A ">" after anything else (`->`) is literal.
      fail(`">" at position ${i} closes no field (write \\> for a literal ">")`)
    } else if (ch === " ") {
      while (format[i] === " ") i++
      kinds.push(K_WS)
      args.push(0)
      regex += "\\s+"
    } else if (ch === "(" && partClose(format, i) >= 0) {
      if (openPart >= 0) fail(`nested optional part at position ${i} (write \\( for a literal "(")`)
      openPart = kinds.length
      partEnd = partClose(format, i)
      kinds.push(K_OPT)
      args.push(-1)
      regex += "(?:"
      i++
    } else {
      let at = i
      if (ch === "\\") {
        if (i + 1 >= format.length) fail("trailing backslash")
        at = i + 1
      }
      // A character outside the BMP is two UTF-16 units: keep them together.
      const literal = String.fromCodePoint(format.codePointAt(at)!)
      i = at + literal.length
      for (const b of Buffer.from(literal, "utf8")) {
        kinds.push(K_BYTE)
        args.push(b)
      }
      regex += literal.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&")
    }
  }
  const contentIndex = fieldNames.indexOf("Content")
  if (contentIndex < 0) fail("it has no <Content> field (every format must name the message part <Content>)")
  kinds.push(K_END)
  args.push(0)
  // A field must be followed by something that is not a field, whether or not optional parts are present.
  for (let e = 0; e < kinds.length; e++) {
    if (kinds[e] !== K_FIELD) continue
    const next = firstFields(kinds, args, e + 1)
    if (next.length > 0) {
      fail(`fields <${fieldNames[args[e]!]}> and <${fieldNames[next[0]!]}> have no separator between them`)
    }
  }
  return {
    format,
    fieldNames,
    contentIndex,
    optionalFields,
    regex: new RegExp(regex + "$", "s"),
    kinds: Int8Array.from(kinds),
    args: Int32Array.from(args)
  }
}

/**
 * Matches single lines of a byte buffer against a format, in place, with the regex's
 * backtracking order, so it finds the same groups as `CompiledFormat.regex` on the decoded line:
 * a field takes the shortest extent after which the rest matches, a whitespace run the longest,
 * an optional part is tried before skipping it. A field matches anything, so if the rest fails
 * with field f starting at p it fails for every later start too; remembering that bound per
 * field keeps a non-matching line near linear instead of the regex's exponential worst case.
 * Call `setBuffer` once per buffer, then `parseLine` per line; on "parsed", `starts`/`ends` hold
 * each field's byte range (-1 for a field of an absent optional part).
 */
export class LineParser {
  readonly format: CompiledFormat
  readonly encoding: TextEncoding
  readonly trim: boolean
  readonly maxLineBytes: number
  /** Whether lines that do not match continue the last parsed event (`multiline: "continuation"`). */
  readonly continuation: boolean
  readonly starts: Int32Array
  readonly ends: Int32Array
  /** Start and end of the last line given to `parseLine`, after dropping `\r` and trimming. */
  lineStart = 0
  lineEnd = 0
  private readonly kinds: Int8Array
  private readonly args: Int32Array
  private readonly nFields: number
  /** Per field: the field every continuation reaches next, or -1. */
  private readonly nextField: Int32Array
  /** Per field: 1 for each byte at which the continuation after it can start. */
  private readonly stopBytes: ReadonlyArray<Uint8Array>
  /** Per K_OPT element: the first and end field index inside its part. */
  private readonly partFieldFrom: Int32Array
  private readonly partFieldTo: Int32Array
  private readonly failFrom: Int32Array
  /** The format's first-choice path as straight-line code (see `compileForward`): for ASCII buffers, for others, and the one in use. */
  private readonly forwardAscii: ForwardMatcher
  private readonly forwardText: ForwardMatcher
  private forward: ForwardMatcher
  private buf: Uint8Array = new Uint8Array(0)
  private nodeBuf: Buffer = Buffer.alloc(0)
  private bufEnd = 0
  private allValid = true
  private ascii = true
  private nextNul = Infinity

  constructor(format: CompiledFormat, opts: LineOptions = {}) {
    this.format = format
    this.encoding = opts.encoding ?? "utf8"
    if (this.encoding !== "utf8" && this.encoding !== "latin1") {
      throw new Error(`LineParser: encoding must be "utf8" or "latin1", got ${JSON.stringify(this.encoding)}`)
    }
    this.trim = opts.trim ?? false
    this.maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES
    if (!(this.maxLineBytes >= 1)) throw new Error(`LineParser: maxLineBytes must be >= 1, got ${this.maxLineBytes}`)
    const multiline = multilineProblem(format, opts.multiline)
    if (multiline !== undefined) throw new Error(`LineParser: multiline ${multiline}`)
    this.continuation = opts.multiline === "continuation"
    this.kinds = format.kinds
    this.args = format.args
    if (this.encoding === "latin1") {
      for (let e = 0; e < this.kinds.length; e++) {
        if (this.kinds[e] === K_BYTE && this.args[e]! >= 0x80) {
          throw new Error(`LineParser: format ${JSON.stringify(format.format)} has non-ASCII literals; with encoding "latin1" only ASCII literals are supported`)
        }
      }
    }
    this.nFields = format.fieldNames.length
    this.starts = new Int32Array(this.nFields)
    this.ends = new Int32Array(this.nFields)
    this.failFrom = new Int32Array(this.nFields)
    this.nextField = new Int32Array(this.nFields).fill(-1)
    this.partFieldFrom = new Int32Array(this.kinds.length)
    this.partFieldTo = new Int32Array(this.kinds.length)
    const stopBytes: Array<Uint8Array> = []
    const partOf = new Int32Array(this.nFields).fill(-1)
    for (let e = 0; e < this.kinds.length; e++) {
      if (this.kinds[e] !== K_OPT) continue
      let from = -1
      let to = -1
      for (let k = e + 1; k < this.args[e]!; k++) {
        if (this.kinds[k] !== K_FIELD) continue
        if (from < 0) from = this.args[k]!
        to = this.args[k]! + 1
        partOf[this.args[k]!] = e
      }
      this.partFieldFrom[e] = from
      this.partFieldTo[e] = to
    }
    for (let e = 0; e < this.kinds.length; e++) {
      if (this.kinds[e] !== K_FIELD) continue
      const f = this.args[e]!
      // The next field is reached on every path unless it sits in an optional part f is not in.
      if (f + 1 < this.nFields && (partOf[f + 1] < 0 || partOf[f + 1] === partOf[f])) this.nextField[f] = f + 1
      stopBytes[f] = this.firstBytes(e + 1)
    }
    this.stopBytes = stopBytes
    this.forwardAscii = compileForward(this.kinds, this.args, this.partFieldFrom, this.partFieldTo, "ascii")
    this.forwardText =
      this.encoding === "latin1" ? compileForward(this.kinds, this.args, this.partFieldFrom, this.partFieldTo, "latin1") :
      compileForward(this.kinds, this.args, this.partFieldFrom, this.partFieldTo, "utf8")
    this.forward = this.forwardAscii
  }

  /** Use `buf[from, to)` for the following `parseLine` calls: validates its UTF-8 and finds its NUL bytes once. */
  setBuffer(buf: Uint8Array, from = 0, to = buf.length): void {
    // Element reads are fastest on a plain Uint8Array, indexOf on a Buffer (native memchr).
    this.buf = Buffer.isBuffer(buf) ? new Uint8Array(buf.buffer, buf.byteOffset, buf.length) : buf
    this.nodeBuf = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.length)
    this.bufEnd = to
    const view = from === 0 && to === buf.length ? buf : buf.subarray(from, to)
    this.ascii = isAscii(view)
    this.allValid = this.ascii || this.encoding === "latin1" || isUtf8(view)
    this.forward = this.ascii ? this.forwardAscii : this.forwardText
    this.nextNul = -1
    this.findNul(from)
  }

  /** Parse `buf[start, end)` (no `\n`): "parsed" with `starts`/`ends` set, or why not. */
  parseLine(start: number, end: number): LineStatus {
    const buf = this.buf
    if (end > start && buf[end - 1] === 13) end--
    if (end - start > this.maxLineBytes) return "too_long"
    if (this.nextNul < start) this.findNul(start)
    if (this.nextNul < end) return "nul_byte"
    if (!this.allValid && !isUtf8(buf.subarray(start, end))) return "invalid_utf8"
    if (this.trim) {
      // Most lines start and end with a printable ASCII byte: one comparison each.
      let n: number
      if (start < end && (buf[start]! <= 32 || buf[start]! >= 0x7f)) {
        while (start < end && (n = this.spaceLen(start, end)) > 0) start += n
      }
      if (end > start && (buf[end - 1]! <= 32 || buf[end - 1]! >= 0x7f)) {
        while (end > start && (n = this.spaceLenBefore(end, start)) > 0) end -= n
      }
    }
    this.lineStart = start
    this.lineEnd = end
    if (this.forward(this.buf, start, end, this.starts, this.ends, this.stopBytes)) return "parsed"
    this.failFrom.fill(end + 1)
    return this.match(0, start) ? "parsed" : "no_match"
  }

  /** Whether the current buffer is all ASCII (so Latin-1 decoding equals UTF-8 decoding). */
  get bufferAscii(): boolean {
    return this.ascii
  }

  private findNul(from: number): void {
    const at = this.nodeBuf.indexOf(0, from)
    this.nextNul = at < 0 || at >= this.bufEnd ? Infinity : at
  }

  private match(e: number, p: number): boolean {
    const buf = this.buf
    const le = this.lineEnd
    const kinds = this.kinds
    const args = this.args
    for (;;) {
      const kind = kinds[e]
      if (kind === K_BYTE) {
        if (p < le && buf[p] === args[e]) {
          p++
          e++
          continue
        }
        return false
      }
      if (kind === K_END) return p === le
      if (kind === K_WS) {
        let q = p
        let n: number
        while (q < le && (n = this.spaceLen(q, le)) > 0) q += n
        // Backtrack by whole characters.
        for (let r = q; r > p; r = this.prevBoundary(r, p)) if (this.match(e + 1, r)) return true
        return false
      }
      if (kind === K_OPT) {
        if (this.match(e + 1, p)) return true
        for (let f = this.partFieldFrom[e]!; f < this.partFieldTo[e]!; f++) {
          this.starts[f] = -1
          this.ends[f] = -1
        }
        e = args[e]!
        continue
      }
      // K_FIELD: lazy, so try the shortest extent first; only positions where the next element can start.
      const f = args[e]!
      const failFrom = this.failFrom
      if (p >= failFrom[f]!) return false
      this.starts[f] = p
      const nextKind = kinds[e + 1]
      if (nextKind === K_END) {
        this.ends[f] = le
        return true
      }
      const later = this.nextField[f]!
      const nextByte = nextKind === K_BYTE ? args[e + 1]! : -1
      const stop = this.stopBytes[f]!
      let q = p
      for (;;) {
        // The next field would start at or after q: stop at its known failure bound.
        const limit = later >= 0 && failFrom[later]! < le ? failFrom[later]! : le
        if (nextByte >= 0) {
          while (q < limit && buf[q] !== nextByte) q++
        } else {
          while (q < limit && stop[buf[q]!] === 0) q++
        }
        if (q >= limit) {
          // An optional part may be skipped right up to the end of the line.
          if (q === le && nextByte < 0 && this.match(e + 1, le)) {
            this.ends[f] = le
            return true
          }
          break
        }
        if (this.match(e + 1, q)) {
          this.ends[f] = q
          return true
        }
        q++
      }
      failFrom[f] = p
      return false
    }
  }

  /** Byte length of the whitespace character (JavaScript `\s`) at p, or 0. */
  private spaceLen(p: number, end: number): number {
    const buf = this.buf
    const b = buf[p]!
    if (b < 0x80) return b === 32 || (b >= 9 && b <= 13) ? 1 : 0
    if (this.encoding === "latin1") return b === 0xa0 ? 1 : 0
    return utf8SpaceLen(buf, p, end)
  }

  /** Byte length of the whitespace character ending at p, or 0. */
  private spaceLenBefore(p: number, start: number): number {
    const buf = this.buf
    const b = buf[p - 1]!
    if (b < 0x80) return b === 32 || (b >= 9 && b <= 13) ? 1 : 0
    if (this.encoding === "latin1") return b === 0xa0 ? 1 : 0
    let s = p - 1
    while (s > start && (buf[s]! & 0xc0) === 0x80) s--
    return utf8SpaceLen(buf, s, p) === p - s ? p - s : 0
  }

  private prevBoundary(r: number, floor: number): number {
    r--
    if (this.encoding === "utf8") while (r > floor && (this.buf[r]! & 0xc0) === 0x80) r--
    return r
  }

  /** The bytes at which the program from element e can start consuming input. */
  private firstBytes(e: number): Uint8Array {
    const out = new Uint8Array(256)
    const visit = (k: number): void => {
      const kind = this.kinds[k]
      if (kind === K_BYTE) out[this.args[k]!] = 1
      else if (kind === K_WS) {
        for (const b of [9, 10, 11, 12, 13, 32]) out[b] = 1
        for (const b of this.encoding === "utf8" ? UTF8_SPACE_LEADS : [0xa0]) out[b] = 1
      } else if (kind === K_FIELD) out.fill(1)
      else if (kind === K_OPT) {
        visit(k + 1)
        visit(this.args[k]!)
      }
    }
    visit(e)
    return out
  }
}

/**
 * The byte lines of `buf` end with: `\n` (10), or `\r` (13) when `buf` has a `\r` and no `\n`
 * (classic Mac OS line endings, which would otherwise read as one line).
 */
export const lineBreakOf = (buf: Uint8Array): 10 | 13 => (buf.indexOf(10) < 0 && buf.indexOf(13) >= 0 ? 13 : 10)

/**
 * Parse a whole raw log: split on `\n` (on `\r` if it has no `\n`: `lineBreakOf`), drop one
 * trailing `\r` per line (or trim, with `trim`),
 * ignore the empty piece after a final newline, match every line against the format, and build
 * the columns (with `multiline: "continuation"`, a line that does not match continues the last
 * event: see `Multiline`). Give bytes (a file's Buffer) to have invalid UTF-8 detected; a string was decoded
 * already, so its bad bytes are U+FFFD by now. An empty input gives 0 lines.
 */
export const parseLog = (input: string | Uint8Array, format: CompiledFormat, opts: ParseOptions = {}): ParseOutput => {
  const buf = typeof input === "string" ? Buffer.from(input, "utf8") : input
  const builder = new ParsedLogBuilder(format, opts, buf.length)
  builder.chunk(buf, 0, buf.length)
  let lines = 0
  let pos = 0
  const n = buf.length
  const sep = lineBreakOf(buf)
  while (pos < n) {
    let nl = buf.indexOf(sep, pos)
    if (nl < 0) nl = n
    builder.line(pos, nl, ++lines)
    pos = nl + 1
  }
  return builder.finish(lines)
}

/**
 * `parseLog`'s work line by line, for a log held whole or streamed in chunks (`parseLogFile`):
 * `chunk` names the buffer the following lines are in, `line` parses one of them, `tooLong` counts
 * one a reader skipped, `finish` builds the columns. The same lines give the same output.
 */
export class ParsedLogBuilder {
  private readonly parser: LineParser
  private readonly nFields: number
  private readonly contentIndex: number
  private readonly latin1: boolean
  private readonly continuation: boolean
  private readonly unparsed: UnparsedCounter
  private readonly dicts: Array<ByteInterner> = []
  private readonly lastCode: Int32Array
  private readonly repeated: Uint8Array
  private readonly format: CompiledFormat
  private readonly timestamp: TimestampSpec | undefined
  private buf: Uint8Array = new Uint8Array(0)
  /** The current chunk holds bytes >= 0x80 and they are Latin-1: copy them as UTF-8. */
  private transcodeChunk = false
  /** Some chunk did: the header fields' values are transcoded at the end. */
  private transcode = false
  private capacity: number
  private lineNo: Int32Array
  /** Row-major codes (row * nFields + field): one write stream, split into columns at the end. */
  private codes: Int32Array
  private blob: Uint8Array
  private offsets: Int32Array
  private blobPos = 0
  private rows = 0
  private continuationLines = 0

  /** `sizeHint`: the log's bytes, when known (the buffers are sized from it). */
  constructor(format: CompiledFormat, opts: ParseOptions = {}, sizeHint = 1 << 16) {
    this.format = format
    this.timestamp = opts.timestamp
    this.parser = new LineParser(format, opts)
    this.nFields = format.fieldNames.length
    this.contentIndex = format.contentIndex
    this.latin1 = this.parser.encoding === "latin1"
    this.continuation = this.parser.continuation
    this.unparsed = newUnparsedCounter(opts.maxUnparsedSamples ?? 5)
    for (let f = 0; f < this.nFields; f++) this.dicts.push(new ByteInterner())
    this.lastCode = new Int32Array(this.nFields).fill(-1)
    this.repeated = new Uint8Array(this.nFields)
    this.capacity = Math.max(16, Math.min(sizeHint >> 5, 1 << 20))
    this.lineNo = new Int32Array(this.capacity)
    this.codes = new Int32Array(this.capacity * this.nFields)
    this.offsets = new Int32Array(this.capacity + 1)
    this.blob = new Uint8Array(Math.max(16, sizeHint))
  }

  /** The following lines are in `buf[from, to)`. */
  chunk(buf: Uint8Array, from: number, to: number): void {
    this.buf = buf
    this.parser.setBuffer(buf, from, to)
    // Latin-1 bytes >= 0x80 take two bytes in UTF-8.
    this.transcodeChunk = this.latin1 && !isAscii(from === 0 && to === buf.length ? buf : buf.subarray(from, to))
    if (this.transcodeChunk) this.transcode = true
  }

  /** Line number `lineNo` (1-based), `buf[start, end)` of the current chunk, without its line break. */
  line(start: number, end: number, lineNo: number): void {
    const parser = this.parser
    const status = parser.parseLine(start, end)
    if (status !== "parsed") {
      if (this.continuation && status === "no_match" && this.rows > 0) this.continuationLines++
      else this.unparsed.add(lineNo, status, this.buf, start, end, parser.encoding)
      return
    }
    const rows = this.rows
    const nFields = this.nFields
    if (rows === this.capacity) {
      this.capacity *= 2
      this.lineNo = growInt32(this.lineNo, this.capacity)
      this.offsets = growInt32(this.offsets, this.capacity + 1)
      this.codes = growInt32(this.codes, this.capacity * nFields)
    }
    this.lineNo[rows] = lineNo
    const buf = this.buf
    const starts = parser.starts
    const ends = parser.ends
    const codes = this.codes
    const at = rows * nFields
    for (let f = 0; f < nFields; f++) {
      let s = starts[f]!
      let e = ends[f]!
      if (s < 0) s = e = 0
      if (f === this.contentIndex) {
        this.offsets[rows] = this.blobPos
        const need = this.blobPos + (this.transcodeChunk ? 2 : 1) * (e - s)
        if (need > this.blob.length) {
          const blob = new Uint8Array(Math.max(need, 2 * this.blob.length))
          blob.set(this.blob.subarray(0, this.blobPos))
          this.blob = blob
        }
        if (this.transcodeChunk) this.blobPos = latin1ToUtf8(buf, s, e, this.blob, this.blobPos)
        else this.blobPos = copyRange(buf, s, e, this.blob, this.blobPos)
        continue
      }
      const dict = this.dicts[f]!
      // Header fields often repeat the previous line's value: while they do, check that before
      // hashing; a field that changed on the last row (a time) goes straight to the table.
      let code = this.lastCode[f]!
      if (this.repeated[f] === 0 || !dict.holds(code, buf, s, e)) {
        code = dict.intern(buf, s, e)
        this.repeated[f] = code === this.lastCode[f] ? 1 : 0
        this.lastCode[f] = code
      }
      codes[at + f] = code
    }
    this.rows = rows + 1
  }

  /** Line `lineNo`, longer than the parser's `maxLineBytes`, skipped by a reader: `head` its first bytes. */
  tooLong(lineNo: number, head: Uint8Array): void {
    this.unparsed.add(lineNo, "too_long", head, 0, head.length, this.parser.encoding)
  }

  /** The output, after `lines` raw lines. */
  finish(lines: number): ParseOutput {
    const { rows, nFields, format } = this
    this.offsets[rows] = this.blobPos
    const fields: Array<{ name: string; column: DictColumn }> = []
    for (let f = 0; f < nFields; f++) {
      if (f === this.contentIndex) continue
      const column = new Int32Array(rows)
      for (let r = 0, k = f; r < rows; r++, k += nFields) column[r] = this.codes[k]!
      fields.push({ name: format.fieldNames[f]!, column: { values: valuesColumn(this.dicts[f]!, this.transcode), codes: column } })
    }
    const content: StringColumn = { blob: this.blob.slice(0, this.blobPos), offsets: fit(this.offsets, rows + 1) }
    // Only a multi-line parse has the count: a default parse's output stays as it was.
    const base = {
      rawLines: lines,
      lineNo: fit(this.lineNo, rows),
      content,
      fields,
      unparsed: this.unparsed.result(),
      ...(this.continuation ? { continuationLines: this.continuationLines } : {})
    }
    if (this.timestamp === undefined) return base
    return { ...base, timestamps: timestampColumn(fields, this.timestamp) }
  }
}

/** Counts unparsed lines by reason and keeps the first samples; shared by `parseLog` and streaming readers. */
export interface UnparsedCounter {
  add(line: number, reason: UnparsedReason, buf: Uint8Array, start: number, end: number, encoding: TextEncoding): void
  result(): UnparsedLines
}

/** A fresh `UnparsedCounter` keeping at most `maxSamples` samples. */
export const newUnparsedCounter = (maxSamples: number): UnparsedCounter => {
  const byReason: Record<UnparsedReason, number> = { no_match: 0, invalid_utf8: 0, nul_byte: 0, too_long: 0 }
  const samples: Array<UnparsedSample> = []
  let count = 0
  return {
    add: (line, reason, buf, start, end, encoding) => {
      count++
      byReason[reason]++
      if (samples.length < maxSamples) {
        if (end > start && buf[end - 1] === 13 && reason !== "too_long") end--
        samples.push({ line, reason, text: sampleText(buf, start, end, encoding) })
      }
    },
    result: () => ({ count, byReason: { ...byReason }, samples: [...samples] })
  }
}

/** Decode a line for a sample: at most SAMPLE_CHARS characters, bad UTF-8 as U+FFFD, a cut marked with "…". */
export const sampleText = (buf: Uint8Array, start: number, end: number, encoding: TextEncoding): string => {
  const cut = Math.min(end, start + 4 * SAMPLE_CHARS)
  const text = encoding === "latin1" ? latin1Decoder.decode(buf.subarray(start, cut)) : utf8Decoder.decode(buf.subarray(start, cut))
  return text.length > SAMPLE_CHARS || cut < end ? `${text.slice(0, SAMPLE_CHARS)}…` : text
}

// ---------------------------------------------------------------------------------------------

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const FIELD_CHAR = /[A-Za-z0-9_]/
const SAMPLE_CHARS = 500

/** Matcher element kinds: one byte, a greedy `\s+`, a lazy `(.*?)` field, the line end, an optional part (arg: the element after it). */
const K_BYTE = 0
const K_WS = 1
const K_FIELD = 2
const K_END = 3
const K_OPT = 4

/** Lead bytes of the non-ASCII characters JavaScript's `\s` matches (U+00A0, U+1680, U+2000-U+200A, U+2028/9, U+202F, U+205F, U+3000, U+FEFF). */
const UTF8_SPACE_LEADS = [0xc2, 0xe1, 0xe2, 0xe3, 0xef]

const utf8Decoder = new TextDecoder("utf-8")
const latin1Decoder = new TextDecoder("latin1")

/** Byte length of the non-ASCII JavaScript `\s` character encoded at p, or 0. */
const utf8SpaceLen = (buf: Uint8Array, p: number, end: number): number => {
  const b = buf[p]!
  if (b === 0xc2) return p + 1 < end && buf[p + 1] === 0xa0 ? 2 : 0
  if (p + 2 >= end) return 0
  const b1 = buf[p + 1]!
  const b2 = buf[p + 2]!
  if (b === 0xe1) return b1 === 0x9a && b2 === 0x80 ? 3 : 0
  if (b === 0xe2) {
    if (b1 === 0x80) return (b2 >= 0x80 && b2 <= 0x8a) || b2 === 0xa8 || b2 === 0xa9 || b2 === 0xaf ? 3 : 0
    return b1 === 0x81 && b2 === 0x9f ? 3 : 0
  }
  if (b === 0xe3) return b1 === 0x80 && b2 === 0x80 ? 3 : 0
  if (b === 0xef) return b1 === 0xbb && b2 === 0xbf ? 3 : 0
  return 0
}

/** Whitespace tests on `b = buf[p]` for text known to be ASCII or Latin-1 (UTF-8 needs `spaceLen` for multi-byte spaces). */
const SPACE_TEST = {
  ascii: "((b = buf[p]) === 32 || (b <= 13 && b >= 9))",
  latin1: "((b = buf[p]) === 32 || (b <= 13 && b >= 9) || b === 0xa0)"
} as const

/** The negation of SPACE_TEST on `b = buf[q]`, one comparison for most bytes. */
const NOT_SPACE_TEST = {
  ascii: "((b = buf[q]) > 32 || !(b === 32 || (b <= 13 && b >= 9)))",
  latin1: "(((b = buf[q]) > 32 && b !== 0xa0) || !(b === 32 || (b <= 13 && b >= 9)))"
} as const

/** Matches the first-choice path of a line `buf[p, le)`, filling `starts`/`ends`; false when it fails. */
type ForwardMatcher = (
  buf: Uint8Array,
  p: number,
  le: number,
  starts: Int32Array,
  ends: Int32Array,
  stops: ReadonlyArray<Uint8Array>
) => boolean

/**
 * The regex's first choice at every step, without backtracking, compiled to straight-line code
 * for one format: each field up to the first place the next element can start, each whitespace
 * run as long as it goes, each optional part taken unless its first byte differs. Backtracking
 * tries that path first, so when it matches it is the regex's match; when it does not, the
 * caller searches properly. Generated code holds only numbers taken from the program, never
 * text from the format, and runs several times faster than interpreting the program per line.
 */
const compileForward = (
  kinds: Int8Array,
  args: Int32Array,
  partFieldFrom: Int32Array,
  partFieldTo: Int32Array,
  mode: "ascii" | "latin1" | "utf8"
): ForwardMatcher => {
  const wsRun = (): Array<string> => [
    "q = p",
    ...(mode === "utf8"
      ? [
        // Multi-byte whitespace is checked outside the hot loop.
        "for (;;) {",
        "  while (p < le && ((b = buf[p]) === 32 || (b <= 13 && b >= 9))) p++",
        "  if (p >= le || b < 0x80 || (n = spaceLen(buf, p, le)) === 0) break",
        "  p += n",
        "}"
      ]
      : [`while (p < le && ${SPACE_TEST[mode]}) p++`]),
    "if (p === q) return false"
  ]
  const toSpace = (): Array<string> =>
    mode === "utf8"
      ? [
        "for (;;) {",
        "  while (q < le && (((b = buf[q]) > 32 && b < 0x80) || !(b === 32 || (b <= 13 && b >= 9) || b >= 0x80))) q++",
        "  if (q >= le || b < 0x80 || spaceLen(buf, q, le) > 0) break",
        "  q++",
        "}"
      ]
      : [`while (q < le && ${NOT_SPACE_TEST[mode]}) q++`]
  const lines: Array<string> = ["let q = 0, b = 0, n = 0"]
  let e = 0
  let partEnd = -1
  let partSkip = ""
  while (e < kinds.length) {
    if (e === partEnd) {
      lines.push(`} else {${partSkip}}`)
      partEnd = -1
    }
    const kind = kinds[e]
    const arg = args[e]!
    // Consecutive "field, whitespace" pairs (most of a space-separated header) run as one loop:
    // V8 optimises a loop far better than the same code unrolled.
    let pairs = 0
    while (kinds[e + 2 * pairs] === K_FIELD && kinds[e + 2 * pairs + 1] === K_WS && (pairs === 0 || e + 2 * pairs !== partEnd)) pairs++
    if (pairs >= 2) {
      lines.push(`for (let f = ${arg}; f < ${arg + pairs}; f++) {`, "starts[f] = p", "q = p", ...toSpace(), "if (q >= le) return false", "ends[f] = q", "p = q", ...wsRun(), "}")
      e += 2 * pairs
      continue
    }
    if (kind === K_BYTE) {
      lines.push(`if (p >= le || buf[p] !== ${arg}) return false`, "p++")
    } else if (kind === K_END) {
      lines.push("return p === le")
    } else if (kind === K_WS) {
      lines.push(...wsRun())
    } else if (kind === K_OPT) {
      const first = e + 1
      let skip = ""
      for (let f = partFieldFrom[e]!; f < partFieldTo[e]!; f++) skip += `starts[${f}] = -1; ends[${f}] = -1; `
      lines.push(kinds[first] === K_BYTE ? `if (p < le && buf[p] === ${args[first]}) {` : "if (true) {")
      partEnd = arg
      partSkip = skip
    } else {
      const next = kinds[e + 1]
      lines.push(`starts[${arg}] = p`)
      if (next === K_END) {
        lines.push(`ends[${arg}] = le`, "return true")
      } else {
        lines.push("q = p")
        if (next === K_BYTE) lines.push(`while (q < le && buf[q] !== ${args[e + 1]}) q++`)
        else if (next === K_WS) lines.push(...toSpace())
        else lines.push(`while (q < le && stops[${arg}][buf[q]] === 0) q++`)
        lines.push("if (q >= le) return false", `ends[${arg}] = q`, "p = q")
      }
    }
    e++
  }
  const body = `"use strict"\n${lines.join("\n")}\nreturn false`
  try {
    const make = new Function("spaceLen", `return function forward(buf, p, le, starts, ends, stops) {\n${body}\n}`) as (
      spaceLen: typeof utf8SpaceLen
    ) => ForwardMatcher
    return make(utf8SpaceLen)
  } catch {
    // Code generation disabled (--disallow-code-generation-from-strings): the backtracking matcher alone is correct, only slower.
    return () => false
  }
}

/** Where an optional part opened at i closes (the index of its `)` followed by `?`), or -1 if `(` is literal there. */
const partClose = (format: string, i: number): number => {
  for (let j = i + 1; j < format.length; j++) {
    const c = format[j]
    if (c === "\\") j++
    else if (c === ")") return format[j + 1] === "?" ? j : -1
  }
  return -1
}

/** Fields that can be the first thing matched from element e (through skipped optional parts). */
const firstFields = (kinds: ArrayLike<number>, args: ArrayLike<number>, e: number): Array<number> => {
  const kind = kinds[e]
  if (kind === K_FIELD) return [args[e]!]
  if (kind === K_OPT) return [...firstFields(kinds, args, e + 1), ...firstFields(kinds, args, args[e]!)]
  return []
}

/** A field dictionary's distinct values as a UTF-8 column (`latin1`: the bytes are Latin-1, transcode them). */
const valuesColumn = (dict: ByteInterner, latin1: boolean): StringColumn => {
  const raw = dict.column()
  if (!latin1) return raw
  const n = dict.count
  const offsets = new Int32Array(n + 1)
  const blob = new Uint8Array(2 * raw.blob.length)
  let pos = 0
  for (let i = 0; i < n; i++) {
    offsets[i] = pos
    pos = latin1ToUtf8(raw.blob, raw.offsets[i]!, raw.offsets[i + 1]!, blob, pos)
  }
  offsets[n] = pos
  return { blob: blob.slice(0, pos), offsets }
}

/**
 * Copy `src[s, e)` to `out` at `pos`; returns the new write position. No view is made: a
 * subarray per field per line was most of the garbage of a parse (short ranges by hand, long
 * ones through Buffer's native copy).
 */
const copyRange = (src: Uint8Array, s: number, e: number, out: Uint8Array, pos: number): number => {
  if (e - s < 48) {
    for (let k = s; k < e; k++) out[pos++] = src[k]!
    return pos
  }
  return pos + bufferCopy.call(src, out, pos, s, e)
}
const bufferCopy = Buffer.prototype.copy

/** Copy Latin-1 bytes as UTF-8; returns the new write position. */
const latin1ToUtf8 = (buf: Uint8Array, s: number, e: number, out: Uint8Array, pos: number): number => {
  for (let k = s; k < e; k++) {
    const b = buf[k]!
    if (b < 0x80) out[pos++] = b
    else {
      out[pos++] = 0xc0 | (b >> 6)
      out[pos++] = 0x80 | (b & 0x3f)
    }
  }
  return pos
}

const fit = (a: Int32Array, n: number): Int32Array => (a.length === n ? a : a.slice(0, n))
