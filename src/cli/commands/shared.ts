/**
 * What the commands share: the common flags (folders, selection, --json), the flow options they
 * build, the cache layer they open, and how a failure is shown: each problem on its own line
 * after `error:` on stderr, exit code 2.
 */
import { Config, Console, Effect, Option } from "effect"
import { Argument, Flag } from "effect/cli"
import * as path from "node:path"
import type { ArtifactStore } from "../../cache/ArtifactStore.ts"
import type { Leases } from "../../cache/Leases.ts"
import * as LmdbCache from "../../cache/LmdbCache.ts"
import type { FlowOptions } from "../../flows/Flow.ts"

export const cacheDir = Flag.String("cache-dir").pipe(
  Flag.withDescription("Cache directory (LMDB). Default .cache/ or FLOW_CACHE_DIR"),
  Flag.withFallbackConfig(Config.String("FLOW_CACHE_DIR")),
  Flag.withDefault(".cache")
)
export const resultsDir = Flag.String("results-dir").pipe(
  Flag.withDescription("Where result folders go. Default results/ or FLOW_RESULTS_DIR"),
  Flag.withFallbackConfig(Config.String("FLOW_RESULTS_DIR")),
  Flag.withDefault("results")
)
export const dataRoot = Flag.String("data-root").pipe(
  Flag.withDescription("Directory dataset paths resolve against. Default data/ or FLOW_DATA_ROOT"),
  Flag.withFallbackConfig(Config.String("FLOW_DATA_ROOT")),
  Flag.withDefault("data")
)
export const mirror = Flag.String("mirror").pipe(
  Flag.withDescription("Folder searched for source archives before downloading (FLOW_MIRROR)"),
  Flag.withFallbackConfig(Config.String("FLOW_MIRROR")),
  Flag.optional
)
export const extractLimits = Flag.String("extract-limits").pipe(
  Flag.withDescription(
    "Archive extraction limits, e.g. max_total_bytes=64GiB,max_ratio=500 (names: max_total_bytes, max_entries, " +
      "max_entry_bytes, max_ratio, ratio_floor_bytes, max_header_bytes; off = none) (FLOW_EXTRACT_LIMITS)"
  ),
  Flag.withFallbackConfig(Config.String("FLOW_EXTRACT_LIMITS")),
  Flag.optional
)
export const registryArg = Argument.String("registry").pipe(Argument.withDescription("Registry TOML, e.g. configs/registry.toml"))
export const json = Flag.Boolean("json").pipe(Flag.withDescription("Print JSON"), Flag.withDefault(false))

/** The flags that pick runs from a registry and say where its folders are. */
export const selection = {
  registry: registryArg,
  groups: Flag.String("group").pipe(Flag.withDescription("Select this group (repeatable)"), Flag.atLeast(0)),
  experiments: Flag.String("experiment").pipe(Flag.withDescription("Select this experiment (repeatable)"), Flag.atLeast(0)),
  runs: Flag.String("run").pipe(Flag.withDescription("Select this concrete run (repeatable)"), Flag.atLeast(0)),
  cacheDir,
  resultsDir,
  dataRoot,
  mirror,
  extractLimits
}

export interface SelectionArgs {
  readonly registry: string
  readonly groups: ReadonlyArray<string>
  readonly experiments: ReadonlyArray<string>
  readonly runs: ReadonlyArray<string>
  readonly cacheDir: string
  readonly resultsDir: string
  readonly dataRoot: string
  readonly mirror: Option.Option<string>
  readonly extractLimits: Option.Option<string>
}

/** Flow options from the selection flags (folders made absolute). */
export const flowOptions = (a: SelectionArgs, extra: Partial<FlowOptions> = {}): FlowOptions => ({
  registry: a.registry,
  groups: a.groups,
  experiments: a.experiments,
  runs: a.runs,
  dataRoot: path.resolve(a.dataRoot),
  resultsDir: path.resolve(a.resultsDir),
  cacheDir: path.resolve(a.cacheDir),
  mirror: Option.getOrUndefined(Option.map(a.mirror, (m) => path.resolve(m))),
  extractLimits: Option.getOrUndefined(a.extractLimits),
  maxWorkers: undefined,
  force: false,
  ...extra
})

/** The cache in `dir`: its store and leases. */
export const cacheLayer = (dir: string) => LmdbCache.layer(path.resolve(dir))

/** Run `f` with the cache in `dir` open. */
export const withCache = <A, E, R>(dir: string, f: Effect.Effect<A, E, R>) => f.pipe(Effect.provide(cacheLayer(dir)))

/** The services `withCache` provides (for commands' type annotations). */
export type CacheServices = ArtifactStore | Leases

/** A failure of the command itself (bad input), shown as one line. */
export const fail = (message: string) => Effect.fail(new Error(message))

/** Print a failure on stderr, one `error:` line per problem, and exit with code 2. */
export const handleErrors = <A, R>(self: Effect.Effect<A, unknown, R>) =>
  self.pipe(
    Effect.catch((e: unknown) =>
      Effect.gen(function*() {
        const message = e instanceof Error ? e.message : String(e)
        yield* Console.error(message.split("\n").map((line) => `error: ${line}`).join("\n"))
        process.exitCode = 2
      })
    )
  )
