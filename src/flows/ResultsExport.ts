/**
 * `flow results --export DIR`: what was read, as tables a notebook or a spreadsheet opens, each in
 * CSV, JSON (an array of row objects) and Parquet. `runs`: one row per run read (its state and
 * reason, dataset, model, detector, every varying key by its dotted name, every metric); `metrics`:
 * one row per complete run and metric (long form); `curves`: one row per training-curve point. Parquet is written with hyparquet-writer
 * (pure JavaScript; chosen by measurement, docs/BENCHMARKS.md); a column is DOUBLE when all its
 * values are numbers, BOOLEAN when all are booleans, else STRING (other values as JSON text).
 * Every file is written under a temporary name and renamed into place: an interrupted export leaves
 * whole files or none.
 */
import * as path from "node:path"
import { parquetWriteBuffer } from "hyparquet-writer"
import { writeWhole } from "../runtime/Folders.ts"
import type { Analysis } from "./ReadResults.ts"

export type CellKind = "string" | "number" | "boolean"

/** A table: named columns (each of one kind), rows of values (null where absent). */
export interface ExportTable {
  readonly columns: ReadonlyArray<{ readonly name: string; readonly kind: CellKind }>
  readonly rows: ReadonlyArray<Readonly<Record<string, string | number | boolean | null>>>
}

/** A value as a cell of kind `kind`: strings as they are, other values as JSON text in a string column. */
const cell = (v: unknown, kind: CellKind): string | number | boolean | null => {
  if (v === null || v === undefined) return null
  if (kind === "string") return typeof v === "string" ? v : JSON.stringify(v)
  return v as number | boolean
}

/** The kind a column of these values gets. */
const kindOf = (values: ReadonlyArray<unknown>): CellKind => {
  const present = values.filter((v) => v !== null && v !== undefined)
  if (present.length > 0 && present.every((v) => typeof v === "number" && Number.isFinite(v))) return "number"
  if (present.length > 0 && present.every((v) => typeof v === "boolean")) return "boolean"
  return "string"
}

const table = (names: ReadonlyArray<string>, raw: ReadonlyArray<Readonly<Record<string, unknown>>>): ExportTable => {
  const columns = names.map((name) => ({ name, kind: kindOf(raw.map((r) => r[name])) }))
  return { columns, rows: raw.map((r) => Object.fromEntries(columns.map((c) => [c.name, cell(r[c.name], c.kind)]))) }
}

/** One row per run read: identity, state, every varying key, every metric. */
export const runsTable = (a: Analysis): ExportTable => {
  const fixed = ["run", "fingerprint", "state", "reason", "dataset", "model", "detector"]
  const taken = new Set(fixed)
  const params = a.varying.filter((k) => !taken.has(k))
  const metrics = a.metrics.filter((m) => !taken.has(m) && !params.includes(m))
  return table([...fixed, ...params, ...metrics], a.runs.map((r) => ({
    run: r.run,
    fingerprint: r.fingerprint,
    state: r.state,
    reason: r.reason,
    dataset: r.dataset,
    model: r.model,
    detector: r.detector,
    ...Object.fromEntries(params.map((k) => [k, r.config[k]])),
    ...Object.fromEntries(metrics.map((m) => [m, r.metrics[m]]))
  })))
}

/** One row per training-curve point of every complete run (its split, metric, epoch / step / samples, value). */
export const curvesTable = (a: Analysis): ExportTable =>
  table(["run", "fingerprint", "dataset", "model", "split", "metric", "epoch", "step", "samples", "value"], a.runs.filter((r) => r.state === "complete").flatMap((r) =>
    r.curves.map((p) => ({ run: r.run, fingerprint: r.fingerprint, dataset: r.dataset, model: r.model, split: p.split, metric: p.metric, epoch: p.epoch, step: p.step, samples: p.samples, value: p.value }))
  ))

/** One row per complete run and metric. */
export const metricsTable = (a: Analysis): ExportTable =>
  table(["run", "fingerprint", "dataset", "model", "metric", "value"], a.runs.filter((r) => r.state === "complete").flatMap((r) =>
    Object.entries(r.metrics).map(([metric, value]) => ({ run: r.run, fingerprint: r.fingerprint, dataset: r.dataset, model: r.model, metric, value }))
  ))

const csvCell = (v: string | number | boolean | null): string => {
  if (v === null) return ""
  const s = String(v)
  return /[",\n\r]/.test(s) ? `"${s.replaceAll("\"", "\"\"")}"` : s
}

/** The table as CSV (header row; an absent value is an empty cell). */
export const toCsv = (t: ExportTable): string =>
  [t.columns.map((c) => csvCell(c.name)).join(","), ...t.rows.map((r) => t.columns.map((c) => csvCell(r[c.name] ?? null)).join(","))].join("\n") + "\n"

/** The table as Parquet bytes. */
export const toParquet = (t: ExportTable): Uint8Array => {
  const type = { string: "STRING", number: "DOUBLE", boolean: "BOOLEAN" } as const
  const buffer = parquetWriteBuffer({ columnData: t.columns.map((c) => ({ name: c.name, data: t.rows.map((r) => r[c.name] ?? null), type: type[c.kind] })) })
  return new Uint8Array(buffer)
}

/** Write `name`.csv, `name`.json and `name`.parquet into `dir` (created if missing); returns the paths written. */
export const writeTable = (dir: string, name: string, t: ExportTable): Array<string> => {
  const outputs: Array<readonly [string, string | Uint8Array]> = [
    [`${name}.csv`, toCsv(t)],
    [`${name}.json`, `${JSON.stringify(t.rows, null, 2)}\n`],
    [`${name}.parquet`, toParquet(t)]
  ]
  return outputs.map(([file, data]) => writeWhole(path.join(dir, file), data))
}
