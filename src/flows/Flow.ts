/**
 * One flow end to end: load and validate the registry, select runs, resolve and digest sources,
 * precheck the datasets, build the plan, then walk it. Every config or source problem surfaces
 * in `prepareFlow`, before any stage runs. Commands that only show a plan (`flow list`, `flow
 * plan`) prepare it without the data: sources that cannot be resolved are reported, and the nodes
 * that depend on them are marked unresolved instead of failing the command.
 */
import { Effect, Layer, Option } from "effect"
import * as os from "node:os"
import * as path from "node:path"
import type { SourceFile } from "../artifacts/Source.ts"
import { ArtifactStore } from "../cache/ArtifactStore.ts"
import { ConfigError } from "../config/ConfigError.ts"
import { datasetFile } from "../config/Dataset.ts"
import { precheckDatasets } from "../config/Precheck.ts"
import { loadRegistry, type Registry, type Selection, selectRuns } from "../config/Registry.ts"
import type { RunSpec } from "../config/RunSpec.ts"
import { type Digests, resolveSourceList, sourceOrigins, type SourceRoots, sourcesOf } from "../config/Sources.ts"
import * as WorkerThreads from "../executor/WorkerThreads.ts"
import { Terminal } from "../runtime/Terminal.ts"
import { memoSpec, WarmState } from "../runtime/WarmState.ts"
import { formatProgress } from "../sources/Download.ts"
import { parseExtractLimits } from "../sources/Extract.ts"
import { describeSource, type SourceParams } from "../sources/Source.ts"
import { type Node, upstream } from "../tasks/Task.ts"
import { buildPlan, type Plan } from "./Plan.ts"
import { runPlan } from "./Runner.ts"

export interface FlowOptions extends Selection {
  readonly registry: string
  readonly dataRoot: string
  readonly resultsDir: string
  readonly maxWorkers: number | undefined
  /** The cache folder; fetched sources go to `<cacheDir>/sources`. */
  readonly cacheDir: string
  /** Mirror folder searched before downloading. */
  readonly mirror?: string | undefined
  /** Archive extraction limits as the user wrote them (`--extract-limits` / `FLOW_EXTRACT_LIMITS`). */
  readonly extractLimits?: string | undefined
  readonly force: boolean
  readonly forceStage?: string | undefined
}

/** A flow ready to run: its registry, plan and worker count. */
export interface PreparedFlow {
  readonly registry: Registry
  readonly plan: Plan
  readonly maxWorkers: number
  /** Why `maxWorkers` is lower than asked for, when it was capped. */
  readonly workersCapped?: string | undefined
  /** Sources that could not be resolved, by name, with why (only when prepared `withoutData`). */
  readonly unresolved: ReadonlyMap<string, string>
}

/**
 * Registry, selection and plan, validated; nothing runs. `withoutData`: a source that cannot be
 * resolved does not fail (the plan's nodes that read it are unresolved; see `unresolvedKeys`).
 */
export const prepareFlow = Effect.fn("Flow.prepareFlow")(function*(options: FlowOptions, mode: { readonly withoutData?: boolean } = {}) {
  const registry = yield* loadRegistry(options.registry)
  const runs = yield* selectRuns(registry, options)
  const roots = yield* sourceRoots(options)
  const { digests, unresolved } = mode.withoutData === true
    ? yield* resolveWhatExists(roots, sourcesOf(runs))
    : { digests: yield* resolveSourceList(roots, sourcesOf(runs), sourceOrigins(runs, path.dirname(options.registry)), { hashAsync: true }), unresolved: new Map<string, string>() }
  const seen = new Set<string>()
  yield* precheckDatasets(
    runs.flatMap((r) => {
      const key = JSON.stringify(r.dataset)
      if (seen.has(key)) return []
      seen.add(key)
      return [{ dataset: r.dataset, file: datasetFile(path.dirname(options.registry), r.datasetName) }]
    }),
    unresolved.size === 0 ? digests : new Map([...digests].filter(([name]) => !unresolved.has(name))),
    roots,
    { answersFile: path.join(options.cacheDir, "prechecks.json") }
  )
  const plan = yield* planFor(registry, options, runs, digests)
  if (options.forceStage !== undefined && !plan.nodes.some((n) => n.stage.name === options.forceStage)) {
    return yield* new ConfigError({
      file: options.registry,
      keyPath: "",
      detail: `--force-stage ${options.forceStage}: no such stage in the plan (stages: ${[...new Set(plan.nodes.map((n) => n.stage.name))].join(", ")})`
    })
  }
  const workers = effectiveWorkers(options.maxWorkers, registry)
  const prepared: PreparedFlow = { registry, plan, maxWorkers: workers.workers, workersCapped: workers.capped, unresolved }
  return prepared
})

/** Digests of the sources that can be resolved, and why each other one cannot. */
const resolveWhatExists = (roots: SourceRoots, sources: ReadonlyArray<SourceParams>) =>
  Effect.gen(function*() {
    const digests = new Map<string, SourceFile>()
    const unresolved = new Map<string, string>()
    for (const s of sources) {
      const name = describeSource(s)
      if (digests.has(name) || unresolved.has(name)) continue
      const one = yield* Effect.result(resolveSourceList(roots, [s], new Map(), { hashAsync: true }))
      if (one._tag === "Success") {
        for (const [k, v] of one.success) digests.set(k, v)
      } else {
        unresolved.set(name, one.failure.message)
        // A stand-in, so the plan can still be drawn; nodes reading it are reported as unresolved.
        digests.set(name, { path: s.path ?? name, root: "data", sha256: `unresolved:${name}`, bytes: 0 })
      }
    }
    return { digests: digests as Digests, unresolved }
  })

