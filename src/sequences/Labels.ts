/**
 * Attach ground-truth labels to sequences: per entity from a label CSV (HDFS `BlockId,Label`),
 * or per line from a header field of the parsed log (BGL's first token, `-` = normal).
 * Labels are codes LABEL_UNKNOWN / LABEL_NORMAL / LABEL_ANOMALY in an Int8Array per sequence;
 * these functions return new label arrays and never mutate their input.
 */
import type { ParsedLog, Sequences } from "../tasks/Artifacts.ts"
import { LABEL_ANOMALY, LABEL_NORMAL, LABEL_UNKNOWN } from "../tasks/Artifacts.ts"
import { stringAt, stringCount } from "../tasks/StringColumn.ts"

/** Options of `parseEntityLabelCsv`. */
export interface EntityLabelCsvOptions {
  /** Header name of the entity id column, e.g. "BlockId". */
  readonly entityColumn: string
  /** Header name of the label column, e.g. "Label". */
  readonly labelColumn: string
  /** Label values meaning anomalous, e.g. ["Anomaly"]. */
  readonly anomalyValues: ReadonlyArray<string>
  /** Label values meaning normal, e.g. ["Normal"]. */
  readonly normalValues: ReadonlyArray<string>
}

/**
 * Parse a label CSV with a header row into entity id -> 0 (normal) | 1 (anomaly). CRLF and a
 * UTF-8 BOM are tolerated, blank lines skipped, cells trimmed, double-quoted cells unquoted.
 * Throws naming the column (missing column, unknown label value) and the 1-based line number.
 */
export const parseEntityLabelCsv = (text: string, opts: EntityLabelCsvOptions): Map<string, 0 | 1> => {
  const valueCode = new Map<string, 0 | 1>()
  for (const v of opts.normalValues) valueCode.set(v, 0)
  for (const v of opts.anomalyValues) {
    if (valueCode.get(v) === 0) throw new Error(`parseEntityLabelCsv: label value "${v}" is listed as both normal and anomalous`)
    valueCode.set(v, 1)
  }
  if (valueCode.size === 0) throw new Error("parseEntityLabelCsv: anomalyValues and normalValues are both empty")

  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split("\n")
  let lineIdx = 0
  while (lineIdx < lines.length && stripCr(lines[lineIdx]!).trim() === "") lineIdx++
  if (lineIdx === lines.length) throw new Error("parseEntityLabelCsv: the CSV is empty; a header row is required")
  const header = splitCsvLine(stripCr(lines[lineIdx]!), lineIdx + 1)
  const entityAt = header.indexOf(opts.entityColumn)
  const labelAt = header.indexOf(opts.labelColumn)
  if (entityAt < 0) throw missingColumn(opts.entityColumn, header, lineIdx + 1)
  if (labelAt < 0) throw missingColumn(opts.labelColumn, header, lineIdx + 1)

  const out = new Map<string, 0 | 1>()
  for (lineIdx++; lineIdx < lines.length; lineIdx++) {
    const line = stripCr(lines[lineIdx]!)
    if (line.trim() === "") continue
    const lineNo = lineIdx + 1
    const cells = splitCsvLine(line, lineNo)
    const entity = cells[entityAt]
    const value = cells[labelAt]
    if (entity === undefined || entity === "") {
      throw new Error(`parseEntityLabelCsv: line ${lineNo}: column "${opts.entityColumn}" is missing or empty`)
    }
    if (value === undefined) throw new Error(`parseEntityLabelCsv: line ${lineNo}: column "${opts.labelColumn}" is missing`)
    const code = valueCode.get(value)
    if (code === undefined) {
      throw new Error(
        `parseEntityLabelCsv: line ${lineNo}: column "${opts.labelColumn}" has unknown value ${JSON.stringify(value)}; ` +
          `expected one of ${[...valueCode.keys()].map((v) => JSON.stringify(v)).join(", ")}`
      )
    }
    const previous = out.get(entity)
    if (previous !== undefined && previous !== code) {
      throw new Error(`parseEntityLabelCsv: line ${lineNo}: entity ${JSON.stringify(entity)} in column "${opts.entityColumn}" is labelled both normal and anomalous`)
    }
    out.set(entity, code)
  }
  return out
}

/** Label each sequence by looking its id up in `labels`; ids absent from the map stay LABEL_UNKNOWN and are counted. */
export const applyEntityLabels = (seqs: Sequences, labels: ReadonlyMap<string, 0 | 1>): { sequences: Sequences; unlabeled: number } => {
  const count = stringCount(seqs.ids)
  const out = new Int8Array(count)
  let unlabeled = 0
  for (let i = 0; i < count; i++) {
    const code = labels.get(stringAt(seqs.ids, i))
    if (code === undefined) {
      out[i] = LABEL_UNKNOWN
      unlabeled++
    } else {
      out[i] = code === 1 ? LABEL_ANOMALY : LABEL_NORMAL
    }
  }
  return { sequences: { ...seqs, labels: out }, unlabeled }
}

