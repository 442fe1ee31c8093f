/**
 * The store a flow reads and writes through: the cache, except for the nodes that run uncached
 * (their key could not be computed), whose outputs live in memory for this flow only, so their
 * dependants and the run's results still find them and the cache never holds them.
 */
import { Effect } from "effect"
import type { ArtifactStore } from "../cache/ArtifactStore.ts"
import { makeMemoryCache } from "../cache/MemoryCache.ts"

type Store = ArtifactStore["Service"]

/** `store`, with the keys `uncached` names kept in memory instead. */
export const withUncached = (store: Store, uncached: ReadonlySet<string>): Store => {
  if (uncached.size === 0) return store
  const memory = makeMemoryCache().store
  const pick = (key: string): Store => (uncached.has(key) ? memory : store)
  return {
    get: (key) => pick(key).get(key),
    meta: (key) => pick(key).meta(key),
    has: (key) => pick(key).has(key),
    put: (key, provenance, value) => pick(key).put(key, provenance, value),
    list: () => Effect.zipWith(store.list(), memory.list(), (a, b) => [...a, ...b]),
    remove: (key) => pick(key).remove(key),
    touch: (key) => pick(key).touch(key)
  }
}
