/**
 * Reading a flow's inputs when the cache lost one: a node that counted as cached (its metadata is
 * there) may not read back (its value fails its checksum, its chunks are gone). The store is then
 * told it is corrupt, and this view recomputes the node, once per flow however many dependants ask,
 * and reads it again, so the flow ends with the right result instead of a missing input.
 */
import { Deferred, Effect, Option } from "effect"
import { type ArtifactStore, CacheError } from "../cache/ArtifactStore.ts"
import type { Node } from "../tasks/Task.ts"

type Store = ArtifactStore["Service"]

/**
 * `store`, where a `get` of a plan node's key that finds nothing recomputes that node (`recompute`,
 * run once per key) and reads it again.
 */
export const healingStore = (store: Store, nodes: ReadonlyMap<string, Node>, recompute: (n: Node) => Effect.Effect<void, unknown>): Store => {
  const healed = new Map<string, Deferred.Deferred<void, unknown>>()
  const heal = (n: Node): Effect.Effect<void, unknown> =>
    Effect.suspend(() => {
      const known = healed.get(n.key)
      if (known !== undefined) return Deferred.await(known)
      const done = Deferred.makeUnsafe<void, unknown>()
      healed.set(n.key, done)
      return recompute(n).pipe(Effect.exit, Effect.flatMap((exit) => Deferred.done(done, exit)), Effect.andThen(Deferred.await(done)))
    })
  return {
    ...store,
    get: (key) =>
      Effect.flatMap(store.get(key), (found) => {
        const n = nodes.get(key)
        if (Option.isSome(found) || n === undefined) return Effect.succeed(found)
        return heal(n).pipe(
          Effect.mapError((e) => new CacheError({ operation: "get", key, message: `${n.stage.name} ${key.slice(0, 12)} did not read back, and recomputing it failed: ${e instanceof Error ? e.message : String(e)}` })),
          Effect.andThen(store.get(key))
        )
      })
  }
}
