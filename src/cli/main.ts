/**
 * The `flow` command line: parses arguments, builds layers, runs a flow and renders its events.
 * No logic of its own: every command is a call into src/flows or src/cache plus formatting.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Config, Console, Effect, Layer, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as module from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import * as v8 from "node:v8"
import { ArtifactStore } from "../cache/ArtifactStore.ts"
import { selectGarbage } from "../cache/Gc.ts"
import { Leases, liveHeldKeys } from "../cache/Leases.ts"
import * as LmdbCache from "../cache/LmdbCache.ts"
import { WarmState } from "../runtime/WarmState.ts"
import { FlowEvents } from "../flows/Events.ts"
import { exportRunOnnx } from "../flows/ExportOnnx.ts"
import { inspectDataset } from "../flows/Inspect.ts"
import { WorkerPool } from "../flows/WorkerPool.ts"
import { planStates, prepareFlow, runPrepared, type FlowOptions } from "../flows/Flow.ts"
import { planDot, planJson, planText } from "../flows/PlanView.ts"
import { runNodeList } from "../flows/Runner.ts"
import { rerunCommand, runStatuses } from "../flows/Status.ts"
import { describeChange, explain } from "../flows/Why.ts"
import { parseFile } from "../presets/ParseFile.ts"
import { PARSER_PRESETS } from "../tasks/ParseStage.ts"
import { formatCacheTable, formatEntry, formatSize } from "./CacheTable.ts"
import { liveView, plainView } from "./View.ts"
import { daemonInfo, serveDaemon, stopAfterThisCommand } from "./Daemon.ts"
import { answers, askToStop } from "./DaemonClient.ts"
import { daemonDir, daemonPathsOf, type DaemonPaths } from "./DaemonProtocol.ts"
import { watchLauncher } from "../runtime/ParentWatch.ts"
import * as Streams from "../runtime/Streams.ts"
import { projectRoot, setProjectRoot, setSnapshotDir, snapshotDir } from "../runtime/ProjectRoot.ts"

// Flags shared by several commands.
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
const mirror = Flag.String("mirror").pipe(
  Flag.withDescription("Folder searched for source archives before downloading (FLOW_MIRROR)"),
  Flag.withFallbackConfig(Config.String("FLOW_MIRROR")),
  Flag.optional
)
const registryArg = Argument.String("registry").pipe(Argument.withDescription("Registry TOML, e.g. configs/registry.toml"))
const groups = Flag.String("group").pipe(Flag.withDescription("Select this group (repeatable)"), Flag.atLeast(0))
const experiments = Flag.String("experiment").pipe(Flag.withDescription("Select this experiment (repeatable)"), Flag.atLeast(0))
const runs = Flag.String("run").pipe(Flag.withDescription("Select this concrete run (repeatable)"), Flag.atLeast(0))
const json = Flag.Boolean("json").pipe(Flag.withDescription("Print JSON"), Flag.withDefault(false))
const selection = { registry: registryArg, groups, experiments, runs, cacheDir, resultsDir, dataRoot, mirror }

interface SelectionArgs {
  readonly registry: string
  readonly groups: ReadonlyArray<string>
  readonly experiments: ReadonlyArray<string>
  readonly runs: ReadonlyArray<string>
  readonly cacheDir: string
  readonly resultsDir: string
  readonly dataRoot: string
  readonly mirror: Option.Option<string>
}

const flowOptions = (a: SelectionArgs, extra: Partial<FlowOptions> = {}): FlowOptions => ({
  registry: a.registry,
  groups: a.groups,
  experiments: a.experiments,
  runs: a.runs,
  dataRoot: path.resolve(a.dataRoot),
  resultsDir: path.resolve(a.resultsDir),
  cacheDir: path.resolve(a.cacheDir),
  mirror: Option.getOrUndefined(Option.map(a.mirror, (m) => path.resolve(m))),
  maxWorkers: undefined,
  force: false,
  ...extra
})
const storeLayer = (dir: string) => LmdbCache.layer(path.resolve(dir))
const withStore = <A, E>(dir: string, f: (store: ArtifactStore["Service"], leases: Leases["Service"]) => Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    return yield* f(yield* ArtifactStore, yield* Leases)
  }).pipe(Effect.provide(storeLayer(dir)))

const runCommand = Command.make(
  "run",
  {
    ...selection,
    maxWorkers: Flag.Int("max-workers").pipe(
      Flag.withDescription("Stages run at once (default: registry max_workers, else the core count)"),
      Flag.optional
    ),
    force: Flag.Boolean("force").pipe(Flag.withDescription("Recompute fit, score and evaluate (keep preprocessing); rewrite results"), Flag.withDefault(false)),
    forceStage: Flag.String("force-stage").pipe(Flag.withDescription("Recompute this stage and everything downstream of it"), Flag.optional),
    dryRun: Flag.Boolean("dry-run").pipe(Flag.withDescription("Show the plan and what is cached; run nothing"), Flag.withDefault(false))
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
    const { registry, plan, maxWorkers } = yield* prepareFlow(options)
    if (args.dryRun) {
      const states = yield* planStates(plan).pipe(Effect.provide(storeLayer(args.cacheDir)))
      yield* Console.log(planText(planJson(plan, new Map(states.map((s) => [s.node.key, s.state])))))
      return
    }
    const out = Streams.stdout()
    const view = out.isTTY === true ? liveView(out) : plainView((l) => out.write(`${l}\n`))
    const report = yield* runPrepared(registry, plan, maxWorkers, options).pipe(
      Effect.provide(Layer.mergeAll(storeLayer(args.cacheDir), FlowEvents.layerCallback(view.onEvent))),
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

const listCommand = Command.make(
  "list",
  { ...selection, json },
  Effect.fn("cli.list")(function*(args) {
    const { registry, plan } = yield* prepareFlow(flowOptions(args))
    const selected = new Set(plan.runs.map((r) => r.spec.name))
    if (args.json) {
      yield* Console.log(JSON.stringify({
        experiments: Object.fromEntries([...registry.experiments].map(([e, rs]) => [e, rs.filter((r) => selected.has(r))]).filter(([, rs]) => rs.length > 0)),
        groups: Object.fromEntries([...registry.groups].map(([g, rs]) => [g, rs.filter((r) => selected.has(r))]).filter(([, rs]) => rs.length > 0)),
        runs: plan.runs.map((r) => ({ name: r.spec.name, experiment: r.spec.experiment, groups: r.spec.groups, fingerprint: r.fingerprint, axes: r.spec.axes }))
      }, null, 2))
      return
    }
    const lines: Array<string> = ["EXPERIMENTS"]
    for (const [e, rs] of registry.experiments) {
      const n = rs.filter((r) => selected.has(r)).length
      if (n > 0) lines.push(`  ${e}  (${n} runs)`)
    }
    lines.push("GROUPS")
    for (const [g, rs] of registry.groups) {
      const n = rs.filter((r) => selected.has(r)).length
      if (n > 0) lines.push(`  ${g}  (${n} runs)`)
    }
    lines.push("RUNS")
    for (const r of plan.runs) lines.push(`  ${r.spec.name}  ${r.fingerprint}`)
    lines.push(`${plan.runs.length} runs`)
    yield* Console.log(lines.join("\n"))
  }, handleErrors)
).pipe(Command.withDescription("List experiments, groups and concrete runs"))

const planCommand = Command.make(
  "plan",
  { ...selection, json, dot: Flag.Boolean("dot").pipe(Flag.withDescription("Print Graphviz DOT"), Flag.withDefault(false)) },
  Effect.fn("cli.plan")(function*(args) {
    const { plan } = yield* prepareFlow(flowOptions(args))
    const states = yield* planStates(plan).pipe(Effect.provide(storeLayer(args.cacheDir)))
    const view = planJson(plan, new Map(states.map((s) => [s.node.key, s.state])))
    yield* Console.log(args.json ? JSON.stringify(view, null, 2) : args.dot ? planDot(view) : planText(view))
  }, handleErrors)
).pipe(Command.withDescription("Show the DAG: each stage node once, its key prefix and state (cached / to run)"))

const statusCommand = Command.make(
  "status",
  { ...selection, json },
  Effect.fn("cli.status")(function*(args) {
    const options = flowOptions(args)
    const { plan } = yield* prepareFlow(options)
    const statuses = runStatuses(plan, options.resultsDir)
    const extra = [
      ...(args.cacheDir === ".cache" ? [] : ["--cache-dir", args.cacheDir]),
      ...(args.resultsDir === "results" ? [] : ["--results-dir", args.resultsDir]),
      ...(args.dataRoot === "data" ? [] : ["--data-root", args.dataRoot])
    ]
    const rerun = rerunCommand(args.registry, statuses, extra)
    if (args.json) {
      yield* Console.log(JSON.stringify({ runs: statuses, rerun: rerun ?? null }, null, 2))
      return
    }
    const count = (s: string) => statuses.filter((x) => x.status === s).length
    const lines = statuses.map((s) => `${s.status.padEnd(8)}  ${s.run}  ${s.fingerprint}${s.error === undefined ? "" : `  ${s.error}`}`)
    lines.push(`${statuses.length} runs: ${count("complete")} complete, ${count("missing")} missing, ${count("failed")} failed`)
    if (rerun !== undefined) lines.push(`rerun: ${rerun}`)
    yield* Console.log(lines.join("\n"))
  }, handleErrors)
).pipe(Command.withDescription("Which runs are complete, missing or failed, and the command that reruns the rest"))

const inspectCommand = Command.make(
  "inspect",
  {
    dataset: Argument.String("dataset").pipe(Argument.withDescription("A dataset TOML, e.g. configs/datasets/hdfs.toml")),
    json,
    cacheDir,
    resultsDir,
    dataRoot,
    mirror
  },
  Effect.fn("cli.inspect")(function*(args) {
    const cache = path.resolve(args.cacheDir)
    const report = yield* inspectDataset({
      file: args.dataset,
      sources: {
        dataRoot: path.resolve(args.dataRoot),
        sourcesDir: path.join(cache, "sources"),
        mirror: Option.getOrUndefined(Option.map(args.mirror, (m) => path.resolve(m)))
      },
      maxWorkers: os.availableParallelism(),
      resultsDir: path.resolve(args.resultsDir)
    }).pipe(Effect.provide(Layer.mergeAll(storeLayer(cache), FlowEvents.layerSilent, WorkerPool.layer(os.availableParallelism()))))
    if (args.json) {
      yield* Console.log(JSON.stringify(report, null, 2))
      return
    }
    const num = (v: unknown) => (v === null || v === undefined ? "-" : String(v))
    const lines = [
      `dataset         ${report.dataset}`,
      `raw lines       ${num(report.raw_lines)}`,
      `parsed lines    ${num(report.parsed_lines)}`,
      `unparsed lines  ${num(report.unparsed_lines)}`,
      `templates       ${num(report.templates)}`,
      `sequences       ${report.sequences} (${report.unlabeled} unlabelled)`,
      `split           requested ${JSON.stringify(report.split.requested)}`,
      `                effective train ${report.split.effective.train} (${(100 * report.split.effective.train_fraction).toFixed(1)}%), test ${report.split.effective.test} (${(100 * report.split.effective.test_fraction).toFixed(1)}%), ignored ${report.split.effective.ignored}`,
      "",
      "SPLIT     SEQS   NORMAL  ANOMALY  UNKNOWN   LEN MIN  MEDIAN    MEAN   P95    MAX"
    ]
    for (const part of ["train", "test", "ignored"] as const) {
      const l = report.split.labels[part]
      const st = report.split.lengths[part]
      lines.push(
        `${part.padEnd(8)} ${String(l.count).padStart(5)} ${String(l.normal).padStart(8)} ${String(l.anomaly).padStart(8)} ${String(l.unknown).padStart(8)}` +
          `   ${String(st.min).padStart(7)} ${String(st.median).padStart(7)} ${st.mean.toFixed(1).padStart(7)} ${String(st.p95).padStart(5)} ${String(st.max).padStart(6)}`
      )
    }
    for (const r of report.representations) {
      const rep = r as { kind?: string; shape?: Record<string, number> }
      lines.push(`represent ${rep.kind ?? "?"}: ${Object.entries(rep.shape ?? {}).map(([k, v]) => `${k} ${v}`).join(", ")}`)
    }
    lines.push(`(${report.stages.cached} stages from the cache, ${report.stages.run} run)`)
    yield* Console.log(lines.join("\n"))
  }, handleErrors)
).pipe(Command.withDescription("Build a dataset's stages and report lines, templates, sequences, splits and lengths"))

const parseCommand = Command.make(
  "parse",
  {
    file: Argument.String("file").pipe(Argument.withDescription("A log file")),
    preset: Flag.String("preset").pipe(Flag.withDescription(`LogHub preset: ${PARSER_PRESETS.join(", ")}`)),
    out: Flag.String("out").pipe(Flag.withDescription("Write <name>_structured.csv and <name>_templates.csv here"), Flag.optional),
    json
  },
  Effect.fn("cli.parse")(function*(args) {
    const out = Option.getOrUndefined(args.out)
    const summary = yield* Effect.try({
      try: () => parseFile(args.file, { preset: args.preset, ...(out === undefined ? { write: false } : { outDir: out }) }),
      catch: (e) => (e instanceof Error ? e : new Error(String(e)))
    })
    const view = {
      file: summary.file,
      preset: summary.preset,
      lines: summary.lines,
      parsed_lines: summary.parsedLines,
      unparsed_lines: summary.unparsed.count,
      unparsed_by_reason: summary.unparsed.byReason,
      templates: summary.templates,
      seconds: Number(summary.seconds.toFixed(3)),
      structured_csv: summary.structuredCsv,
      templates_csv: summary.templatesCsv
    }
    if (args.json) {
      yield* Console.log(JSON.stringify(view, null, 2))
      return
    }
    yield* Console.log(
      `${summary.file} (${summary.preset}): ${summary.lines} lines, ${summary.templates} templates, ` +
        `${summary.unparsed.count} unparsed, ${summary.seconds.toFixed(2)} s` +
        (summary.structuredCsv === null ? "" : `\nwrote ${summary.structuredCsv}\nwrote ${summary.templatesCsv}`)
    )
  }, handleErrors)
).pipe(Command.withDescription("Parse and mine one log file with a preset; write LogHub-style CSVs with --out"))

const exportOnnxCommand = Command.make(
  "export-onnx",
  {
    runDir: Argument.String("run-dir").pipe(Argument.withDescription("A DeepLog run's result folder, results/<run>/<fingerprint>")),
    out: Flag.String("out").pipe(Flag.withDescription("The .onnx file to write (a JSON sidecar goes to <out>.json)"), Flag.withDefault("model.onnx")),
    cacheDir
  },
  Effect.fn("cli.exportOnnx")(function*(args) {
    const out = path.resolve(args.out)
    const r = yield* exportRunOnnx(path.resolve(args.runDir), out).pipe(Effect.provide(storeLayer(args.cacheDir)))
    yield* Console.log(`wrote ${r.model} (${formatSize(r.bytes)}, ${r.keys} keys)\nwrote ${r.sidecar}`)
  }, handleErrors)
).pipe(Command.withDescription("Export a DeepLog run's model as an ONNX graph with a JSON sidecar (vocabulary, history size, top-g)"))

const cacheLs = Command.make(
  "ls",
  { stage: Flag.String("stage").pipe(Flag.withDescription("Only entries of this stage"), Flag.optional), json, cacheDir },
  Effect.fn("cli.cache.ls")(function*(args) {
    const entries = yield* withStore(args.cacheDir, (s) => s.list())
    const stage = Option.getOrUndefined(args.stage)
    const selected = entries.filter((e) => stage === undefined || e.stage === stage).toSorted((a, b) => a.createdAt - b.createdAt)
    yield* Console.log(args.json ? JSON.stringify(selected, null, 2) : formatCacheTable(selected))
  }, handleErrors)
).pipe(Command.withDescription("List cache entries: key, stage, params, size, created, last used, hits"))

const keyArg = Argument.String("key").pipe(Argument.withDescription("A cache key or a unique prefix of one"))

/** The one entry whose key starts with `prefix`. */
const resolveKey = (store: ArtifactStore["Service"], prefix: string) =>
  Effect.gen(function*() {
    const matches = (yield* store.list()).filter((e) => e.key.startsWith(prefix))
    if (matches.length === 0) return yield* fail(`no cache entry has a key starting with "${prefix}"`)
    if (matches.length > 1) return yield* fail(`"${prefix}" matches ${matches.length} entries; give more of the key`)
    return matches[0]!
  })

