/**
 * Read a file as lines through one fixed buffer, so memory stays at `chunkBytes + maxLineBytes`
 * whatever the file's size. Use it to stream a log that need not be held whole (parse + mine,
 * writing LogHub CSVs, benchmarks). Lines are split on `\n`, or on `\r` in a file whose first
 * 64 KiB have `\r` and no `\n` (classic Mac line endings, see `lineBreakOf`); a line longer than
 * `maxLineBytes` is skipped and reported with its first bytes instead of being buffered.
 */
import * as fs from "node:fs"
import { DEFAULT_MAX_LINE_BYTES, lineBreakOf } from "./LogFormat.ts"

/** What `readLines` calls, in file order. */
export interface LineVisitor {
  /** `buf[from, to)` holds the next lines; called before them (e.g. `LineParser.setBuffer`). */
  chunk(buf: Uint8Array, from: number, to: number): void
  /** One line `buf[start, end)` without its `\n` (a final `\r` is kept); `lineNo` is 1-based. */
  line(buf: Uint8Array, start: number, end: number, lineNo: number): void
  /** A line longer than `maxLineBytes` (not counting `\n` and a final `\r`), skipped: its first bytes and its length without `\n`. */
  tooLong(lineNo: number, head: Uint8Array, bytes: number): void
}

/** Options of `readLines`. */
export interface ReadLinesOptions {
  /** Bytes read per system call (default 4 MiB). */
  readonly chunkBytes?: number
  /** Longest line buffered (default 1 MiB, as `LineParser`); see `LineVisitor.tooLong`. */
  readonly maxLineBytes?: number
}

/** Bytes read from the start to tell the line break. */
const SAMPLE_BYTES = 64 * 1024

/** Bytes of a too-long line kept for its sample. */
const HEAD_BYTES = 4096

/**
 * Visit every line of a file. The piece after a final newline is not a line; an empty file has
 * none. Returns the number of lines and bytes read.
 */
export const readLines = (file: string, visitor: LineVisitor, opts: ReadLinesOptions = {}): { lines: number; bytes: number } => {
  const chunkBytes = opts.chunkBytes ?? 4 << 20
  const maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES
  if (!(chunkBytes >= 1) || !(maxLineBytes >= 1)) throw new Error("readLines: chunkBytes and maxLineBytes must be >= 1")
  // A line of up to maxLineBytes + "\r" fits beside a full read.
  const buf = Buffer.allocUnsafe(chunkBytes + maxLineBytes + 2)
  const fd = fs.openSync(file, "r")
  let lines = 0
  let bytes = 0
  /** Bytes of an unfinished line at the start of buf. */
  let carry = 0
  /** While skipping a too-long line: its head and length so far; -1 when not skipping. */
  let skipped = -1
  let head = new Uint8Array(0)
  try {
    // The line break byte, from the file's start, and the byte a line may end in before it.
    const sample = Buffer.allocUnsafe(Math.min(buf.length, SAMPLE_BYTES))
    const sep = lineBreakOf(sample.subarray(0, fs.readSync(fd, sample, 0, sample.length, 0)))
    const cr = sep === 13 ? -1 : 13
    for (;;) {
      const got = fs.readSync(fd, buf, carry, buf.length - carry, null)
      bytes += got
      const end = carry + got
      if (got === 0) {
        if (skipped >= 0) visitor.tooLong(++lines, head, skipped)
        else if (carry > 0) {
          if (carry > maxLineBytes && carry - (buf[carry - 1] === cr ? 1 : 0) > maxLineBytes) {
            visitor.tooLong(++lines, Uint8Array.prototype.slice.call(buf, 0, Math.min(carry, HEAD_BYTES)), carry)
          } else {
            visitor.chunk(buf, 0, carry)
            visitor.line(buf, 0, carry, ++lines)
          }
        }
        break
      }
      let pos = 0
      if (skipped >= 0) {
        const nl = buf.indexOf(sep, carry)
        if (nl < 0 || nl >= end) {
          skipped += end - carry
          carry = 0
          continue
        }
        skipped += nl - carry
        visitor.tooLong(++lines, head, skipped)
        skipped = -1
        pos = nl + 1
      }
      const lastNl = buf.lastIndexOf(sep, end - 1)
      if (lastNl >= pos) {
        visitor.chunk(buf, pos, lastNl + 1)
        for (;;) {
          const nl = buf.indexOf(sep, pos)
          if (nl < 0 || nl > lastNl) break
          // The same limit for a line that arrived whole: its length without "\n" and a final "\r".
          if (nl - pos > maxLineBytes && nl - pos - (buf[nl - 1] === cr ? 1 : 0) > maxLineBytes) {
            visitor.tooLong(++lines, Uint8Array.prototype.slice.call(buf, pos, Math.min(nl, pos + HEAD_BYTES)), nl - pos)
          } else visitor.line(buf, pos, nl, ++lines)
          pos = nl + 1
        }
      }
      // Keep the unfinished line, or start skipping it when it is already too long.
      const rest = end - pos
      if (rest > maxLineBytes + 1) {
        // A copy: Buffer#slice is a view, and buf is about to be overwritten.
        head = Uint8Array.prototype.slice.call(buf, pos, pos + HEAD_BYTES)
        skipped = rest
        carry = 0
      } else {
        buf.copy(buf, 0, pos, end)
        carry = rest
      }
    }
  } finally {
    fs.closeSync(fd)
  }
  return { lines, bytes }
}
