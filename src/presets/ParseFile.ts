/**
 * What `flow parse FILE (--preset NAME | --format FORMAT) [--truth CSV] [--out DIR] [--threads 1|2] [--json]`
 * does: parse and mine one log file with a preset (or a format and the generic miner) and write
 * LogHub's layout, `<name>_structured.csv` (LineId, the format's fields, EventId, EventTemplate)
 * and `<name>_templates.csv` (EventId, EventTemplate, Occurrences); with a ground truth, score the
 * result (Truth.ts). EventTemplate is the parameter-exact text (docs/PARSING.md), written from up
 * to 64 lines per template kept while mining. The file is streamed twice (mine, then write rows
 * with their final templates), so memory is the read buffer, the miner, those lines and 4 bytes
 * per parsed line (8 with a truth), not the file. Outputs are written to temporary files and renamed into place, so a crash
 * never leaves half a CSV behind.
 */
import { growInt32 } from "../artifacts/Columns.ts"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Drain, type DrainOptions } from "../mining/Drain.ts"
import { TemplateSamples } from "../mining/ExactTemplates.ts"
import { type CompiledFormat, compileFormat, type LineOptions, type Multiline, multilineProblem, type TextEncoding, type UnparsedLines } from "../parsing/LogFormat.ts"
import { type ContentRow, scanInWorker } from "./ParallelScan.ts"
import { scanParsedAsync } from "./ScanParsed.ts"
import { csvCell } from "./Csv.ts"
import { GENERIC_MINER } from "./miners.ts"
import { getPreset, type Preset, type System } from "./Presets.ts"
import { readTruth, scoreTruth, type TruthScores } from "./Truth.ts"
import { makeFolders } from "../runtime/Folders.ts"

export { type ContentBytes, type ParsedRow, scanParsed, scanParsedAsync, type ScanStats } from "./ScanParsed.ts"

/**
 * Bad input to `parseFile`, naming the option it came from (`preset`, `format`, `multiline`,
 * `truth`; `file` for the log itself), so a command can name its flag.
 */
export class ParseFileInputError extends Error {
  readonly option: "preset" | "format" | "multiline" | "truth" | "file"
  constructor(option: "preset" | "format" | "multiline" | "truth" | "file", message: string, options?: ErrorOptions) {
    super(message, options)
    this.option = option
    this.name = "ParseFileInputError"
  }
}

/** Options of `parseFile`. */
export interface ParseFileOptions {
  /** A preset name (case-insensitive) or a preset; give this or `format`. */
  readonly preset?: string | Preset
  /**
   * A LogHub-style format (see `compileFormat`) for a log no preset describes; give this or
   * `preset`. Lines are trimmed (as every preset and logparser do) and mined with `GENERIC_MINER`.
   */
  readonly format?: string
  /** Multi-line events (see `Multiline`; default "none"). */
  readonly multiline?: Multiline
  /** A LogHub `*_structured.csv` to score the result against (`Truth.ts`). */
  readonly truth?: string
  /** Folder for the two CSVs (default: the current directory); created if missing. */
  readonly outDir?: string
  /** Output name prefix (default: the input's file name, as LogHub names `HDFS_2k.log_structured.csv`). */
  readonly name?: string
  /** Unparsed lines kept as samples (default 5). */
  readonly maxUnparsedSamples?: number
  /** Overrides the preset's text encoding: "latin1" for logs in a legacy 8-bit encoding (see `TextEncoding`). */
  readonly encoding?: TextEncoding
  /** Write the CSVs (default true); false: parse and mine only, for the summary. */
  readonly write?: boolean
  /** Stops the parse between chunks (rejecting with its reason; nothing is written). */
  readonly signal?: AbortSignal | undefined
  /**
   * Threads for the mining pass: 1, or 2 (a worker thread reads and matches lines while this one
   * mines; identical results). Default: 2 for a file of 64 MiB or more when two cores are
   * available, else 1 (a worker costs ~60 ms to start).
   */
  readonly threads?: 1 | 2
}

/** Smallest file `parseFile` reads with a worker thread by default. */
export const TWO_THREADS_FROM_BYTES = 64 * 2 ** 20

/** What `parseFile` did. */
export interface ParseFileSummary {
  readonly file: string
  /** The preset used, or null with a format. */
  readonly preset: System | null
  readonly format: string
  readonly multiline: Multiline
  /** Raw lines read. */
  readonly lines: number
  /** Lines that matched the format (rows of the structured CSV). */
  readonly parsedLines: number
  /** Lines that continued the event before them (multi-line events; 0 without). */
  readonly continuationLines: number
  readonly templates: number
  readonly unparsed: UnparsedLines
  /** The scores against `truth`, or null without one. */
  readonly accuracy: TruthScores | null
  readonly seconds: number
  /** The CSVs written, or null when `write` was false or no line parsed. */
  readonly structuredCsv: string | null
  readonly templatesCsv: string | null
}

