/**
 * The task model: a stage is a value (name, explicit code version, params schema, named inputs,
 * run function) and a node is a stage applied to decoded params and named upstream nodes
 * (`{ parsed, templates }`). A node's key is `stageKey` over its stage, version, params, salt and
 * named upstream keys, so equal work has equal keys and the plan can share it, and an input's role
 * is part of the key. A node whose params cannot be hashed runs uncached, with a warning naming
 * the parameter. Stages never import the runner; the runner only sees these values.
 */
import type { Schema } from "effect"
import { randomUUID } from "node:crypto"
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

/**
 * A stage's inputs by name: each an upstream output, or a list of them (several label or session
 * files, the representations a detector reads); an optional key may be absent.
 */
export type Inputs = { readonly [name: string]: unknown }

/** A cached unit of work. `I` names its upstream outputs, `O` is its output. */
export interface Stage<P, I extends Inputs, O> {
  /** Stage name, part of the key ("parse", "mine", ...). */
  readonly name: string
  /** Bump when the output for the same params and inputs changes. */
  readonly version: string
  /**
   * The version for these params, where a change altered the output of some params only (the
   * others keep `version`, so their keys and results stay); see `stageVersion`.
   */
  readonly versionFor?: (params: P) => string
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
  versionFor?(params: unknown): string
  readonly params: Schema.Codec<unknown, unknown>
  readonly cpu: boolean
  checkpoints?(params: unknown): boolean
  run(params: unknown, inputs: Inputs, ctx: StageContext): unknown
  summarize?(output: unknown, params: unknown): unknown
  describe?(params: unknown): string
}

/** A node's upstream nodes by input name: one node, or a list. */
export type NodeInputs = { readonly [name: string]: Node | ReadonlyArray<Node> }

/** One node of the DAG: a stage, its decoded params and its named upstream nodes. */
export interface Node<O = unknown> {
  readonly stage: AnyStage
  readonly params: unknown
  readonly inputs: NodeInputs
  readonly key: string
  /** Extra key material (e.g. a source file's content digest). */
  readonly salt?: unknown
  /**
   * Why this node runs uncached, when it does: its params (or an upstream node's) cannot be hashed
   * into a key. Its key is then unique to this plan, and its output is kept for this flow only.
   */
  readonly uncached?: string
  /** Phantom: the output type. */
  readonly _O?: O
}

/** The upstream nodes of a stage with inputs `I`: a node per single input, a list per list input. */
export type InputNodes<I extends Inputs> = {
  readonly [K in keyof I]: NonNullable<I[K]> extends ReadonlyArray<infer E> ? ReadonlyArray<Node<E>> : Node<NonNullable<I[K]>>
}

/** Every upstream node of a node, in input-name order (lists in their order). */
export const upstream = (n: { readonly inputs: NodeInputs }): ReadonlyArray<Node> =>
  Object.keys(n.inputs).sort().flatMap((name) => {
    const v = n.inputs[name]!
    return isNodeList(v) ? v : [v]
  })

/** The upstream keys by input name (what the key and the provenance record). */
export const upstreamKeys = (inputs: NodeInputs): Readonly<Record<string, string | ReadonlyArray<string>>> =>
  Object.fromEntries(Object.entries(inputs).map(([name, v]) => [name, isNodeList(v) ? v.map((i) => i.key) : v.key]))

const isNodeList = (v: Node | ReadonlyArray<Node>): v is ReadonlyArray<Node> => Array.isArray(v)

/** Apply a stage to params and named upstream nodes. `salt` joins the key (content digests). */
export const node = <P, I extends Inputs, O>(
  stage: Stage<P, I, O>,
  params: P,
  inputs: InputNodes<I>,
  salt?: unknown
): Node<O> => {
  const named: NodeInputs = Object.fromEntries(Object.entries(inputs).filter(([, v]) => v !== undefined)) as NodeInputs
  const keyInputs = upstreamKeys(named)
  const blocked = upstream({ inputs: named }).find((i) => i.uncached !== undefined)
  const erased = eraseStage(stage)
  const base = { stage: erased, params, inputs: named, ...(salt === undefined ? {} : { salt }) }
  try {
    const key = stageKey({ stage: stage.name, version: stage.versionFor?.(params) ?? stage.version, params, inputs: keyInputs, ...(salt === undefined ? {} : { salt }) })
    return blocked === undefined ? { ...base, key } : { ...base, key, uncached: `upstream ${blocked.stage.name} runs uncached` }
  } catch (e) {
    // A parameter JSON cannot represent exactly (a non-finite number, a BigInt): run uncached
    // under a key of this plan alone, rather than fail the plan (Prefect's NO_CACHE fallback).
    const reason = `its key cannot be computed (${e instanceof Error ? e.message.replace(/^canonicalJson: /, "") : String(e)}); it runs uncached`
    return { ...base, key: `uncached-${stage.name}-${randomUUID()}`, uncached: reason }
  }
}

/** The code version a node's key is formed with: its stage's `versionFor` its params, else the stage's `version`. */
export const stageVersion = (n: { readonly stage: AnyStage; readonly params: unknown }): string => n.stage.versionFor?.(n.params) ?? n.stage.version

/**
 * Thrown by a stage that finds its dataset's config at odds with the data it read (say, no
 * sequence matched any id of the label file): bad input rather than a failure of the code, so the
 * run ends with a config error (exit 2) naming `keys`, dotted keys of the dataset config
 * (`grouping` stands for the grouping's own keys), in the dataset file of each run that reads the
 * node. `detail` says what is wrong, the message prefixes it with the keys.
 */
export class StageConfigError extends Error {
  readonly keys: ReadonlyArray<string>
  readonly detail: string
  constructor(keys: ReadonlyArray<string>, detail: string) {
    super(`${keys.join(", ")}: ${detail}`)
    this.name = "StageConfigError"
    this.keys = keys
    this.detail = detail
  }
}

/** Define a stage (keeps its types for `node`). */
export const defineStage = <P, I extends Inputs, O>(stage: Stage<P, I, O>): Stage<P, I, O> => stage

/** Hide a stage's types. Sound because `node` only pairs a stage with its own params and inputs. */
export const eraseStage = <P, I extends Inputs, O>(stage: Stage<P, I, O>): AnyStage => ({
  name: stage.name,
  version: stage.version,
  params: stage.params as Schema.Codec<unknown, unknown>,
  cpu: stage.cpu,
  ...(stage.versionFor === undefined ? {} : { versionFor: (params: unknown) => stage.versionFor!(params as P) }),
  ...(stage.checkpoints === undefined ? {} : { checkpoints: (params: unknown) => stage.checkpoints!(params as P) }),
  run: (params, inputs, ctx) => stage.run(params as P, inputs as I, ctx),
  ...(stage.summarize === undefined
    ? {}
    : { summarize: (output: unknown, params: unknown) => stage.summarize!(output as O, params as P) }),
  ...(stage.describe === undefined ? {} : { describe: (params: unknown) => stage.describe!(params as P) })
})
