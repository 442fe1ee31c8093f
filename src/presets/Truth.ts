/**
 * Scoring one parsed log against its LogHub ground truth (`flow parse --truth`): a
 * `*_structured.csv` with a `LineId` (1-based raw line number) and an `EventTemplate` per line.
 * The truth's lines are the ones scored, matched to parsed rows by line number: GA, FGA, PA and
 * FTA (src/mining/Accuracy.ts) with the true events keyed by their template text, as Loghub-2.0
 * keys them. A truth line with no parsed row (unparsed here, or a continuation line of a
 * multi-line event) counts as wrong: all such lines form one predicted group with no template,
 * which is never correct (for GA, FGA, PA and FTA alike) and counts as one predicted group and
 * template for the precisions.
 */
import * as fs from "node:fs"
import { groupF1, type GroupF1, groupingAccuracy, precisionRecallF1, templateAccuracy, templateF1, type TemplateF1 } from "../mining/Accuracy.ts"
import { parseCsv } from "./Csv.ts"

/** A ground truth as scoring needs it: per truth line, its raw line number and true template. */
export interface Truth {
  readonly file: string
  readonly lineIds: Int32Array
  readonly templates: ReadonlyArray<string>
}

/** GA, FGA, PA and FTA of one parse against a `Truth`. */
export interface TruthScores {
  readonly truth: string
  /** Truth lines scored. */
  readonly lines: number
  /** Truth lines with no parsed row (wrong by definition). */
  readonly unmatched: number
  readonly ga: number
  readonly fga: GroupF1
  readonly pa: number
  readonly fta: TemplateF1
}

/**
 * Read a structured CSV: the `LineId` and `EventTemplate` columns (other columns are ignored).
 * Throws, naming the file, on a missing column, a ragged row, or a LineId that is not a positive
 * integer or repeats.
 */
export const readTruth = (file: string): Truth => {
  let text: string
  try {
    text = fs.readFileSync(file, "utf8")
  } catch (cause) {
    throw new Error(`cannot read ${file}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
  let rows: Array<Array<string>>
  try {
    rows = parseCsv(text)
  } catch (cause) {
    throw new Error(`${file} is not a CSV: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
  const header = rows[0] ?? []
  const column = (name: string): number => {
    const k = header.indexOf(name)
    if (k < 0) throw new Error(`${file} has no column "${name}" (columns: ${header.length === 0 ? "none" : header.join(", ")})`)
    return k
  }
  const idAt = column("LineId")
  const templateAt = column("EventTemplate")
  const n = rows.length - 1
  const lineIds = new Int32Array(n)
  const templates: Array<string> = new Array(n)
  const seen = new Set<number>()
  for (let i = 0; i < n; i++) {
    const r = rows[i + 1]!
    if (r.length !== header.length) throw new Error(`${file}: row ${i + 2} has ${r.length} cells, the header ${header.length}`)
    const id = Number(r[idAt])
    if (!Number.isInteger(id) || id < 1 || id > 0x7fffffff) throw new Error(`${file}: row ${i + 2}: LineId ${JSON.stringify(r[idAt])} is not a line number (1, 2, ...)`)
    if (seen.has(id)) throw new Error(`${file}: row ${i + 2}: LineId ${id} appears twice`)
    seen.add(id)
    lineIds[i] = id
    templates[i] = r[templateAt]!
  }
  return { file, lineIds, templates }
}

/** Marks the truth lines with no parsed row: one predicted group, and a text no template equals. */
const UNMATCHED = -1
const NO_TEMPLATE = "\u0000(unparsed)"

/**
 * Score parsed rows against `truth`: row r has raw line number `lineNo[r]` (increasing) and
 * template `templateIds[r]`, whose text is `texts[id]`.
 */
export const scoreTruth = (truth: Truth, lineNo: ArrayLike<number>, templateIds: ArrayLike<number>, texts: ReadonlyArray<string>): TruthScores => {
  const n = truth.lineIds.length
  const rowOf = new Map<number, number>()
  for (let r = 0; r < lineNo.length; r++) rowOf.set(lineNo[r]!, r)
  const groups = new Int32Array(n)
  const predictedTexts: Array<string> = new Array(n)
  let unmatched = 0
  for (let i = 0; i < n; i++) {
    const row = rowOf.get(truth.lineIds[i]!)
    if (row === undefined) {
      unmatched++
      groups[i] = UNMATCHED
      predictedTexts[i] = NO_TEMPLATE
    } else {
      groups[i] = templateIds[row]!
      predictedTexts[i] = texts[templateIds[row]!]!
    }
  }
  let ga = groupingAccuracy(groups, truth.templates)
  let fga = groupF1(groups, truth.templates)
  // The unmatched lines' group is wrong even where it happens to hold exactly one true event's lines.
  if (unmatched > 0 && unmatchedIsOneEvent(truth.templates, groups, unmatched)) {
    ga -= unmatched / n
    const correct = fga.correct - 1
    fga = { ...fga, ...precisionRecallF1(correct, fga.predictedGroups, fga.trueGroups), correct }
  }
  return {
    truth: truth.file,
    lines: n,
    unmatched,
    ga,
    fga,
    pa: templateAccuracy(predictedTexts, truth.templates),
    fta: templateF1(groups, predictedTexts, truth.templates)
  }
}

/** Whether the unmatched lines are exactly the lines of one true template. */
const unmatchedIsOneEvent = (templates: ReadonlyArray<string>, groups: Int32Array, unmatched: number): boolean => {
  let label: string | undefined
  for (let i = 0; i < groups.length; i++) {
    if (groups[i] !== UNMATCHED) continue
    if (label === undefined) label = templates[i]
    else if (templates[i] !== label) return false
  }
  let size = 0
  for (const t of templates) if (t === label) size++
  return size === unmatched
}