/** Options of `applyLineLabels`. */
export interface LineLabelOptions {
  /** Name of the parsed header field holding the per-line label, e.g. "Label". */
  readonly field: string
  /** The field value of a normal line, e.g. "-"; any other value is anomalous. */
  readonly normalValue: string
}

/**
 * Label each sequence from per-line labels: anomalous iff any of its rows has a `field` value
 * other than `normalValue`, else normal (an empty sequence is normal). Throws if the parsed log
 * has no such field.
 */
export const applyLineLabels = (seqs: Sequences, parsed: ParsedLog, opts: LineLabelOptions): Sequences => {
  const field = parsed.fields.find((f) => f.name === opts.field)
  if (field === undefined) {
    throw new Error(
      `applyLineLabels: the parsed log has no field "${opts.field}" (fields: ${parsed.fields.map((f) => f.name).join(", ") || "none"})`
    )
  }
  const { values, codes } = field.column
  const anomalousCode = new Uint8Array(values.length)
  for (let k = 0; k < values.length; k++) anomalousCode[k] = values[k] === opts.normalValue ? 0 : 1

  const count = seqs.offsets.length - 1
  const out = new Int8Array(count)
  for (let i = 0; i < count; i++) {
    let label = LABEL_NORMAL
    for (let p = seqs.offsets[i]!, end = seqs.offsets[i + 1]!; p < end; p++) {
      if (anomalousCode[codes[seqs.rows[p]!]!] === 1) {
        label = LABEL_ANOMALY
        break
      }
    }
    out[i] = label
  }
  return { ...seqs, labels: out }
}

/** Counts of each label code. */
export interface LabelHistogram {
  readonly normal: number
  readonly anomaly: number
  readonly unknown: number
}

/** Restricts `labelHistogram` to the sequences whose split tag equals `tag`. */
export interface LabelSelection {
  readonly split: Uint8Array
  readonly tag: number
}

/** Count normal / anomaly / unknown labels, over all sequences or those selected by `which`. */
export const labelHistogram = (labels: Int8Array, which?: LabelSelection): LabelHistogram => {
  if (which !== undefined && which.split.length !== labels.length) {
    throw new Error(`labelHistogram: split has ${which.split.length} entries but labels has ${labels.length}`)
  }
  let normal = 0
  let anomaly = 0
  let unknown = 0
  for (let i = 0; i < labels.length; i++) {
    if (which !== undefined && which.split[i] !== which.tag) continue
    const l = labels[i]!
    if (l === LABEL_NORMAL) normal++
    else if (l === LABEL_ANOMALY) anomaly++
    else if (l === LABEL_UNKNOWN) unknown++
    else throw new Error(`labelHistogram: invalid label code ${l} at sequence ${i}`)
  }
  return { normal, anomaly, unknown }
}

const stripCr = (line: string): string => (line.endsWith("\r") ? line.slice(0, -1) : line)

const missingColumn = (column: string, header: ReadonlyArray<string>, lineNo: number): Error =>
  new Error(`parseEntityLabelCsv: line ${lineNo}: header has no column "${column}" (columns: ${header.join(", ")})`)

/** Split one CSV line; double-quoted cells may hold commas and "" escapes (no embedded newlines). */
const splitCsvLine = (line: string, lineNo: number): Array<string> => {
  const cells: Array<string> = []
  let i = 0
  for (;;) {
    while (i < line.length && (line[i] === " " || line[i] === "\t")) i++
    if (line[i] === '"') {
      let cell = ""
      i++
      for (;;) {
        const q = line.indexOf('"', i)
        if (q < 0) throw new Error(`parseEntityLabelCsv: line ${lineNo}: unterminated quoted cell`)
        cell += line.slice(i, q)
        if (line[q + 1] === '"') {
          cell += '"'
          i = q + 2
        } else {
          i = q + 1
          break
        }
      }
      cells.push(cell)
      const comma = line.indexOf(",", i)
      if (line.slice(i, comma < 0 ? line.length : comma).trim() !== "") {
        throw new Error(`parseEntityLabelCsv: line ${lineNo}: text after a closing quote`)
      }
      if (comma < 0) return cells
      i = comma + 1
    } else {
      const comma = line.indexOf(",", i)
      cells.push(line.slice(i, comma < 0 ? line.length : comma).trim())
      if (comma < 0) return cells
      i = comma + 1
    }
  }
}
