/**
 * One flow end to end: load and validate the registry, select runs, digest sources, build the
 * plan, then walk it. Every config or source problem surfaces here, before any stage runs.
 */
import { Effect } from "effect"
import * as os from "node:os"
import * as path from "node:path"
import * as Streams from "../runtime/Streams.ts"
import { formatProgress } from "../sources/Download.ts"
import type { SourceRoots } from "../config/Sources.ts"
import { ArtifactStore } from "../cache/ArtifactStore.ts"
import type { Node } from "../tasks/Task.ts"
import { type Plan, buildPlan } from "./Plan.ts"
import { type Digests, resolveSources } from "../config/Sources.ts"
import { ConfigError } from "../config/ConfigError.ts"
import { type Registry, type Selection, loadRegistry, selectRuns } from "../config/Registry.ts"
import type { RunSpec } from "../config/RunSpec.ts"
import { precheckDatasets } from "../config/Precheck.ts"
import { runPlan } from "./Runner.ts"
import { WorkerPool } from "./WorkerPool.ts"

export interface FlowOptions extends Selection {
  readonly registry: string
  readonly dataRoot: string
  readonly resultsDir: string
  readonly maxWorkers: number | undefined
  /** The cache folder; fetched sources go to `<cacheDir>/sources`. */
  readonly cacheDir: string
  /** Mirror folder searched before downloading. */
  readonly mirror?: string | undefined
  readonly force: boolean
  readonly forceStage?: string | undefined
}

/** Registry, selection and plan, validated; nothing runs. */
export const prepareFlow = Effect.fn("Flow.prepareFlow")(function*(options: FlowOptions) {
  const registry = yield* loadRegistry(options.registry)
  const runs = yield* selectRuns(registry, options)
  const context = sourceContext(options)
  const digests = yield* resolveSources(context, runs)
  const seen = new Set<string>()
  yield* precheckDatasets(
    runs.flatMap((r) => {
      const key = JSON.stringify(r.dataset)
      if (seen.has(key)) return []
      seen.add(key)
      return [{ dataset: r.dataset, file: datasetFileOf(options.registry, r.datasetName) }]
    }),
    digests,
    context
  )
  const plan = planFor(registry, options, runs, digests)
  if (options.forceStage !== undefined && !plan.nodes.some((n) => n.stage.name === options.forceStage)) {
    return yield* new ConfigError({
      file: options.registry,
      keyPath: "",
      detail: `--force-stage ${options.forceStage}: no such stage in the plan (stages: ${[...new Set(plan.nodes.map((n) => n.stage.name))].join(", ")})`
    })
  }
  return { registry, plan, maxWorkers: effectiveWorkers(options.maxWorkers, registry) }
})

// Plans built before, per registry (a registry loaded again from unchanged files is the same
// object) and selection and source digests: buildPlan is pure, and the daemon plans the same
// sweep at every rerun.
const plans = new WeakMap<Registry, Map<string, Plan>>()
const planFor = (registry: Registry, selection: Selection, runs: ReadonlyArray<RunSpec>, digests: Digests): Plan => {
  let known = plans.get(registry)
  if (known === undefined) plans.set(registry, known = new Map())
  const key = JSON.stringify([selection.groups, selection.experiments, selection.runs ?? [], [...digests]])
  const hit = known.get(key)
  if (hit !== undefined) return hit
  const plan = buildPlan(runs, digests)
  if (known.size >= 16) known.clear()
  known.set(key, plan)
  return plan
}

/** The dataset file a run's dataset comes from (errors are attributed to it). */
const datasetFileOf = (registry: string, name: string): string => path.join(path.dirname(registry), "datasets", `${name}.toml`)

/** Where sources are read and fetched, from the flow options. */
export const sourceContext = (options: FlowOptions): SourceRoots => ({
  dataRoot: options.dataRoot,
  sourcesDir: path.join(options.cacheDir, "sources"),
  mirror: options.mirror,
  digestFile: path.join(options.cacheDir, "digests.json"),
  onProgress: (name, p) => {
    const err = Streams.stderr()
    if (err.isTTY === true) err.write(`\r${name} ${formatProgress(p)}\x1b[K`)
  }
})

/** The worker count: the CLI flag, else the registry's `max_workers`, else the core count. */
export const effectiveWorkers = (flag: number | undefined, registry: Registry): number => {
  if (flag !== undefined) return flag
  if (typeof registry.maxWorkers === "number") return registry.maxWorkers
  return os.availableParallelism()
}

/** Run a prepared plan with `maxWorkers` stages at once, CPU-heavy ones in a pool of as many threads. */
export const runPrepared = (registry: Registry, plan: Plan, maxWorkers: number, options: FlowOptions) =>
  runPlan(plan, {
    maxWorkers,
    dataRoot: options.dataRoot,
    resultsDir: options.resultsDir,
    sourcesDir: path.join(options.cacheDir, "sources"),
    mirror: options.mirror,
    force: options.force,
    retries: registry.retries,
    ...(options.forceStage === undefined ? {} : { forceStage: options.forceStage })
  }).pipe(
    Effect.provide(WorkerPool.layer(maxWorkers))
  )

/** Each node of a plan and whether the cache already holds it. */
export const planStates = Effect.fn("Flow.planStates")(function*(plan: Plan) {
  const store = yield* ArtifactStore
  return yield* Effect.forEach(plan.nodes, (n: Node) =>
    store.has(n.key).pipe(Effect.map((cached) => ({ node: n, state: cached ? ("cached" as const) : ("to run" as const) }))))
})