const cacheShow = Command.make(
  "show",
  { key: keyArg, json, cacheDir },
  Effect.fn("cli.cache.show")(function*(args) {
    const meta = yield* withStore(args.cacheDir, (s) => resolveKey(s, args.key))
    yield* Console.log(args.json ? JSON.stringify(meta, null, 2) : formatEntry(meta))
  }, handleErrors)
).pipe(Command.withDescription("Show one entry's provenance, summary and bookkeeping"))

const cacheRm = Command.make(
  "rm",
  {
    key: keyArg.pipe(Argument.optional),
    stage: Flag.String("stage").pipe(Flag.withDescription("Remove every entry of this stage"), Flag.optional),
    cacheDir
  },
  Effect.fn("cli.cache.rm")(function*(args) {
    const key = Option.getOrUndefined(args.key)
    const stage = Option.getOrUndefined(args.stage)
    if ((key === undefined) === (stage === undefined)) return yield* fail("give either a KEY or --stage STAGE")
    const removed = yield* withStore(args.cacheDir, (s) =>
      Effect.gen(function*() {
        const targets = key !== undefined ? [yield* resolveKey(s, key)] : (yield* s.list()).filter((e) => e.stage === stage)
        for (const t of targets) yield* s.remove(t.key)
        return targets
      }))
    yield* Console.log(`removed ${removed.length} entries (${formatSize(removed.reduce((n, e) => n + e.bytes, 0))})`)
  }, handleErrors)
).pipe(Command.withDescription("Remove one entry, or every entry of a stage"))

