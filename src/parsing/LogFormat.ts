/**
 * LogHub/logparser-style log formats such as `<Date> <Time> <Pid> <Level> <Component>: <Content>`.
 * `compileFormat` turns a format into the matcher logparser's `generate_logformat_regex` builds
 * (runs of spaces match `\s+`, each `<Field>` is a lazy group, anchored at both ends);
 * `parseLog` splits raw text into the columnar `ParsedLog`: `<Content>` as a StringColumn and
 * every other field dictionary-encoded. Use it as the first stage over any raw log file.
 */
import { Buffer } from "node:buffer"
import type { DictColumn, ParsedLog, StringColumn } from "../tasks/Artifacts.ts"

/** A compiled log format: field names, the content field, and an equivalent anchored RegExp. */
export interface CompiledFormat {
  readonly format: string
  /** Field names in format order. */
  readonly fieldNames: ReadonlyArray<string>
  /** Index of `Content` in `fieldNames`. */
  readonly contentIndex: number
  /** The logparser-equivalent regex (flag `s`), one named group per field; for reference and checks. */
  readonly regex: RegExp
  /** Matcher program: element kinds (char, whitespace run, field, end) and their arguments. */
  readonly kinds: Int8Array
  readonly args: Int32Array
}

/** Options of `parseLog`. */
export interface ParseOptions {
  /** How many unmatched lines to keep as samples (default 5). */
  readonly maxUnparsedSamples?: number
}

/**
 * Compile a format. Between fields, text is literal except that a run of spaces matches any
 * whitespace run (`\s+`) and `\x` stands for the character `x` (so logparser formats written
 * as regex fragments like `\[<Time>\]` work). Throws on a missing `<Content>`, a duplicate,
 * empty, unterminated or non-identifier field, or two fields with nothing between them.
 */
export const compileFormat = (format: string): CompiledFormat => {
  const kinds: Array<number> = []
  const args: Array<number> = []
  const fieldNames: Array<string> = []
  let regex = "^"
  let i = 0
  let lastWasField = false
  while (i < format.length) {
    const ch = format[i]!
    if (ch === "<") {
      const close = format.indexOf(">", i + 1)
      const nextOpen = format.indexOf("<", i + 1)
      if (close < 0 || (nextOpen >= 0 && nextOpen < close)) {
        throw new Error(`Invalid log format ${JSON.stringify(format)}: unterminated field at position ${i} (write \\< for a literal "<")`)
      }
      const name = format.slice(i + 1, close)
      if (!FIELD_NAME.test(name)) {
        throw new Error(`Invalid log format ${JSON.stringify(format)}: ill-formed field <${name}> at position ${i} (names must be identifiers like <Content>)`)
      }
      if (fieldNames.includes(name)) {
        throw new Error(`Invalid log format ${JSON.stringify(format)}: duplicate field <${name}>`)
      }
      if (lastWasField) {
        throw new Error(`Invalid log format ${JSON.stringify(format)}: fields <${fieldNames[fieldNames.length - 1]}> and <${name}> have no separator between them`)
      }
      kinds.push(K_FIELD)
      args.push(fieldNames.length)
      fieldNames.push(name)
      regex += `(?<${name}>.*?)`
      lastWasField = true
      i = close + 1
    } else if (ch === " ") {
      while (format[i] === " ") i++
      kinds.push(K_WS)
      args.push(0)
      regex += "\\s+"
      lastWasField = false
    } else {
      let literal = ch
      if (ch === "\\") {
        if (i + 1 >= format.length) {
          throw new Error(`Invalid log format ${JSON.stringify(format)}: trailing backslash`)
        }
        literal = format[i + 1]!
        i++
      }
      i++
      kinds.push(K_CHAR)
      args.push(literal.charCodeAt(0))
      regex += literal.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&")
      lastWasField = false
    }
  }
  const contentIndex = fieldNames.indexOf("Content")
  if (contentIndex < 0) {
    throw new Error(`Invalid log format ${JSON.stringify(format)}: it has no <Content> field (every format must name the message part <Content>)`)
  }
  kinds.push(K_END)
  args.push(0)
  return {
    format,
    fieldNames,
    contentIndex,
    regex: new RegExp(regex + "$", "s"),
    kinds: Int8Array.from(kinds),
    args: Int32Array.from(args)
  }
}

/**
 * Parse raw log text: split on `\n`, drop one trailing `\r` per line, ignore the empty piece
 * after a final newline, match every line against the format, and build the columns.
 */
