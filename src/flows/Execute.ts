/**
 * Run one stage on encoded inputs and return its encoded output. The same function runs on the
 * main thread and inside worker threads, so a stage computes the same bytes wherever it runs.
 */
import { decodeValue, encodeValue } from "../cache/Codec.ts"
import { stageByName } from "../tasks/stages.ts"

/** A stage invocation as it crosses a thread boundary. */
export interface StageJob {
  readonly stage: string
  readonly params: unknown
  readonly inputs: ReadonlyArray<Uint8Array>
  readonly dataRoot: string
  readonly sourcesDir: string
  readonly mirror?: string | undefined
  /** Checkpointing stages: the newest intact checkpoint of an earlier attempt. */
  readonly resume?: { readonly step: number; readonly bytes: Uint8Array } | undefined
}

/** Where a checkpointing stage's `save` calls go (the runner stores them in the cache). */
export type CheckpointSink = (step: number, bytes: Uint8Array) => void

/** The encoded output, its summary and the compute time. */
export interface StageOutput {
  readonly bytes: Uint8Array
  readonly summary: unknown
  readonly computeMs: number
}

/** Decode inputs, run the stage, encode the output. Throws what the stage throws. */
export const executeStage = async (
  job: StageJob,
  progress: (fraction: number, message?: string) => void,
  checkpoint?: CheckpointSink
): Promise<StageOutput> => {
  const stage = stageByName(job.stage)
  const inputs = job.inputs.map(decodeValue)
  const t0 = performance.now()
  const checkpoints = stage.checkpoints?.(job.params) === true
    ? { checkpoint: { resume: job.resume, save: checkpoint ?? (() => {}) } }
    : {}
  const out = await stage.run(job.params, inputs, { dataRoot: job.dataRoot, sourcesDir: job.sourcesDir, mirror: job.mirror, progress, ...checkpoints })
  const computeMs = performance.now() - t0
  const summary = stage.summarize === undefined ? undefined : stage.summarize(out, job.params)
  return { bytes: encodeValue(out), summary: summary === undefined ? undefined : JSON.parse(JSON.stringify(summary)), computeMs }
}
