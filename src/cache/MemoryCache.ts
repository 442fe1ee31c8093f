/**
 * An in-memory cache, empty at start: an `ArtifactStore` and its `Leases` over the same maps.
 * For tests and dry runs; it passes the same contract suite as the LMDB cache.
 */
import { Context, Effect, Layer, Option } from "effect"
import { ArtifactStore, type Corruption, type EntryMeta, newMeta, verify, withCorruption } from "./ArtifactStore.ts"
import { decideClaim, type Hold, Leases } from "./Leases.ts"

/** A new, empty in-memory cache. */
export const layer: Layer.Layer<ArtifactStore | Leases> = Layer.effectContext(
  Effect.sync(() => {
    const { store, leases } = makeMemoryCache()
    return Context.make(ArtifactStore, store).pipe(Context.add(Leases, leases))
  })
)

/** A new, empty in-memory store and its leases. */
export const makeMemoryCache = (): { readonly store: ArtifactStore["Service"]; readonly leases: Leases["Service"] } => {
  const entries = new Map<string, { meta: EntryMeta; value: Uint8Array }>()
  const holds = new Map<string, Hold>()
  const claims = new Map<string, string>()
  const corrupt = new Map<string, Corruption>()
  const store = ArtifactStore.of({
    get: (key) =>
      Effect.suspend(() => {
        const e = entries.get(key)
        return verify(key, e?.meta, e?.value, (c) => void corrupt.set(key, c))
      }),
    meta: (key) => Effect.sync(() => Option.fromUndefinedOr(entries.get(key)?.meta)),
    has: (key) => Effect.sync(() => entries.has(key) && !corrupt.has(key)),
    put: (key, provenance, value) =>
      Effect.sync(() => {
        const meta = newMeta(key, provenance, value)
        entries.set(key, { meta, value: value.slice() })
        claims.delete(key)
        corrupt.delete(key)
        return meta
      }),
    list: () => Effect.sync(() => Array.from(entries.values(), (e) => withCorruption(e.meta, corrupt.get(e.meta.key)))),
    remove: (key) => Effect.sync(() => (corrupt.delete(key), entries.delete(key))),
    touch: (key) =>
      Effect.sync(() => {
        const e = entries.get(key)
        if (e !== undefined) entries.set(key, { ...e, meta: { ...e.meta, hits: e.meta.hits + 1, lastUsedAt: Date.now() } })
      })
  })
  const leases = Leases.of({
    hold: (h) => Effect.sync(() => void holds.set(h.holder, h)),
    release: (holder) => Effect.sync(() => void holds.delete(holder)),
    holds: () => Effect.sync(() => [...holds.values()]),
    claim: (key, holder, recompute) =>
      Effect.sync(() =>
        decideClaim(holder, recompute, {
          exists: () => entries.has(key) && !corrupt.has(key),
          claimant: () => claims.get(key),
          holdOf: (h) => holds.get(h),
          take: () => void claims.set(key, holder)
        })),
    unclaim: (key, holder) =>
      Effect.sync(() => {
        if (claims.get(key) === holder) claims.delete(key)
      })
  })
  return { store, leases }
}
