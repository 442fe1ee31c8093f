/**
 * The `flow` command line: parses arguments, builds layers, runs a flow and renders its events.
 * No logic of its own: everything it does is a call into src/flows or src/cache.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Config, Console, Effect, Layer, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as path from "node:path"
import { ArtifactStore } from "../cache/ArtifactStore.ts"
import { FlowEvents } from "../flows/Events.ts"
import { planStates, prepareFlow, runPrepared, type FlowOptions } from "../flows/Flow.ts"
import { formatCacheTable } from "./CacheTable.ts"
import { liveView, plainView } from "./View.ts"

const cacheDir = Flag.String("cache-dir").pipe(
  Flag.withDescription("Cache directory (LMDB). Default .cache/ or FLOW_CACHE_DIR"),
  Flag.withFallbackConfig(Config.String("FLOW_CACHE_DIR")),
  Flag.withDefault(".cache")
)
const resultsDir = Flag.String("results-dir").pipe(
  Flag.withDescription("Where result folders go. Default results/ or FLOW_RESULTS_DIR"),
  Flag.withFallbackConfig(Config.String("FLOW_RESULTS_DIR")),
  Flag.withDefault("results")
)
const dataRoot = Flag.String("data-root").pipe(
  Flag.withDescription("Directory dataset paths resolve against. Default data/ or FLOW_DATA_ROOT"),
  Flag.withFallbackConfig(Config.String("FLOW_DATA_ROOT")),
  Flag.withDefault("data")
)

const runCommand = Command.make(
  "run",
  {
    registry: Argument.String("registry").pipe(Argument.withDescription("Registry TOML, e.g. configs/registry.toml")),
    groups: Flag.String("group").pipe(Flag.withDescription("Run this group (repeatable)"), Flag.atLeast(0)),
    experiments: Flag.String("experiment").pipe(Flag.withDescription("Run this experiment (repeatable)"), Flag.atLeast(0)),
    maxWorkers: Flag.Int("max-workers").pipe(
      Flag.withDescription("Stages run at once (default: registry max_workers, else the core count)"),
      Flag.optional
    ),
    force: Flag.Boolean("force").pipe(Flag.withDescription("Recompute fit, score and evaluate; rewrite results"), Flag.withDefault(false)),
    dryRun: Flag.Boolean("dry-run").pipe(Flag.withDescription("Show the plan and what is cached; run nothing"), Flag.withDefault(false)),
    cacheDir,
    resultsDir,
    dataRoot
  },
  Effect.fn("cli.run")(function*(args) {
    const options: FlowOptions = {
      registry: args.registry,
      groups: args.groups,
      experiments: args.experiments,
      dataRoot: path.resolve(args.dataRoot),
      resultsDir: path.resolve(args.resultsDir),
      maxWorkers: Option.getOrUndefined(args.maxWorkers),
      force: args.force
    }
    if (options.maxWorkers !== undefined && options.maxWorkers < 1) {
      return yield* fail(`--max-workers must be at least 1 (got ${options.maxWorkers})`)
    }
    const store = ArtifactStore.layerLmdb(path.resolve(args.cacheDir))
    if (args.dryRun) {
      const { plan } = yield* prepareFlow(options)
      const states = yield* planStates(plan).pipe(Effect.provide(store))
      for (const run of plan.runs) yield* Console.log(`run ${run.spec.name} -> ${path.join(options.resultsDir, run.spec.name, run.fingerprint)}`)
      for (const s of states) yield* Console.log(`${s.state.padEnd(7)} ${s.node.stage.name.padEnd(9)} ${s.node.key.slice(0, 12)}`)
      const toRun = states.filter((s) => s.state === "to run").length
      yield* Console.log(`${states.length} stages: ${states.length - toRun} cached, ${toRun} to run`)
      return
    }
    const started = Date.now()
    const { plan, maxWorkers } = yield* prepareFlow(options)
    const view = process.stdout.isTTY ? liveView(process.stdout) : plainView((l) => process.stdout.write(`${l}\n`))
    const report = yield* runPrepared(plan, maxWorkers, options).pipe(
      Effect.provide(Layer.mergeAll(store, FlowEvents.layerCallback(view.onEvent))),
      Effect.ensuring(Effect.sync(view.close))
    )
    const c = report.counts
    const failedRuns = report.runs.filter((r) => r.status === "failed")
    yield* Console.log(
      `${report.runs.length} runs (${report.runs.length - failedRuns.length} ok, ${failedRuns.length} failed); ` +
        `${report.nodes.size} stages: ${c.cached} cached, ${c.done} run, ${c.failed} failed, ${c.skipped} skipped; ` +
        `${((Date.now() - started) / 1000).toFixed(2)} s`
    )
    if (failedRuns.length > 0 || c.failed > 0) process.exitCode = 1
  }, handleErrors)
).pipe(Command.withDescription("Expand a registry into runs and run their stages, reusing cached ones"))

const cacheLs = Command.make(
  "ls",
  {
    stage: Flag.String("stage").pipe(Flag.withDescription("Only entries of this stage"), Flag.optional),
    json: Flag.Boolean("json").pipe(Flag.withDescription("Print JSON"), Flag.withDefault(false)),
    cacheDir
  },
  Effect.fn("cli.cache.ls")(function*(args) {
    const entries = yield* Effect.gen(function*() {
      const store = yield* ArtifactStore
      return yield* store.list()
    }).pipe(Effect.provide(ArtifactStore.layerLmdb(path.resolve(args.cacheDir))))
    const stage = Option.getOrUndefined(args.stage)
    const selected = entries.filter((e) => stage === undefined || e.stage === stage).toSorted((a, b) => a.createdAt - b.createdAt)
    yield* Console.log(args.json ? JSON.stringify(selected, null, 2) : formatCacheTable(selected))
  }, handleErrors)
).pipe(Command.withDescription("List cache entries: key, stage, params, size, created, last used, hits"))

const cache = Command.make("cache").pipe(
  Command.withDescription("Inspect the artifact cache"),
  Command.withSubcommands([cacheLs])
)

const flow = Command.make("flow").pipe(
  Command.withDescription("logflow: reproducible log anomaly detection experiments as cached, parallel DAGs"),
  Command.withSubcommands([runCommand, cache])
)

/** Print a failure as one clear line on stderr and exit non-zero. */
function handleErrors<A, R>(self: Effect.Effect<A, unknown, R>) {
  return self.pipe(
    Effect.catch((e: unknown) =>
      Effect.gen(function*() {
        yield* Console.error(`error: ${e instanceof Error ? e.message : String(e)}`)
        process.exitCode = 2
      })
    )
  )
}

function fail(message: string) {
  return Effect.fail(new Error(message))
}

flow.pipe(
  Command.run({ version: "0.1.0" }),
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain
)
