/**
 * The on-disk cache: one LMDB environment in a folder, shared by every process that opens it,
 * serving both the `ArtifactStore` (entries: metadata and value chunks) and the `Leases` (holds
 * and claims) over the same data, so a claim and the entry it waits for are decided in one
 * transaction. `layer(dir)` opens it; with a `WarmState` it stays open in that state (until the
 * command ends, or in the daemon for the next command) and is reopened when its data file was
 * removed or replaced (`rm -rf .cache`); without one it is closed when the layer is released.
 */
import { Context, Effect, Layer, Option } from "effect"
import type { Database, RootDatabase } from "lmdb"
import type * as Lmdb from "lmdb"
import * as fs from "node:fs"
import * as path from "node:path"
import { memoSpec, WarmState } from "../runtime/WarmState.ts"
import { requireNative } from "../runtime/ProjectRoot.ts"
import { ArtifactStore, CacheError, CHUNK_BYTES, type EntryMeta, errorText, newMeta, verify } from "./ArtifactStore.ts"
import { decideClaim, type Hold, Leases } from "./Leases.ts"

/** An open environment and the two services over it. */
interface OpenCache {
  readonly root: RootDatabase
  readonly store: ArtifactStore["Service"]
  readonly leases: Leases["Service"]
  /** Resolves when every background write queued so far is committed. */
  readonly settled: () => Promise<unknown>
  /** The data file's identity when it was opened. */
  readonly ino: number
  readonly dev: number
}

const close = async (c: OpenCache): Promise<void> => {
  await c.settled()
  await c.root.close()
}

/** Caches kept open in a warm state, by folder. */
const openCaches = memoSpec<string, OpenCache>("lmdb-caches", 8, close)

/** The LMDB cache in `dir` (created if missing): an `ArtifactStore` and its `Leases`. */
export const layer = (dir: string): Layer.Layer<ArtifactStore | Leases, CacheError> =>
  Layer.effectContext(
    Effect.gen(function*() {
      const warm = yield* Effect.serviceOption(WarmState)
      const cache = Option.isSome(warm)
        ? yield* Effect.tryPromise({ try: () => keptCache(warm.value.memo(openCaches), dir), catch: (e) => openError(dir, e) })
        : yield* Effect.acquireRelease(Effect.try({ try: () => open(dir), catch: (e) => openError(dir, e) }), (c) => Effect.promise(() => close(c)))
      return Context.make(ArtifactStore, cache.store).pipe(Context.add(Leases, cache.leases))
    })
  )

const openError = (dir: string, e: unknown) => new CacheError({ operation: "open", message: `cannot open cache at ${dir}: ${errorText(e)}` })

const keptCache = async (kept: { get(dir: string): OpenCache | undefined; delete(dir: string): boolean; set(dir: string, c: OpenCache): void }, dir: string): Promise<OpenCache> => {
  const known = kept.get(dir)
  if (known !== undefined) {
    await known.settled()
    const st = fs.statSync(path.join(dir, "data.mdb"), { throwIfNoEntry: false })
    if (st !== undefined && st.ino === known.ino && st.dev === known.dev) return known
    kept.delete(dir) // closes it
  }
  const opened = open(dir)
  kept.set(dir, opened)
  return opened
}

const open = (dir: string): OpenCache => {
  fs.mkdirSync(dir, { recursive: true })
  const root = requireNative<typeof Lmdb>("lmdb").open({ path: dir, maxDbs: 8, compression: false })
  const st = fs.statSync(path.join(dir, "data.mdb"))
  return { root, ino: st.ino, dev: st.dev, ...services(root) }
}

