/**
 * `flow report`: one self-contained HTML file of a selection's results that opens offline. The
 * leaderboard (table and chart, seed error bars), the headline metric against each varying key
 * (mean and ± one standard deviation over seeds, per model and dataset), ROC and precision-recall
 * curves, F1 by threshold and confusion matrices of each model's best setting (from its
 * `predictions.jsonl`: the test split's labels, scores and predictions), training curves with seed bands where runs wrote
 * `curves.jsonl`, the sweep's coverage, and every run's provenance (config, dataset manifest,
 * environment, the manifest of its files' digests). Charts are Vega-Lite specs compiled here to Vega and drawn in the page by the
 * Vega runtime inlined into it (no network); the same charts can be written as SVG files.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { thresholdCurve } from "../eval/Curves.ts"
import { pathToFileURL } from "node:url"
import { Worker } from "node:worker_threads"
import { readJsonl } from "../runtime/Folders.ts"
import { projectRoot } from "../runtime/ProjectRoot.ts"
import { type Analysis, displayName, displayValue, type ReadRun } from "./ReadResults.ts"

/** One chart: its Vega-Lite spec and where it goes. */
export interface ReportChart {
  readonly id: string
  readonly section: string
  readonly title: string
  readonly spec: Record<string, unknown>
}

/** The confusion counts of scored test rows (label anomaly / normal against prediction 1 / 0). */
const confusionOf = (rows: ReadonlyArray<Record<string, unknown>>): Record<"tp" | "fp" | "fn" | "tn", number> => {
  const c = { tp: 0, fp: 0, fn: 0, tn: 0 }
  for (const r of rows) {
    const anomaly = r.label === "anomaly"
    const flagged = r.prediction === 1
    if (anomaly && flagged) c.tp++
    else if (flagged) c.fp++
    else if (anomaly) c.fn++
    else c.tn++
  }
  return c
}

const safeId = (s: string): string => s.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-|-$/g, "").toLowerCase()