/** The keys of the nodes that read, directly or not, a source that could not be resolved. */
export const unresolvedKeys = (plan: Plan, unresolved: ReadonlyMap<string, string>): ReadonlySet<string> => {
  const out = new Set<string>()
  if (unresolved.size === 0) return out
  for (const n of plan.nodes) {
    const isSource = n.stage.name === "source" && typeof n.salt === "string" && n.salt.startsWith("unresolved:")
    if (isSource || upstream(n).some((i) => out.has(i.key))) out.add(n.key)
  }
  return out
}

// Plans built before in this warm state, per registry (a registry loaded again from unchanged files
// is the same object), selection and source digests: buildPlan is pure, and the daemon plans the
// same sweep at every rerun.
const plans = memoSpec<Registry, Map<string, Plan>>("plans", 4)
const PLANS_PER_REGISTRY = 16

const planFor = (registry: Registry, selection: Selection, runs: ReadonlyArray<RunSpec>, digests: Digests) =>
  Effect.map(Effect.serviceOption(WarmState), (warm): Plan => {
    if (Option.isNone(warm)) return buildPlan(runs, digests)
    const memo = warm.value.memo(plans)
    let known = memo.get(registry)
    if (known === undefined) memo.set(registry, known = new Map())
    const key = JSON.stringify([selection.groups, selection.experiments, selection.runs ?? [], [...digests]])
    const hit = known.get(key)
    if (hit !== undefined) return hit
    const plan = buildPlan(runs, digests)
    if (known.size >= PLANS_PER_REGISTRY) known.clear()
    known.set(key, plan)
    return plan
  })

/**
 * Where sources are read and fetched, from the flow options; download progress goes to the
 * terminal. Bad extraction limits are a ConfigError naming the flag.
 */
export const sourceRoots = (
  options: Pick<FlowOptions, "dataRoot" | "cacheDir" | "mirror" | "extractLimits">
): Effect.Effect<SourceRoots, ConfigError> =>
  Effect.gen(function*() {
    const terminal = yield* Terminal
    const extractLimits = options.extractLimits === undefined ? undefined : yield* Effect.try({
      try: () => parseExtractLimits(options.extractLimits!),
      catch: (e) => new ConfigError({ file: "--extract-limits (FLOW_EXTRACT_LIMITS)", keyPath: "", detail: e instanceof Error ? e.message : String(e) })
    })
    return {
      dataRoot: options.dataRoot,
      sourcesDir: path.join(options.cacheDir, "sources"),
      mirror: options.mirror,
      extractLimits,
      digestFile: path.join(options.cacheDir, "digests.json"),
      onProgress: (name, p) => {
        const err = terminal.stderr
        if (err.isTTY === true) err.write(`\r${name} ${formatProgress(p)}\x1b[K`)
      }
    }
  })

/** Stages run at once at most: two per core, and one per 256 MiB of memory. */
export const workerCap = (cores: number = os.availableParallelism(), memoryBytes: number = os.totalmem()): number =>
  Math.max(1, Math.min(2 * cores, Math.floor(memoryBytes / 2 ** 28)))

/**
 * The worker count: the CLI flag, else the registry's `max_workers`, else the core count; never
 * above `workerCap` (each worker thread holds the stage code and its inputs), and `capped` says so.
 */
export const effectiveWorkers = (flag: number | undefined, registry: Registry): { readonly workers: number; readonly capped?: string } => {
  const asked = flag ?? (typeof registry.maxWorkers === "number" ? registry.maxWorkers : os.availableParallelism())
  const cap = workerCap()
  if (asked <= cap) return { workers: asked }
  const cores = os.availableParallelism()
  const gib = (os.totalmem() / 2 ** 30).toFixed(0)
  return { workers: cap, capped: `${asked} workers asked for, ${cap} used: at most two per core and one per 256 MiB (${cores} cores, ${gib} GiB)` }
}

/** Run a prepared plan with `maxWorkers` stages at once, CPU-heavy ones in as many worker threads. */
export const runPrepared = (prepared: PreparedFlow, options: FlowOptions) =>
  runPlan(prepared.plan, {
    maxWorkers: prepared.maxWorkers,
    dataRoot: options.dataRoot,
    resultsDir: options.resultsDir,
    sourcesDir: path.join(options.cacheDir, "sources"),
    digestFile: path.join(options.cacheDir, "digests.json"),
    mirror: options.mirror,
    force: options.force,
    retries: prepared.registry.retries,
    ...(options.forceStage === undefined ? {} : { forceStage: options.forceStage })
  }).pipe(Effect.provide(Layer.fresh(WorkerThreads.layer({ size: prepared.maxWorkers }))))

/** What a node of a plan is: already cached, to run, to run uncached, or unresolved (a source is missing). */
export type NodeState = "cached" | "to run" | "uncached" | "unresolved"

/** Each node of a plan and its state. */
export const planStates = Effect.fn("Flow.planStates")(function*(plan: Plan, unresolved: ReadonlySet<string> = new Set()) {
  const store = yield* ArtifactStore
  return yield* Effect.forEach(plan.nodes, (n: Node) =>
    unresolved.has(n.key)
      ? Effect.succeed({ node: n, state: "unresolved" as NodeState })
      : n.uncached !== undefined
      ? Effect.succeed({ node: n, state: "uncached" as NodeState })
      : store.has(n.key).pipe(Effect.map((cached) => ({ node: n, state: (cached ? "cached" : "to run") as NodeState }))))
})
