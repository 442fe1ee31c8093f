/**
 * The table `flow run` ends with: one row per run of the flow (run, dataset, model, the varying
 * hyperparameters, headline P / R / F1 / AUROC, status, cached or computed), and the same rows as
 * JSON for `flow run --json`. Pure formatting over a `FlowSummary`.
 *
 * Fitting a width (a terminal's columns): the widest hyperparameter columns are dropped first (a
 * note under the table names them), then long run names lose their middle to an ellipsis, then
 * dataset and model names their end; a line still too long is cut. Without a width, full width.
 */
import type { FlowSummary, RunSummary } from "../../flows/RunSummary.ts"

/** Numbers with three decimals; a missing one as "-". */
export const fmtMetric = (v: number | null): string => (v === null ? "-" : v.toFixed(3))

/** A hyperparameter value as a cell: strings bare, the rest as JSON, missing as "-". */
export const fmtParam = (v: unknown): string => (v === null || v === undefined ? "-" : typeof v === "string" ? v : JSON.stringify(v))

/** `s` in at most `width` characters, its end replaced by "…" when cut. */
export const cutEnd = (s: string, width: number): string => (s.length <= width ? s : width <= 1 ? s.slice(0, width) : `${s.slice(0, width - 1)}…`)

/** `s` in at most `width` characters, its middle replaced by "…" when cut (a run name keeps its experiment and its axes). */
export const cutMiddle = (s: string, width: number): string => {
  if (s.length <= width) return s
  if (width <= 1) return s.slice(0, width)
  const tail = Math.floor((width - 1) / 2)
  return `${s.slice(0, width - 1 - tail)}…${s.slice(s.length - tail)}`
}

/**
 * Short, still distinct column headers for dotted keys: each key's shortest dotted suffix that no
 * other key ends with (`model.config.smoothing` → `smoothing`).
 */
export const shortHeaders = (keys: ReadonlyArray<string>): Array<string> =>
  keys.map((key) => {
    const parts = key.split(".")
    for (let n = 1; n < parts.length; n++) {
      const suffix = parts.slice(-n).join(".")
      if (!keys.some((k) => k !== key && (k === suffix || k.endsWith(`.${suffix}`)))) return suffix
    }
    return key
  })

interface Column {
  readonly header: string
  readonly cells: ReadonlyArray<string>
  readonly kind: "run" | "name" | "param" | "fixed"
  readonly right: boolean
  /** A hyperparameter column's dotted key. */
  readonly key?: string
  width: number
}

const GAP = 2
const MIN_RUN = 12
const MIN_NAME = 6

/** The table's lines, header first, fitted to `width` columns when given. */
export const formatRunTable = (summary: FlowSummary, width?: number): Array<string> => {
  const rows = summary.runs
  if (rows.length === 0) return []
  const column = (header: string, cells: ReadonlyArray<string>, kind: Column["kind"], right = false, key?: string): Column => ({
    header,
    cells,
    kind,
    right,
    ...(key === undefined ? {} : { key }),
    width: Math.max(header.length, ...cells.map((c) => c.length))
  })
  const headers = shortHeaders(summary.varying)
  const metric = (header: string, get: (r: RunSummary) => number | null) => column(header, rows.map((r) => fmtMetric(get(r))), "fixed", true)
  let columns: Array<Column> = [
    column("RUN", rows.map((r) => r.run), "run"),
    column("DATASET", rows.map((r) => r.dataset), "name"),
    column("MODEL", rows.map((r) => r.model), "name"),
    ...summary.varying.map((k, i) => column(headers[i]!, rows.map((r) => fmtParam(r.params[k])), "param", false, k)),
    metric("P", (r) => r.precision),
    metric("R", (r) => r.recall),
    metric("F1", (r) => r.f1),
    metric("AUROC", (r) => r.auroc),
    column("STATUS", rows.map((r) => r.status), "fixed"),
    column("CACHE", rows.map((r) => (r.cached ? "cached" : "computed")), "fixed")
  ]
  const total = () => columns.reduce((s, c) => s + c.width, 0) + GAP * (columns.length - 1)
  const hidden: Array<string> = []
  if (width !== undefined) {
    // Drop hyperparameter columns, widest first.
    while (total() > width) {
      const params = columns.filter((c) => c.kind === "param")
      if (params.length === 0) break
      const widest = params.reduce((a, b) => (b.width > a.width ? b : a))
      hidden.push(widest.key!)
      columns = columns.filter((c) => c !== widest)
    }
    // Then narrow the run names, then the dataset and model names.
    for (const [kind, min] of [["run", MIN_RUN], ["name", MIN_NAME]] as const) {
      for (const c of columns.filter((x) => x.kind === kind)) {
        const over = total() - width
        if (over > 0) c.width = Math.min(c.width, Math.max(min, c.header.length, c.width - over))
      }
    }
  }
  const cell = (c: Column, text: string) => {
    const fitted = c.kind === "run" ? cutMiddle(text, c.width) : cutEnd(text, c.width)
    return c.right ? fitted.padStart(c.width) : fitted.padEnd(c.width)
  }
  const line = (cells: ReadonlyArray<string>) => {
    const s = cells.join(" ".repeat(GAP)).trimEnd()
    return width === undefined ? s : cutEnd(s, width)
  }
  const lines = [line(columns.map((c) => cell(c, c.header))), ...rows.map((_, i) => line(columns.map((c) => cell(c, c.cells[i]!))))]
  if (hidden.length > 0) {
    const note = `(${hidden.length} varying ${hidden.length === 1 ? "parameter" : "parameters"} not shown to fit the terminal: ${hidden.join(", ")}; flow run --json has them)`
    lines.push(width === undefined ? note : cutEnd(note, width))
  }
  return lines
}

