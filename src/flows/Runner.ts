/**
 * The runner walks a plan's DAG: a node whose key is in the cache is a hit and is not even loaded
 * unless a dependant must run; a miss is claimed (flows sharing a cache compute it once), computed
 * by the executor and stored. Up to `maxWorkers` nodes compute at once; a failed node stores
 * nothing, its dependants are skipped and other branches go on. Each run's result folder is
 * written as soon as its evaluate node is ready. The pieces it calls: Leases (holds and claims),
 * Compute (one node), Retry, Checkpoints, Results, RunLog.
 */
import { Deferred, Effect, Semaphore } from "effect"
import { ArtifactStore } from "../cache/ArtifactStore.ts"
import { type Hold, holdKeys, Leases } from "../cache/Leases.ts"
import { type ConfigProblem, Executor, StageError } from "../executor/Executor.ts"
import { CliStart } from "../runtime/Terminal.ts"
import { type Node, upstream } from "../tasks/Task.ts"
import { claimOrWait } from "./Claims.ts"
import { computeNode, type ComputeContext, loadInputs } from "./Compute.ts"
import { healingStore } from "./Healing.ts"
import { FlowEvents } from "./Events.ts"
import { forcedKeys } from "./Forced.ts"
import { withUncached } from "./FlowStore.ts"
import { nodeLabels, type Plan, type PlannedRun } from "./Plan.ts"
import { finishRun } from "./FinishRun.ts"
import type { FlowReport, NodeOutcome, NodeStatus } from "./Outcomes.ts"
import { lazyEnvironment } from "./Results.ts"
import { type RetryPolicy, withRetries } from "./Retry.ts"
import { makeRunLog } from "./RunLog.ts"

export interface RunnerOptions {
  readonly maxWorkers: number
  readonly dataRoot: string
  /** Folder of fetched sources (`<cache>/sources`). */
  readonly sourcesDir: string
  readonly mirror?: string | undefined
  /** File remembering source digests across runs (`<cache>/digests.json`). */
  readonly digestFile?: string | undefined
  readonly resultsDir: string
  /** Recompute fit, score and evaluate of every run, and rewrite results. */
  readonly force: boolean
  /** Recompute every node of this stage and everything downstream of it, and rewrite results. */
  readonly forceStage?: string | undefined
  /** Retry policy per stage name (default: no retry). */
  readonly retries?: ReadonlyMap<string, RetryPolicy>
}

/** Walk the plan. Never fails: failures are in the report. */
export const runPlan = (plan: Plan, options: RunnerOptions): Effect.Effect<FlowReport, never, ArtifactStore | Leases | Executor | FlowEvents> =>
  Effect.scoped(walk(plan, options))

