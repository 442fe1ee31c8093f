/**
 * `flow cache ls|show|rm|gc|verify|why`: list, show and remove cache entries, collect garbage
 * (old or least recently used entries, never one a running flow holds), read every entry back to
 * find corrupt ones (and remove them with `--repair`), and explain a run's misses (cacheWhy.ts).
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { ArtifactStore } from "../../cache/ArtifactStore.ts"
import { selectGarbage } from "../../cache/Gc.ts"
import { Leases, liveHeldKeys } from "../../cache/Leases.ts"
import { formatCacheTable, formatEntry, formatSize } from "../view/CacheTable.ts"
import { cacheWhy } from "./cacheWhy.ts"
import { cacheDir, fail, handleErrors, json, withCache } from "./shared.ts"

const cacheLs = Command.make(
  "ls",
  { stage: Flag.String("stage").pipe(Flag.withDescription("Only entries of this stage"), Flag.optional), json, cacheDir },
  Effect.fn("cli.cache.ls")(function*(args) {
    const entries = yield* withCache(args.cacheDir, Effect.flatMap(ArtifactStore, (s) => s.list()))
    const stage = Option.getOrUndefined(args.stage)
    const selected = entries.filter((e) => stage === undefined || e.stage === stage).toSorted((a, b) => a.createdAt - b.createdAt)
    yield* Console.log(args.json ? JSON.stringify(selected, null, 2) : formatCacheTable(selected))
  }, handleErrors)
).pipe(Command.withDescription("List cache entries: key, stage, params, size, created, last used, hits"))

const keyArg = Argument.String("key").pipe(Argument.withDescription("A cache key or a unique prefix of one"))

/** The one entry whose key starts with `prefix`. */
const resolveKey = (store: ArtifactStore["Service"], prefix: string) =>
  Effect.gen(function*() {
    const matches = (yield* store.list()).filter((e) => e.key.startsWith(prefix))
    if (matches.length === 0) return yield* fail(`no cache entry has a key starting with "${prefix}"`)
    if (matches.length > 1) return yield* fail(`"${prefix}" matches ${matches.length} entries; give more of the key`)
    return matches[0]!
  })

const cacheShow = Command.make(
  "show",
  { key: keyArg, json, cacheDir },
  Effect.fn("cli.cache.show")(function*(args) {
    const meta = yield* withCache(args.cacheDir, Effect.flatMap(ArtifactStore, (s) => resolveKey(s, args.key)))
    yield* Console.log(args.json ? JSON.stringify(meta, null, 2) : formatEntry(meta))
  }, handleErrors)
).pipe(Command.withDescription("Show one entry's provenance, summary and bookkeeping"))

const cacheRm = Command.make(
  "rm",
  {
    key: keyArg.pipe(Argument.optional),
    stage: Flag.String("stage").pipe(Flag.withDescription("Remove every entry of this stage"), Flag.optional),
    cacheDir
  },
  Effect.fn("cli.cache.rm")(function*(args) {
    const key = Option.getOrUndefined(args.key)
    const stage = Option.getOrUndefined(args.stage)
    if ((key === undefined) === (stage === undefined)) return yield* fail("give either a KEY or --stage STAGE")
    const removed = yield* withCache(args.cacheDir,
      Effect.gen(function*() {
        const s = yield* ArtifactStore
        const targets = key !== undefined ? [yield* resolveKey(s, key)] : (yield* s.list()).filter((e) => e.stage === stage)
        for (const t of targets) yield* s.remove(t.key)
        return targets
      }))
    yield* Console.log(`removed ${removed.length} entries (${formatSize(removed.reduce((n, e) => n + e.bytes, 0))})`)
  }, handleErrors)
).pipe(Command.withDescription("Remove one entry, or every entry of a stage"))

