/**
 * Read a file as lines through one fixed buffer, so memory stays at `chunkBytes + maxLineBytes`
 * whatever the file's size. Use it to stream a log that need not be held whole (parse + mine,
 * writing LogHub CSVs, benchmarks). Lines are split on `\n`, or on `\r` in a file whose first
 * 64 KiB have `\r` and no `\n` (classic Mac line endings, see `lineBreakOf`); a line longer than
 * `maxLineBytes` is skipped and reported with its first bytes instead of being buffered.
 */
import * as fs from "node:fs"
import * as fsp from "node:fs/promises"
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
export const SAMPLE_BYTES = 64 * 1024

/** Bytes of a too-long line kept for its sample. */
const HEAD_BYTES = 4096

/**
 * The line splitting of `readLines`, apart from the reads: `buf` is what to read into at `carry`
 * (up to its end); `feed(got)` takes the bytes a read returned (0 at the end of the file) and
 * visits the lines they complete, returning true once the file is done.
 */
const lineSplitter = (visitor: LineVisitor, opts: ReadLinesOptions, sep: number) => {
  const chunkBytes = opts.chunkBytes ?? 4 << 20
  const maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES
  if (!(chunkBytes >= 1) || !(maxLineBytes >= 1)) throw new Error("readLines: chunkBytes and maxLineBytes must be >= 1")
  // A line of up to maxLineBytes + "\r" fits beside a full read.
  const buf = Buffer.allocUnsafe(chunkBytes + maxLineBytes + 2)
  // The byte a line may end in before its break, not counted against the limit.
  const cr = sep === 13 ? -1 : 13
  const state = {
    buf,
    lines: 0,
    bytes: 0,
    /** Bytes of an unfinished line at the start of buf. */
    carry: 0
  }
  /** While skipping a too-long line: its head and length so far; -1 when not skipping. */
  let skipped = -1
  let head = new Uint8Array(0)
  const feed = (got: number): boolean => {
    state.bytes += got
    const carry = state.carry
    const end = carry + got
    if (got === 0) {
      if (skipped >= 0) visitor.tooLong(++state.lines, head, skipped)
      else if (carry > 0) {
        if (carry > maxLineBytes && carry - (buf[carry - 1] === cr ? 1 : 0) > maxLineBytes) {
          visitor.tooLong(++state.lines, Uint8Array.prototype.slice.call(buf, 0, Math.min(carry, HEAD_BYTES)), carry)
        } else {
          visitor.chunk(buf, 0, carry)
          visitor.line(buf, 0, carry, ++state.lines)
        }
      }
      return true
    }
    let pos = 0
    if (skipped >= 0) {
      const nl = buf.indexOf(sep, carry)
      if (nl < 0 || nl >= end) {
        skipped += end - carry
        state.carry = 0
        return false
      }
      skipped += nl - carry
      visitor.tooLong(++state.lines, head, skipped)
      skipped = -1
      pos = nl + 1
    }
    const lastNl = buf.lastIndexOf(sep, end - 1)
    if (lastNl >= pos) {
      visitor.chunk(buf, pos, lastNl + 1)
      for (;;) {
        const nl = buf.indexOf(sep, pos)
        if (nl < 0 || nl > lastNl) break
        // The same limit for a line that arrived whole: its length without its break and a final "\r".
        if (nl - pos > maxLineBytes && nl - pos - (buf[nl - 1] === cr ? 1 : 0) > maxLineBytes) {
          visitor.tooLong(++state.lines, Uint8Array.prototype.slice.call(buf, pos, Math.min(nl, pos + HEAD_BYTES)), nl - pos)
        } else visitor.line(buf, pos, nl, ++state.lines)
        pos = nl + 1
      }
    }
    // Keep the unfinished line, or start skipping it when it is already too long.
    const rest = end - pos
    if (rest > maxLineBytes + 1) {
      // A copy: Buffer#slice is a view, and buf is about to be overwritten.
      head = Uint8Array.prototype.slice.call(buf, pos, pos + HEAD_BYTES)
      skipped = rest
      state.carry = 0
    } else {
      buf.copy(buf, 0, pos, end)
      state.carry = rest
    }
    return false
  }
  return { state, feed }
}

/** The line break of a file, from its first 64 KiB (see `lineBreakOf`). */
const lineBreakAt = (fd: number): number => {
  const sample = Buffer.allocUnsafe(SAMPLE_BYTES)
  return lineBreakOf(sample.subarray(0, fs.readSync(fd, sample, 0, sample.length, 0)))
}

/**
 * Visit every line of a file. The piece after a final newline is not a line; an empty file has
 * none. Returns the number of lines and bytes read.
 */
export const readLines = (file: string, visitor: LineVisitor, opts: ReadLinesOptions = {}): { lines: number; bytes: number } => {
  const fd = fs.openSync(file, "r")
  try {
    const { state, feed } = lineSplitter(visitor, opts, lineBreakAt(fd))
    while (!feed(fs.readSync(fd, state.buf, state.carry, state.buf.length - state.carry, null)));
    return { lines: state.lines, bytes: state.bytes }
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * `readLines` with asynchronous reads: the event loop runs between chunks, so a signal handler
 * (Ctrl-C) is not held up by a long file, and `signal` stops the read (rejecting with its reason)
 * at the next chunk.
 */
export const readLinesAsync = async (
  file: string,
  visitor: LineVisitor,
  opts: ReadLinesOptions & { readonly signal?: AbortSignal | undefined } = {}
): Promise<{ lines: number; bytes: number }> => {
  const fh = await fsp.open(file, "r")
  try {
    const { state, feed } = lineSplitter(visitor, opts, lineBreakAt(fh.fd))
    for (;;) {
      opts.signal?.throwIfAborted()
      const { bytesRead } = await fh.read(state.buf, state.carry, state.buf.length - state.carry, null)
      if (feed(bytesRead)) return { lines: state.lines, bytes: state.bytes }
    }
  } finally {
    await fh.close()
  }
}