const cacheGc = Command.make(
  "gc",
  {
    olderThan: Flag.Finite("older-than").pipe(Flag.withDescription("Remove entries not used for this many days"), Flag.optional),
    maxSize: Flag.Int("max-size").pipe(Flag.withDescription("Then remove least recently used entries until the cache is at most this many bytes"), Flag.optional),
    dryRun: Flag.Boolean("dry-run").pipe(Flag.withDescription("Only list what would be removed"), Flag.withDefault(false)),
    cacheDir
  },
  Effect.fn("cli.cache.gc")(function*(args) {
    const olderThanDays = Option.getOrUndefined(args.olderThan)
    const maxSizeBytes = Option.getOrUndefined(args.maxSize)
    if (olderThanDays === undefined && maxSizeBytes === undefined) return yield* fail("give --older-than DAYS and/or --max-size BYTES")
    const result = yield* withStore(args.cacheDir, (s, leases) =>
      Effect.gen(function*() {
        const now = Date.now()
        const held = liveHeldKeys(yield* leases.holds(), now)
        const garbage = selectGarbage(yield* s.list(), held, {
          now,
          ...(olderThanDays === undefined ? {} : { olderThanDays }),
          ...(maxSizeBytes === undefined ? {} : { maxSizeBytes })
        })
        if (!args.dryRun) for (const g of garbage) yield* s.remove(g.meta.key)
        return { garbage, heldCount: held.size }
      }))
    for (const g of result.garbage) yield* Console.log(`${args.dryRun ? "would remove" : "removed"} ${g.meta.key.slice(0, 12)} ${g.meta.stage} (${formatSize(g.meta.bytes)}, ${g.reason})`)
    yield* Console.log(
      `${args.dryRun ? "would remove" : "removed"} ${result.garbage.length} entries, ${formatSize(result.garbage.reduce((n, g) => n + g.meta.bytes, 0))}; ` +
        `${result.heldCount} entries held by running flows were kept`
    )
  }, handleErrors)
).pipe(Command.withDescription("Remove old or least recently used entries; never one a running flow holds"))

