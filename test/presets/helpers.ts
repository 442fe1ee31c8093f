/**
 * Helpers for the preset and parsing tests: the data root, an independent RFC 4180 reader for
 * LogHub's ground-truth CSVs (written separately from src/presets/Csv.ts, so expectations do not
 * come from the code under test), and field access on a parsed log.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { ParsedLog } from "../../src/artifacts/Log.ts"
import { dictValueAt } from "../../src/artifacts/Columns.ts"

export const dataRoot = (): string => process.env.FLOW_DATA_ROOT ?? path.resolve(import.meta.dirname, "../../../shared/data")

export const dataPath = (rel: string): string => path.join(dataRoot(), rel)

export const loghubLog = (system: string): string => dataPath(`loghub-2k/${system}/${system}_2k.log`)

/** Rows of a CSV, cell by cell; quoted cells may hold commas, doubled quotes and newlines. */
export const readCsv = (text: string): Array<Array<string>> => {
  const rows: Array<Array<string>> = []
  let row: Array<string> = []
  let cell = ""
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c !== "\"") cell += c
      else if (text[i + 1] === "\"") {
        cell += "\""
        i++
      } else quoted = false
    } else if (c === "\"") quoted = true
    else if (c === ",") {
      row.push(cell)
      cell = ""
    } else if (c === "\n") {
      row.push(cell.endsWith("\r") ? cell.slice(0, -1) : cell)
      rows.push(row)
      row = []
      cell = ""
    } else cell += c
  }
  if (cell !== "" || row.length > 0) rows.push([...row, cell])
  return rows
}

/** The ground-truth structured CSV of a LogHub system as header + rows. */
export const loghubStructured = (system: string): { header: Array<string>; rows: Array<Array<string>> } => {
  const all = readCsv(fs.readFileSync(dataPath(`loghub-2k/${system}/${system}_2k.log_structured.csv`), "utf8"))
  return { header: all[0]!, rows: all.slice(1) }
}

/** Value of header field `name` on parsed row `row`. */
export const fieldOf = (log: ParsedLog, name: string, row: number): string => {
  const f = log.fields.find((x) => x.name === name)
  if (f === undefined) throw new Error(`no field ${name}`)
  return dictValueAt(f.column, row)
}

/** The format of `TRACEBACK_LINES`. */
export const TRACEBACK_FORMAT = "<Date> <Time> <Level> <Component>: <Content>"

/** A small application log whose lines 3-6 are a Python traceback, for multi-line events. */
export const TRACEBACK_LINES: ReadonlyArray<string> = [
  "2024-01-02 03:04:05,123 INFO app: started worker 7",
  "2024-01-02 03:04:06,001 ERROR app: Unhandled exception in worker 7",
  "Traceback (most recent call last):",
  "  File \"/srv/app/worker.py\", line 42, in run",
  "    result = task()",
  "ZeroDivisionError: division by zero",
  "2024-01-02 03:04:07,500 INFO app: started worker 8"
]
