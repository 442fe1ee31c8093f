/**
 * The task model: a stage is a value (name, explicit code version, params schema, run
 * function) and a node is a stage applied to decoded params and upstream nodes. A node's key
 * is `stageKey` over its stage, version, params and upstream keys, so equal work has equal keys
 * and the plan can share it. Stages never import the runner; the runner only sees these values.
 */
import type { Schema } from "effect"
import { stageKey } from "../cache/CacheKey.ts"

/** What a stage's run function may use besides its params and inputs. */
export interface StageContext {
  /** Directory that dataset paths resolve against. */
  readonly dataRoot: string
  /** Folder of fetched (downloaded or mirrored) sources. */
  readonly sourcesDir: string
  /** Mirror folder searched before downloading, if any. */
  readonly mirror?: string | undefined
  /** File remembering source digests across runs (`<cache>/digests.json`), if any. */
  readonly digestFile?: string | undefined
  /** Report progress (0..1) with an optional message; cheap, call it freely. */
  readonly progress: (fraction: number, message?: string) => void
  /**
   * Nodes whose stage `checkpoints` them only: the newest intact checkpoint stored for this node by an
   * earlier, interrupted attempt (undefined when there is none), and `save` to store a new one.
   * The runner keeps checkpoints in the cache under keys derived from the node's key, verifies
   * them by checksum and removes them once the node's output is stored.
   */
  readonly checkpoint?: StageCheckpoints
}

/** Checkpointing as a long stage sees it. */
export interface StageCheckpoints {
  /** The newest intact checkpoint and its step, if an earlier attempt left one. */
  readonly resume: { readonly step: number; readonly bytes: Uint8Array } | undefined
  /** Store a checkpoint for `step` (e.g. the epoch just finished); the bytes must not be reused. */
  readonly save: (step: number, bytes: Uint8Array) => void
}

/** A cached unit of work. `I` is the tuple of upstream output types, `O` its output. */
export interface Stage<P, I extends ReadonlyArray<unknown>, O> {
  /** Stage name, part of the key ("parse", "mine", ...). */
  readonly name: string
  /** Bump when the output for the same params and inputs changes. */
  readonly version: string
  /** Decodes and validates the params (unknown keys rejected, defaults applied). */
  readonly params: Schema.Codec<P, unknown>
  /** Run in a worker thread (CPU-heavy) rather than on the main thread. */
  readonly cpu: boolean
  /**
   * Whether a node with these params saves checkpoints (`ctx.checkpoint`) and resumes from them
   * after an interruption (the runner looks for stored checkpoints only then).
   */
  readonly checkpoints?: (params: P) => boolean
  /** Computes the output. Throwing fails the stage; nothing is stored. */
  readonly run: (params: P, inputs: I, ctx: StageContext) => O | Promise<O>
  /** A small JSON summary of the output, kept in the entry's provenance. */
  readonly summarize?: (output: O, params: P) => unknown
  /** A short name for a node of this stage in views (default: the datasets or runs it serves). */
  readonly describe?: (params: P) => string
}

/** A stage with its types hidden, as the runner and the stage registry see it. */
export interface AnyStage {
  readonly name: string
  readonly version: string
  readonly params: Schema.Codec<unknown, unknown>
  readonly cpu: boolean
  checkpoints?(params: unknown): boolean
  run(params: unknown, inputs: ReadonlyArray<unknown>, ctx: StageContext): unknown
  summarize?(output: unknown, params: unknown): unknown
  describe?(params: unknown): string
}

/** One node of the DAG: a stage, its decoded params and its upstream nodes. */
export interface Node<O = unknown> {
  readonly stage: AnyStage
  readonly params: unknown
  readonly inputs: ReadonlyArray<Node>
  readonly key: string
  /** Extra key material (e.g. a source file's content digest). */
  readonly salt?: unknown
  /** Phantom: the output type. */
  readonly _O?: O
}

type Nodes<I extends ReadonlyArray<unknown>> = { readonly [K in keyof I]: Node<I[K]> }

/** Apply a stage to params and upstream nodes. `salt` joins the key (content digests). */
export const node = <P, I extends ReadonlyArray<unknown>, O>(
  stage: Stage<P, I, O>,
  params: P,
  inputs: Nodes<I>,
  salt?: unknown
): Node<O> => {
  const upstream: ReadonlyArray<Node> = inputs
  const key = stageKey({
    stage: stage.name,
    version: stage.version,
    params: salt === undefined ? params : { params, salt },
    inputs: upstream.map((n) => n.key)
  })
  return { stage: eraseStage(stage), params, inputs: upstream, key, ...(salt === undefined ? {} : { salt }) }
}

/** Define a stage (keeps its types for `node`). */
export const defineStage = <P, I extends ReadonlyArray<unknown>, O>(stage: Stage<P, I, O>): Stage<P, I, O> => stage

/** Hide a stage's types. Sound because `node` only pairs a stage with its own params and inputs. */
export const eraseStage = <P, I extends ReadonlyArray<unknown>, O>(stage: Stage<P, I, O>): AnyStage => ({
  name: stage.name,
  version: stage.version,
  params: stage.params as Schema.Codec<unknown, unknown>,
  cpu: stage.cpu,
  ...(stage.checkpoints === undefined ? {} : { checkpoints: (params: unknown) => stage.checkpoints!(params as P) }),
  run: (params, inputs, ctx) => stage.run(params as P, inputs as unknown as I, ctx),
  ...(stage.summarize === undefined
    ? {}
    : { summarize: (output: unknown, params: unknown) => stage.summarize!(output as O, params as P) }),
  ...(stage.describe === undefined ? {} : { describe: (params: unknown) => stage.describe!(params as P) })
})