const cacheWhy = Command.make(
  "why",
  { registry: registryArg, cacheDir, resultsDir, dataRoot, mirror, run: Flag.String("run").pipe(Flag.withDescription("The concrete run to explain")), json },
  Effect.fn("cli.cache.why")(function*(args) {
    const { plan } = yield* prepareFlow(flowOptions({ ...args, runs: [args.run], groups: [], experiments: [] }))
    const run = plan.runs.find((r) => r.spec.name === args.run)
    if (run === undefined) return yield* fail(`unknown run "${args.run}"`)
    const entries = yield* withStore(args.cacheDir, (s) => s.list())
    const explained = explain(runNodeList(run), entries)
    if (args.json) {
      yield* Console.log(JSON.stringify(explained, null, 2))
      return
    }
    const lines: Array<string> = []
    for (const e of explained) {
      if (e.state === "hit") {
        lines.push(`hit   ${e.stage.padEnd(9)} ${e.key.slice(0, 12)}`)
      } else {
        lines.push(`miss  ${e.stage.padEnd(9)} ${e.key.slice(0, 12)}${e.nearest === null ? "  (no earlier entry of this stage)" : `  nearest ${e.nearest.slice(0, 12)}:`}`)
        for (const c of e.changes) lines.push(`        ${describeChange(c)}`)
      }
    }
    yield* Console.log(lines.join("\n"))
  }, handleErrors)
).pipe(Command.withDescription("For each stage of a run: hit, or miss and what changed against the nearest cached entry"))

