/**
 * `flow results (REGISTRY [--group G | --experiment E | --run R]... | RESULTS_DIR) [--where KEY=VALUE]...
 * [--ignore KEY]... [--keep-seeds] [--metric M] [--sort KEY] [--verify] [--json | --csv | --markdown]
 * [--export DIR]`:
 * the runs of a registry selection (each at its current fingerprint) or every run folder of a
 * results tree, read back (src/flows/ReadResults.ts): complete, failed, incomplete, missing and
 * superseded runs kept apart with their reasons; the hyperparameters that vary (seeds left out
 * of grouping unless `--keep-seeds`); per setting n, mean, std, 95% CI of the metrics; a
 * leaderboard per dataset. Exit 0 when at least one run was read complete (a `--where` that keeps
 * none is a warning), 2 for a bad selection, a bad flag or when nothing complete was found.
 * `flow results diff RUN_A RUN_B`: what differs between two result folders; `flow results compare`:
 * two groups of runs on one metric (src/eval/Compare.ts).
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as fs from "node:fs"
import * as path from "node:path"
import { prepareFlow } from "../../flows/Flow.ts"
import { compareSamples } from "../../eval/Compare.ts"
import { type Analysis, analyzeRuns, diffFolders, readPlannedRuns, resolveRunFolder, scanResultsTree } from "../../flows/ReadResults.ts"
import { compileCharts, reportCharts, reportHtml } from "../../flows/Report.ts"
import { curvesTable, metricsTable, runsTable, writeTable } from "../../flows/ResultsExport.ts"
import { writeWhole } from "../../runtime/Folders.ts"
import { formatResults, resultsCsv, resultsJson, resultsMarkdown } from "../view/ResultsView.ts"
import { fail, flowOptions, handleErrors, json, resultsDir, selection, type SelectionArgs } from "./shared.ts"

const { registry: _registry, ...selectionFlags } = selection

/** `KEY=VALUE` flags as pairs; a bad one fails naming its flag. */
const keyValues = (flag: string, values: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const out: Array<readonly [string, string]> = []
    for (const w of values) {
      const eq = w.indexOf("=")
      if (eq <= 0) return yield* fail(`${flag} ${JSON.stringify(w)}: expected KEY=VALUE`)
      out.push([w.slice(0, eq), w.slice(eq + 1)])
    }
    return out
  })

interface TargetArgs extends Omit<SelectionArgs, "registry"> {
  readonly target: string
  readonly verify: boolean
}

/**
 * The runs `target` names: a registry's selection at current fingerprints (with the registry's
 * `[analysis]` table), or every run folder of a results tree.
 */
const readTarget = (args: TargetArgs) =>
  Effect.gen(function*() {
    if (fs.existsSync(args.target) && fs.statSync(args.target).isDirectory()) {
      if (args.groups.length + args.experiments.length + args.runs.length > 0) {
        return yield* fail(`--group, --experiment and --run select from a registry; ${args.target} is a results folder (give the registry, or --where run=NAME)`)
      }
      return { runs: scanResultsTree(path.resolve(args.target), args.verify), analysis: undefined }
    }
    if (!fs.existsSync(args.target)) return yield* fail(`${args.target}: no such registry file or results folder`)
    const options = flowOptions({ ...args, registry: args.target })
    const { plan, registry } = yield* prepareFlow(options)
    return { runs: readPlannedRuns(plan.runs, options.resultsDir, args.verify), analysis: registry.analysis }
  })

const targetArg = Argument.String("target").pipe(Argument.withDescription("A registry TOML (its selected runs) or a results folder (every run in it)"))
const whereFlag = Flag.String("where").pipe(Flag.withDescription("Keep runs whose KEY (a dotted config key, or run, dataset, model, detector) equals VALUE (repeatable)"), Flag.atLeast(0))
const ignoreFlag = Flag.String("ignore").pipe(Flag.withDescription("Leave this varying key out of the grouping, like seeds (repeatable)"), Flag.atLeast(0))
const verifyFlag = Flag.Boolean("verify").pipe(Flag.withDescription("Hash every file against its manifest (default: sizes only)"), Flag.withDefault(false))