/** The charts of the report, in page order. */
export const reportCharts = (a: Analysis): Array<ReportChart> => {
  const charts: Array<ReportChart> = []
  const metric = a.metric
  const metricTitle = displayName(a, metric)
  const datasetName = (d: string | null) => displayValue(a, "dataset", d, d ?? "?")
  const modelName = (m: string | null) => displayValue(a, "model", m, m ?? "?")
  const grouping = a.varying.filter((k) => !a.ignored.includes(k))
  const complete = a.runs.filter((r) => r.state === "complete")

  if (a.leaderboard.length > 0) {
    charts.push({
      id: "leaderboard",
      section: "Leaderboard",
      title: `${metricTitle}: each model at its best setting (mean ± std over seeds)`,
      spec: {
        data: { values: a.leaderboard.map((e) => ({ dataset: datasetName(e.dataset), model: modelName(e.model), mean: e.mean, low: e.mean - (e.std ?? 0), high: e.mean + (e.std ?? 0), n: e.n })) },
        facet: { column: { field: "dataset", title: null } },
        spec: {
          width: 220,
          layer: [
            { mark: "bar", encoding: { y: { field: "model", type: "nominal", sort: { field: "mean", order: "descending" }, title: null }, x: { field: "mean", type: "quantitative", title: metricTitle, scale: { domain: [0, 1] } }, tooltip: [{ field: "model" }, { field: "mean", format: ".3f" }, { field: "n" }] } },
            { mark: { type: "rule" }, encoding: { y: { field: "model", type: "nominal", sort: { field: "mean", order: "descending" } }, x: { field: "low", type: "quantitative" }, x2: { field: "high" } } }
          ]
        }
      }
    })
  }

  for (const key of grouping) {
    const rows = complete.filter((r) => r.metrics[metric] !== undefined && r.config[key] !== undefined).map((r) => ({
      dataset: datasetName(r.dataset),
      model: modelName(r.model),
      x: r.config[key],
      value: r.metrics[metric]!
    }))
    if (rows.length === 0) continue
    const numeric = rows.every((r) => typeof r.x === "number")
    const xTitle = displayName(a, key)
    const x = { field: "x", type: numeric ? "quantitative" : "ordinal", title: xTitle, ...(numeric ? { scale: { zero: false } } : {}) }
    charts.push({
      id: `by-${safeId(key)}`,
      section: "Metric by varying key",
      title: `${metricTitle} by ${xTitle} (mean, ± one std over seeds)`,
      spec: {
        data: { values: rows.map((r) => ({ ...r, x: numeric ? r.x : typeof r.x === "string" ? r.x : JSON.stringify(r.x) })) },
        facet: { column: { field: "dataset", title: null } },
        spec: {
          width: 220,
          layer: [
            { mark: { type: "line", point: true }, encoding: { x, y: { aggregate: "mean", field: "value", type: "quantitative", title: metricTitle }, color: { field: "model", type: "nominal", title: displayName(a, "model", "model") } } },
            { mark: { type: "errorbar", extent: "stdev" }, encoding: { x, y: { field: "value", type: "quantitative", title: metricTitle }, color: { field: "model", type: "nominal" } } }
          ]
        }
      }
    })
  }

  // Each model's best setting per dataset: its first complete run's predictions and counts.
  const bestRuns: Array<{ dataset: string; model: string; run: ReadRun }> = []
  for (const e of a.leaderboard) {
    const group = a.groups.find((g) => g.dataset === e.dataset && g.model === e.model && grouping.every((k) => JSON.stringify(g.params[k]) === JSON.stringify(e.params[k])))
    const run = group === undefined ? undefined : complete.find((r) => r.run === group.runs[0])
    if (run !== undefined) bestRuns.push({ dataset: e.dataset, model: e.model, run })
  }
  const rocCharts: Array<ReportChart> = []
  const thresholdCharts: Array<ReportChart> = []
  const confusionCharts: Array<ReportChart> = []
  for (const dataset of [...new Set(bestRuns.map((b) => b.dataset))]) {
    const curves: Array<Record<string, unknown>> = []
    const matrices: Array<Record<string, unknown>> = []
    for (const b of bestRuns.filter((x) => x.dataset === dataset)) {
      const rows = readJsonl(path.join(b.run.dir, "predictions.jsonl")).filter((p) => p.split === "test" && typeof p.score === "number" && Number.isFinite(p.score))
      const points = thresholdCurve(rows.map((p) => (p.label === "anomaly" ? 1 : 0)), rows.map((p) => p.score as number))
      for (const p of points) curves.push({ model: modelName(b.model), ...p })
      const labelled = rows.filter((p) => p.label === "anomaly" || p.label === "normal")
      if (labelled.length > 0) {
        const c = confusionOf(labelled)
        for (const [actual, predicted, k] of [["anomaly", "anomaly", "tp"], ["normal", "anomaly", "fp"], ["anomaly", "normal", "fn"], ["normal", "normal", "tn"]] as const) {
          matrices.push({ model: modelName(b.model), actual, predicted, count: c[k] })
        }
      }
    }
    const name = datasetName(dataset)
    const line = (xField: string, yField: string, xTitle: string, yTitle: string) => ({
      width: 300,
      height: 240,
      data: { values: curves },
      mark: { type: "line", interpolate: "step-after" },
      encoding: {
        x: { field: xField, type: "quantitative", title: xTitle, scale: { domain: [0, 1] } },
        y: { field: yField, type: "quantitative", title: yTitle, scale: { domain: [0, 1] } },
        color: { field: "model", type: "nominal" },
        order: { field: xField }
      }
    })
    if (curves.length > 0) {
      rocCharts.push({ id: `roc-${safeId(dataset)}`, section: "ROC and precision-recall", title: `${name}: ROC of each model's best setting (test split)`, spec: line("fpr", "tpr", "false positive rate", "true positive rate") })
      rocCharts.push({ id: `pr-${safeId(dataset)}`, section: "ROC and precision-recall", title: `${name}: precision-recall`, spec: line("recall", "precision", "recall", "precision") })
      thresholdCharts.push({
        id: `f1-threshold-${safeId(dataset)}`,
        section: "Threshold",
        title: `${name}: F1 by score threshold`,
        spec: {
          width: 300,
          height: 240,
          data: { values: curves },
          mark: "line",
          encoding: { x: { field: "threshold", type: "quantitative", title: "threshold (flag when score >= it)", scale: { zero: false } }, y: { field: "f1", type: "quantitative", title: "F1", scale: { domain: [0, 1] } }, color: { field: "model", type: "nominal" }, order: { field: "threshold" } }
        }
      })
    }
    if (matrices.length > 0) {
      confusionCharts.push({
        id: `confusion-${safeId(dataset)}`,
        section: "Confusion matrices",
        title: `${name}: confusion matrix of the test split at the run's threshold`,
        spec: {
          data: { values: matrices },
          facet: { column: { field: "model", title: null } },
          spec: {
            width: 120,
            height: 120,
            layer: [
              { mark: "rect", encoding: { x: { field: "predicted", type: "nominal" }, y: { field: "actual", type: "nominal" }, color: { field: "count", type: "quantitative", legend: null } } },
              { mark: { type: "text", fontSize: 14 }, encoding: { x: { field: "predicted", type: "nominal" }, y: { field: "actual", type: "nominal" }, text: { field: "count" } } }
            ]
          }
        }
      })
    }
  }

  charts.push(...rocCharts, ...thresholdCharts, ...confusionCharts)

  // Training curves (iterative detectors): per setting, the mean and a ± std band over seeds.
  if (a.curves.length > 0) {
    charts.push({
      id: "training-curves",
      section: "Training curves",
      title: "training curves (mean, ± one std over seeds)",
      spec: {
        data: {
          values: a.curves.map((c) => ({
            dataset: datasetName(c.dataset),
            setting: `${modelName(c.model)} ${grouping.filter((k) => c.params[k] !== null).map((k) => `${displayName(a, k)}=${JSON.stringify(c.params[k])}`).join(" ")}`.trim(),
            series: `${c.split} ${c.metric} by ${c.axis}`,
            x: c.x,
            mean: c.mean,
            low: c.mean - (c.std ?? 0),
            high: c.mean + (c.std ?? 0)
          }))
        },
        facet: { row: { field: "series", title: null }, column: { field: "dataset", title: null } },
        resolve: { scale: { y: "independent", x: "independent" } },
        spec: {
          width: 300,
          height: 160,
          layer: [
            { mark: { type: "area", opacity: 0.25 }, encoding: { x: { field: "x", type: "quantitative", title: null }, y: { field: "low", type: "quantitative", title: null }, y2: { field: "high" }, color: { field: "setting", type: "nominal" } } },
            { mark: "line", encoding: { x: { field: "x", type: "quantitative" }, y: { field: "mean", type: "quantitative" }, color: { field: "setting", type: "nominal" } } }
          ]
        }
      }
    })
  }
  return charts
}

