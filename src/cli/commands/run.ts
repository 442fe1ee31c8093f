/**
 * `flow run`: expand a registry into runs and run their stages, reusing cached ones; on a terminal
 * a live view, otherwise one line per stage event, and a count line at the end. Exit 1 when a
 * stage or run failed; exit 2, with one `error:` line per dataset, when a stage found the config at
 * odds with the data (a config error, e.g. no sequence received a label). After the count line, a
 * table of the flow's runs (dataset, model, varying hyperparameters, headline metrics, status,
 * cached or computed), fitted to the terminal's width. `--json`: one JSON object per line, each
 * flow event and then a summary of the same runs and counts. `--dry-run` shows the plan and what
 * is cached instead.
 */
import { Console, Effect, Layer, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { stageConfigErrors } from "../../flows/ConfigProblems.ts"
import { type FlowEvent, FlowEvents } from "../../flows/Events.ts"
import { planStates, prepareFlow, runPrepared } from "../../flows/Flow.ts"
import { summarizeRuns } from "../../flows/RunSummary.ts"
import { Terminal } from "../../runtime/Terminal.ts"
import { planJson, planText } from "../view/PlanView.ts"
import { formatRunTable } from "../view/RunTable.ts"
import { liveView, plainView, type View } from "../view/View.ts"
import { cacheLayer, fail, flowOptions, handleErrors, json, selection, withCache } from "./shared.ts"

/** `--json`: each event as one line of JSON. */
const jsonView = (write: (line: string) => void): View => ({
  onEvent: (e: FlowEvent) => write(JSON.stringify({ type: "event", ...e })),
  close: () => {}
})

export const runCommand = Command.make(
  "run",
  {
    ...selection,
    maxWorkers: Flag.Int("max-workers").pipe(
      Flag.withDescription("Stages run at once (default: registry max_workers, else the core count)"),
      Flag.optional
    ),
    force: Flag.Boolean("force").pipe(Flag.withDescription("Recompute fit, score and evaluate (keep preprocessing); rewrite results"), Flag.withDefault(false)),
    forceStage: Flag.String("force-stage").pipe(Flag.withDescription("Recompute this stage and everything downstream of it"), Flag.optional),
    dryRun: Flag.Boolean("dry-run").pipe(Flag.withDescription("Show the plan and what is cached; run nothing"), Flag.withDefault(false)),
    json: json.pipe(Flag.withDescription("Print JSON lines: one per flow event, then a summary of the runs"))
  },
  Effect.fn("cli.run")(function*(args) {
    const options = flowOptions(args, {
      maxWorkers: Option.getOrUndefined(args.maxWorkers),
      force: args.force,
      forceStage: Option.getOrUndefined(args.forceStage)
    })
    if (options.maxWorkers !== undefined && options.maxWorkers < 1) {
      return yield* fail(`--max-workers must be at least 1 (got ${options.maxWorkers})`)
    }
    const started = Date.now()
    const prepared = yield* prepareFlow(options)
    if (args.dryRun) {
      const states = yield* withCache(args.cacheDir, planStates(prepared.plan))
      const view = planJson(prepared.plan, new Map(states.map((s) => [s.node.key, s.state])))
      return yield* Console.log(args.json ? JSON.stringify(view) : planText(view))
    }
    if (prepared.workersCapped !== undefined) yield* Console.error(`note: ${prepared.workersCapped}`)
    const out = (yield* Terminal).stdout
    const writeLine = (l: string) => out.write(`${l}\n`)
    const view = args.json ? jsonView(writeLine) : out.isTTY === true ? liveView(out) : plainView(writeLine)
    const report = yield* runPrepared(prepared, options).pipe(
      Effect.provide(Layer.mergeAll(cacheLayer(args.cacheDir), FlowEvents.layerCallback(view.onEvent))),
      Effect.ensuring(Effect.sync(view.close))
    )
    const c = report.counts
    const failedRuns = report.runs.filter((r) => r.status === "failed")
    const seconds = (Date.now() - started) / 1000
    const summary = summarizeRuns(prepared.plan.runs, report, options.resultsDir)
    if (args.json) {
      const counts = { runs: report.runs.length, ok: report.runs.length - failedRuns.length, failed_runs: failedRuns.length, stages: report.nodes.size, ...c }
      yield* Console.log(JSON.stringify({ type: "summary", varying: summary.varying, runs: summary.runs, counts, seconds }))
    } else {
      yield* Console.log(
        `${report.runs.length} runs (${report.runs.length - failedRuns.length} ok, ${failedRuns.length} failed); ` +
          `${report.nodes.size} stages: ${c.cached} cached, ${c.done} run, ${c.failed} failed, ${c.skipped} skipped; ` +
          `${seconds.toFixed(2)} s`
      )
      const table = formatRunTable(summary, out.isTTY === true ? out.columns ?? 80 : undefined)
      if (table.length > 0) yield* Console.log(["", ...table].join("\n"))
    }
    if (failedRuns.length > 0 || c.failed > 0) process.exitCode = 1
    const configErrors = stageConfigErrors(prepared.plan, report, options.registry)
    if (configErrors !== undefined) {
      yield* Console.error(configErrors.message.split("\n").map((line) => `error: ${line}`).join("\n"))
      process.exitCode = 2
    }
  }, handleErrors)
).pipe(Command.withDescription("Expand a registry into runs and run their stages, reusing cached ones"))
