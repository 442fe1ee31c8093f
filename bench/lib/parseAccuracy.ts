/**
 * Parsing accuracy on the LogHub 2k samples for `bench:parse`: GA, FGA, PA and FTA of a miner
 * configuration against the original LogHub templates, and leave-one-system-out selection, where
 * the settings scored on a system are chosen from a grid by the other fifteen systems' average GA
 * only. Reads `FLOW_DATA_ROOT`.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { StringColumn } from "../../src/artifacts/Columns.ts"
import { groupF1, groupingAccuracy, templateAccuracy, templateF1 } from "../../src/mining/Accuracy.ts"
import { Drain, type DrainOptions, mineTemplatesWithState } from "../../src/mining/Drain.ts"
import { compileFormat, parseLog } from "../../src/parsing/LogFormat.ts"
import { csvColumn, parseCsv } from "../../src/presets/Csv.ts"
import { getPreset, type System } from "../../src/presets/Presets.ts"

/** One system's sample: its parsed contents and the ground truth in LogHub's row order. */
export interface Sample {
  readonly system: System
  readonly rawLines: number
  readonly unparsed: number
  readonly content: StringColumn
  /** Per truth row: its LineId (the raw line number). */
  readonly lineIds: ReadonlyArray<number>
  /** Per truth row: our parsed row, or -1 when the line did not parse. */
  readonly rowOfTruth: Int32Array
  readonly trueIds: ReadonlyArray<string>
  readonly trueTemplates: ReadonlyArray<string>
}

export const loadSample = (dataRoot: string, system: System): Sample => {
  const preset = getPreset(system)
  const dir = path.join(dataRoot, "loghub-2k", system)
  const log = parseLog(fs.readFileSync(path.join(dir, `${system}_2k.log`)), compileFormat(preset.format), preset.line)
  const rows = parseCsv(fs.readFileSync(path.join(dir, `${system}_2k.log_structured.csv`), "utf8"))
  const rowOf = new Map<number, number>()
  log.lineNo.forEach((line, row) => rowOf.set(line, row))
  const lineIds = csvColumn(rows, "LineId").map(Number)
  return {
    system,
    rawLines: log.rawLines,
    unparsed: log.unparsed.count,
    content: log.content,
    lineIds,
    rowOfTruth: Int32Array.from(lineIds, (l) => rowOf.get(l) ?? -1),
    trueIds: csvColumn(rows, "EventId"),
    trueTemplates: csvColumn(rows, "EventTemplate")
  }
}

/** GA, FGA, PA and FTA (precision, recall, F1) of one prediction. */
export interface Scores {
  readonly ga: number
  readonly fga: number
  readonly pa: number
  readonly ftaP: number
  readonly ftaR: number
  readonly fta: number
  readonly templates: number
}

/**
 * Scores of per-truth-row groups and template texts. A line we could not parse is a group of its
 * own with an empty template, so it counts as wrong everywhere.
 */
export const scorePrediction = (sample: Sample, group: (truthRow: number) => string | number, text: (truthRow: number) => string): Scores => {
  const groups = sample.trueIds.map((_, i) => group(i))
  const texts = sample.trueIds.map((_, i) => text(i))
  const f = templateF1(groups, texts, sample.trueTemplates)
  return {
    ga: groupingAccuracy(groups, sample.trueIds),
    fga: groupF1(groups, sample.trueIds).f1,
    pa: templateAccuracy(texts, sample.trueTemplates),
    ftaP: f.precision,
    ftaR: f.recall,
    fta: f.f1,
    templates: new Set(groups).size
  }
}

/**
 * Mine the sample with `options` and score it. `text`: "exact" scores the parameter-exact text
 * logflow writes, "miner" the token-level text Drain writes.
 */
export const scoreMiner = (sample: Sample, options: DrainOptions, text: "exact" | "miner"): Scores => {
  const { log } = mineTemplatesWithState(sample.content, options)
  const row = (i: number) => sample.rowOfTruth[i]!
  return scorePrediction(
    sample,
    (i) => (row(i) < 0 ? `unparsed:${i}` : log.templateIds[row(i)]!),
    (i) => {
      if (row(i) < 0) return ""
      const t = log.templates[log.templateIds[row(i)]!]!
      return text === "exact" ? t.exact! : t.text
    }
  )
}

/** GA alone, without writing texts (for grid searches). */
export const gaOf = (sample: Sample, options: DrainOptions): number => {
  const drain = new Drain(options)
  const log = drain.templatedLog(drain.addColumn(sample.content))
  const groups = sample.trueIds.map((_, i) => (sample.rowOfTruth[i]! < 0 ? `unparsed:${i}` : log.templateIds[sample.rowOfTruth[i]!]!))
  return groupingAccuracy(groups, sample.trueIds)
}

/** A point of a settings grid: a name and the options it gives each system. */
export interface GridPoint {
  readonly name: string
  readonly options: (system: System) => DrainOptions
}

/** Per held-out system: the grid point the other systems chose (highest mean GA, first on ties). */
export interface LosoChoice {
  readonly system: System
  readonly chosen: GridPoint
  /** The chosen point's mean GA over the other systems. */
  readonly trainGa: number
}

/** Leave-one-system-out choice over `grid`, from every point's GA on every system. */
export const leaveOneSystemOut = (samples: ReadonlyArray<Sample>, grid: ReadonlyArray<GridPoint>): Array<LosoChoice> => {
  const ga = grid.map((p) => samples.map((s) => gaOf(s, p.options(s.system))))
  return samples.map((held, h) => {
    let best = -1
    let bestGa = -Infinity
    grid.forEach((_, g) => {
      const others = ga[g]!.filter((_, k) => k !== h)
      const mean = others.reduce((a, b) => a + b, 0) / others.length
      if (mean > bestGa) {
        best = g
        bestGa = mean
      }
    })
    return { system: held.system, chosen: grid[best]!, trainGa: bestGa }
  })
}

/**
 * A peer's predictions in LogHub's layout (`<dir>/<S>_2k.log_structured.csv` with LineId,
 * EventId and EventTemplate), scored against the truth; undefined when the file is missing.
 */
export const scorePeer = (sample: Sample, dir: string): Scores | undefined => {
  const file = path.join(dir, `${sample.system}_2k.log_structured.csv`)
  if (!fs.existsSync(file)) return undefined
  const rows = parseCsv(fs.readFileSync(file, "utf8"))
  const byLine = new Map<string, { id: string; template: string }>()
  const ids = csvColumn(rows, "EventId")
  const templates = csvColumn(rows, "EventTemplate")
  csvColumn(rows, "LineId").forEach((l, k) => byLine.set(l, { id: ids[k]!, template: templates[k]! }))
  const at = (i: number) => byLine.get(String(sample.lineIds[i]))
  return scorePrediction(sample, (i) => at(i)?.id ?? `missing:${i}`, (i) => at(i)?.template ?? "")
}
