/**
 * Attach ground-truth labels to sequences: per entity from a label CSV (HDFS `BlockId,Label`),
 * or per line from a header field of the parsed log (BGL's and Thunderbird's first token, `-` =
 * normal), where a window's label follows from its lines by an explicit rule (any anomalous line,
 * or a fraction of them). Labels are codes LABEL_UNKNOWN / LABEL_NORMAL / LABEL_ANOMALY in an
 * Int8Array per sequence; these functions return new label arrays and never mutate their input.
 */
import type { ParsedLog } from "../artifacts/Log.ts"
import type { Sequences } from "../artifacts/Sequences.ts"
import type { StringColumn } from "../artifacts/Columns.ts"
import { LABEL_ANOMALY, LABEL_NORMAL, LABEL_UNKNOWN } from "../artifacts/Sequences.ts"
import { stringAt, stringCount } from "../artifacts/Columns.ts"

/** Options of `parseEntityLabelCsv`; config spelling in brackets. */
export interface EntityLabelCsvOptions {
  /** Header name of the entity id column, e.g. "BlockId" [`entity_column`]. */
  readonly entityColumn: string
  /** Header name of the label column, e.g. "Label" [`label_column`]. */
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
  if (entityAt < 0) throw missingColumn("entity_column", opts.entityColumn, header, lineIdx + 1)
  if (labelAt < 0) throw missingColumn("label_column", opts.labelColumn, header, lineIdx + 1)

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
  const idAt = idReader(seqs.ids)
  let unlabeled = 0
  for (let i = 0; i < count; i++) {
    const code = labels.get(idAt(i))
    if (code === undefined) {
      out[i] = LABEL_UNKNOWN
      unlabeled++
    } else {
      out[i] = code === 1 ? LABEL_ANOMALY : LABEL_NORMAL
    }
  }
  return { sequences: { ...seqs, labels: out }, unlabeled }
}

/**
 * Why entity ids and a label file's ids never meet, for an error when no sequence received a
 * label: an id of each side, and, where one side's ids hold the other's as a token (the grouping
 * found `[instance: ID]`, the file lists `ID`), which one. Looks at the first 1,000 ids of each side.
 */
export const describeIdMismatch = (ids: StringColumn, labels: ReadonlyMap<string, 0 | 1>): string => {
  const SAMPLE = 1000
  const found = Array.from({ length: Math.min(SAMPLE, stringCount(ids)) }, (_, i) => stringAt(ids, i))
  const listed = [...labels.keys()].slice(0, SAMPLE)
  const parts = [
    `the grouping found ids like ${JSON.stringify(found[0] ?? "")}`,
    listed.length === 0 ? "the label file lists no id" : `the label file lists ids like ${JSON.stringify(listed[0])}`
  ]
  const inside = (outer: ReadonlyArray<string>, inner: ReadonlySet<string> | ReadonlyMap<string, unknown>) => {
    for (const o of outer) for (const token of o.split(ID_SEPARATORS)) if (token !== o && inner.has(token)) return { outer: o, inner: token }
    return undefined
  }
  const example = (pair: { readonly outer: string; readonly inner: string }) =>
    pair.outer === found[0] || pair.outer === listed[0] ? "" : ` (${JSON.stringify(pair.inner)} in ${JSON.stringify(pair.outer)})`
  const labelInEntity = inside(found, labels)
  const entityInLabel = labelInEntity === undefined ? inside(listed, new Set(found)) : undefined
  if (labelInEntity !== undefined) {
    parts.push(`the label file's ids sit inside the grouping's${example(labelInEntity)}: a capturing group around the id in the grouping's pattern makes its first group the entity`)
  } else if (entityInLabel !== undefined) {
    parts.push(`the grouping's ids sit inside the label file's${example(entityInLabel)}`)
  }
  return parts.join("; ")
}