const cache = Command.make("cache").pipe(
  Command.withDescription("Inspect and maintain the artifact cache"),
  Command.withSubcommands([cacheLs, cacheShow, cacheRm, cacheGc, cacheWhy])
)

/** Where this checkout's daemon listens, when this process started from the snapshot (the daemon serves only that). */
const localDaemonPaths = (): DaemonPaths | undefined => {
  const dir = snapshotDir()
  return dir === undefined ? undefined : daemonPathsOf(projectRoot(), dir, daemonDir())
}

const daemonStatus = Command.make(
  "status",
  { json },
  Effect.fn("cli.daemon.status")(function*(args) {
    const d = daemonInfo()
    const paths = d === undefined ? localDaemonPaths() : undefined
    const running = d !== undefined || (paths !== undefined && (yield* Effect.promise(() => answers(paths.socket))))
    const view = d !== undefined
      ? { running: true, served_this: true, pid: d.pid, uptime_s: Math.round((Date.now() - d.startedAt) / 1000), commands: d.served, idle_stop_s: d.idleMs / 1000, socket: d.socket, log: d.log }
      : { running, served_this: false, socket: paths?.socket ?? null, log: paths?.log ?? null, reason: paths === undefined ? "started from source: a daemon serves only a fresh start-up snapshot" : process.env.FLOW_NO_DAEMON === "1" ? "FLOW_NO_DAEMON=1" : running ? "the daemon was busy" : "no daemon is running" }
    if (args.json) return yield* Console.log(JSON.stringify(view, null, 2))
    yield* Console.log(d !== undefined
      ? `daemon pid ${d.pid}, up ${view.uptime_s} s, ${d.served} commands before this one, stops after ${d.idleMs / 1000} s idle\nsocket ${d.socket}\nlog    ${d.log}`
      : `this command ran without the daemon (${"reason" in view ? view.reason : ""})${paths === undefined ? "" : `\nsocket ${paths.socket}${running ? " (a daemon is running)" : ""}\nlog    ${paths.log}`}`)
  }, handleErrors)
).pipe(Command.withDescription("Whether a daemon served this command: its pid, uptime, socket and log"))

