/**
 * The executor: where a stage job runs. The runner hands a job over with `submit` and later
 * `await`s its encoded output, as Prefect's task runners do; it never knows whether the job ran on
 * its own thread (`InlineExecutor`), in a worker thread (`WorkerThreads`), or, later, on another
 * machine. A job carries everything its stage reads (params, encoded inputs, where sources live),
 * so any executor computes the same bytes.
 */
import { Context, type Effect, Schema } from "effect"
import { StageConfigError } from "../tasks/Task.ts"

/** A stage invocation as it crosses a thread (or machine) boundary. */
export interface StageJob {
  readonly stage: string
  readonly params: unknown
  /** Encoded upstream outputs by input name (a list for a list input). */
  readonly inputs: Readonly<Record<string, Uint8Array | ReadonlyArray<Uint8Array>>>
  readonly dataRoot: string
  readonly sourcesDir: string
  readonly mirror?: string | undefined
  readonly digestFile?: string | undefined
  /** Checkpointing stages: the newest intact checkpoint of an earlier attempt. */
  readonly resume?: { readonly step: number; readonly bytes: Uint8Array } | undefined
}

/** Where a checkpointing stage's `save` calls go (the runner stores them in the cache). */
export type CheckpointSink = (step: number, bytes: Uint8Array) => void

/** What a running job reports on the way. */
export interface JobHooks {
  readonly progress: (fraction: number, message?: string) => void
  readonly checkpoint?: CheckpointSink | undefined
}

/** The encoded output, its summary and the compute time. */
export interface StageOutput {
  readonly bytes: Uint8Array
  readonly summary: unknown
  readonly computeMs: number
}

/** What a `StageConfigError` names: dotted dataset keys and what is wrong. */
export interface ConfigProblem {
  readonly keys: ReadonlyArray<string>
  readonly detail: string
}

/**
 * A stage threw, or the thread (or machine) that ran it died. `config`: it threw a
 * `StageConfigError`, the dataset's config is at odds with its data (bad input, exit 2).
 */
export class StageError extends Schema.TaggedError<StageError>()("StageError", {
  stage: Schema.String,
  message: Schema.String,
  stack: Schema.optional(Schema.String),
  config: Schema.optional(Schema.Struct({ keys: Schema.Array(Schema.String), detail: Schema.String }))
}) {}

/** A StageError's fields for what a stage threw, as plain data that crosses a thread. */
export const failureOf = (e: unknown): { readonly message: string; readonly stack?: string; readonly config?: ConfigProblem } => ({
  message: e instanceof Error ? e.message : String(e),
  ...(e instanceof Error && e.stack !== undefined ? { stack: e.stack } : {}),
  ...(e instanceof StageConfigError ? { config: { keys: [...e.keys], detail: e.detail } } : {})
})

/** A submitted job. */
export interface Submission {
  /** Its output, once it is done. Interrupting the wait cancels the job. */
  readonly await: Effect.Effect<StageOutput, StageError>
}

export class Executor extends Context.Service<Executor, {
  /** Hand a job over; it starts as soon as the executor has room for it. */
  submit(job: StageJob, hooks: JobHooks): Effect.Effect<Submission>
  /** A word for views and logs: "inline", "threads". */
  readonly kind: string
}>()("logflow/executor/Executor") {}