const walk = Effect.fn("Runner.runPlan")(function*(plan: Plan, options: RunnerOptions) {
  const uncached = new Set(plan.nodes.filter((n) => n.uncached !== undefined).map((n) => n.key))
  const store = withUncached(yield* ArtifactStore, uncached)
  const events = yield* FlowEvents
  const permits = yield* Semaphore.make(Math.max(1, options.maxWorkers))
  const environment = lazyEnvironment(yield* CliStart)
  yield* events.emit({ _tag: "Planned", runs: plan.runs.length, nodes: plan.nodes.length })

  const forced = forcedKeys(plan, options)
  // Hold every key of the plan, so `cache gc` in another process leaves them alone.
  const holder = yield* holdKeys(plan.nodes.map((n) => n.key))
  const leases = yield* Leases
  const labels = nodeLabels(plan)
  const labelOf = (n: Node) => labels.get(n.key) ?? n.stage.name
  const log = makeRunLog()
  const failedKeys = new Map<string, string>()
  const outcomes = new Map<string, Deferred.Deferred<NodeOutcome>>()
  for (const n of plan.nodes) outcomes.set(n.key, Deferred.makeUnsafe<NodeOutcome>())
  const outcomeOf = (n: Node) => Deferred.await(outcomes.get(n.key)!)
  const compute: ComputeContext = {
    store,
    executor: yield* Executor,
    events,
    log,
    roots: { dataRoot: options.dataRoot, sourcesDir: options.sourcesDir, mirror: options.mirror, digestFile: options.digestFile }
  }

  const cached = (n: Node, note: string) =>
    Effect.gen(function*() {
      yield* store.touch(n.key).pipe(Effect.ignore)
      yield* events.emit({ _tag: "StageCached", key: n.key, stage: n.stage.name, label: labelOf(n) })
      log.note(n, note)
      return { status: "cached" } satisfies NodeOutcome
    })

  const failed = (n: Node, e: unknown) =>
    Effect.suspend(() => {
      const error = errorText(e)
      log.note(n, `failed: ${error}`)
      failedKeys.set(n.key, error)
      const config = configProblemOf(e)
      return events.emit({ _tag: "StageFailed", key: n.key, stage: n.stage.name, label: labelOf(n), error }).pipe(
        Effect.as({ status: "failed", error, ...(config === undefined ? {} : { config }) } satisfies NodeOutcome)
      )
    })

  // A node whose entry does not read back when a dependant needs it is recomputed, once.
  const nodesByKey = new Map(plan.nodes.map((n) => [n.key, n]))
  const recompute = (n: Node) =>
    Effect.gen(function*() {
      const message = "its cache entry did not read back (corrupt or truncated); recomputing it"
      yield* events.emit({ _tag: "StageWarning", key: n.key, stage: n.stage.name, label: labelOf(n), message })
      log.note(n, `warning: ${message}`)
      const claim = yield* claimOrWait(n.key, holder, false, (by) => waiting(n, by))
      if (claim === "Present") return
      yield* attempt(n).pipe(Effect.ensuring(leases.unclaim(n.key, holder).pipe(Effect.ignore)))
    }).pipe(Effect.provideService(Leases, leases))
  const readable = healingStore(store, nodesByKey, recompute)
  // Its inputs read first (recomputing one that does not read back), then a worker permit for the stage.
  const attempt = (n: Node): Effect.Effect<void, unknown> =>
    Effect.flatMap(loadInputs(readable, n.inputs), (inputs) => permits.withPermits(1)(computeNode(n, labelOf(n), inputs, compute)))
  const waiting = (n: Node, by: Hold) =>
    Effect.gen(function*() {
      yield* events.emit({ _tag: "StageWaiting", key: n.key, stage: n.stage.name, label: labelOf(n), pid: by.pid, host: by.host })
      log.note(n, `waits: pid ${by.pid} on ${by.host} computes it`)
    })

  // Claimed (or uncached): compute, retried by the stage's policy (not a config error: it would
  // fail the same way); the claim ends with the attempt.
  const run = (n: Node) =>
    withRetries(attempt(n), options.retries?.get(n.stage.name), (e) => configProblemOf(e) === undefined, (failures, e) =>
      log.note(n, `attempt ${failures} failed: ${errorText(e)}; retrying in ${options.retries?.get(n.stage.name)?.retryDelayMs} ms`)).pipe(
      Effect.as({ status: "done" } satisfies NodeOutcome),
      Effect.ensuring(leases.unclaim(n.key, holder).pipe(Effect.ignore)),
      Effect.catch((e: unknown) => failed(n, e))
    )

  const visit = (n: Node) =>
    Effect.gen(function*() {
      const ins = upstream(n)
      const outs = yield* Effect.forEach(ins, outcomeOf)
      const blocked = outs.findIndex((o) => o.status === "failed" || o.status === "skipped")
      let outcome: NodeOutcome
      if (blocked >= 0) {
        const reason = `upstream ${ins[blocked]!.stage.name} ${outs[blocked]!.status}`
        yield* events.emit({ _tag: "StageSkipped", key: n.key, stage: n.stage.name, label: labelOf(n), reason })
        log.note(n, `skipped: ${reason}`)
        outcome = { status: "skipped", error: reason }
      } else if (n.uncached !== undefined) {
        yield* events.emit({ _tag: "StageWarning", key: n.key, stage: n.stage.name, label: labelOf(n), message: n.uncached })
        log.note(n, `warning: ${n.uncached}`)
        outcome = yield* run(n)
      } else if (!forced.has(n.key) && (yield* store.has(n.key).pipe(Effect.orElseSucceed(() => false)))) {
        outcome = yield* cached(n, "cached")
      } else {
        const claim = yield* claimOrWait(n.key, holder, forced.has(n.key), (by) => waiting(n, by))
        outcome = claim === "Present" ? yield* cached(n, "cached: computed meanwhile by another flow") : yield* run(n)
      }
      yield* Deferred.succeed(outcomes.get(n.key)!, outcome)
    })

  const finish = (run: PlannedRun) =>
    Effect.flatMap(outcomeOf(run.nodes.evaluate), (outcome) =>
      finishRun(run, outcome, {
        resultsDir: options.resultsDir,
        store: readable,
        events,
        log,
        failedKeys,
        rewrite: (n) => forced.has(n.key) || uncached.has(n.key),
        environment
      }))

  const [, runs] = yield* Effect.all(
    [
      Effect.forEach(plan.nodes, visit, { concurrency: "unbounded", discard: true }),
      Effect.forEach(plan.runs, finish, { concurrency: "unbounded" })
    ],
    { concurrency: "unbounded" }
  )
  const nodes = new Map<string, NodeOutcome>()
  for (const n of plan.nodes) nodes.set(n.key, yield* outcomeOf(n))
  const counts: Record<NodeStatus, number> = { cached: 0, done: 0, failed: 0, skipped: 0 }
  for (const o of nodes.values()) counts[o.status]++
  const report: FlowReport = { nodes, runs, counts }
  return report
})

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** What a stage that threw a `StageConfigError` named, else undefined. */
const configProblemOf = (e: unknown): ConfigProblem | undefined => (e instanceof StageError ? e.config : undefined)
