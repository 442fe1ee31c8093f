/**
 * Checkpoints of long stages (DeepLog's fit), kept in the artifact store beside the outputs.
 * A checkpoint of node N at step s is an ordinary cache entry of stage "checkpoint" whose only
 * input is N's key, so `flow cache ls` shows it and its checksum guards it: a corrupt newest
 * checkpoint is discarded and the one before it is used. The newest two are kept while the stage
 * runs; all are removed once N's output is stored.
 */
import { Effect, Option } from "effect"
import { type ArtifactStore, type EntryMeta, inputKeysOf } from "../cache/ArtifactStore.ts"
import { stageKey } from "../cache/CacheKey.ts"
import type { CheckpointSink } from "../executor/Executor.ts"

export const CHECKPOINT_STAGE = "checkpoint"

type Store = ArtifactStore["Service"]

/** The cache key of node `nodeKey`'s checkpoint at `step`. */
export const checkpointKey = (nodeKey: string, step: number): string =>
  stageKey({ stage: CHECKPOINT_STAGE, version: "1", params: { step }, inputs: { node: nodeKey } })

const stepOf = (m: EntryMeta): number => {
  const p = m.params
  return p !== null && typeof p === "object" && "step" in p && typeof p.step === "number" ? p.step : -1
}

/** The checkpoints stored for a node, newest first. */
export const checkpointsOf = (store: Store, nodeKey: string) =>
  store.list().pipe(
    Effect.map((metas) =>
      metas
        .filter((m) => m.stage === CHECKPOINT_STAGE && inputKeysOf(m.inputs).length === 1 && inputKeysOf(m.inputs)[0] === nodeKey)
        .sort((a, b) => stepOf(b) - stepOf(a))
    )
  )

/**
 * The newest checkpoint of a node that reads back intact. A checkpoint whose bytes fail their
 * checksum is reported through `note`, removed, and the next older one is tried.
 */
export const latestCheckpoint = (store: Store, nodeKey: string, note: (line: string) => void) =>
  Effect.gen(function*() {
    for (const meta of yield* checkpointsOf(store, nodeKey)) {
      const entry = yield* store.get(meta.key)
      if (Option.isSome(entry)) return { step: stepOf(meta), bytes: entry.value.value }
      note(`checkpoint at step ${stepOf(meta)} [${meta.key.slice(0, 12)}] is corrupt (checksum mismatch or missing chunks); discarded`)
      yield* store.remove(meta.key).pipe(Effect.ignore)
    }
    return undefined
  })

/** Remove every checkpoint of a node (its output is stored). */
export const clearCheckpoints = (store: Store, nodeKey: string) =>
  checkpointsOf(store, nodeKey).pipe(
    Effect.flatMap((metas) => Effect.forEach(metas, (m) => store.remove(m.key), { discard: true }))
  )

/**
 * A sink for a running stage's checkpoints: each is stored in order (one write at a time), then
 * every older checkpoint but the previous one is removed. `flush` waits for pending writes;
 * a failed write is reported through `note` and does not fail the stage.
 */
export const checkpointWriter = (
  store: Store,
  node: { readonly key: string; readonly stage: { readonly name: string; readonly version: string } },
  onSaved: (step: number, bytes: number) => void,
  note: (line: string) => void
): { readonly sink: CheckpointSink; readonly flush: Effect.Effect<void> } => {
  let chain: Promise<void> = Promise.resolve()
  const sink: CheckpointSink = (step, bytes) => {
    chain = chain.then(() =>
      Effect.runPromise(
        Effect.gen(function*() {
          const meta = yield* store.put(checkpointKey(node.key, step), {
            stage: CHECKPOINT_STAGE,
            version: node.stage.version,
            params: { step },
            inputs: { node: node.key },
            computeMs: 0,
            summary: { of: node.stage.name, step }
          }, bytes)
          const older = (yield* checkpointsOf(store, node.key)).filter((m) => stepOf(m) < step)
          yield* Effect.forEach(older.slice(1), (m) => store.remove(m.key), { discard: true })
          onSaved(step, meta.bytes)
        }).pipe(
          Effect.catch((e) => Effect.sync(() => note(`checkpoint at step ${step} not stored: ${e.message}`)))
        )
      )
    )
  }
  return { sink, flush: Effect.promise(() => chain) }
}
