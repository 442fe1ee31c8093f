/**
 * The artifact store: where stage outputs live under their cache key, with provenance beside
 * each value. Two layers share one contract: `layerLmdb(dir)` (on disk, shared by processes)
 * and `layerMemory` (tests, dry runs). An entry is written chunks-first, metadata-last in one
 * transaction, so a crash never leaves an entry that reads back as present; a checksum
 * mismatch on read is a miss plus a warning, never a wrong value.
 */
import { Context, Effect, Layer, Option, Schema } from "effect"
import type { Database, RootDatabase } from "lmdb"
import type * as Lmdb from "lmdb"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { sha256 } from "./CacheKey.ts"
import { isLiveHold, pidAlive } from "./Gc.ts"
import { requireNative } from "../runtime/ProjectRoot.ts"

/** Values are split into chunks of this many bytes. */
export const CHUNK_BYTES = 4 * 1024 * 1024

/** What produced an entry: enough to explain a later miss. */
export interface Provenance {
  readonly stage: string
  readonly version: string
  readonly params: unknown
  readonly inputs: ReadonlyArray<string>
  /** Milliseconds the stage took to compute the value. */
  readonly computeMs: number
  /** A small JSON summary of the value (counts, settings) for manifests and `cache ls`. */
  readonly summary?: unknown
}

/** An entry's metadata: provenance plus bookkeeping. */
export interface EntryMeta extends Provenance {
  readonly key: string
  readonly createdAt: number
  readonly lastUsedAt: number
  readonly hits: number
  readonly bytes: number
  readonly chunks: number
  readonly checksum: string
}

/** An entry read back: metadata and the value bytes. */
export interface Entry {
  readonly meta: EntryMeta
  readonly value: Uint8Array
}

/** A running flow's claim on the entries it uses; `cache gc` never removes a held entry. */
export interface Hold {
  readonly holder: string
  readonly pid: number
  readonly host: string
  readonly startedAt: number
  readonly heartbeatAt: number
  readonly keys: ReadonlyArray<string>
}

/**
 * The answer to a claim on a key about to be computed: `Claimed` (compute it; the claim ends when
 * the entry is put or `unclaim`ed), `Present` (the entry exists: another flow computed it
 * meanwhile), or `Busy` (a live flow, `by`, holds the claim: wait, then claim again).
 */
export type Claim =
  | { readonly _tag: "Claimed" }
  | { readonly _tag: "Present" }
  | { readonly _tag: "Busy"; readonly by: Hold }

/** The store could not be opened, read or written. */
export class CacheError extends Schema.TaggedError<CacheError>()("CacheError", {
  operation: Schema.String,
  key: Schema.optional(Schema.String),
  message: Schema.String
}) {}