const services = (root: RootDatabase): Pick<OpenCache, "store" | "leases" | "settled"> => {
  // Bookkeeping writes (hits, released holds and claims) commit in the background, batched by
  // LMDB; every read of this cache waits for those queued before it, so it sees them.
  const background = new Set<Promise<unknown>>()
  const later = (write: Promise<unknown>): void => {
    const p = write.catch(() => undefined).finally(() => background.delete(p))
    background.add(p)
  }
  const settled = () => Promise.all(background)
  const afterWrites = <A, E>(read: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.suspend(() => (background.size === 0 ? read : Effect.andThen(Effect.promise(settled), read)))
  const metas: Database<EntryMeta, string> = root.openDB({ name: "meta", encoding: "json" })
  const chunks: Database<Buffer, string> = root.openDB({ name: "chunks", encoding: "binary" })
  const holdsDb: Database<Hold, string> = root.openDB({ name: "holds", encoding: "json" })
  const claims: Database<string, string> = root.openDB({ name: "claims", encoding: "json" })
  const chunkKey = (key: string, i: number) => `${key}/${String(i).padStart(6, "0")}`

  const attempt = <A>(operation: string, key: string | undefined, f: () => A) =>
    Effect.try({
      try: f,
      catch: (e) => new CacheError({ operation, ...(key === undefined ? {} : { key }), message: errorText(e) })
    })

  const readValue = (meta: EntryMeta): Uint8Array | undefined => {
    const out = new Uint8Array(meta.bytes)
    let at = 0
    for (let i = 0; i < meta.chunks; i++) {
      const c = chunks.getBinary(chunkKey(meta.key, i))
      if (c === undefined || at + c.length > out.length) return undefined
      out.set(c, at)
      at += c.length
    }
    return at === meta.bytes ? out : undefined
  }
  const removeChunks = (key: string) => {
    for (const k of chunks.getKeys({ start: `${key}/`, end: `${key}/~` })) chunks.removeSync(k)
  }

  const store = ArtifactStore.of({
    get: (key) =>
      afterWrites(attempt("get", key, () => {
        const meta = metas.get(key)
        return { meta, value: meta === undefined ? undefined : readValue(meta) }
      })).pipe(Effect.flatMap(({ meta, value }) => verify(key, meta, value))),
    meta: (key) => afterWrites(attempt("meta", key, () => Option.fromUndefinedOr(metas.get(key)))),
    has: (key) => attempt("has", key, () => metas.doesExist(key)),
    put: (key, provenance, value) =>
      attempt("put", key, () => {
        const meta = newMeta(key, provenance, value)
        // One write transaction: chunks first, metadata last. LMDB commits it atomically.
        root.transactionSync(() => {
          removeChunks(key)
          for (let i = 0; i < meta.chunks; i++) {
            chunks.putSync(chunkKey(key, i), Buffer.from(value.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES)))
          }
          metas.putSync(key, meta)
          claims.removeSync(key)
        })
        return meta
      }),
    list: () => afterWrites(attempt("list", undefined, () => Array.from(metas.getRange({}), ({ value }) => value))),
    remove: (key) =>
      attempt("remove", key, () =>
        root.transactionSync(() => {
          const existed = metas.removeSync(key)
          removeChunks(key)
          return existed
        })),
    // In the background: LMDB batches the touches of concurrently visited nodes into one commit
    // (one disk sync for a whole cached plan instead of one per entry), which nothing waits for.
    touch: (key) =>
      attempt("touch", key, () =>
        later(root.transaction(() => {
          const meta = metas.get(key)
          if (meta !== undefined) metas.putSync(key, { ...meta, hits: meta.hits + 1, lastUsedAt: Date.now() })
        })))
  })

  const leases = Leases.of({
    hold: (h) => attempt("hold", undefined, () => holdsDb.putSync(h.holder, h)),
    release: (holder) => attempt("release", undefined, () => later(holdsDb.remove(holder))),
    holds: () => afterWrites(attempt("holds", undefined, () => Array.from(holdsDb.getRange({}), ({ value }) => value))),
    claim: (key, holder, recompute) =>
      afterWrites(attempt("claim", key, () =>
        root.transactionSync(() =>
          decideClaim(holder, recompute, {
            exists: () => metas.doesExist(key),
            claimant: () => claims.get(key),
            holdOf: (h) => holdsDb.get(h),
            take: () => void claims.putSync(key, holder)
          })))),
    unclaim: (key, holder) =>
      attempt("unclaim", key, () =>
        later(root.transaction(() => {
          if (claims.get(key) === holder) claims.removeSync(key)
        })))
  })
  return { store, leases, settled }
}
