/**
 * `flow results (REGISTRY [--group G | --experiment E | --run R]... | RESULTS_DIR) [--where KEY=VALUE]...
 * [--ignore KEY]... [--keep-seeds] [--metric M] [--sort KEY] [--verify] [--json | --csv | --markdown]`:
 * the runs of a registry selection (each at its current fingerprint) or every run folder of a
 * results tree, read back (src/flows/ReadResults.ts): complete, failed, incomplete, missing and
 * superseded runs kept apart with their reasons; the hyperparameters that vary (seeds left out
 * of grouping unless `--keep-seeds`); per setting n, mean, std, 95% CI of the metrics; a
 * leaderboard per dataset. Exit 0 when at least one run was read complete (a `--where` that keeps
 * none is a warning), 2 for a bad selection, a bad flag or when nothing complete was found.
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as fs from "node:fs"
import * as path from "node:path"
import { prepareFlow } from "../../flows/Flow.ts"
import { type Analysis, analyzeRuns, readPlannedRuns, type ReadRun, scanResultsTree } from "../../flows/ReadResults.ts"
import { formatResults, resultsCsv, resultsJson, resultsMarkdown } from "../view/ResultsView.ts"
import { fail, flowOptions, handleErrors, json, selection } from "./shared.ts"

const { registry: _registry, ...selectionFlags } = selection

export const resultsCommand = Command.make(
  "results",
  {
    target: Argument.String("target").pipe(Argument.withDescription("A registry TOML (its selected runs) or a results folder (every run in it)")),
    ...selectionFlags,
    where: Flag.String("where").pipe(Flag.withDescription("Keep runs whose KEY (a dotted config key, or run, dataset, model, detector) equals VALUE (repeatable)"), Flag.atLeast(0)),
    ignore: Flag.String("ignore").pipe(Flag.withDescription("Leave this varying key out of the grouping, like seeds (repeatable)"), Flag.atLeast(0)),
    keepSeeds: Flag.Boolean("keep-seeds").pipe(Flag.withDescription("Group by seed too (one setting per seed)"), Flag.withDefault(false)),
    metric: Flag.String("metric").pipe(Flag.withDescription("The metric that ranks settings (default f1)"), Flag.withDefault("f1")),
    sort: Flag.String("sort").pipe(Flag.withDescription("Order settings by a metric (best first) or a varying key"), Flag.optional),
    verify: Flag.Boolean("verify").pipe(Flag.withDescription("Hash every file against its manifest (default: sizes only)"), Flag.withDefault(false)),
    csv: Flag.Boolean("csv").pipe(Flag.withDescription("Print the settings as CSV"), Flag.withDefault(false)),
    markdown: Flag.Boolean("markdown").pipe(Flag.withDescription("Print the settings as a Markdown table"), Flag.withDefault(false)),
    json
  },
  Effect.fn("cli.results")(function*(args) {
    if ([args.json, args.csv, args.markdown].filter(Boolean).length > 1) return yield* fail("give at most one of --json, --csv and --markdown")
    const where: Array<readonly [string, string]> = []
    for (const w of args.where) {
      const eq = w.indexOf("=")
      if (eq <= 0) return yield* fail(`--where ${JSON.stringify(w)}: expected KEY=VALUE`)
      where.push([w.slice(0, eq), w.slice(eq + 1)])
    }
    let runs: Array<ReadRun>
    const isDir = fs.existsSync(args.target) && fs.statSync(args.target).isDirectory()
    if (isDir) {
      if (args.groups.length + args.experiments.length + args.runs.length > 0) {
        return yield* fail(`--group, --experiment and --run select from a registry; ${args.target} is a results folder (give the registry, or --where run=NAME)`)
      }
      runs = scanResultsTree(path.resolve(args.target), args.verify)
    } else {
      if (!fs.existsSync(args.target)) return yield* fail(`${args.target}: no such registry file or results folder`)
      const options = flowOptions({ ...args, registry: args.target })
      const { plan } = yield* prepareFlow(options)
      runs = readPlannedRuns(plan.runs, options.resultsDir, args.verify)
    }
    const analysis = sortGroups(analyzeRuns(runs, { where, ignore: args.ignore, keepSeeds: args.keepSeeds, metric: args.metric }), Option.getOrUndefined(args.sort))
    if (typeof analysis === "string") return yield* fail(analysis)
    if (args.json) yield* Console.log(JSON.stringify(resultsJson(analysis), null, 2))
    else if (args.csv) yield* Console.log(resultsCsv(analysis).trimEnd())
    else if (args.markdown) yield* Console.log(resultsMarkdown(analysis).trimEnd())
    else yield* Console.log(formatResults(analysis).join("\n"))
    for (const p of analysis.problems) yield* Console.error(`warning: ${p}`)
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
