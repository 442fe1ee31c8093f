/**
 * A pool of worker threads for CPU-heavy stages, so `max_workers` really uses that many cores.
 * Workers start lazily, are reused, and are terminated when the pool's scope closes; a job
 * whose worker dies fails with a StageError and the worker is replaced. `layerInline` runs
 * jobs on the calling thread (tests, `--max-workers 1` debugging).
 *
 * A process that runs many flows (the daemon) keeps the idle workers of a closed pool for the
 * next one (`keepWorkersWarm`): a worker takes 0.3-0.8 s to start and load the stage code, more
 * than the few stages an edited hyperparameter reruns. Jobs carry everything a stage needs (no
 * worker reads the environment), so a worker serves any later flow alike.
 */
import { Context, Effect, Layer, Schema, Semaphore } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Worker } from "node:worker_threads"
import { projectRoot, snapshotDir } from "../runtime/ProjectRoot.ts"
import { type CheckpointSink, executeStage, type StageJob, type StageOutput } from "./Execute.ts"

/** A stage threw, or its worker died. */
export class StageError extends Schema.TaggedError<StageError>()("StageError", {
  stage: Schema.String,
  message: Schema.String,
  stack: Schema.optional(Schema.String)
}) {}

type Reply =
  | { readonly id: number; readonly type: "progress"; readonly fraction: number; readonly message?: string }
  | { readonly id: number; readonly type: "checkpoint"; readonly step: number; readonly bytes: Uint8Array }
  | { readonly id: number; readonly type: "done"; readonly bytes: Uint8Array; readonly summary: unknown; readonly computeMs: number }
  | { readonly id: number; readonly type: "failed"; readonly message: string; readonly stack: string }

// Kept workers hold their loaded code (tens of MiB each): on a many-core machine, keep at most 8.
const RESERVE_MAX = Math.min(os.availableParallelism(), 8)
let keepWarm = false
const reserve: Array<Worker> = []

/** Keep idle workers of closed pools for the next pool (the daemon). */
export const keepWorkersWarm = (on: boolean): void => {
  keepWarm = on
}

/** Workers kept for the next pool. */
export const warmWorkerCount = (): number => reserve.length

/**
 * Start `n` workers into the reserve now (the daemon, when it starts: the first flow then finds
 * them loaded instead of waiting 0.3-0.8 s for each).
 */
export const prewarmWorkers = (n: number): void => {
  for (let i = reserve.length; i < Math.min(n, RESERVE_MAX); i++) {
    const w = startWorker()
    w.unref()
    reserve.push(w)
  }
}

const startWorker = (): Worker => {
  // Started from the snapshot: the worker bundle built beside it (one file, its compiled code
  // cached: ~0.2-0.4 s to load instead of ~1 s for the sources); else the sources.
  const bundled = snapshotDir() === undefined ? undefined : path.join(snapshotDir()!, "worker.mjs")
  const entry = bundled !== undefined && fs.existsSync(bundled) ? bundled : path.join(projectRoot(), "src/flows/stageWorker.ts")
  const w = new Worker(entry, { workerData: { projectRoot: projectRoot() } })
  // A kept worker that dies while waiting leaves the reserve.
  w.once("exit", () => {
    const i = reserve.indexOf(w)
    if (i >= 0) reserve.splice(i, 1)
  })
  return w
}

export class WorkerPool extends Context.Service<WorkerPool, {
  /** Run a stage job; `progress` receives the stage's progress reports, `checkpoint` its checkpoints. */
  run(job: StageJob, progress: (fraction: number, message?: string) => void, checkpoint?: CheckpointSink): Effect.Effect<StageOutput, StageError>
  /** Whether jobs run in worker threads (false for the inline pool). */
  readonly threaded: boolean
}>()("logflow/flows/WorkerPool") {
  /** Up to `size` worker threads. */
  static readonly layer = (size: number) =>
    Layer.effect(
      WorkerPool,
      Effect.gen(function*() {
        const idle: Array<Worker> = reserve.splice(0, Math.max(1, size))
        for (const w of idle) w.ref()
        const all = new Set<Worker>(idle)
        const slots = yield* Semaphore.make(Math.max(1, size))
        let nextId = 0
        yield* Effect.addFinalizer(() =>
          Effect.promise(() => {
            if (keepWarm) {
              for (const w of idle.splice(0, Math.max(0, RESERVE_MAX - reserve.length))) {
                all.delete(w)
                w.unref()
                reserve.push(w)
              }
            }
            return Promise.all([...all].map((w) => w.terminate()))
          })
        )

        const spawn = () => {
          const w = startWorker()
          all.add(w)
          return w
        }
        const discard = (w: Worker) => {
          all.delete(w)
          void w.terminate()
        }

        const runOn = (w: Worker, job: StageJob, progress: (f: number, m?: string) => void, checkpoint: CheckpointSink | undefined) =>
          Effect.callback<StageOutput, StageError>((resume) => {
            const id = nextId++
            const cleanup = () => {
              w.off("message", onMessage)
              w.off("error", onError)
              w.off("exit", onExit)
            }
            const onMessage = (r: Reply) => {
              if (r.id !== id) return
              if (r.type === "progress") return progress(r.fraction, r.message)
              if (r.type === "checkpoint") return checkpoint?.(r.step, r.bytes)
              cleanup()
              if (r.type === "done") {
                idle.push(w)
                resume(Effect.succeed({ bytes: r.bytes, summary: r.summary, computeMs: r.computeMs }))
              } else {
                idle.push(w)
                resume(Effect.fail(new StageError({ stage: job.stage, message: r.message, stack: r.stack })))
              }
            }
            const onError = (e: Error) => {
              cleanup()
              discard(w)
              resume(Effect.fail(new StageError({ stage: job.stage, message: `worker crashed: ${e.message}` })))
            }
            const onExit = (code: number) => {
              cleanup()
              all.delete(w)
              resume(Effect.fail(new StageError({ stage: job.stage, message: `worker exited with code ${code}` })))
            }
            w.on("message", onMessage)
            w.on("error", onError)
            w.on("exit", onExit)
            w.postMessage({ id, job })
            // Interrupted while running: the worker's state is unknown, replace it.
            return Effect.sync(() => {
              cleanup()
              discard(w)
            })
          })

        return WorkerPool.of({
          threaded: true,
          run: (job, progress, checkpoint) =>
            slots.withPermits(1)(
              Effect.suspend(() => runOn(idle.pop() ?? spawn(), job, progress, checkpoint))
            )
        })
      })
    )

  /** Run one job on the calling thread (light stages; the inline pool). */
  static readonly inline = (job: StageJob, progress: (fraction: number, message?: string) => void, checkpoint?: CheckpointSink) =>
        Effect.tryPromise({
          try: () => executeStage(job, progress, checkpoint),
          catch: (e) =>
            new StageError({
              stage: job.stage,
              message: e instanceof Error ? e.message : String(e),
              ...(e instanceof Error && e.stack !== undefined ? { stack: e.stack } : {})
            })
        })

  /** Run every job on the calling thread. */
  static readonly layerInline = Layer.succeed(WorkerPool, WorkerPool.of({ threaded: false, run: WorkerPool.inline }))
}
