/**
 * The on-disk cache: one LMDB environment in a folder, shared by every process that opens it,
 * serving both the `ArtifactStore` (entries: metadata and value chunks) and the `Leases` (holds
 * and claims) over the same data, so a claim and the entry it waits for are decided in one
 * transaction. `layer(dir)` opens it; with a `WarmState` it stays open in that state (until the
 * command ends, or in the daemon for the next command) and is reopened when its data file was
 * removed or replaced (`rm -rf .cache`); without one it is closed when the layer is released.
 *
 * LMDB coordinates processes through `lock.mdb`. A lock file deleted (or replaced) while a
 * process has the cache open splits them: the next process makes a new one and neither sees the
 * other's transactions. So every operation first checks that the lock file is the one this
 * process opened; if not, it fails with an error naming the file (a kept cache is reopened at the
 * next command instead).
 */
import { Console, Context, Effect, Layer, Option } from "effect"
import type { Database, RootDatabase } from "lmdb"
import type * as Lmdb from "lmdb"
import * as fs from "node:fs"
import * as path from "node:path"
import { memoSpec, WarmState } from "../runtime/WarmState.ts"
import { requireNative } from "../runtime/ProjectRoot.ts"
import { ArtifactStore, CacheError, CHUNK_BYTES, type Corruption, type EntryMeta, errorText, newMeta, verify, withCorruption } from "./ArtifactStore.ts"
import { decideClaim, type Hold, Leases } from "./Leases.ts"
import { type Guard, guard, seal } from "./LmdbCheck.ts"
import { makeFolders } from "../runtime/Folders.ts"

/** An open environment and the two services over it. */
interface OpenCache {
  readonly root: RootDatabase
  readonly store: ArtifactStore["Service"]
  readonly leases: Leases["Service"]
  /** Resolves when every background write queued so far is committed. */
  readonly settled: () => Promise<unknown>
  readonly dir: string
  /** What guarding the folder found before it was opened (reported once). */
  readonly guard: Guard & { reported: boolean }
  /** The data file's identity when it was opened. */
  readonly ino: number
  readonly dev: number
  /** Whether `lock.mdb` is still the file this process opened. */
  readonly lockIntact: () => boolean
}

const close = async (c: OpenCache): Promise<void> => {
  await c.settled()
  await c.root.close()
  seal(c.dir)
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
      // Kept open: sealed when each use ends (the next process that opens it then need not walk it).
      if (Option.isSome(warm)) yield* Effect.addFinalizer(() => Effect.promise(() => cache.settled().then(() => seal(dir))))
      if (cache.guard.status === "damaged" && !cache.guard.reported) {
        cache.guard.reported = true
        yield* Console.error(`warning: the cache at ${dir} was damaged (${cache.guard.reason}); it was moved to ${cache.guard.movedTo} and a new cache started`)
      }
      return Context.make(ArtifactStore, cache.store).pipe(Context.add(Leases, cache.leases))
    })
  )

const openError = (dir: string, e: unknown) => new CacheError({ operation: "open", message: `cannot open cache at ${dir}: ${errorText(e)}` })

const keptCache = async (kept: { get(dir: string): OpenCache | undefined; take(dir: string): OpenCache | undefined; set(dir: string, c: OpenCache): void }, dir: string): Promise<OpenCache> => {
  const known = kept.get(dir)
  if (known !== undefined) {
    await known.settled()
    const st = fs.statSync(path.join(dir, "data.mdb"), { throwIfNoEntry: false })
    if (st !== undefined && st.ino === known.ino && st.dev === known.dev && known.lockIntact()) return known
    // Closed before it is opened again: LMDB hands an environment still open in this process back
    // to a new open of its path, which would keep the stale (or deleted) files.
    await close(kept.take(dir)!)
  }
  const opened = open(dir)
  kept.set(dir, opened)
  return opened
}

const open = (dir: string): OpenCache => {
  makeFolders(dir)
  const checked = guard(dir)
  const root = requireNative<typeof Lmdb>("lmdb").open({ path: dir, maxDbs: 8, compression: false, noSubdir: false })
  const st = fs.statSync(path.join(dir, "data.mdb"))
  const lock = fs.statSync(path.join(dir, "lock.mdb"))
  const lockIntact = () => {
    const now = fs.statSync(path.join(dir, "lock.mdb"), { throwIfNoEntry: false })
    return now !== undefined && now.ino === lock.ino && now.dev === lock.dev
  }
  return { root, dir, guard: { ...checked, reported: false }, ino: st.ino, dev: st.dev, lockIntact, ...services(root, dir, lockIntact) }
}

const services = (root: RootDatabase, dir: string, lockIntact: () => boolean): Pick<OpenCache, "store" | "leases" | "settled"> => {
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
  const corrupt: Database<Corruption, string> = root.openDB({ name: "corrupt", encoding: "json" })
  const present = (key: string) => metas.doesExist(key) && !corrupt.doesExist(key)
  // Rare, and what the next `has` must see: written at once.
  const markCorrupt = (key: string) => (c: Corruption) => void corrupt.putSync(key, c)
  const chunkKey = (key: string, i: number) => `${key}/${String(i).padStart(6, "0")}`

  const lockLost = () =>
    new Error(
      `its lock file ${path.join(dir, "lock.mdb")} was deleted or replaced while this process had the cache open, ` +
        "so processes sharing the cache no longer see each other's writes; stopped here. Let other flows on this cache end, then rerun"
    )
  const attempt = <A>(operation: string, key: string | undefined, f: () => A) =>
    Effect.try({
      try: () => {
        if (!lockIntact()) throw lockLost()
        return f()
      },
      catch: (e) => new CacheError({ operation, ...(key === undefined ? {} : { key }), message: `cache ${dir}${key === undefined ? "" : `, entry ${key.slice(0, 12)}`}: ${errorText(e)}` })
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
      })).pipe(Effect.flatMap(({ meta, value }) => verify(key, meta, value, markCorrupt(key)))),
    meta: (key) => afterWrites(attempt("meta", key, () => Option.fromUndefinedOr(metas.get(key)))),
    has: (key) => attempt("has", key, () => present(key)),
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
          corrupt.removeSync(key)
        })
        return meta
      }),
    list: () => afterWrites(attempt("list", undefined, () => Array.from(metas.getRange({}), ({ key, value }) => withCorruption(value, corrupt.get(key))))),
    remove: (key) =>
      attempt("remove", key, () =>
        root.transactionSync(() => {
          const existed = metas.removeSync(key)
          corrupt.removeSync(key)
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
            exists: () => present(key),
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
