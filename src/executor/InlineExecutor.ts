/**
 * The inline executor: every job on the calling thread. For tests, `--max-workers 1` debugging,
 * and the light stages a threaded executor does not send to a worker.
 */
import { Effect, Layer } from "effect"
import { executeStage, submitIn } from "./Execute.ts"
import { Executor, failureOf, type JobHooks, type StageJob, StageError } from "./Executor.ts"

/** Run one job on the calling thread. */
export const runInline = (job: StageJob, hooks: JobHooks) =>
  Effect.tryPromise({
    try: () => executeStage(job, hooks.progress, hooks.checkpoint),
    catch: (e) => new StageError({ stage: job.stage, ...failureOf(e) })
  })

/** Every job on the calling thread. */
export const layer: Layer.Layer<Executor> = Layer.effect(
  Executor,
  Effect.map(Effect.scope, (scope) => Executor.of({ kind: "inline", submit: (job, hooks) => submitIn(scope, runInline(job, hooks)) }))
)