/** What separates the id inside a longer id: `[instance: ID]`, `path/ID`, `ID,rest`. */
const ID_SEPARATORS = /[\s[\](){}<>,;:='"/|]+/

/** How a window's label follows from its lines [`window_label`]. */
export type WindowLabelRule =
  /** Anomalous iff at least one line is anomalous (the default). */
  | "any"
  /** Anomalous iff at least `fraction` (in (0, 1]) of its lines are anomalous. */
  | { readonly fraction: number }

/** Options of `lineLabels`. */
export interface LineFieldOptions {
  /** Name of the parsed header field holding the per-line label, e.g. "Label" [`field`]. */
  readonly field: string
  /** The field value of a normal line, e.g. "-"; any other value is anomalous [`normal_value`]. */
  readonly normalValue: string
}

/** Options of `applyLineLabels`. */
export interface LineLabelOptions extends LineFieldOptions {
  /** Window label rule (default "any"). */
  readonly rule?: WindowLabelRule
  /**
   * Leading context events per sequence that do not count (StreamChunks' `context`); the label
   * follows from the remaining lines only.
   */
  readonly context?: Int32Array
}

/**
 * Per parsed row: LABEL_ANOMALY where `field` differs from `normalValue`, else LABEL_NORMAL.
 * Throws naming `field` if the parsed log has no such field.
 */
export const lineLabels = (parsed: ParsedLog, opts: LineFieldOptions): Int8Array => {
  const field = parsed.fields.find((f) => f.name === opts.field)
  if (field === undefined) {
    throw new Error(
      `lineLabels: field "${opts.field}" is not a field of the parsed log (fields: ${parsed.fields.map((f) => f.name).join(", ") || "none"})`
    )
  }
  const { values, codes } = field.column
  const codeLabel = new Int8Array(stringCount(values))
  for (let k = 0; k < codeLabel.length; k++) codeLabel[k] = stringAt(values, k) === opts.normalValue ? LABEL_NORMAL : LABEL_ANOMALY
  const out = new Int8Array(codes.length)
  for (let row = 0; row < codes.length; row++) out[row] = codeLabel[codes[row]!]!
  return out
}

/**
 * Label each sequence from per-line labels (`lineLabels`) by `opts.rule`: "any" = anomalous iff
 * one of its lines is; `{ fraction: f }` = anomalous iff anomalous lines >= f · lines (with a
 * 1e-9 tolerance, so 3 of 10 lines meet f = 0.3). A sequence with no (non-context) line is
 * normal. Throws naming `field` (missing) or `window_label` (fraction outside (0, 1]).
 */
export const applyLineLabels = (seqs: Sequences, parsed: ParsedLog, opts: LineLabelOptions): Sequences => {
  const rule = opts.rule ?? "any"
  const fraction = rule === "any" ? 0 : rule.fraction
  if (rule !== "any" && (typeof fraction !== "number" || !(fraction > 0 && fraction <= 1))) {
    throw new Error(`applyLineLabels: window_label fraction must be in (0, 1], got ${String(fraction)}`)
  }
  const perRow = lineLabels(parsed, opts)
  const count = seqs.offsets.length - 1
  const context = opts.context
  if (context !== undefined && context.length !== count) {
    throw new Error(`applyLineLabels: context has ${context.length} entries but there are ${count} sequences`)
  }
  const out = new Int8Array(count)
  for (let i = 0; i < count; i++) {
    const from = seqs.offsets[i]! + (context === undefined ? 0 : context[i]!)
    const end = seqs.offsets[i + 1]!
    let anomalous = 0
    for (let p = from; p < end; p++) {
      if (perRow[seqs.rows[p]!] === LABEL_ANOMALY) {
        anomalous++
        if (rule === "any") break
      }
    }
    const isAnomaly = rule === "any" ? anomalous > 0 : anomalous > 0 && anomalous >= fraction * (end - from) - 1e-9
    out[i] = isAnomaly ? LABEL_ANOMALY : LABEL_NORMAL
  }
  return { ...seqs, labels: out }
}

/**
 * Per parsed row, the label implied by the labelled sequences holding it: LABEL_ANOMALY if any
 * of them is anomalous, LABEL_NORMAL if all of them are normal, LABEL_UNKNOWN if none holds the
 * row or one of them is unknown (and none anomalous). For raw-entry splits of entity-labelled logs.
 */
export const rowLabelsFromSequences = (seqs: Sequences, rowCount: number): Int8Array => {
  const NONE = -2
  const out = new Int8Array(rowCount).fill(NONE)
  const count = seqs.offsets.length - 1
  for (let i = 0; i < count; i++) {
    const label = seqs.labels[i]!
    for (let p = seqs.offsets[i]!, end = seqs.offsets[i + 1]!; p < end; p++) {
      const row = seqs.rows[p]!
      const prev = out[row]!
      if (prev === LABEL_ANOMALY) continue
      if (label === LABEL_ANOMALY) out[row] = LABEL_ANOMALY
      else if (label === LABEL_UNKNOWN) out[row] = LABEL_UNKNOWN
      else if (prev === NONE) out[row] = LABEL_NORMAL
    }
  }
  for (let row = 0; row < rowCount; row++) if (out[row] === NONE) out[row] = LABEL_UNKNOWN
  return out
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

/**
 * Reads ids one by one. An ASCII id column (the usual case) is decoded once and sliced, which is
 * much cheaper than decoding a million small byte ranges; otherwise each id is decoded alone.
 */
const idReader = (ids: StringColumn): ((i: number) => string) => {
  const { blob, offsets } = ids
  let ascii = blob.length <= 1 << 28
  for (let k = 0; ascii && k < blob.length; k++) if (blob[k]! >= 0x80) ascii = false
  if (!ascii) return (i) => stringAt(ids, i)
  const text = new TextDecoder().decode(blob)
  return (i) => text.slice(offsets[i]!, offsets[i + 1]!)
}

const stripCr = (line: string): string => (line.endsWith("\r") ? line.slice(0, -1) : line)

const missingColumn = (key: string, column: string, header: ReadonlyArray<string>, lineNo: number): Error =>
  new Error(`parseEntityLabelCsv: ${key} "${column}" is not a column of the label CSV (line ${lineNo} header: ${header.join(", ")})`)

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