const resultsMain = Command.make(
  "results",
  {
    target: targetArg,
    ...selectionFlags,
    where: whereFlag,
    ignore: ignoreFlag,
    keepSeeds: Flag.Boolean("keep-seeds").pipe(Flag.withDescription("Group by seed too (one setting per seed)"), Flag.withDefault(false)),
    metric: Flag.String("metric").pipe(Flag.withDescription("The metric that ranks settings (default f1)"), Flag.withDefault("f1")),
    sort: Flag.String("sort").pipe(Flag.withDescription("Order settings by a metric (best first) or a varying key"), Flag.optional),
    verify: verifyFlag,
    csv: Flag.Boolean("csv").pipe(Flag.withDescription("Print the settings as CSV"), Flag.withDefault(false)),
    markdown: Flag.Boolean("markdown").pipe(Flag.withDescription("Print the settings as a Markdown table"), Flag.withDefault(false)),
    exportDir: Flag.String("export").pipe(Flag.withDescription("Also write the runs, metrics and curves tables here as CSV, JSON and Parquet"), Flag.optional),
    json
  },
  Effect.fn("cli.results")(function*(args) {
    if ([args.json, args.csv, args.markdown].filter(Boolean).length > 1) return yield* fail("give at most one of --json, --csv and --markdown")
    const where = yield* keyValues("--where", args.where)
    const { runs, analysis: table } = yield* readTarget(args)
    const analysis = sortGroups(analyzeRuns(runs, {
      where,
      ignore: [...(table?.ignore ?? []), ...args.ignore],
      keepSeeds: args.keepSeeds,
      metric: args.metric,
      ...(table === undefined ? {} : { names: table.names, values: table.values })
    }), Option.getOrUndefined(args.sort))
    if (typeof analysis === "string") return yield* fail(analysis)
    if (args.json) yield* Console.log(JSON.stringify(resultsJson(analysis), null, 2))
    else if (args.csv) yield* Console.log(resultsCsv(analysis).trimEnd())
    else if (args.markdown) yield* Console.log(resultsMarkdown(analysis).trimEnd())
    else yield* Console.log(formatResults(analysis).join("\n"))
    for (const p of analysis.problems) yield* Console.error(`warning: ${p}`)
    const exportDir = Option.getOrUndefined(args.exportDir)
    if (exportDir !== undefined && runs.length > 0) {
      const written = [
        ...writeTable(exportDir, "runs", runsTable(analysis)),
        ...writeTable(exportDir, "metrics", metricsTable(analysis)),
        ...writeTable(exportDir, "curves", curvesTable(analysis))
      ]
      yield* Console.error(`exported: ${written.join(", ")}`)
    }
    if (!runs.some((r) => r.state === "complete")) {
      yield* Console.error(`error: no complete run found in ${args.target}${runs.length === 0 ? " (no run folders)" : ""}`)
      process.exitCode = 2
    }
  }, handleErrors)
)

/** The analysis with its settings ordered by `key`: a metric (best first) or a varying key; an unknown key is a message. */
const sortGroups = (a: Analysis, key: string | undefined): Analysis | string => {
  if (key === undefined) return a
  if (a.metrics.includes(key)) {
    const mean = (g: Analysis["groups"][number]) => g.metrics[key]?.mean ?? -Infinity
    return { ...a, groups: [...a.groups].sort((x, y) => mean(y) - mean(x)) }
  }
  const full = a.varying.find((k) => k === key || k.endsWith(`.${key}`))
  if (full === undefined || a.ignored.includes(full)) {
    return `--sort ${key}: not a metric (${a.metrics.join(", ") || "none"}) nor a varying key (${a.varying.filter((k) => !a.ignored.includes(k)).join(", ") || "none"})`
  }
  const text = (v: unknown) => (typeof v === "number" ? v : JSON.stringify(v) ?? "")
  return {
    ...a,
    groups: [...a.groups].sort((x, y) => {
      const p = text(x.params[full])
      const q = text(y.params[full])
      return typeof p === "number" && typeof q === "number" ? p - q : String(p).localeCompare(String(q))
    })
  }
}

