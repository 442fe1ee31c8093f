/**
 * `flow results` as text, JSON, CSV or Markdown: what was read (runs by state, each one not complete
 * with its reason), the varying keys, one row per setting (dataset, model, the varying keys, n,
 * the ranking metric's mean ± std and 95% interval, the other headline metrics' means) and the
 * leaderboard per dataset. Pure formatting over an `Analysis`.
 */
import type { Summary } from "../../eval/Stats.ts"
import { type Analysis, displayName, displayValue, type ResultGroup } from "../../flows/ReadResults.ts"
import { fmtParam, shortHeaders } from "./RunTable.ts"

const f3 = (v: number | null | undefined): string => (v === null || v === undefined ? "-" : v.toFixed(3))

/** Columns of the settings table: [header, cell per group]. */
const groupColumns = (a: Analysis): Array<readonly [string, (g: ResultGroup) => string]> => {
  const grouping = a.varying.filter((k) => !a.ignored.includes(k))
  const headers = shortHeaders(grouping)
  const others = a.metrics.filter((m) => m !== a.metric && !m.includes(".")).slice(0, 4)
  return [
    [displayName(a, "dataset", "DATASET"), (g) => displayValue(a, "dataset", g.dataset, g.dataset)],
    [displayName(a, "model", "MODEL"), (g) => displayValue(a, "model", g.model, g.model)],
    ...grouping.map((k, i) => [displayName(a, k, headers[i]!), (g: ResultGroup) => displayValue(a, k, g.params[k], fmtParam(g.params[k]))] as const),
    ["N", (g) => String(g.n)],
    [`${displayName(a, a.metric, a.metric.toUpperCase())} MEAN ± STD`, (g) => {
      const s = g.metrics[a.metric]
      return s === undefined ? "-" : `${f3(s.mean)} ± ${f3(s.std)}`
    }],
    ["95% CI", (g) => {
      const s = g.metrics[a.metric]
      return s === undefined || s.ciLow === null ? "-" : `[${f3(s.ciLow)}, ${f3(s.ciHigh)}]`
    }],
    ...others.map((m) => [displayName(a, m, m.toUpperCase()), (g: ResultGroup) => f3(g.metrics[m]?.mean)] as const)
  ]
}

const table = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): Array<string> => {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((x, c) => x.padEnd(widths[c]!)).join("  ").trimEnd()
  return [line(headers), ...rows.map(line)]
}

/** The text view. */
export const formatResults = (a: Analysis): Array<string> => {
  const c = a.counts
  const lines = [
    `${a.runs.length} runs read: ${c.complete} complete, ${c.failed} failed, ${c.incomplete} incomplete, ${c.missing} missing${c.superseded > 0 ? `, ${c.superseded} superseded` : ""}`
  ]
  for (const r of a.runs) {
    if (r.state !== "complete") lines.push(`  ${r.state.padEnd(10)}  ${r.run}${r.fingerprint === null ? "" : `/${r.fingerprint}`}: ${r.reason ?? ""}`)
  }
  if (a.groups.length === 0) return [...lines, ...coverageLines(a)]
  const grouping = a.varying.filter((k) => !a.ignored.includes(k))
  const shown = (keys: ReadonlyArray<string>) => keys.map((k) => displayName(a, k)).join(", ")
  lines.push(`varying: ${grouping.length === 0 ? "nothing but the dataset and model" : shown(grouping)}${a.ignored.length === 0 ? "" : ` (over ${shown(a.ignored)})`}`)
  lines.push("")
  const columns = groupColumns(a)
  lines.push(...table(columns.map(([h]) => h), a.groups.map((g) => columns.map(([, cell]) => cell(g)))))
  lines.push(...coverageLines(a), ...curveLines(a))
  if (a.leaderboard.length > 0) {
    lines.push("", `leaderboard by ${displayName(a, a.metric)} (higher is better), each model at its best setting:`)
    const headers = shortHeaders(grouping)
    const metricHeader = displayName(a, a.metric, a.metric.toUpperCase())
    lines.push(...table([displayName(a, "dataset", "DATASET"), "#", displayName(a, "model", "MODEL"), "SETTING", "N", metricHeader], a.leaderboard.map((e, i, all) => {
      const rank = all.slice(0, i + 1).filter((x) => x.dataset === e.dataset).length
      const setting = grouping.flatMap((k, j) =>
        e.params[k] === null || e.params[k] === undefined ? [] : [`${displayName(a, k, headers[j]!)}=${displayValue(a, k, e.params[k], fmtParam(e.params[k]))}`]
      ).join(" ") || "-"
      return [displayValue(a, "dataset", e.dataset, e.dataset), String(rank), displayValue(a, "model", e.model, e.model), setting, String(e.n), `${f3(e.mean)} ± ${f3(e.std)}`]
    })))
  }
  return lines
}

/** Training curves: how many settings have them, on which series, and every run whose curves stop early. */
const curveLines = (a: Analysis): Array<string> => {
  if (a.curves.length === 0) return []
  const settings = new Set(a.curves.map((c) => `${c.dataset}\u0000${c.model}\u0000${JSON.stringify(c.params)}`)).size
  const series = [...new Set(a.curves.map((c) => `${c.split} ${c.metric} by ${c.axis}`))]
  const short = a.runs.filter((r) => r.curvesShort !== null)
  return [
    "",
    `curves: ${settings} settings (${series.join(", ")}); mean and std per position over seeds in --json`,
    ...short.map((r) => `  short: ${r.run}: ${r.curvesShort}`)
  ]
}