/**
 * Parse and mine `file` with a preset, write the two LogHub CSVs, return a summary. LineId is
 * the raw line number (1-based), so rows can be traced back even when lines were unparsed.
 * EventIds are `E1`, `E2`, ... in order of each template's first line (LogHub's style; stable
 * for a given file and preset, unlike logparser's md5 prefixes no two templates can collide).
 * Throws (nothing written) on bad input (`ParseFileInputError`: an unknown preset, a bad format,
 * multi-line events on a format without header fields, an unreadable file or truth, a truth
 * without `LineId` or `EventTemplate`) and on a file that changes between the two passes; bad
 * lines are counted in `unparsed`, never fatal. When no line of a non-empty file parses,
 * nothing is written (the CSVs are null).
 */
export const parseFile = async (file: string, opts: ParseFileOptions): Promise<ParseFileSummary> => {
  const t0 = performance.now()
  const { preset, format, line, miner } = parseFileSetup(opts)
  const truthFile = opts.truth
  const truth = truthFile === undefined ? undefined : inputOf("truth", () => readTruth(truthFile))
  const outDir = opts.outDir ?? "."
  const name = opts.name ?? path.basename(file)
  try {
    fs.accessSync(file, fs.constants.R_OK)
  } catch (cause) {
    throw new ParseFileInputError("file", `parse: cannot read ${file}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
  const sizeBefore = fs.statSync(file).size

  // Pass 1: mine. Row i's template id as of now; the final ids come from templatedLog.
  const drain = new Drain(miner)
  // Lines kept per template to write its parameter-exact text (docs/PARSING.md), as the mine stage does.
  const samples = new TemplateSamples<string>()
  let ids = new Int32Array(1024)
  // Each row's raw line number, to match a truth's LineIds.
  let lineNos = truth === undefined ? undefined : new Int32Array(1024)
  let rows = 0
  const threads = opts.threads ?? (sizeBefore >= TWO_THREADS_FROM_BYTES && os.availableParallelism() >= 2 ? 2 : 1)
  const onRow = (row: ContentRow): void => {
    if (rows === ids.length) {
      ids = growInt32(ids)
      if (lineNos !== undefined) lineNos = growInt32(lineNos)
    }
    if (lineNos !== undefined) lineNos[rows] = row.lineNo
    // Mine from the bytes: a content the miner's cache remembers is never decoded.
    const c = row.contentBytes()
    const id = c.utf8 ? drain.addBytes(c.buffer, c.start, c.end) : drain.addBytes(c.buffer, c.start, c.end, row.content())
    if (samples.next(id)) samples.keep(id, rows, row.content())
    ids[rows++] = id
  }
  const first = threads === 2
    ? await scanInWorker(file, format, line, onRow, { maxUnparsedSamples: opts.maxUnparsedSamples ?? 5, signal: opts.signal })
    : await scanParsedAsync(file, format, line, onRow, opts.maxUnparsedSamples ?? 5, opts.signal)
  const log = drain.templatedLog(ids.subarray(0, rows))
  const occurrences = new Int32Array(log.templates.length)
  for (let i = 0; i < rows; i++) occurrences[log.templateIds[i]!]++
  const texts = drain.exactTemplates(samples, (content) => content).map((t) => t.exact!)

  let templates = 0
  for (const n of occurrences) if (n > 0) templates++
  const summary = {
    file,
    preset: preset?.name ?? null,
    format: format.format,
    multiline: line.multiline ?? "none",
    lines: first.rawLines,
    parsedLines: rows,
    continuationLines: first.continuationLines,
    templates,
    unparsed: first.unparsed,
    accuracy: truth === undefined || lineNos === undefined ? null : scoreTruth(truth, lineNos.subarray(0, rows), log.templateIds, texts)
  }
  if (opts.write === false || (rows === 0 && first.rawLines > 0)) {
    return { ...summary, seconds: (performance.now() - t0) / 1000, structuredCsv: null, templatesCsv: null }
  }

  // Pass 2: write rows with their final templates.
  makeFolders(outDir)
  const structuredCsv = path.join(outDir, `${name}_structured.csv`)
  const templatesCsv = path.join(outDir, `${name}_templates.csv`)
  const structuredTmp = tempPath(structuredCsv)
  const templatesTmp = tempPath(templatesCsv)
  const writers: Array<CsvWriter> = []
  try {
    const out = new CsvWriter(structuredTmp)
    writers.push(out)
    out.row(["LineId", ...format.fieldNames, "EventId", "EventTemplate"])
    let row = 0
    const cells: Array<string> = new Array(format.fieldNames.length + 3)
    const second = await scanParsedAsync(file, format, line, (r) => {
      if (row >= rows) return
      const id = log.templateIds[row++]!
      cells[0] = String(r.lineNo)
      for (let f = 0; f < format.fieldNames.length; f++) cells[f + 1] = r.field(f)
      cells[format.fieldNames.length + 1] = eventId(id)
      cells[format.fieldNames.length + 2] = texts[id]!
      out.row(cells)
    }, 0, opts.signal)
    out.close()
    if (second.parsedLines !== rows || second.bytes !== sizeBefore || fs.statSync(file).size !== sizeBefore) {
      throw new Error(`parse: ${file} changed while it was parsed (${rows} rows on the first pass, ${second.parsedLines} on the second); nothing written`)
    }
    const templatesOut = new CsvWriter(templatesTmp)
    writers.push(templatesOut)
    templatesOut.row(["EventId", "EventTemplate", "Occurrences"])
    for (let id = 0; id < texts.length; id++) {
      if (occurrences[id]! > 0) templatesOut.row([eventId(id), texts[id]!, String(occurrences[id])])
    }
    templatesOut.close()
    fs.renameSync(structuredTmp, structuredCsv)
    fs.renameSync(templatesTmp, templatesCsv)
  } catch (e) {
    for (const w of writers) w.abort()
    fs.rmSync(structuredTmp, { force: true })
    fs.rmSync(templatesTmp, { force: true })
    throw e
  }
  return { ...summary, seconds: (performance.now() - t0) / 1000, structuredCsv, templatesCsv }
}

/** The preset (or null), compiled format, line options and miner options `opts` ask for; throws `ParseFileInputError`. */
const parseFileSetup = (opts: ParseFileOptions): { preset: Preset | null; format: CompiledFormat; line: LineOptions; miner: DrainOptions } => {
  if ((opts.preset === undefined) === (opts.format === undefined)) {
    throw new ParseFileInputError(opts.preset === undefined ? "format" : "preset", "give exactly one of a preset and a format")
  }
  const named = opts.preset
  const preset = named === undefined ? null : inputOf("preset", () => (typeof named === "string" ? getPreset(named) : named))
  const format = inputOf("format", () => compileFormat(preset?.format ?? opts.format!))
  const problem = multilineProblem(format, opts.multiline)
  if (problem !== undefined) throw new ParseFileInputError("multiline", problem)
  const line: LineOptions = {
    ...(preset?.line ?? GENERIC_LINE),
    ...(opts.encoding === undefined ? {} : { encoding: opts.encoding }),
    ...(opts.multiline === undefined ? {} : { multiline: opts.multiline })
  }
  return { preset, format, line, miner: preset?.miner ?? GENERIC_MINER }
}

/** `f()`, its error (bad input) as a `ParseFileInputError` naming `option`. */
const inputOf = <A>(option: ParseFileInputError["option"], f: () => A): A => {
  try {
    return f()
  } catch (cause) {
    throw new ParseFileInputError(option, cause instanceof Error ? cause.message : String(cause), { cause })
  }
}

/** Line handling with a format: trimmed, as every preset and logparser read lines. */
const GENERIC_LINE: LineOptions = { trim: true }

const eventId = (id: number): string => `E${id + 1}`


const tempPath = (target: string): string =>
  path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${Date.now()}`)

/** Buffered CSV output to one file (rows end with `\n`). */
class CsvWriter {
  private readonly fd: number
  private pending: Array<string> = []
  private pendingChars = 0
  private closed = false

  constructor(file: string) {
    this.fd = fs.openSync(file, "w")
  }

  row(cells: ReadonlyArray<string>): void {
    let line = ""
    for (let i = 0; i < cells.length; i++) line += (i === 0 ? "" : ",") + csvCell(cells[i]!)
    line += "\n"
    this.pending.push(line)
    this.pendingChars += line.length
    if (this.pendingChars >= 1 << 20) this.flush()
  }

  close(): void {
    if (this.closed) return
    this.flush()
    fs.fsyncSync(this.fd)
    fs.closeSync(this.fd)
    this.closed = true
  }

  /** Close without flushing (the file is about to be removed). */
  abort(): void {
    if (this.closed) return
    fs.closeSync(this.fd)
    this.closed = true
  }

  private flush(): void {
    if (this.pending.length === 0) return
    fs.writeSync(this.fd, this.pending.join(""))
    this.pending = []
    this.pendingChars = 0
  }
}