export const parseLog = (text: string, format: CompiledFormat, opts: ParseOptions = {}): ParsedLog => {
  const maxSamples = opts.maxUnparsedSamples ?? 5
  const nFields = format.fieldNames.length
  const contentIndex = format.contentIndex
  const capacity = countLines(text)
  const scanner = new LineScanner(format, text)

  const lineNo = new Int32Array(capacity)
  const contentStart = new Int32Array(capacity)
  const contentEnd = new Int32Array(capacity)
  const codes: Array<Int32Array> = []
  const dicts: Array<RangeDict> = []
  const lastCode = new Int32Array(nFields).fill(-1)
  for (let f = 0; f < nFields; f++) {
    codes.push(f === contentIndex ? new Int32Array(0) : new Int32Array(capacity))
    dicts.push(new RangeDict(text))
  }
  const starts = scanner.starts
  const ends = scanner.ends

  let rawLines = 0
  let rows = 0
  let unparsedCount = 0
  const samples: Array<{ line: number; text: string }> = []
  let pos = 0
  while (pos < text.length) {
    let nl = text.indexOf("\n", pos)
    if (nl < 0) nl = text.length
    let end = nl
    if (end > pos && text.charCodeAt(end - 1) === 13) end--
    rawLines++
    if (scanner.matchLine(pos, end)) {
      lineNo[rows] = rawLines
      contentStart[rows] = starts[contentIndex]!
      contentEnd[rows] = ends[contentIndex]!
      for (let f = 0; f < nFields; f++) {
        if (f === contentIndex) continue
        const dict = dicts[f]!
        const s = starts[f]!
        const e = ends[f]!
        // Header fields often repeat the previous line's value: check that before hashing.
        let code = lastCode[f]!
        if (code < 0 || !dict.holds(code, s, e)) {
          code = dict.codeOf(s, e)
          lastCode[f] = code
        }
        codes[f]![rows] = code
      }
      rows++
    } else {
      unparsedCount++
      if (samples.length < maxSamples) samples.push({ line: rawLines, text: text.slice(pos, end) })
    }
    pos = nl + 1
  }

  const fields: Array<{ name: string; column: DictColumn }> = []
  for (let f = 0; f < nFields; f++) {
    if (f === contentIndex) continue
    fields.push({ name: format.fieldNames[f]!, column: { values: dicts[f]!.values, codes: fit(codes[f]!, rows) } })
  }
  return {
    rawLines,
    lineNo: fit(lineNo, rows),
    content: packRanges(text, contentStart, contentEnd, rows),
    fields,
    unparsed: { count: unparsedCount, samples }
  }
}

// ---------------------------------------------------------------------------------------------

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Matcher element kinds: one UTF-16 unit, a greedy `\s+`, a lazy `(.*?)` field, the line end. */
const K_CHAR = 0
const K_WS = 1
const K_FIELD = 2
const K_END = 3

/** JavaScript's `\s` on one UTF-16 unit, so the scanner and `CompiledFormat.regex` agree. */
const isSpace = (c: number): boolean =>
  c === 32 || (c >= 9 && c <= 13) ||
  (c >= 0xa0 && (c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 ||
    c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff))

/**
 * Matches one line in place (no substring per line) with the regex's backtracking order, so it
 * finds the same groups: a field takes the shortest extent after which the rest matches, a
 * whitespace run the longest. A field matches anything, so if the rest fails with field f
 * starting at p it fails for every later start too; remembering that bound per field keeps a
 * non-matching line near linear instead of the regex's exponential worst case.
 */
class LineScanner {
  readonly starts: Int32Array
  readonly ends: Int32Array
  private readonly kinds: Int8Array
  private readonly args: Int32Array
  private readonly text: string
  private readonly nFields: number
  /** Per field, the smallest start position known to fail on this line. */
  private readonly failFrom: Int32Array
  private lineEnd = 0

  constructor(format: CompiledFormat, text: string) {
    this.kinds = format.kinds
    this.args = format.args
    this.text = text
    this.nFields = format.fieldNames.length
    this.starts = new Int32Array(this.nFields)
    this.ends = new Int32Array(this.nFields)
    this.failFrom = new Int32Array(this.nFields)
  }

  matchLine(start: number, end: number): boolean {
    this.lineEnd = end
    this.failFrom.fill(end + 1)
    return this.match(0, start)
  }