const cacheGc = Command.make(
  "gc",
  {
    olderThan: Flag.Finite("older-than").pipe(Flag.withDescription("Remove entries not used for this many days"), Flag.optional),
    maxSize: Flag.Int("max-size").pipe(Flag.withDescription("Then remove least recently used entries until the cache is at most this many bytes"), Flag.optional),
    dryRun: Flag.Boolean("dry-run").pipe(Flag.withDescription("Only list what would be removed"), Flag.withDefault(false)),
    cacheDir
  },
  Effect.fn("cli.cache.gc")(function*(args) {
    const olderThanDays = Option.getOrUndefined(args.olderThan)
    const maxSizeBytes = Option.getOrUndefined(args.maxSize)
    if (olderThanDays === undefined && maxSizeBytes === undefined) return yield* fail("give --older-than DAYS and/or --max-size BYTES")
    const result = yield* withCache(args.cacheDir,
      Effect.gen(function*() {
        const s = yield* ArtifactStore
        const leases = yield* Leases
        const now = Date.now()
        const held = liveHeldKeys(yield* leases.holds(), now)
        const garbage = selectGarbage(yield* s.list(), held, {
          now,
          ...(olderThanDays === undefined ? {} : { olderThanDays }),
          ...(maxSizeBytes === undefined ? {} : { maxSizeBytes })
        })
        if (!args.dryRun) for (const g of garbage) yield* s.remove(g.meta.key)
        return { garbage, heldCount: held.size }
      }))
    for (const g of result.garbage) yield* Console.log(`${args.dryRun ? "would remove" : "removed"} ${g.meta.key.slice(0, 12)} ${g.meta.stage} (${formatSize(g.meta.bytes)}, ${g.reason})`)
    yield* Console.log(
      `${args.dryRun ? "would remove" : "removed"} ${result.garbage.length} entries, ${formatSize(result.garbage.reduce((n, g) => n + g.meta.bytes, 0))}; ` +
        `${result.heldCount} entries held by running flows were kept`
    )
  }, handleErrors)
).pipe(Command.withDescription("Remove old or least recently used entries; never one a running flow holds"))

const cacheVerify = Command.make(
  "verify",
  {
    repair: Flag.Boolean("repair").pipe(Flag.withDescription("Remove the corrupt entries (the next run recomputes them)"), Flag.withDefault(false)),
    json,
    cacheDir
  },
  Effect.fn("cli.cache.verify")(function*(args) {
    const result = yield* withCache(args.cacheDir,
      Effect.gen(function*() {
        const s = yield* ArtifactStore
        const entries = yield* s.list()
        // Reading an entry checks its checksum and marks it corrupt when it fails.
        for (const e of entries) if (e.corrupt === undefined) yield* s.get(e.key).pipe(Effect.ignore)
        const corrupt = (yield* s.list()).filter((e) => e.corrupt !== undefined)
        if (args.repair) for (const e of corrupt) yield* s.remove(e.key)
        return { checked: entries.length, corrupt }
      }))
    const view = {
      checked: result.checked,
      corrupt: result.corrupt.map((e) => ({ key: e.key, stage: e.stage, reason: e.corrupt?.reason })),
      removed: args.repair ? result.corrupt.length : 0
    }
    if (args.json) yield* Console.log(JSON.stringify(view, null, 2))
    else {
      for (const e of result.corrupt) yield* Console.log(`${args.repair ? "removed" : "CORRUPT"}  ${e.key.slice(0, 12)}  ${e.stage}: ${e.corrupt?.reason}`)
      yield* Console.log(`${result.checked} entries checked: ${result.checked - result.corrupt.length} ok, ${result.corrupt.length} corrupt` +
        (result.corrupt.length === 0 ? "" : args.repair ? ", removed (the next run recomputes them)" : " (flow run recomputes them; --repair removes them now)"))
    }
    if (result.corrupt.length > 0 && !args.repair) process.exitCode = 1
  }, handleErrors)
).pipe(Command.withDescription("Read every entry back and check its checksum; --repair removes the corrupt ones"))

export const cacheCommand = Command.make("cache").pipe(
  Command.withDescription("Inspect and maintain the artifact cache"),
  Command.withSubcommands([cacheLs, cacheShow, cacheRm, cacheGc, cacheVerify, cacheWhy])
)
