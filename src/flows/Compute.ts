/**
 * Computing one node that the cache does not hold: with its inputs' bytes (`loadInputs`, read
 * through the flow's store, which recomputes an input whose entry does not read back), find the
 * checkpoint an interrupted attempt left (checkpointing stages), submit the job to the executor
 * and await it, store the output with its provenance (the put ends the node's claim), and drop its
 * checkpoints. A failure stores nothing: it propagates to the runner, which retries or records it.
 */
import { Effect, Option } from "effect"
import { type ArtifactStore, CacheError } from "../cache/ArtifactStore.ts"
import type { Executor, StageJob } from "../executor/Executor.ts"
import { type Node, type NodeInputs, stageVersion, upstreamKeys } from "../tasks/Task.ts"
import { checkpointWriter, clearCheckpoints, latestCheckpoint } from "./Checkpoints.ts"
import type { FlowEvents } from "./Events.ts"
import type { RunLog } from "./RunLog.ts"

/** What computing a node uses. */
export interface ComputeContext {
  readonly store: ArtifactStore["Service"]
  readonly executor: Executor["Service"]
  readonly events: FlowEvents["Service"]
  readonly log: RunLog
  /** Where sources are read from (part of every job). */
  readonly roots: { readonly dataRoot: string; readonly sourcesDir: string; readonly mirror?: string | undefined; readonly digestFile?: string | undefined }
}

/** Compute `n` from its inputs' bytes and store its output. */
export const computeNode = (n: Node, label: string, inputs: StageJob["inputs"], c: ComputeContext) =>
  Effect.gen(function*() {
    yield* c.events.emit({ _tag: "StageStarted", key: n.key, stage: n.stage.name, label })
    c.log.note(n, "started")
    const note = (line: string) => c.log.note(n, line)
    // A node that runs uncached keeps no checkpoints: its key is this flow's alone.
    const checkpointing = n.stage.checkpoints?.(n.params) === true && n.uncached === undefined
    const resume = checkpointing ? yield* latestCheckpoint(c.store, n.key, note).pipe(Effect.orElseSucceed(() => undefined)) : undefined
    if (resume !== undefined) {
      note(`resumes from its checkpoint at step ${resume.step}`)
      yield* c.events.emit({ _tag: "StageResumed", key: n.key, stage: n.stage.name, label, step: resume.step })
    }
    const writer = checkpointing
      ? checkpointWriter(c.store, n, (step, bytes) => {
        note(`checkpoint at step ${step} stored (${bytes} bytes)`)
        Effect.runFork(c.events.emit({ _tag: "StageCheckpoint", key: n.key, stage: n.stage.name, label, step, bytes }))
      }, note)
      : undefined
    const progress = (fraction: number, message?: string) =>
      Effect.runFork(c.events.emit({ _tag: "StageProgress", key: n.key, stage: n.stage.name, fraction, ...(message === undefined ? {} : { message }) }))
    const submitted = yield* c.executor.submit({ stage: n.stage.name, params: n.params, inputs, ...c.roots, resume }, { progress, checkpoint: writer?.sink })
    const out = yield* submitted.await.pipe(Effect.ensuring(writer?.flush ?? Effect.void))
    const meta = yield* c.store.put(n.key, {
      stage: n.stage.name,
      version: stageVersion(n),
      params: n.params,
      inputs: upstreamKeys(n.inputs),
      ...(n.salt === undefined ? {} : { salt: n.salt }),
      computeMs: Math.round(out.computeMs),
      summary: out.summary
    }, out.bytes)
    if (checkpointing) yield* clearCheckpoints(c.store, n.key).pipe(Effect.ignore)
    yield* c.events.emit({ _tag: "StageDone", key: n.key, stage: n.stage.name, label, ms: out.computeMs, bytes: meta.bytes })
    note(`done in ${Math.round(out.computeMs)} ms, ${meta.bytes} bytes`)
  })

/** The stored bytes of every input of a node, by input name. */
export const loadInputs = (store: ArtifactStore["Service"], inputs: NodeInputs) =>
  Effect.gen(function*() {
    const bytesOf = (i: Node) =>
      store.get(i.key).pipe(
        Effect.flatMap((o) =>
          Option.match(o, {
            onNone: () => Effect.fail(new CacheError({ operation: "get", key: i.key, message: `input ${i.stage.name} ${i.key.slice(0, 12)} is missing from the cache` })),
            onSome: (e) => Effect.succeed(e.value)
          })
        )
      )
    const out: Record<string, Uint8Array | ReadonlyArray<Uint8Array>> = {}
    for (const [name, v] of Object.entries(inputs)) out[name] = isList(v) ? yield* Effect.forEach(v, bytesOf) : yield* bytesOf(v)
    return out
  })

const isList = (v: Node | ReadonlyArray<Node>): v is ReadonlyArray<Node> => Array.isArray(v)