  private match(e: number, p: number): boolean {
    const s = this.text
    const le = this.lineEnd
    const kinds = this.kinds
    const args = this.args
    for (;;) {
      const kind = kinds[e]
      if (kind === K_CHAR) {
        if (p < le && s.charCodeAt(p) === args[e]) {
          p++
          e++
          continue
        }
        return false
      }
      if (kind === K_END) return p === le
      if (kind === K_WS) {
        let q = p
        while (q < le && isSpace(s.charCodeAt(q))) q++
        for (let r = q; r > p; r--) if (this.match(e + 1, r)) return true
        return false
      }
      // K_FIELD: lazy, so try the shortest extent first; only positions where the next element can start.
      const f = args[e]!
      if (p >= this.failFrom[f]!) return false
      this.starts[f] = p
      const nextKind = kinds[e + 1]
      if (nextKind === K_END) {
        this.ends[f] = le
        return true
      }
      const nextChar = args[e + 1]!
      const failFrom = this.failFrom
      const later = f + 1 < this.nFields ? f + 1 : -1
      let q = p
      for (;;) {
        // The next field would start after q: stop at its known failure bound.
        const limit = later >= 0 && failFrom[later]! < le ? failFrom[later]! : le
        if (nextKind === K_CHAR) {
          while (q < limit && s.charCodeAt(q) !== nextChar) q++
        } else {
          while (q < limit && !isSpace(s.charCodeAt(q))) q++
        }
        if (q >= limit) break
        if (this.match(e + 1, q)) {
          this.ends[f] = q
          return true
        }
        q++
      }
      this.failFrom[f] = p
      return false
    }
  }
}

/**
 * Dictionary of substrings of one text, looked up by range: an open-addressing table of FNV-1a
 * hashes over the UTF-16 units, so only a new value costs a string allocation.
 */
class RangeDict {
  readonly values: Array<string> = []
  private readonly hashes: Array<number> = []
  private readonly text: string
  private table = new Int32Array(64).fill(-1)

  constructor(text: string) {
    this.text = text
  }

  /** Whether value `code` equals `text[s, e)`. */
  holds(code: number, s: number, e: number): boolean {
    const v = this.values[code]!
    if (v.length !== e - s) return false
    // A plain loop: `startsWith(v, s)` on a long text is several times slower here.
    const text = this.text
    for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) !== text.charCodeAt(s + i)) return false
    return true
  }

  /** The code of `text[s, e)`, adding it when new. */
  codeOf(s: number, e: number): number {
    const text = this.text
    let h = 0x811c9dc5
    for (let i = s; i < e; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
    const mask = this.table.length - 1
    let slot = h & mask
    for (;;) {
      const code = this.table[slot]!
      if (code < 0) break
      if (this.hashes[code] === h && this.holds(code, s, e)) return code
      slot = (slot + 1) & mask
    }
    const code = this.values.length
    this.values.push(text.slice(s, e))
    this.hashes.push(h)
    this.table[slot] = code
    if (2 * this.values.length > this.table.length) this.rehash()
    return code
  }

  private rehash(): void {
    const table = new Int32Array(this.table.length * 2).fill(-1)
    const mask = table.length - 1
    for (let code = 0; code < this.hashes.length; code++) {
      let slot = this.hashes[code]! & mask
      while (table[slot]! >= 0) slot = (slot + 1) & mask
      table[slot] = code
    }
    this.table = table
  }
}

/** Number of lines `parseLog` will see (the piece after a final newline does not count). */
const countLines = (text: string): number => {
  let n = 0
  let pos = 0
  while (pos < text.length) {
    const nl = text.indexOf("\n", pos)
    n++
    if (nl < 0) break
    pos = nl + 1
  }
  return n
}

const fit = (a: Int32Array, n: number): Int32Array => (a.length === n ? a : a.slice(0, n))

/** UTF-8 pack of `text[start[i], end[i])` for i < n, without building the strings when text is ASCII. */
const packRanges = (text: string, start: Int32Array, end: Int32Array, n: number): StringColumn => {
  const offsets = new Int32Array(n + 1)
  const byteLength = Buffer.byteLength(text, "utf8")
  let pos = 0
  let bytes: Uint8Array
  if (byteLength === text.length) {
    // ASCII: byte offsets are char offsets; ranges ascend, so compact the encoded text in place.
    const encoded = Buffer.from(text, "latin1")
    bytes = new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.length)
    for (let i = 0; i < n; i++) {
      offsets[i] = pos
      bytes.copyWithin(pos, start[i]!, end[i]!)
      pos += end[i]! - start[i]!
    }
  } else {
    // A range edge inside a surrogate pair encodes each half as 3 bytes: room for that too.
    const out = Buffer.allocUnsafe(byteLength + 4 * n)
    for (let i = 0; i < n; i++) {
      offsets[i] = pos
      pos += out.write(text.slice(start[i]!, end[i]!), pos, "utf8")
    }
    bytes = new Uint8Array(out.buffer, out.byteOffset, out.length)
  }
  offsets[n] = pos
  // A plain Uint8Array copy: Buffers may be views into a shared pool.
  return { blob: bytes.slice(0, pos), offsets }
}