/** `flow results diff RUN_A RUN_B`: what differs between two result folders, key by key. */
const resultsDiff = Command.make(
  "diff",
  {
    a: Argument.String("run-a").pipe(Argument.withDescription("A result folder, a run's folder or a run name under --results-dir")),
    b: Argument.String("run-b").pipe(Argument.withDescription("The other one")),
    resultsDir,
    json
  },
  Effect.fn("cli.results.diff")(function*(args) {
    const folders = [resolveRunFolder(args.a, path.resolve(args.resultsDir)), resolveRunFolder(args.b, path.resolve(args.resultsDir))]
    for (const f of folders) if (typeof f !== "string") return yield* fail(f.error)
    const [a, b] = folders as [string, string]
    const diff = diffFolders(a, b)
    if (args.json) yield* Console.log(JSON.stringify(diff, null, 2))
    else {
      const show = (v: unknown) => (v === undefined ? "(absent)" : typeof v === "string" ? v : JSON.stringify(v))
      const lines = [`A: ${a}`, `B: ${b}`]
      for (const f of diff.files) {
        if (f.differences.length === 0) lines.push(`${f.file}: same`)
        else {
          lines.push(`${f.file}: ${f.differences.length} ${f.differences.length === 1 ? "difference" : "differences"}`)
          for (const d of f.differences) lines.push(`  ${d.key}: ${show(d.a)} -> ${show(d.b)}`)
        }
      }
      yield* Console.log(lines.join("\n"))
    }
    for (const p of diff.problems) yield* Console.error(`warning: ${p}`)
  }, handleErrors)
)

/**
 * `flow results compare TARGET [selection] --a KEY=VALUE... --b KEY=VALUE... [--metric M]`: the
 * complete runs matching every `--a` pair against those matching every `--b` pair, on one metric
 * (src/eval/Compare.ts).
 */
const resultsCompare = Command.make(
  "compare",
  {
    target: targetArg,
    ...selectionFlags,
    a: Flag.String("a").pipe(Flag.withDescription("Group A: runs whose KEY equals VALUE (repeatable, all must hold)"), Flag.atLeast(1)),
    b: Flag.String("b").pipe(Flag.withDescription("Group B, likewise"), Flag.atLeast(1)),
    where: whereFlag,
    metric: Flag.String("metric").pipe(Flag.withDescription("The metric compared (default f1)"), Flag.withDefault("f1")),
    verify: verifyFlag,
    json
  },
  Effect.fn("cli.results.compare")(function*(args) {
    const sides = [yield* keyValues("--a", args.a), yield* keyValues("--b", args.b)] as const
    const where = yield* keyValues("--where", args.where)
    const { runs } = yield* readTarget(args)
    const picked = sides.map((pairs) => analyzeRuns(runs, { where: [...where, ...pairs] }))
    for (const p of new Set(picked.flatMap((x) => x.problems))) yield* Console.error(`warning: ${p}`)
    const values = picked.map((x) => x.runs.filter((r) => r.state === "complete" && r.metrics[args.metric] !== undefined))
    for (const [i, side] of values.entries()) {
      if (side.length === 0) {
        return yield* fail(`--${i === 0 ? "a" : "b"} ${sides[i]!.map(([k, v]) => `${k}=${v}`).join(" ")}: no complete run with ${args.metric} matches`)
      }
    }
    const both = values[0]!.filter((r) => values[1]!.some((x) => x.dir === r.dir))
    if (both.length > 0) yield* Console.error(`warning: ${both.length} runs are in both groups (${both.map((r) => r.run).join(", ")})`)
    const c = compareSamples(values[0]!.map((r) => r.metrics[args.metric]!), values[1]!.map((r) => r.metrics[args.metric]!))
    const label = (i: 0 | 1) => sides[i].map(([k, v]) => `${k}=${v}`).join(" ")
    if (args.json) {
      return yield* Console.log(JSON.stringify({ metric: args.metric, a: { where: label(0), runs: values[0]!.map((r) => r.run) }, b: { where: label(1), runs: values[1]!.map((r) => r.run) }, ...c }, null, 2))
    }
    const f = (x: number) => x.toFixed(4)
    yield* Console.log([
      `A: ${label(0)}: ${c.nA} runs, ${args.metric} mean ${f(c.meanA)}`,
      `B: ${label(1)}: ${c.nB} runs, ${args.metric} mean ${f(c.meanB)}`,
      `difference of means (B - A): ${f(c.difference)}, bootstrap 95% CI [${f(c.bootstrap.low)}, ${f(c.bootstrap.high)}] (${c.bootstrap.resamples} resamples)`,
      `permutation test (difference of means, two-sided): p = ${f(c.permutation.p)} (${c.permutation.exact ? "exact, every one of" : "random"} ${c.permutation.splits} splits)`,
      `Mann-Whitney U = ${c.mannWhitney.u}, two-sided p = ${f(c.mannWhitney.p)} (${c.mannWhitney.exact ? "exact" : "random splits"})`,
      `Kolmogorov-Smirnov D = ${f(c.ks)}`
    ].join("\n"))
  }, handleErrors)
)

