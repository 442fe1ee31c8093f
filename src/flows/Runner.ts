/**
 * The runner walks a plan's DAG: a node whose key is in the cache is a hit and is not even
 * loaded unless a dependant must run; a miss loads its inputs, runs (CPU-heavy stages in the
 * worker pool) and stores its output. Ready nodes run concurrently up to `maxWorkers`; a failed
 * node stores nothing, its dependants are skipped and other branches go on. Each run's result
 * folder is written as soon as its last stage is ready.
 */
import { Deferred, Duration, Effect, Option, Schedule, Semaphore } from "effect"
import * as os from "node:os"
import { ArtifactStore } from "../cache/ArtifactStore.ts"
import { type Claim, holdKeys, Leases } from "../cache/Leases.ts"
import type { Node } from "../tasks/Task.ts"
import { FlowEvents } from "./Events.ts"
import { checkpointWriter, clearCheckpoints, latestCheckpoint } from "./Checkpoints.ts"
import type { Plan, PlannedRun } from "./Plan.ts"
import type { StageRetry } from "../config/Registry.ts"
import { isComplete, writeFailure, writeResults } from "./Results.ts"
import { WorkerPool } from "./WorkerPool.ts"

export interface RunnerOptions {
  readonly maxWorkers: number
  readonly dataRoot: string
  /** Folder of fetched sources (`<cache>/sources`). */
  readonly sourcesDir: string
  readonly mirror?: string | undefined
  readonly resultsDir: string
  /** Recompute fit, score and evaluate of every run, and rewrite results. */
  readonly force: boolean
  /** Recompute every node of this stage and everything downstream of it, and rewrite results. */
  readonly forceStage?: string
  /** Retry policy per stage name (default: no retry). */
  readonly retries?: ReadonlyMap<string, StageRetry>
}

/** How a node ended in this flow. */
export type NodeStatus = "cached" | "done" | "failed" | "skipped"

export interface NodeOutcome {
  readonly status: NodeStatus
  readonly error?: string
}

/** How a run ended in this flow. */
export interface RunOutcome {
  readonly run: string
  readonly fingerprint: string
  readonly status: "written" | "complete" | "failed"
  readonly dir?: string
  readonly error?: string
}

export interface FlowReport {
  readonly nodes: ReadonlyMap<string, NodeOutcome>
  readonly runs: ReadonlyArray<RunOutcome>
  readonly counts: Readonly<Record<NodeStatus, number>>
}

/** Walk the plan. Never fails: failures are in the report. */
export const runPlan = (plan: Plan, options: RunnerOptions) => Effect.scoped(walk(plan, options))

