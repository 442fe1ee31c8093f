/**
 * Pre-sequenced sources: datasets whose input is already one session per line, so there is no
 * raw log to parse, mine or group. Two formats from the data root:
 * - `deeploglizer_csv` (`hdfs/sessions/deep-loglizer-HDFS_100k/`): a CSV with header
 *   `BlockId,Label,Split,EventSequence`, labels Normal/Anomaly, split train/test, events `T<n>`.
 * - `deeplog_lines` (`hdfs/sessions/deeplog-wuyifan18/`): one session per line of
 *   space-separated integer log keys, no ids; the label (and split) is that of the whole file,
 *   so a dataset is several files read separately and joined with `concatSessionFiles`.
 */
import type { Sequences } from "../artifacts/Sequences.ts"
import { LABEL_ANOMALY, LABEL_NORMAL, LABEL_UNKNOWN, SPLIT_TEST, SPLIT_TRAIN } from "../artifacts/Sequences.ts"
import { packStrings } from "../artifacts/Columns.ts"

/** How to read a session file; config spelling in brackets. */
export type SessionFileOptions =
  | {
    readonly format: "deeploglizer_csv"
    /** Id column (default "BlockId") [`id_column`]. */
    readonly idColumn?: string
    /** Label column, values Normal/Anomaly or 0/1 (default "Label") [`label_column`]. */
    readonly labelColumn?: string
    /** Split column, values train/test (default "Split"); a file without it gives no split tags [`split_column`]. */
    readonly splitColumn?: string
    /** Event column, space-separated `T<n>` or `<n>` (default "EventSequence") [`events_column`]. */
    readonly eventsColumn?: string
  }
  | {
    readonly format: "deeplog_lines"
    /** The label of every session in the file [`label`]. */
    readonly label: "normal" | "anomaly" | "unknown"
    /** The split of every session in the file; absent: no split tags [`split`]. */
    readonly split?: "train" | "test"
    /** Id prefix; session ids are `<prefix><line number>` (default `<split or "all">_<label>_`) [`id_prefix`]. */
    readonly idPrefix?: string
  }

/** Sessions read from a file. */
export interface SessionFile {
  /**
   * One sequence per session in file order; `events` are the file's template ids (`T7` -> 7);
   * `rows` are event positions in the file (0, 1, 2, ...), as there are no parsed rows.
   */
  readonly sequences: Sequences
  /** SPLIT_TRAIN / SPLIT_TEST per session, when the file (or the options) give a split. */
  readonly split?: Uint8Array
  /** The distinct template ids that occur, ascending. */
  readonly vocabulary: Int32Array
}

/** Read one session file. Throws naming the option or the 1-based line of anything malformed. */
export const readSessionFile = (text: string, opts: SessionFileOptions): SessionFile => {
  if (opts.format === "deeploglizer_csv") return readDeeploglizerCsv(text, opts)
  if (opts.format === "deeplog_lines") return readDeeplogLines(text, opts)
  throw new Error(`readSessionFile: format must be "deeploglizer_csv" or "deeplog_lines", got ${JSON.stringify((opts as { format: unknown }).format)}`)
}

/**
 * Concatenate session files in order (e.g. DeepLog's train file then its abnormal test file);
 * rows are renumbered to stay distinct. Split tags must be given by every part or by none.
 */
export const concatSessionFiles = (parts: ReadonlyArray<SessionFile>): SessionFile => {
  const withSplit = parts.filter((p) => p.split !== undefined).length
  if (withSplit !== 0 && withSplit !== parts.length) {
    throw new Error("concatSessionFiles: give every part a split (option split) or none of them")
  }
  const ids: Array<string> = []
  const offsets: Array<number> = [0]
  const events: Array<number> = []
  const labels: Array<number> = []
  const split: Array<number> = []
  for (const part of parts) {
    const s = part.sequences
    const decoder = new TextDecoder()
    for (let i = 0; i < s.labels.length; i++) {
      ids.push(decoder.decode(s.ids.blob.subarray(s.ids.offsets[i]!, s.ids.offsets[i + 1]!)))
      labels.push(s.labels[i]!)
      if (part.split !== undefined) split.push(part.split[i]!)
    }
    const base = events.length
    for (let p = 0; p < s.events.length; p++) events.push(s.events[p]!)
    for (let i = 1; i < s.offsets.length; i++) offsets.push(base + s.offsets[i]!)
  }
  return build(ids, offsets, events, labels, withSplit === 0 ? undefined : split)
}