export const resultsCommand = resultsMain.pipe(Command.withSubcommands([resultsDiff, resultsCompare]))

/**
 * `flow report (REGISTRY [selection] | RESULTS_DIR) --out report.html [--svg DIR] [--where K=V]...
 * [--ignore KEY]... [--metric M] [--title T]`: one self-contained HTML file of the selection's
 * results (src/flows/Report.ts), and with `--svg` every chart as an SVG file too. Files are written
 * whole (temporary name, then renamed); nothing else is written.
 */
export const reportCommand = Command.make(
  "report",
  {
    target: targetArg,
    ...selectionFlags,
    out: Flag.String("out").pipe(Flag.withDescription("The HTML file to write")),
    svg: Flag.String("svg").pipe(Flag.withDescription("Also write each chart as DIR/<chart>.svg"), Flag.optional),
    where: whereFlag,
    ignore: ignoreFlag,
    metric: Flag.String("metric").pipe(Flag.withDescription("The metric the charts show (default f1)"), Flag.withDefault("f1")),
    title: Flag.String("title").pipe(Flag.withDescription("The page's title"), Flag.optional),
    verify: verifyFlag
  },
  Effect.fn("cli.report")(function*(args) {
    const where = yield* keyValues("--where", args.where)
    const { runs, analysis: table } = yield* readTarget(args)
    if (!runs.some((r) => r.state === "complete")) return yield* fail(`no complete run found in ${args.target}; nothing written`)
    const analysis = analyzeRuns(runs, {
      where,
      ignore: [...(table?.ignore ?? []), ...args.ignore],
      metric: args.metric,
      ...(table === undefined ? {} : { names: table.names, values: table.values })
    })
    for (const p of analysis.problems) yield* Console.error(`warning: ${p}`)
    const svgDir = Option.getOrUndefined(args.svg)
    const compiled = yield* Effect.promise(() => compileCharts(reportCharts(analysis), svgDir !== undefined))
    const title = Option.getOrElse(args.title, () => `logflow results: ${path.basename(args.target)}${args.groups.length > 0 ? ` (${args.groups.join(", ")})` : ""}`)
    const html = reportHtml(analysis, compiled, title)
    writeWhole(args.out, html)
    if (svgDir !== undefined) for (const c of compiled) writeWhole(path.join(svgDir, `${c.chart.id}.svg`), c.svg!)
    yield* Console.log(`${args.out}: ${compiled.length} charts, ${analysis.runs.length} runs (${(html.length / 1024).toFixed(0)} KiB)${svgDir === undefined ? "" : `; ${compiled.length} SVG files in ${svgDir}`}`)
  }, handleErrors)
)