/** Text safe in HTML (element content and quoted attributes). */
export const escapeHtml = (s: string): string => s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll("\"", "&quot;")
/** JSON safe inside a <script> element. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replaceAll("<", "\\u003c")

const readOr = (file: string): string => {
  try {
    return JSON.stringify(JSON.parse(fs.readFileSync(file, "utf8")), null, 2)
  } catch {
    return "(unreadable)"
  }
}

/** Compile every chart to Vega (and, when asked, to SVG), in a worker thread (chartWorker.ts). */
export const compileCharts = (charts: ReadonlyArray<ReportChart>, svg: boolean): Promise<Array<{ chart: ReportChart; vega: unknown; svg: string | undefined }>> =>
  new Promise((resolve, reject) => {
    const specs = charts.map((c) => ({ $schema: "https://vega.github.io/schema/vega-lite/v6.json", title: c.title, ...c.spec }))
    const entry = pathToFileURL(path.join(projectRoot(), "src/flows/chartWorker.ts")).href
    const boot = `import("node:module").then((m) => { m.enableCompileCache?.(); return import(${JSON.stringify(entry)}) })`
    const worker = new Worker(boot, { eval: true, workerData: { specs, svg } })
    let done = false
    worker.once("message", (m: { compiled?: Array<{ vega: unknown; svg: string | null }>; error?: string }) => {
      done = true
      void worker.terminate()
      if (m.compiled === undefined) reject(new Error(`report: compiling the charts failed: ${m.error ?? "no reason"}`))
      else resolve(m.compiled.map((x, i) => ({ chart: charts[i]!, vega: x.vega, svg: x.svg ?? undefined })))
    })
    worker.once("error", (e) => {
      done = true
      reject(e)
    })
    worker.once("exit", (code) => {
      if (!done) reject(new Error(`report: the chart compiler stopped (exit code ${code})`))
    })
  })

/**
 * The scripts that draw compiled Vega `specs` into the page's `#chart-<i>` elements with the Vega
 * runtime inlined (no network): `head` goes in <head>, `body` at the end of <body> (it needs an
 * element `#report-errors` for failures, and sets `data-rendered` on <body> when drawn).
 */
