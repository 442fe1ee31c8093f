/**
 * `parseLog` for a log file read in chunks (`readLines`): the same output, without holding the
 * file: memory is the read buffer and the output columns. The parse stage reads sources this way.
 */
import * as fs from "node:fs"
import { readLines, type ReadLinesOptions, SAMPLE_BYTES } from "./LineReader.ts"
import { type CompiledFormat, DEFAULT_MAX_LINE_BYTES, ParsedLogBuilder, parseLog, type ParseOptions, type ParseOutput } from "./LogFormat.ts"

/**
 * Parse the log file `file` as `parseLog` parses its bytes. `parseLog` splits on `\r` only in a
 * log with no `\n` at all, which a reader of chunks cannot tell from the start: a file whose first
 * 64 KiB hold no `\n` (a `\r`-only log, or a first line that long) is read whole instead.
 */
export const parseLogFile = (file: string, format: CompiledFormat, opts: ParseOptions = {}, read: Pick<ReadLinesOptions, "chunkBytes"> = {}): ParseOutput => {
  const fd = fs.openSync(file, "r")
  let size: number
  let newline: boolean
  try {
    size = fs.fstatSync(fd).size
    const sample = Buffer.allocUnsafe(Math.min(SAMPLE_BYTES, size))
    newline = sample.subarray(0, fs.readSync(fd, sample, 0, sample.length, 0)).includes(10)
  } finally {
    fs.closeSync(fd)
  }
  if (!newline) return parseLog(fs.readFileSync(file), format, opts)
  const builder = new ParsedLogBuilder(format, opts, size)
  const { lines } = readLines(file, {
    chunk: (buf, from, to) => builder.chunk(buf, from, to),
    line: (_buf, start, end, lineNo) => builder.line(start, end, lineNo),
    tooLong: (lineNo, head) => builder.tooLong(lineNo, head)
  }, {
    ...read,
    // Lines up to 4 KiB reach the parser, which counts them too long by its own limit with a sample
    // of their first bytes, as parseLog does; a longer one the reader skips keeps 4 KiB for it.
    maxLineBytes: Math.max(opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, 4096)
  })
  return builder.finish(lines)
}