export class ArtifactStore extends Context.Service<ArtifactStore, {
  /** The entry under `key`, or none when absent or corrupt. Does not count as a hit. */
  get(key: string): Effect.Effect<Option.Option<Entry>, CacheError>
  /** The metadata under `key`, without reading the value. */
  meta(key: string): Effect.Effect<Option.Option<EntryMeta>, CacheError>
  /** Whether a complete entry exists under `key`. */
  has(key: string): Effect.Effect<boolean, CacheError>
  /** Store a value with its provenance; the bytes are copied, never kept. */
  put(key: string, provenance: Provenance, value: Uint8Array): Effect.Effect<EntryMeta, CacheError>
  /** Every entry's metadata. */
  list(): Effect.Effect<ReadonlyArray<EntryMeta>, CacheError>
  /** Remove an entry; true when something was removed. */
  remove(key: string): Effect.Effect<boolean, CacheError>
  /** Record a cache hit: bump `hits` and `lastUsedAt`. */
  touch(key: string): Effect.Effect<void, CacheError>
  /** Register or refresh a hold (a running flow's keys). */
  hold(hold: Hold): Effect.Effect<void, CacheError>
  /** Drop a hold. */
  release(holder: string): Effect.Effect<void, CacheError>
  /** Every registered hold, live or stale. */
  holds(): Effect.Effect<ReadonlyArray<Hold>, CacheError>
  /**
   * Claim `key` for `holder` (a registered hold) before computing it, so that flows sharing the
   * cache compute each entry once. A claim whose holder's hold is gone or stale (its process
   * died) is taken over. `recompute`: claim even when the entry exists (forced stages).
   */
  claim(key: string, holder: string, recompute: boolean): Effect.Effect<Claim, CacheError>
  /** End `holder`'s claim on `key` (a stage that failed or was interrupted); `put` ends it too. */
  unclaim(key: string, holder: string): Effect.Effect<void, CacheError>
}>()("logflow/cache/ArtifactStore") {
  /**
   * An LMDB-backed store in `dir` (created if missing), closed when the layer is released, once
   * its background writes (hit counts, released holds) are committed. In a process that keeps
   * stores open (`keepStoresOpen`: the daemon) it stays open for the next command instead.
   */
  static readonly layerLmdb = (dir: string) =>
    Layer.effect(
      ArtifactStore,
      keepOpen
        ? Effect.tryPromise({ try: () => keptStore(dir), catch: (e) => openError(dir, e) })
        : Effect.acquireRelease(
          Effect.try({ try: () => openLmdb(dir), catch: (e) => openError(dir, e) }),
          (s) => Effect.promise(async () => {
            await s.settled()
            await s.root.close()
          })
        ).pipe(Effect.map((s) => s.service))
    )

  /** An in-memory store, empty at start. */
  static readonly layerMemory = Layer.sync(ArtifactStore, () => makeMemory())
}

const openError = (dir: string, e: unknown) => new CacheError({ operation: "open", message: `cannot open cache at ${dir}: ${errorText(e)}` })

interface OpenStore {
  readonly root: RootDatabase
  readonly service: ArtifactStore["Service"]
  /** Resolves when every background write queued so far is committed. */
  readonly settled: () => Promise<unknown>
}

const openLmdb = (dir: string): OpenStore => {
  fs.mkdirSync(dir, { recursive: true })
  const root = requireNative<typeof Lmdb>("lmdb").open({ path: dir, maxDbs: 8, compression: false })
  return { root, ...makeLmdb(root) }
}

let keepOpen = false
const kept = new Map<string, OpenStore & { readonly ino: number; readonly dev: number }>()

/**
 * Keep LMDB stores open between layers (the daemon): the next command finds its cache open and
 * does not wait for the last one's bookkeeping commit. A store whose data file was removed or
 * replaced since (`rm -rf .cache`) is closed and opened again.
 */
export const keepStoresOpen = (on: boolean): void => {
  keepOpen = on
}

/** Commit and close every kept store. */
export const closeKeptStores = async (): Promise<void> => {
  const stores = [...kept.values()]
  kept.clear()
  for (const s of stores) {
    await s.settled()
    await s.root.close()
  }
}

const keptStore = async (dir: string): Promise<ArtifactStore["Service"]> => {
  const data = path.join(dir, "data.mdb")
  const known = kept.get(dir)
  const st = fs.statSync(data, { throwIfNoEntry: false })
  if (known !== undefined) {
    await known.settled()
    if (st !== undefined && st.ino === known.ino && st.dev === known.dev) return known.service
    kept.delete(dir)
    await known.root.close()
  }
  const opened = openLmdb(dir)
  const now = fs.statSync(data)
  kept.set(dir, { ...opened, ino: now.ino, dev: now.dev })
  return opened.service
}