const readDeeploglizerCsv = (text: string, opts: Extract<SessionFileOptions, { format: "deeploglizer_csv" }>): SessionFile => {
  const lines = textLines(text)
  if (lines.length === 0) throw new Error("readSessionFile: the deeploglizer_csv file is empty; a header row is required")
  const header = lines[0]!.text.split(",").map((c) => c.trim())
  const column = (key: string, name: string, required: boolean): number => {
    const at = header.indexOf(name)
    if (at < 0 && required) throw new Error(`readSessionFile: ${key} "${name}" is not a column of the session file (header: ${header.join(", ")})`)
    return at
  }
  const idAt = column("id_column", opts.idColumn ?? "BlockId", true)
  const labelAt = column("label_column", opts.labelColumn ?? "Label", true)
  const splitAt = column("split_column", opts.splitColumn ?? "Split", opts.splitColumn !== undefined)
  const eventsAt = column("events_column", opts.eventsColumn ?? "EventSequence", true)

  const ids: Array<string> = []
  const offsets: Array<number> = [0]
  const events: Array<number> = []
  const labels: Array<number> = []
  const split: Array<number> = []
  for (let k = 1; k < lines.length; k++) {
    const { text: line, lineNo } = lines[k]!
    const cells = line.split(",")
    if (cells.length !== header.length) throw new Error(`readSessionFile: line ${lineNo}: ${cells.length} cells but the header has ${header.length}`)
    const id = cells[idAt]!.trim()
    if (id === "") throw new Error(`readSessionFile: line ${lineNo}: empty id`)
    ids.push(id)
    const label = cells[labelAt]!.trim()
    if (label === "Normal" || label === "0") labels.push(LABEL_NORMAL)
    else if (label === "Anomaly" || label === "1") labels.push(LABEL_ANOMALY)
    else throw new Error(`readSessionFile: line ${lineNo}: label ${JSON.stringify(label)} is not Normal, Anomaly, 0 or 1`)
    if (splitAt >= 0) {
      const tag = cells[splitAt]!.trim()
      if (tag === "train") split.push(SPLIT_TRAIN)
      else if (tag === "test") split.push(SPLIT_TEST)
      else throw new Error(`readSessionFile: line ${lineNo}: split ${JSON.stringify(tag)} is not train or test`)
    }
    parseEvents(cells[eventsAt]!, lineNo, true, events)
    offsets.push(events.length)
  }
  return build(ids, offsets, events, labels, splitAt >= 0 ? split : undefined)
}

const readDeeplogLines = (text: string, opts: Extract<SessionFileOptions, { format: "deeplog_lines" }>): SessionFile => {
  const label = opts.label === "normal" ? LABEL_NORMAL : opts.label === "anomaly" ? LABEL_ANOMALY : opts.label === "unknown" ? LABEL_UNKNOWN : undefined
  if (label === undefined) throw new Error(`readSessionFile: label must be "normal", "anomaly" or "unknown", got ${JSON.stringify(opts.label)}`)
  if (opts.split !== undefined && opts.split !== "train" && opts.split !== "test") {
    throw new Error(`readSessionFile: split must be "train" or "test", got ${JSON.stringify(opts.split)}`)
  }
  const prefix = opts.idPrefix ?? `${opts.split ?? "all"}_${opts.label}_`
  const ids: Array<string> = []
  const offsets: Array<number> = [0]
  const events: Array<number> = []
  for (const { text: line, lineNo } of textLines(text)) {
    ids.push(`${prefix}${lineNo}`)
    parseEvents(line, lineNo, false, events)
    offsets.push(events.length)
  }
  const n = ids.length
  const labels = new Array<number>(n).fill(label)
  const split = opts.split === undefined ? undefined : new Array<number>(n).fill(opts.split === "train" ? SPLIT_TRAIN : SPLIT_TEST)
  return build(ids, offsets, events, labels, split)
}

/** Non-blank lines with their 1-based line numbers; CR and a BOM stripped. */
const textLines = (text: string): Array<{ text: string; lineNo: number }> => {
  const raw = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split("\n")
  const out: Array<{ text: string; lineNo: number }> = []
  raw.forEach((l, i) => {
    const line = l.endsWith("\r") ? l.slice(0, -1) : l
    if (line.trim() !== "") out.push({ text: line, lineNo: i + 1 })
  })
  return out
}

/** Append the space-separated event ids of one session (`T<n>` when allowT, else `<n>`). */
const parseEvents = (cell: string, lineNo: number, allowT: boolean, into: Array<number>): void => {
  for (const token of cell.trim().split(/\s+/)) {
    if (token === "") continue
    const digits = allowT && token.startsWith("T") ? token.slice(1) : token
    if (!/^\d+$/.test(digits) || digits.length > 9) {
      throw new Error(`readSessionFile: line ${lineNo}: event ${JSON.stringify(token)} is not ${allowT ? "T<n> or <n>" : "an integer log key"}`)
    }
    into.push(Number(digits))
  }
}

const build = (
  ids: Array<string>,
  offsets: Array<number>,
  events: Array<number>,
  labels: Array<number>,
  split: Array<number> | undefined
): SessionFile => {
  const ev = Int32Array.from(events)
  const rows = new Int32Array(ev.length)
  for (let p = 0; p < rows.length; p++) rows[p] = p
  const vocabulary = Int32Array.from(new Set(ev)).sort()
  const sequences: Sequences = { ids: packStrings(ids), offsets: Int32Array.from(offsets), rows, events: ev, labels: Int8Array.from(labels) }
  return split === undefined ? { sequences, vocabulary } : { sequences, split: Uint8Array.from(split), vocabulary }
}