const walk = Effect.fn("Runner.runPlan")(function*(plan: Plan, options: RunnerOptions) {
  const store = yield* ArtifactStore
  const pool = yield* WorkerPool
  const events = yield* FlowEvents
  const permits = yield* Semaphore.make(Math.max(1, options.maxWorkers))
  yield* events.emit({ _tag: "Planned", runs: plan.runs.length, nodes: plan.nodes.length })

  const forced = forcedKeys(plan, options)
  // Hold every key of the plan, so `cache gc` in another process leaves them alone.
  const leases = yield* Leases
  const holder = yield* holdKeys(plan.nodes.map((n) => n.key))
  const labels = nodeLabels(plan)
  const logs = new Map<string, Array<string>>()
  const log = (key: string, line: string) => {
    const l = logs.get(key) ?? []
    l.push(`${new Date().toISOString()} ${line}`)
    logs.set(key, l)
  }
  const failedKeys = new Map<string, string>()
  const outcomes = new Map<string, Deferred.Deferred<NodeOutcome>>()
  for (const n of plan.nodes) outcomes.set(n.key, Deferred.makeUnsafe<NodeOutcome>())
  const outcomeOf = (n: Node) => Deferred.await(outcomes.get(n.key)!)

  const compute = (n: Node) =>
    Effect.gen(function*() {
      const label = labels.get(n.key) ?? n.stage.name
      const inputs = yield* Effect.forEach(n.inputs, (i) =>
        store.get(i.key).pipe(
          Effect.flatMap((o) =>
            Option.match(o, {
              onNone: () => Effect.fail(new Error(`input ${i.stage.name} ${i.key.slice(0, 12)} is missing from the cache`)),
              onSome: (e) => Effect.succeed(e.value)
            })
          )
        ))
      yield* events.emit({ _tag: "StageStarted", key: n.key, stage: n.stage.name, label })
      log(n.key, `${n.stage.name} ${n.key.slice(0, 12)} started`)
      const checkpointing = n.stage.checkpoints?.(n.params) === true
      const note = (line: string) => log(n.key, `${n.stage.name} ${n.key.slice(0, 12)} ${line}`)
      const resume = checkpointing ? yield* latestCheckpoint(store, n.key, note).pipe(Effect.orElseSucceed(() => undefined)) : undefined
      if (resume !== undefined) {
        note(`resumes from its checkpoint at step ${resume.step}`)
        yield* events.emit({ _tag: "StageResumed", key: n.key, stage: n.stage.name, label, step: resume.step })
      }
      const job = { stage: n.stage.name, params: n.params, inputs, dataRoot: options.dataRoot, sourcesDir: options.sourcesDir, mirror: options.mirror, resume }
      const progress = (fraction: number, message?: string) =>
        Effect.runFork(events.emit({ _tag: "StageProgress", key: n.key, stage: n.stage.name, fraction, ...(message === undefined ? {} : { message }) }))
      const writer = checkpointing
        ? checkpointWriter(store, n, (step, bytes) => {
          note(`checkpoint at step ${step} stored (${bytes} bytes)`)
          Effect.runFork(events.emit({ _tag: "StageCheckpoint", key: n.key, stage: n.stage.name, label, step, bytes }))
        }, note)
        : undefined
      const run = n.stage.cpu ? pool.run(job, progress, writer?.sink) : WorkerPool.inline(job, progress, writer?.sink)
      const out = yield* run.pipe(Effect.ensuring(writer?.flush ?? Effect.void))
      const meta = yield* store.put(n.key, {
        stage: n.stage.name,
        version: n.stage.version,
        params: n.params,
        inputs: n.inputs.map((i) => i.key),
        computeMs: Math.round(out.computeMs),
        summary: out.summary
      }, out.bytes)
      if (checkpointing) yield* clearCheckpoints(store, n.key).pipe(Effect.ignore)
      yield* events.emit({ _tag: "StageDone", key: n.key, stage: n.stage.name, label, ms: out.computeMs, bytes: meta.bytes })
      log(n.key, `${n.stage.name} ${n.key.slice(0, 12)} done in ${Math.round(out.computeMs)} ms, ${meta.bytes} bytes`)
      return { status: "done" } satisfies NodeOutcome
    })

  const cached = (n: Node, label: string, note: string) =>
    Effect.gen(function*() {
      yield* store.touch(n.key).pipe(Effect.ignore)
      yield* events.emit({ _tag: "StageCached", key: n.key, stage: n.stage.name, label })
      log(n.key, `${n.stage.name} ${n.key.slice(0, 12)} ${note}`)
      return { status: "cached" } satisfies NodeOutcome
    })

  // Claim a missing node before computing it; while another live flow on this cache holds the
  // claim, wait (no permit taken) and ask again: its entry arrives as "Present". A store that
  // cannot record claims does not stop the flow: it computes, as it would alone.
  const claim = (n: Node, label: string) =>
    Effect.gen(function*() {
      let waiting = false
      for (;;) {
        const c = yield* leases.claim(n.key, holder, forced.has(n.key)).pipe(Effect.orElseSucceed((): Claim => ({ _tag: "Claimed" })))
        if (c._tag !== "Busy") return c._tag
        if (!waiting) {
          waiting = true
          yield* events.emit({ _tag: "StageWaiting", key: n.key, stage: n.stage.name, label, pid: c.by.pid, host: c.by.host })
          log(n.key, `${n.stage.name} ${n.key.slice(0, 12)} waits: pid ${c.by.pid} on ${c.by.host} computes it`)
        }
        yield* Effect.sleep(Duration.millis(CLAIM_POLL_MS))
      }
    })

  const visit = (n: Node) =>
    Effect.gen(function*() {
      const label = labels.get(n.key) ?? n.stage.name
      const ins = yield* Effect.forEach(n.inputs, outcomeOf)
      const blocked = ins.findIndex((o) => o.status === "failed" || o.status === "skipped")
      let outcome: NodeOutcome
      if (blocked >= 0) {
        const reason = `upstream ${n.inputs[blocked]!.stage.name} ${ins[blocked]!.status}`
        yield* events.emit({ _tag: "StageSkipped", key: n.key, stage: n.stage.name, label, reason })
        log(n.key, `${n.stage.name} ${n.key.slice(0, 12)} skipped: ${reason}`)
        outcome = { status: "skipped", error: reason }
      } else if (!forced.has(n.key) && (yield* store.has(n.key).pipe(Effect.orElseSucceed(() => false)))) {
        outcome = yield* cached(n, label, "cached")
      } else if ((yield* claim(n, label)) === "Present") {
        outcome = yield* cached(n, label, "cached: computed meanwhile by another flow")
      } else {
        const policy = options.retries?.get(n.stage.name)
        const attempt = permits.withPermits(1)(compute(n))
        const withRetry = policy === undefined || policy.retries === 0
          ? attempt
          : Effect.suspend(() => {
            let failures = 0
            return attempt.pipe(
              Effect.tapError((e: unknown) =>
                Effect.sync(() => {
                  failures++
                  if (failures <= policy.retries) {
                    log(n.key, `${n.stage.name} ${n.key.slice(0, 12)} attempt ${failures} failed: ${errorText(e)}; retrying in ${policy.retryDelayMs} ms`)
                  }
                })
              ),
              Effect.retry({ times: policy.retries, schedule: Schedule.spaced(Duration.millis(policy.retryDelayMs)) })
            )
          })
        outcome = yield* withRetry.pipe(
          Effect.ensuring(leases.unclaim(n.key, holder).pipe(Effect.ignore)),
          Effect.catch((e: unknown) => {
            const error = errorText(e)
            log(n.key, `${n.stage.name} ${n.key.slice(0, 12)} failed: ${error}`)
            failedKeys.set(n.key, error)
            return events.emit({ _tag: "StageFailed", key: n.key, stage: n.stage.name, label, error }).pipe(
              Effect.as({ status: "failed", error } satisfies NodeOutcome)
            )
          })
        )
      }
      yield* Deferred.succeed(outcomes.get(n.key)!, outcome)
    })

  const finish = (run: PlannedRun) =>
    Effect.gen(function*() {
      const outcome = yield* outcomeOf(run.nodes.evaluate)
      const base = { run: run.spec.name, fingerprint: run.fingerprint }
      if (outcome.status === "failed" || outcome.status === "skipped") {
        const nodes = runNodeList(run)
        const failedNode = nodes.find((n) => Deferred.isDoneUnsafe(outcomes.get(n.key)!) && failedKeys.has(n.key))
        const error = failedNode === undefined
          ? `evaluate ${outcome.status}${outcome.error === undefined ? "" : `: ${outcome.error}`}`
          : `stage ${failedNode.stage.name} failed: ${failedKeys.get(failedNode.key)}`
        const lines = nodes.flatMap((n) => logs.get(n.key) ?? [])
        yield* writeFailure(options.resultsDir, run, lines, error, failedNode?.stage.name).pipe(Effect.ignore)
        yield* events.emit({ _tag: "RunFailed", run: run.spec.name, error })
        return { ...base, status: "failed", error } satisfies RunOutcome
      }
      const rewrite = runNodeList(run).some((n) => forced.has(n.key))
      if (!rewrite && isComplete(options.resultsDir, run)) {
        yield* events.emit({ _tag: "RunWritten", run: run.spec.name, dir: run.fingerprint, status: "complete" })
        return { ...base, status: "complete" } satisfies RunOutcome
      }
      const lines = runNodeList(run).flatMap((n) => logs.get(n.key) ?? [])
      return yield* writeResults(options.resultsDir, run, lines).pipe(
        Effect.tap((dir) => events.emit({ _tag: "RunWritten", run: run.spec.name, dir, status: "written" })),
        Effect.map((dir): RunOutcome => ({ ...base, status: "written", dir })),
        Effect.catch((e) =>
          events.emit({ _tag: "RunFailed", run: run.spec.name, error: e.message }).pipe(
            Effect.as({ ...base, status: "failed", error: e.message } satisfies RunOutcome)
          )
        )
      )
    })

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

const CLAIM_POLL_MS = 200

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** Keys to recompute even when cached: `--force` (fit, score, evaluate) and `--force-stage` (that stage and below). */
export const forcedKeys = (plan: Plan, options: Pick<RunnerOptions, "force" | "forceStage">): ReadonlySet<string> => {
  const forced = new Set<string>()
  if (options.force) for (const r of plan.runs) for (const n of [r.nodes.fit, r.nodes.score, r.nodes.evaluate]) forced.add(n.key)
  if (options.forceStage !== undefined) {
    // plan.nodes is topological: a node is forced when its stage is named or an input is forced.
    for (const n of plan.nodes) {
      if (n.stage.name === options.forceStage || n.inputs.some((i) => forced.has(i.key))) forced.add(n.key)
    }
  }
  return forced
}

/** Every node of a run, upstream first. */
export const runNodeList = (run: PlannedRun): ReadonlyArray<Node> => {
  const n = run.nodes
  const out: Array<Node> = [...n.sources]
  if (n.parse !== undefined) out.push(n.parse)
  if (n.mine !== undefined) out.push(n.mine)
  if (n.group !== undefined) out.push(n.group)
  out.push(n.label, n.split, ...n.represent, n.fit, n.score, n.evaluate)
  return out
}

/** A human label per node: the stage and which datasets / runs it serves. */
export const nodeLabels = (plan: Plan): ReadonlyMap<string, string> => {
  const users = new Map<string, Set<string>>()
  for (const run of plan.runs) {
    const perModel = new Set([run.nodes.fit.key, run.nodes.score.key, run.nodes.evaluate.key])
    for (const n of runNodeList(run)) {
      const who = perModel.has(n.key) ? run.spec.name : run.spec.datasetName
      users.set(n.key, (users.get(n.key) ?? new Set()).add(who))
    }
  }
  const out = new Map<string, string>()
  for (const n of plan.nodes) {
    const who = n.stage.describe?.(n.params) ?? [...(users.get(n.key) ?? [])].join(",")
    out.set(n.key, `${n.stage.name} ${who}`)
  }
  return out
}
