/**
 * Test and bench helper for the LogHub 2k samples: the presets' log formats, an RFC 4180 CSV
 * reader for the ground truth, and a loader returning the parsed content column beside the
 * EventId labels, as logparser's benchmark reads them. Reads from FLOW_DATA_ROOT.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { compileFormat, parseLog } from "../../src/parsing/LogFormat.ts"
import { formatPresets, type System, SYSTEMS } from "../../src/presets/formats.ts"
import type { StringColumn } from "../../src/artifacts/Columns.ts"

export { SYSTEMS }
export type LoghubSystem = System

/** Drain's published GA per system (Zhu et al., ICSE-SEIP 2019, Table 3). */
export const DRAIN_PUBLISHED_GA: Readonly<Record<LoghubSystem, number>> = {
  HDFS: 0.998, Hadoop: 0.948, Spark: 0.920, Zookeeper: 0.967, BGL: 0.963, HPC: 0.887, Thunderbird: 0.955,
  Windows: 0.997, Linux: 0.690, Android: 0.911, HealthApp: 0.780, Apache: 1.000, Proxifier: 0.527,
  OpenSSH: 0.788, OpenStack: 0.733, Mac: 0.787
}

/**
 * The presets' log formats (`src/presets/formats.ts`: logparser's benchmark formats, with the
 * optional `(\[<PID>\])?` groups of Thunderbird, Linux and Mac) and line handling (trimmed, as
 * logparser's `line.strip()`).
 */
export const LOGHUB_FORMATS: Readonly<Record<LoghubSystem, string>> = Object.fromEntries(
  SYSTEMS.map((s) => [s, formatPresets[s].format])
) as Record<LoghubSystem, string>

export const dataRoot = (): string => process.env.FLOW_DATA_ROOT ?? path.resolve(import.meta.dirname, "../../../shared/data")

export const readData = (rel: string): string => fs.readFileSync(path.join(dataRoot(), rel), "utf8")

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines. */
export const parseCsv = (text: string): Array<Array<string>> => {
  const rows: Array<Array<string>> = []
  let row: Array<string> = []
  let field = ""
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c !== "\"") field += c
      else if (text[i + 1] === "\"") {
        field += "\""
        i++
      } else quoted = false
    } else if (c === "\"") quoted = true
    else if (c === ",") {
      row.push(field)
      field = ""
    } else if (c === "\n") {
      row.push(field.endsWith("\r") ? field.slice(0, -1) : field)
      rows.push(row)
      row = []
      field = ""
    } else field += c
  }
  if (field !== "" || row.length > 0) rows.push([...row, field])
  return rows
}

/** One column of a CSV with a header row; throws on a missing column or a ragged row. */
export const csvColumn = (rows: ReadonlyArray<ReadonlyArray<string>>, name: string): Array<string> => {
  const k = rows[0]!.indexOf(name)
  if (k < 0) throw new Error(`csvColumn: no column ${name}`)
  return rows.slice(1).map((r, i) => {
    if (r.length !== rows[0]!.length) throw new Error(`csvColumn: row ${i + 1} has ${r.length} fields`)
    return r[k]!
  })
}

export interface LoghubSample {
  readonly system: LoghubSystem
  /** Parsed `<Content>` of every line. */
  readonly content: StringColumn
  /** Raw lines that did not match the format (0 for all 16 systems). */
  readonly unparsed: number
  /** Ground-truth EventId per line. */
  readonly eventIds: ReadonlyArray<string>
}

/** Parse `<S>_2k.log` with its format and read the EventId column of its structured CSV. */
export const loadLoghub = (system: LoghubSystem): LoghubSample => {
  const log = parseLog(readData(`loghub-2k/${system}/${system}_2k.log`), compileFormat(LOGHUB_FORMATS[system]), formatPresets[system].line)
  const rows = parseCsv(readData(`loghub-2k/${system}/${system}_2k.log_structured.csv`))
  const eventIds = csvColumn(rows, "EventId")
  if (eventIds.length !== log.lineNo.length) {
    throw new Error(`${system}: ${log.lineNo.length} parsed lines but ${eventIds.length} ground-truth rows`)
  }
  return { system, content: log.content, unparsed: log.unparsed.count, eventIds }
}