/** The sweep's coverage: one line when every setting is complete, else each setting that lacks runs. */
const coverageLines = (a: Analysis): Array<string> => {
  const short = a.coverage.filter((c) => c.complete < c.runs)
  if (a.coverage.length === 0) return []
  const sizes = [...new Set(a.coverage.map((c) => c.runs))]
  if (short.length === 0) return ["", `coverage: all ${a.coverage.length} settings complete (${sizes.join(" or ")} runs each)`]
  const grouping = a.varying.filter((k) => !a.ignored.includes(k))
  const headers = shortHeaders(grouping)
  return [
    "",
    `coverage: ${a.coverage.length - short.length} of ${a.coverage.length} settings complete; these lack runs:`,
    ...short.map((c) => {
      const setting = grouping.flatMap((k, j) => (c.params[k] === null ? [] : [`${displayName(a, k, headers[j]!)}=${displayValue(a, k, c.params[k], fmtParam(c.params[k]))}`])).join(" ")
      const lacking = c.lacking.map((l) => `${l.run} (${l.state})`).join(", ")
      return `  ${displayValue(a, "dataset", c.dataset, c.dataset)} ${displayValue(a, "model", c.model, c.model)}${setting === "" ? "" : ` ${setting}`}: ${c.complete} of ${c.runs}; lacking ${lacking}`
    })
  ]
}

const summaryJson = (s: Summary) => ({ n: s.n, mean: s.mean, std: s.std, sem: s.sem, ci95: s.ciLow === null ? null : [s.ciLow, s.ciHigh], min: s.min, max: s.max })

/** The JSON view (every run with its state, every group with every metric's summary). */
export const resultsJson = (a: Analysis): unknown => ({
  counts: a.counts,
  varying: a.varying.filter((k) => !a.ignored.includes(k)),
  ignored: a.ignored,
  metric: a.metric,
  metrics: a.metrics,
  /** Every metric flow results reads (precision, recall, F1, AUROC, AUPRC, accuracy and their scoped forms) is better higher. */
  directions: Object.fromEntries(a.metrics.map((m) => [m, "higher_is_better"])),
  groups: a.groups.map((g) => ({ dataset: g.dataset, model: g.model, params: g.params, n: g.n, runs: g.runs, metrics: Object.fromEntries(Object.entries(g.metrics).map(([m, s]) => [m, summaryJson(s)])) })),
  leaderboard: a.leaderboard,
  coverage: a.coverage,
  curves: a.curves,
  display: { names: a.names, values: a.values },
  runs: a.runs.map((r) => ({ run: r.run, fingerprint: r.fingerprint, state: r.state, reason: r.reason, dataset: r.dataset, model: r.model, dir: r.dir, metrics: r.metrics, curve_points: r.curves.length, curves_short: r.curvesShort })),
  problems: a.problems
})

const csvCell = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replaceAll("\"", "\"\"")}"` : s)

/** The settings as CSV: dataset, model, the varying keys (full dotted names, or their display names), n, then mean, std, sem, ci95_low, ci95_high, min, max of each metric. */
export const resultsCsv = (a: Analysis): string => {
  const grouping = a.varying.filter((k) => !a.ignored.includes(k))
  const stats = ["mean", "std", "sem", "ci95_low", "ci95_high", "min", "max"] as const
  const header = [displayName(a, "dataset", "dataset"), displayName(a, "model", "model"), ...grouping.map((k) => displayName(a, k)), "n", ...a.metrics.flatMap((m) => stats.map((s) => `${displayName(a, m)}_${s}`))]
  const value = (s: Summary | undefined, which: (typeof stats)[number]): string => {
    if (s === undefined) return ""
    const v = { mean: s.mean, std: s.std, sem: s.sem, ci95_low: s.ciLow, ci95_high: s.ciHigh, min: s.min, max: s.max }[which]
    return v === null ? "" : String(v)
  }
  const rows = a.groups.map((g) => [displayValue(a, "dataset", g.dataset, g.dataset), displayValue(a, "model", g.model, g.model), ...grouping.map((k) => displayValue(a, k, g.params[k], fmtParam(g.params[k]))), String(g.n), ...a.metrics.flatMap((m) => stats.map((s) => value(g.metrics[m], s)))])
  return [header, ...rows].map((r) => r.map(csvCell).join(",")).join("\n") + "\n"
}

/** The settings table as Markdown. */
export const resultsMarkdown = (a: Analysis): string => {
  const columns = groupColumns(a)
  const esc = (s: string) => s.replaceAll("|", "\\|")
  return [
    `| ${columns.map(([h]) => esc(h)).join(" | ")} |`,
    `| ${columns.map(([h]) => (h === "DATASET" || h === "MODEL" ? "---" : "---:")).join(" | ")} |`,
    ...a.groups.map((g) => `| ${columns.map(([, cell]) => esc(cell(g))).join(" | ")} |`)
  ].join("\n") + "\n"
}