const makeLmdb = (root: RootDatabase): { readonly service: ArtifactStore["Service"]; readonly settled: () => Promise<unknown> } => {
  // Bookkeeping writes (hits, released holds) commit in the background, batched by LMDB; every
  // read of this store waits for those queued before it, so it sees them.
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
      catch: (e) =>
        new CacheError({ operation, ...(key === undefined ? {} : { key }), message: errorText(e) })
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

  const service = ArtifactStore.of({
    get: (key) =>
      afterWrites(attempt("get", key, () => {
        const meta = metas.get(key)
        if (meta === undefined) return { meta, value: undefined }
        const value = readValue(meta)
        return { meta, value }
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
        }))),
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
  return { service, settled }

  function removeChunks(key: string) {
    for (const k of chunks.getKeys({ start: `${key}/`, end: `${key}/~` })) chunks.removeSync(k)
  }
}

const CLAIMED: Claim = { _tag: "Claimed" }
const PRESENT: Claim = { _tag: "Present" }

/** One claim decision over a store's entries, claims and holds (inside its write transaction). */
const decideClaim = (
  holder: string,
  recompute: boolean,
  s: {
    readonly exists: () => boolean
    readonly claimant: () => string | undefined
    readonly holdOf: (holder: string) => Hold | undefined
    readonly take: () => void
  }
): Claim => {
  if (!recompute && s.exists()) return PRESENT
  const claimant = s.claimant()
  const hold = claimant === undefined || claimant === holder ? undefined : s.holdOf(claimant)
  if (hold !== undefined && isLiveHold(hold, Date.now(), os.hostname(), pidAlive)) return { _tag: "Busy", by: hold }
  s.take()
  return CLAIMED
}

const makeMemory = (): ArtifactStore["Service"] => {
  const entries = new Map<string, { meta: EntryMeta; value: Uint8Array }>()
  const holds = new Map<string, Hold>()
  const claims = new Map<string, string>()
  return ArtifactStore.of({
    get: (key) =>
      Effect.suspend(() => {
        const e = entries.get(key)
        return verify(key, e?.meta, e?.value)
      }),
    meta: (key) => Effect.sync(() => Option.fromUndefinedOr(entries.get(key)?.meta)),
    has: (key) => Effect.sync(() => entries.has(key)),
    put: (key, provenance, value) =>
      Effect.sync(() => {
        const meta = newMeta(key, provenance, value)
        entries.set(key, { meta, value: value.slice() })
        claims.delete(key)
        return meta
      }),
    list: () => Effect.sync(() => Array.from(entries.values(), (e) => e.meta)),
    remove: (key) => Effect.sync(() => entries.delete(key)),
    touch: (key) =>
      Effect.sync(() => {
        const e = entries.get(key)
        if (e !== undefined) entries.set(key, { ...e, meta: { ...e.meta, hits: e.meta.hits + 1, lastUsedAt: Date.now() } })
      }),
    hold: (h) => Effect.sync(() => void holds.set(h.holder, h)),
    release: (holder) => Effect.sync(() => void holds.delete(holder)),
    holds: () => Effect.sync(() => [...holds.values()]),
    claim: (key, holder, recompute) =>
      Effect.sync(() =>
        decideClaim(holder, recompute, {
          exists: () => entries.has(key),
          claimant: () => claims.get(key),
          holdOf: (h) => holds.get(h),
          take: () => void claims.set(key, holder)
        })),
    unclaim: (key, holder) =>
      Effect.sync(() => {
        if (claims.get(key) === holder) claims.delete(key)
      })
  })
}

const newMeta = (key: string, p: Provenance, value: Uint8Array): EntryMeta => {
  const now = Date.now()
  return {
    key,
    stage: p.stage,
    version: p.version,
    params: p.params,
    inputs: [...p.inputs],
    computeMs: p.computeMs,
    ...(p.summary === undefined ? {} : { summary: p.summary }),
    createdAt: now,
    lastUsedAt: now,
    hits: 0,
    bytes: value.byteLength,
    chunks: Math.max(1, Math.ceil(value.byteLength / CHUNK_BYTES)),
    checksum: sha256(value)
  }
}

const verify = (
  key: string,
  meta: EntryMeta | undefined,
  value: Uint8Array | undefined
): Effect.Effect<Option.Option<Entry>> => {
  if (meta === undefined) return Effect.succeed(Option.none())
  if (value === undefined || sha256(value) !== meta.checksum) {
    return Effect.logWarning(`cache entry ${key.slice(0, 12)} (${meta.stage}) failed its checksum; treating it as a miss`).pipe(
      Effect.as(Option.none())
    )
  }
  return Effect.succeed(Option.some({ meta, value }))
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))