export const vegaCharts = (specs: ReadonlyArray<unknown>): { readonly head: string; readonly body: string } => {
  const vegaJs = fs.readFileSync(path.join(projectRoot(), "node_modules/vega/build/vega.min.js"), "utf8").replaceAll("</script", "<\\/script")
  return {
    head: `<script>${vegaJs}</script>`,
    body: `<script id="report-specs" type="application/json">${scriptJson(specs)}</script>
<script>
(function () {
  var errors = document.getElementById("report-errors");
  var fail = function (m) { var p = document.createElement("p"); p.textContent = m; errors.appendChild(p); };
  window.addEventListener("error", function (e) { fail("error: " + e.message); });
  var specs = JSON.parse(document.getElementById("report-specs").textContent);
  Promise.all(specs.map(function (spec, i) {
    var view = new vega.View(vega.parse(spec), { renderer: "svg", container: "#chart-" + i, hover: true });
    return view.runAsync().catch(function (e) { fail("chart " + i + ": " + e); });
  })).then(function () { document.body.setAttribute("data-rendered", String(specs.length)); });
})();
</script>`
  }
}

/** The report page: everything inline, charts drawn by the inlined Vega runtime. */
export const reportHtml = (a: Analysis, compiled: ReadonlyArray<{ chart: ReportChart; vega: unknown }>, title: string): string => {
  const grouping = a.varying.filter((k) => !a.ignored.includes(k))
  const f3 = (v: number | null | undefined) => (v === null || v === undefined ? "-" : v.toFixed(3))
  const sections: Array<string> = []
  const c = a.counts
  sections.push(`<p>${a.runs.length} runs read: ${c.complete} complete, ${c.failed} failed, ${c.incomplete} incomplete, ${c.missing} missing${c.superseded > 0 ? `, ${c.superseded} superseded` : ""}.
Varying: ${escapeHtml(grouping.map((k) => displayName(a, k)).join(", ") || "nothing but the dataset and model")}${a.ignored.length > 0 ? ` (over ${escapeHtml(a.ignored.join(", "))})` : ""}.</p>`)
  const leaderRows = a.leaderboard.map((e) => `<tr><td>${escapeHtml(displayValue(a, "dataset", e.dataset, e.dataset))}</td><td>${escapeHtml(displayValue(a, "model", e.model, e.model))}</td><td>${escapeHtml(grouping.filter((k) => e.params[k] !== null && e.params[k] !== undefined).map((k) => `${displayName(a, k)}=${displayValue(a, k, e.params[k], JSON.stringify(e.params[k]))}`).join(" ") || "-")}</td><td>${e.n}</td><td>${f3(e.mean)} ± ${f3(e.std)}</td></tr>`)
  sections.push(`<h2>Leaderboard</h2><table class="leaderboard"><thead><tr><th>dataset</th><th>model</th><th>setting</th><th>n</th><th>${escapeHtml(displayName(a, a.metric))}</th></tr></thead><tbody>${leaderRows.join("")}</tbody></table>`)
  let section = ""
  compiled.forEach(({ chart }, i) => {
    if (chart.section !== section) {
      section = chart.section
      if (section !== "Leaderboard") sections.push(`<h2>${escapeHtml(section)}</h2>`)
    }
    sections.push(`<figure><div class="chart" id="chart-${i}" data-chart="${escapeHtml(chart.id)}"></div></figure>`)
  })
  const short = a.coverage.filter((x) => x.complete < x.runs)
  sections.push(`<h2>Coverage</h2><p>${a.coverage.length - short.length} of ${a.coverage.length} settings complete.</p>${short.length === 0 ? "" : `<ul>${short.map((x) => `<li>${escapeHtml(`${x.dataset} ${x.model} ${JSON.stringify(x.params)}: ${x.complete} of ${x.runs}; lacking ${x.lacking.map((l) => `${l.run} (${l.state})`).join(", ")}`)}</li>`).join("")}</ul>`}`)
  sections.push(`<h2>Runs</h2>${a.runs.map((r) => `<details><summary>${escapeHtml(`${r.run} — ${r.state}${r.reason === null ? "" : `: ${r.reason}`}`)}</summary>${
    r.state === "complete" || r.state === "failed"
      ? ["run_config.json", "dataset_manifest.json", "environment.json", "manifest.json"].map((f) => `<h3>${f}</h3><pre>${escapeHtml(readOr(path.join(r.dir, f)))}</pre>`).join("")
      : ""
  }</details>`).join("")}`)
  const charts = vegaCharts(compiled.map((x) => x.vega))
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}pre{background:#f6f6f6;padding:8px;overflow:auto;max-height:300px}figure{margin:1em 0}#report-errors:empty{display:none}#report-errors{color:#b00}</style>
${charts.head}
</head><body>
<h1>${escapeHtml(title)}</h1>
<div id="report-errors"></div>
${sections.join("\n")}
${charts.body}
</body></html>
`
}
