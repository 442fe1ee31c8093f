/**
 * The artifact store: where stage outputs live under their cache key, with provenance beside
 * each value. Storage only: `get`, `meta`, `has`, `put`, `list`, `remove`, `touch`; flows
 * coordinate through `Leases` (src/cache/Leases.ts). Two backends share one contract:
 * `LmdbCache.layer(dir)` (on disk, shared by processes) and `MemoryCache.layer` (tests, dry runs).
 * An entry is written chunks-first, metadata-last in one transaction, so a crash never leaves an
 * entry that reads back as present; a checksum mismatch on read is a miss plus a warning, never a
 * wrong value, and marks the entry corrupt: `has` is false for it from then on (so the runner
 * recomputes it), `list` shows it as such, and the next `put` of its key replaces it.
 */
import { Console, Context, Effect, Option, Schema } from "effect"
import { sha256 } from "./CacheKey.ts"

/** Values are split into chunks of this many bytes. */
export const CHUNK_BYTES = 4 * 1024 * 1024

/** Upstream keys by input name (entries written before inputs were named list the keys bare). */
export type ProvenanceInputs = Readonly<Record<string, string | ReadonlyArray<string>>> | ReadonlyArray<string>

/** Every upstream key of an entry. */
export const inputKeysOf = (inputs: ProvenanceInputs): ReadonlyArray<string> =>
  Array.isArray(inputs) ? inputs : Object.values(inputs).flatMap((v) => (typeof v === "string" ? [v] : v))

/** What produced an entry: enough to explain a later miss. */
export interface Provenance {
  readonly stage: string
  readonly version: string
  readonly params: unknown
  /** The upstream keys by input name. */
  readonly inputs: ProvenanceInputs
  /** Extra key material, e.g. a source file's content digest. */
  readonly salt?: unknown
  /** Milliseconds the stage took to compute the value. */
  readonly computeMs: number
  /** A small JSON summary of the value (counts, settings) for manifests and `cache ls`. */
  readonly summary?: unknown
}

/** Why an entry's value cannot be used, found when it was read. */
export interface Corruption {
  readonly reason: string
  /** When it was found (ms since the epoch). */
  readonly at: number
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
  /** Set by `list` for an entry whose value failed its checksum when read. */
  readonly corrupt?: Corruption
}

/** An entry read back: metadata and the value bytes. */
export interface Entry {
  readonly meta: EntryMeta
  readonly value: Uint8Array
}

/** The store could not be opened, read or written. */
export class CacheError extends Schema.TaggedError<CacheError>()("CacheError", {
  operation: Schema.String,
  key: Schema.optional(Schema.String),
  message: Schema.String
}) {}

export class ArtifactStore extends Context.Service<ArtifactStore, {
  /** The entry under `key`, or none when absent or corrupt (a corrupt one is marked so). Does not count as a hit. */
  get(key: string): Effect.Effect<Option.Option<Entry>, CacheError>
  /** The metadata under `key`, without reading the value. */
  meta(key: string): Effect.Effect<Option.Option<EntryMeta>, CacheError>
  /** Whether a complete entry exists under `key` (not one marked corrupt). */
  has(key: string): Effect.Effect<boolean, CacheError>
  /** Store a value with its provenance; the bytes are copied, never kept. Ends any claim on `key`. */
  put(key: string, provenance: Provenance, value: Uint8Array): Effect.Effect<EntryMeta, CacheError>
  /** Every entry's metadata, corrupt ones with `corrupt` set. */
  list(): Effect.Effect<ReadonlyArray<EntryMeta>, CacheError>
  /** Remove an entry; true when something was removed. */
  remove(key: string): Effect.Effect<boolean, CacheError>
  /** Record a cache hit: bump `hits` and `lastUsedAt`. */
  touch(key: string): Effect.Effect<void, CacheError>
}>()("logflow/cache/ArtifactStore") {}

/** The metadata of a value about to be stored under `key`. */
export const newMeta = (key: string, p: Provenance, value: Uint8Array): EntryMeta => {
  const now = Date.now()
  return {
    key,
    stage: p.stage,
    version: p.version,
    params: p.params,
    inputs: p.inputs,
    ...(p.salt === undefined ? {} : { salt: p.salt }),
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

/**
 * An entry read back, or a miss (with a warning) when its bytes are missing or fail the checksum;
 * `markCorrupt` records the corruption so the entry is not taken for present again.
 */
export const verify = (
  key: string,
  meta: EntryMeta | undefined,
  value: Uint8Array | undefined,
  markCorrupt: (corruption: Corruption) => void
): Effect.Effect<Option.Option<Entry>> => {
  if (meta === undefined) return Effect.succeed(Option.none())
  if (value === undefined || sha256(value) !== meta.checksum) {
    const reason = value === undefined ? "its value is missing or truncated" : "its value fails its checksum"
    return Effect.sync(() => markCorrupt({ reason, at: Date.now() })).pipe(
      Effect.andThen(Console.error(`warning: cache entry ${key.slice(0, 12)} (${meta.stage}): ${reason}; treating it as a miss, it will be recomputed`)),
      Effect.as(Option.none())
    )
  }
  return Effect.succeed(Option.some({ meta, value }))
}

/** Metadata with its corruption, when there is one. */
export const withCorruption = (meta: EntryMeta, corrupt: Corruption | undefined): EntryMeta =>
  corrupt === undefined ? meta : { ...meta, corrupt }

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))
