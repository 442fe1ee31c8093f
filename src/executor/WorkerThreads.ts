/**
 * The worker-thread executor: CPU-heavy stages run in a pool of worker threads, so `max_workers`
 * really uses that many cores; light stages (`cpu: false`) run on the calling thread. Workers
 * start lazily and are reused; a job whose worker dies fails with a StageError and the worker is
 * replaced. When the executor closes, its idle workers go back to the warm state, where the next
 * executor of the same process takes them (the daemon: a worker takes 0.3-0.8 s to start and load
 * the stage code, more than the few stages an edited hyperparameter reruns) and which terminates
 * them when it closes. Jobs carry everything a stage needs, so a kept worker serves any later flow.
 */
import { Effect, Layer, Option, Semaphore } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Worker } from "node:worker_threads"
import { projectRoot, snapshotDir } from "../runtime/ProjectRoot.ts"
import { type BoundedMemo, memoSpec, WarmState, type WarmStateShape } from "../runtime/WarmState.ts"
import { stageByName } from "../tasks/stages.ts"
import { submitIn } from "./Execute.ts"
import { type ConfigProblem, Executor, type JobHooks, type StageJob, StageError, type StageOutput } from "./Executor.ts"
import { runInline } from "./InlineExecutor.ts"

type Reply =
  | { readonly id: number; readonly type: "progress"; readonly fraction: number; readonly message?: string }
  | { readonly id: number; readonly type: "checkpoint"; readonly step: number; readonly bytes: Uint8Array }
  | { readonly id: number; readonly type: "done"; readonly bytes: Uint8Array; readonly summary: unknown; readonly computeMs: number }
  | { readonly id: number; readonly type: "failed"; readonly message: string; readonly stack: string; readonly config?: ConfigProblem }

/** Idle workers kept in the warm state (each holds its loaded code, tens of MiB): at most 8. */
const idleWorkers = memoSpec<number, Worker>("idle-workers", Math.min(os.availableParallelism(), 8), (w) => void w.terminate())

export interface WorkerThreadsOptions {
  /** Worker threads at most. */
  readonly size: number
  /**
   * The folder of the stage worker bundle (`worker.mjs`, built beside the start-up snapshot): ~0.2-0.4 s
   * to load instead of ~1 s for the sources. Default: the snapshot's folder when this process started from one.
   */
  readonly bundleDir?: string | undefined
}

/** Start a worker: the bundle when there is one, else the sources. */
const startWorker = (bundleDir: string | undefined, idle: BoundedMemo<number, Worker> | undefined): Worker => {
  const bundled = bundleDir === undefined ? undefined : path.join(bundleDir, "worker.mjs")
  const entry = bundled !== undefined && fs.existsSync(bundled) ? bundled : path.join(projectRoot(), "src/executor/stageWorker.ts")
  const w = new Worker(entry, { workerData: { projectRoot: projectRoot() } })
  // A kept worker that dies while waiting leaves the warm state.
  w.once("exit", () => void idle?.take(w.threadId))
  return w
}

/**
 * Start `n` workers into the warm state now (the daemon, when it starts: the first flow then finds
 * them loaded instead of waiting 0.3-0.8 s for each).
 */
export const prewarmWorkers = (warm: WarmStateShape, n: number, bundleDir: string | undefined = snapshotDir()): void => {
  const idle = warm.memo(idleWorkers)
  for (let i = idle.size; i < Math.min(n, idleWorkers.capacity); i++) {
    const w = startWorker(bundleDir, idle)
    w.unref()
    idle.set(w.threadId, w)
  }
}

/** Idle workers kept in a warm state. */
export const warmWorkerCount = (warm: WarmStateShape): number => warm.memo(idleWorkers).size

/** Up to `size` worker threads for CPU-heavy stages; light ones on the calling thread. */
export const layer = (options: WorkerThreadsOptions): Layer.Layer<Executor> =>
  Layer.effect(
    Executor,
    Effect.gen(function*() {
      const size = Math.max(1, options.size)
      const bundleDir = options.bundleDir ?? snapshotDir()
      const warm = yield* Effect.serviceOption(WarmState)
      const kept = Option.isSome(warm) ? warm.value.memo(idleWorkers) : undefined
      const idle: Array<Worker> = []
      for (const w of kept?.values() ?? []) {
        if (idle.length >= size) break
        kept!.take(w.threadId)
        w.ref()
        idle.push(w)
      }
      const all = new Set<Worker>(idle)
      const slots = yield* Semaphore.make(size)
      let nextId = 0
      yield* Effect.addFinalizer(() =>
        Effect.promise(() => {
          // Idle workers go back to the warm state (which terminates those beyond its bound); the rest stop.
          if (kept !== undefined) {
            for (const w of idle.splice(0)) {
              all.delete(w)
              w.unref()
              kept.set(w.threadId, w)
            }
          }
          return Promise.all([...all].map((w) => w.terminate()))
        })
      )
      const scope = yield* Effect.scope

      const spawn = () => {
        const w = startWorker(bundleDir, kept)
        all.add(w)
        return w
      }
      const discard = (w: Worker) => {
        all.delete(w)
        void w.terminate()
      }

      const runOn = (w: Worker, job: StageJob, hooks: JobHooks) =>
        Effect.callback<StageOutput, StageError>((resume) => {
          const id = nextId++
          const cleanup = () => {
            w.off("message", onMessage)
            w.off("error", onError)
            w.off("exit", onExit)
          }
          const onMessage = (r: Reply) => {
            if (r.id !== id) return
            if (r.type === "progress") return hooks.progress(r.fraction, r.message)
            if (r.type === "checkpoint") return hooks.checkpoint?.(r.step, r.bytes)
            cleanup()
            idle.push(w)
            if (r.type === "done") resume(Effect.succeed({ bytes: r.bytes, summary: r.summary, computeMs: r.computeMs }))
            else resume(Effect.fail(new StageError({ stage: job.stage, message: r.message, stack: r.stack, ...(r.config === undefined ? {} : { config: r.config }) })))
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

      const run = (job: StageJob, hooks: JobHooks) =>
        stageByName(job.stage).cpu
          ? slots.withPermits(1)(Effect.suspend(() => runOn(idle.pop() ?? spawn(), job, hooks)))
          : runInline(job, hooks)

      return Executor.of({ kind: "threads", submit: (job, hooks) => submitIn(scope, run(job, hooks)) })
    })
  )