const daemonStop = Command.make(
  "stop",
  {},
  Effect.fn("cli.daemon.stop")(function*() {
    if (daemonInfo() !== undefined) {
      stopAfterThisCommand()
      return yield* Console.log(`stopping daemon pid ${process.pid}`)
    }
    const paths = localDaemonPaths()
    const answer = paths === undefined ? undefined : yield* Effect.promise(() =>
      askToStop(paths.socket, { out: (b) => Streams.stdout().write(b.toString("utf8")), err: (b) => Streams.stderr().write(b.toString("utf8")) }))
    if (answer === undefined) return yield* Console.log("no daemon is running")
    if (answer.busy) return yield* fail("the daemon did not answer within 1 s; try again when its current step ends")
  }, handleErrors)
).pipe(Command.withDescription("Stop this checkout's daemon (the next command starts a new one)"))

const daemon = Command.make("daemon").pipe(
  Command.withDescription("The resident process that keeps the engine loaded between commands (FLOW_NO_DAEMON=1: none)"),
  Command.withSubcommands([daemonStatus, daemonStop])
)

const flow = Command.make("flow").pipe(
  Command.withDescription("logflow: reproducible log anomaly detection experiments as cached, parallel DAGs"),
  Command.withSubcommands([runCommand, listCommand, planCommand, statusCommand, inspectCommand, parseCommand, exportOnnxCommand, cache, daemon])
)

