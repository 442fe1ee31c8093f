/**
 * The sources a flow reads, resolved before any stage runs: every distinct source of the selected
 * runs is fetched if needed and digested (a configured sha256 that does not match fails here,
 * naming both digests), so the plan can salt its keys with the digests. Digests are remembered in
 * the cache folder (`digests.json`) and, in a process that stays up, in its warm state.
 */
import { Effect, Option } from "effect"
import * as os from "node:os"
import * as path from "node:path"
import type { SourceFile } from "../artifacts/Source.ts"
import { memoSpec, WarmState } from "../runtime/WarmState.ts"
import type { FetchedSource } from "../sources/Fetch.ts"
import { type DigestMemo, describeSource, digestMemo, isFetched, localSourceKnown, resolveLocalSource, resolveSource, SourceError, type SourceContext, type SourceParams } from "../sources/Source.ts"
import { sessionSourceKeys } from "../tasks/SessionsStage.ts"
import { type DatasetConfig, datasetFile, isSessionDataset } from "./Dataset.ts"
import type { RunSpec } from "./RunSpec.ts"

/** Resolved sources by `describeSource` name. */
export type Digests = ReadonlyMap<string, SourceFile>

/** Where sources are read and fetched; `digestFile` remembers digests across runs (`<cache>/digests.json`). */
export type SourceRoots = Omit<SourceContext, "digests" | "inflight"> & { readonly digestFile?: string | undefined }

/** Every source file a dataset reads. */
export const datasetSources = (d: DatasetConfig): ReadonlyArray<SourceParams> => datasetSourceKeys(d).map(([s]) => s)

/** Every source file a dataset reads, with the key it is given under. */
const datasetSourceKeys = (d: DatasetConfig): ReadonlyArray<readonly [SourceParams, string]> => {
  if (!isSessionDataset(d)) return [[d.source, "source"], ...(d.labels.type === "entity_csv" ? [[d.labels.source, "labels.source"] as const] : [])]
  return sessionSourceKeys(d.sessions).map(([s, key]) => [s, `sessions.${key}`] as const)
}

/**
 * Where each source of the runs is configured, by `describeSource` name: "dataset file: key"
 * (the first dataset naming it), for errors about the source.
 */
export const sourceOrigins = (runs: ReadonlyArray<RunSpec>, registryDir: string): ReadonlyMap<string, string> => {
  const out = new Map<string, string>()
  for (const r of runs) {
    for (const [name, origin] of datasetSourceOrigins(r.dataset, datasetFile(registryDir, r.datasetName))) if (!out.has(name)) out.set(name, origin)
  }
  return out
}

/** `sourceOrigins` of one dataset given in `file`. */
export const datasetSourceOrigins = (d: DatasetConfig, file: string): ReadonlyMap<string, string> =>
  new Map(datasetSourceKeys(d).map(([s, key]) => [describeSource(s), `${file}: ${key}`]))

/** Every source file the runs read. */
export const sourcesOf = (runs: ReadonlyArray<RunSpec>): ReadonlyArray<SourceParams> => runs.flatMap((r) => datasetSources(r.dataset))

const digestMemos = memoSpec<string, DigestMemo>("source-digests", 16)

/** The digest memo of `file`: the warm one when this process keeps one, else read from the file. */
const memoFor = (file: string | undefined) =>
  Effect.map(Effect.serviceOption(WarmState), (warm): DigestMemo => {
    if (Option.isNone(warm) || file === undefined) return digestMemo(file)
    const memos = warm.value.memo(digestMemos)
    const known = memos.get(file)
    if (known !== undefined) return known
    const made = digestMemo(file)
    memos.set(file, made)
    return made
  })

/**
 * Fetch (if needed) and digest every distinct source; fails naming the file, or both digests on a
 * mismatch, after the config file and key the source is given under when `origins` knows it.
 * `hashAsync`: files whose digests are not remembered are hashed asynchronously (interruptible);
 * else local files are hashed synchronously (`Effect.runSync` works when nothing is fetched).
 */
export const resolveSourceList = (
  roots: SourceRoots | string,
  sources: ReadonlyArray<SourceParams>,
  origins: ReadonlyMap<string, string> = new Map(),
  options: { readonly hashAsync?: boolean } = {}
): Effect.Effect<Digests, SourceError> =>
  Effect.gen(function*() {
    const base: SourceRoots = typeof roots === "string" ? { dataRoot: roots, sourcesDir: path.join(os.tmpdir(), "logflow-sources") } : roots
    const context: SourceContext = { ...base, digests: yield* memoFor(base.digestFile), inflight: new Map<string, Promise<FetchedSource>>() }
    const distinct = new Map(sources.map((s) => [describeSource(s), s]))
    const asSourceError = (name: string) => (e: unknown) => {
      const message = e instanceof Error ? e.message : String(e)
      const origin = origins.get(name)
      return new SourceError({ path: e instanceof SourceError ? e.path : name, message: origin === undefined ? message : `${origin}: ${message}` })
    }
    // Local files whose digests are remembered synchronously (no fiber suspends on a warm rerun).
    // With hashAsync (the commands), a file to hash is read asynchronously, so Ctrl-C stops it;
    // archives and URLs are always fetched asynchronously.
    const files = yield* Effect.forEach([...distinct], ([name, s]) =>
      (isFetched(s) || (options.hashAsync === true && !localSourceKnown(context, s))
        ? Effect.tryPromise({ try: (signal) => resolveSource(context, s, signal), catch: asSourceError(name) })
        : Effect.try({ try: () => resolveLocalSource(context, s), catch: asSourceError(name) })
      ).pipe(Effect.map((f) => [name, f] as const)))
    return new Map(files)
  })

/** `resolveSourceList` over every source the runs read (errors name the dataset file when `registryDir` is given). */
export const resolveSources = (roots: SourceRoots | string, runs: ReadonlyArray<RunSpec>, registryDir?: string) =>
  resolveSourceList(roots, sourcesOf(runs), registryDir === undefined ? new Map() : sourceOrigins(runs, registryDir))
