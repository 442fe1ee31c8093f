/**
 * Run one stage on encoded inputs and return its encoded output. The same function runs on the
 * main thread and inside worker threads, so a stage computes the same bytes wherever it runs.
 */
import { Effect, Fiber, type Scope } from "effect"
import { decodeValue, encodeValue } from "../cache/Codec.ts"
import { stageByName } from "../tasks/stages.ts"
import type { CheckpointSink, StageJob, StageOutput } from "./Executor.ts"

/** Decode inputs, run the stage, encode the output. Throws what the stage throws. */
export const executeStage = async (
  job: StageJob,
  progress: (fraction: number, message?: string) => void,
  checkpoint?: CheckpointSink
): Promise<StageOutput> => {
  const stage = stageByName(job.stage)
  const inputs = Object.fromEntries(
    Object.entries(job.inputs).map(([name, v]) => [name, isBytes(v) ? decodeValue(v) : v.map(decodeValue)])
  )
  const t0 = performance.now()
  const checkpoints = stage.checkpoints?.(job.params) === true
    ? { checkpoint: { resume: job.resume, save: checkpoint ?? (() => {}) } }
    : {}
  const out = await stage.run(job.params, inputs, {
    dataRoot: job.dataRoot,
    sourcesDir: job.sourcesDir,
    mirror: job.mirror,
    digestFile: job.digestFile,
    progress,
    ...checkpoints
  })
  const computeMs = performance.now() - t0
  const summary = stage.summarize === undefined ? undefined : stage.summarize(out, job.params)
  return { bytes: encodeValue(out), summary: summary === undefined ? undefined : JSON.parse(JSON.stringify(summary)), computeMs }
}

const isBytes = (v: Uint8Array | ReadonlyArray<Uint8Array>): v is Uint8Array => v instanceof Uint8Array

/**
 * A job's run as a submission: started now in `scope` (the executor's, so closing the executor
 * stops what it still runs), awaited later; interrupting the wait interrupts the job.
 */
export const submitIn = <E extends { readonly _tag: "StageError" }>(
  scope: Scope.Scope,
  run: Effect.Effect<StageOutput, E>
): Effect.Effect<{ readonly await: Effect.Effect<StageOutput, E> }> =>
  Effect.map(Effect.forkIn(run, scope), (fiber) => ({
    await: Fiber.join(fiber).pipe(Effect.onInterrupt(() => Fiber.interrupt(fiber)))
  }))