/** Print a failure as one clear line on stderr and exit with code 2. */
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

/** The CLI as a program: arguments from `Stdio`, output through `Console`. */
const program = flow.pipe(Command.run({ version: "0.1.0" }))

const runCli = (): void => {
  watchLauncher()
  program.pipe(
    Effect.provide(Layer.mergeAll(NodeServices.layer, WarmState.layer)),
    NodeRuntime.runMain
  )
}

/** The `--snapshot-blob` this process was started with (`--snapshot-blob FILE` or `--snapshot-blob=FILE`). */
const snapshotBlob = (): string | undefined => {
  const args = process.execArgv
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--snapshot-blob") return args[i + 1]
    if (args[i]!.startsWith("--snapshot-blob=")) return args[i]!.slice("--snapshot-blob=".length)
  }
  return undefined
}

if (v8.startupSnapshot.isBuildingSnapshot()) {
  // Built into a V8 start-up snapshot (scripts/build.ts): every module above is already
  // evaluated in the snapshot's heap; a start only deserialises it and runs the CLI. The launcher
  // passes bin/flow.js as the first argument, so process.argv has its usual shape.
  v8.startupSnapshot.setDeserializeMainFunction(() => {
    setProjectRoot(path.resolve(path.dirname(process.argv[1]!), ".."))
    setSnapshotDir(path.dirname(path.resolve(snapshotBlob() ?? path.join(projectRoot(), ".build", "flow.blob"))))
    // Native packages (lmdb) are still loaded from node_modules at run time: cache their compiled code.
    module.enableCompileCache?.()
    const socket = process.env.FLOW_DAEMON_SOCKET
    if (socket !== undefined && socket !== "") {
      delete process.env.FLOW_DAEMON_SOCKET
      serveDaemon(socket, program)
    } else {
      runCli()
    }
  })
} else {
  runCli()
}
