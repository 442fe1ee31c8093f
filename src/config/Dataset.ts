/**
 * Dataset configs: where a raw log is and how it becomes labelled, split sequences (source,
 * parser, miner, grouping, labels, split, representations), or a pre-sequenced dataset read from
 * published session files. A dataset file may `extends` another in the same `datasets/` folder:
 * tables merge key by key, child wins, and a child table whose `type` (or `format`) differs from
 * the parent's replaces it whole, so switching a grouping's type does not inherit the old type's keys.
 */
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import { resolveUnder, SourceParams } from "../sources/Source.ts"
import { GroupParams } from "../tasks/GroupStage.ts"
import { LabelParams } from "../tasks/LabelStage.ts"
import { MineParams } from "../tasks/MineStage.ts"
import { hasTimestamps, ParseParams } from "../tasks/ParseStage.ts"
import { needsLog, RepresentParams } from "../tasks/RepresentStage.ts"
import { SessionsParams } from "../tasks/SessionsStage.ts"
import { SplitParams } from "../tasks/SplitStage.ts"
import { ConfigError } from "./ConfigError.ts"
import { decode, listNames, readToml } from "./Toml.ts"

/** A dataset from a raw log: where the log is and how it becomes labelled, split sequences. */
export const LogDatasetConfig = closedStruct({
  description: Schema.optionalKey(Schema.String),
  source: SourceParams,
  parser: ParseParams,
  miner: MineParams,
  grouping: GroupParams,
  labels: LabelParams,
  split: SplitParams,
  /** Representations to build and cache (e.g. [{ kind = "count_vectors" }]). */
  represent: Schema.Array(RepresentParams).pipe(Schema.withDecodingDefaultKey(Effect.succeed([])))
}).check(
  Schema.makeFilter((d) => {
    if (d.grouping.type === "time_window" && !hasTimestamps(d.parser)) {
      return { path: ["grouping", "time_span_ms"], issue: "time windows need timestamps, and this parser config builds none (give parser.timestamp or a preset with a timestamp rule)" }
    }
    if (d.split.type === "predefined") return { path: ["split", "type"], issue: "a predefined split needs a pre-sequenced dataset (a [sessions] table)" }
    const i = d.represent.findIndex((r) => r.kind === "elapsed_time")
    if (i >= 0 && !hasTimestamps(d.parser)) return { path: ["represent", i, "kind"], issue: "elapsed_time needs timestamps, and this parser config builds none" }
    return true
  })
)
export type LogDatasetConfig = typeof LogDatasetConfig.Type

/** A pre-sequenced dataset: published session files, one session per line. */
export const SessionDatasetConfig = closedStruct({
  description: Schema.optionalKey(Schema.String),
  sessions: SessionsParams,
  split: SplitParams,
  represent: Schema.Array(RepresentParams).pipe(Schema.withDecodingDefaultKey(Effect.succeed([])))
}).check(
  Schema.makeFilter((d) => {
    const i = d.represent.findIndex(needsLog)
    return i < 0 || { path: ["represent", i, "kind"], issue: `${d.represent[i]!.kind} needs a raw-log dataset (parsed rows), not session files` }
  })
)
export type SessionDatasetConfig = typeof SessionDatasetConfig.Type

/** Either kind of dataset; a `sessions` table makes it pre-sequenced. */
export const DatasetConfig = {
  /** The schema for a raw dataset table, chosen by its shape so errors speak of one kind only. */
  for: (raw: Record<string, unknown>) => ("sessions" in raw ? SessionDatasetConfig : LogDatasetConfig)
}
export type DatasetConfig = LogDatasetConfig | SessionDatasetConfig

/** Whether a dataset is pre-sequenced. */
export const isSessionDataset = (d: DatasetConfig): d is SessionDatasetConfig => "sessions" in d

/** Load and validate one dataset file on its own (`extends` resolved against its folder). */
export const loadDatasetFile = (file: string): Effect.Effect<DatasetConfig, ConfigError> =>
  Effect.gen(function*() {
    if (!fs.existsSync(file)) return yield* new ConfigError({ file, keyPath: "", detail: "file not found" })
    const dir = path.dirname(path.dirname(path.resolve(file)))
    const name = path.basename(file).replace(/\.toml$/, "")
    if (path.basename(path.dirname(path.resolve(file))) !== "datasets") {
      // A dataset outside a datasets/ folder: read it alone (extends needs the datasets/ layout).
      const raw = yield* readToml(file)
      if (raw.extends !== undefined) return yield* new ConfigError({ file, keyPath: "extends", detail: "extends works for files in a datasets/ folder" })
      return yield* decode(DatasetConfig.for(raw), raw, file, "")
    }
    const raw = yield* loadDataset({ dir, name, referrer: { file, keyPath: "" }, cache: new Map() })
    return yield* decode(DatasetConfig.for(raw), raw, file, "")
  })

/**
 * The rule for the names a registry gives and uses (experiments, experiment sets, model sets,
 * datasets, models, groups): a letter or digit, then letters, digits, `_`, `-`, `+` and `.`, with
 * no two dots in a row and no dot at the end. Names become file names (`datasets/NAME.toml`) and
 * parts of run names (`EXPERIMENT.MODEL`, a results folder), so none holds a path separator or `..`,
 * and `EXPERIMENT.MODEL` never does either.
 */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_+-]*(?:\.[A-Za-z0-9_+-]+)*$/

/** Why `name` breaks the name rule; undefined when it follows it. */
export const nameIssue = (name: string): string | undefined =>
  NAME_PATTERN.test(name)
    ? undefined
    : `"${name}" is not a valid name: a name starts with a letter or digit and holds only letters, digits, _ - + and single dots (no "/", no "..", no dot at the end)`

/** A string following the name rule (NAME_PATTERN). */
export const SafeName = Schema.String.check(Schema.makeFilter((s: string) => nameIssue(s) ?? true))

/** Where a dataset is named (a registry key, or another dataset's `extends`), for errors. */
export interface Referrer {
  readonly file: string
  readonly keyPath: string
}

/**
 * A dataset's raw config with `extends` resolved (merged, child wins) and validated on its own,
 * so its own errors are not blamed on a registry's overrides; cycles are errors. `cache` holds the
 * datasets already loaded in this load, `reads` collects the files read.
 */
export const loadDataset = (input: {
  readonly dir: string
  readonly name: string
  readonly referrer: Referrer
  readonly cache: Map<string, Record<string, unknown>>
  readonly reads?: Set<string>
}): Effect.Effect<Record<string, unknown>, ConfigError> =>
  Effect.gen(function*() {
    const { dir, name, cache, reads } = input
    const known = cache.get(name)
    if (known !== undefined) return known
    const chain: Array<string> = []
    let current = name
    let referrer = input.referrer
    const layers: Array<Record<string, unknown>> = []
    for (;;) {
      if (chain.includes(current)) {
        return yield* new ConfigError({ ...referrer, detail: `extends cycle: ${[...chain, current].join(" -> ")}` })
      }
      chain.push(current)
      const file = datasetFile(dir, current)
      if (resolveUnder(path.join(dir, "datasets"), `${current}.toml`) === undefined) {
        return yield* new ConfigError({ ...referrer, detail: `dataset "${current}" is not a file in ${path.join(dir, "datasets")}` })
      }
      if (!fs.existsSync(file)) {
        return yield* new ConfigError({
          ...referrer,
          detail: `unknown dataset "${current}": ${file} does not exist (known: ${listNames(path.join(dir, "datasets"))})`
        })
      }
      const raw = yield* readToml(file, reads)
      const { extends: parent, ...rest } = raw
      layers.unshift(rest)
      if (parent === undefined) break
      if (typeof parent !== "string") return yield* new ConfigError({ file, keyPath: "extends", detail: "Expected a dataset name (string)" })
      const badName = nameIssue(parent)
      if (badName !== undefined) return yield* new ConfigError({ file, keyPath: "extends", detail: badName })
      referrer = { file, keyPath: "extends" }
      current = parent
    }
    const merged = layers.reduce<Record<string, unknown>>((acc, l) => mergeConfig(acc, l), {})
    yield* decode(DatasetConfig.for(merged), merged, datasetFile(dir, name), "", chain.length > 1 ? `with extends ${chain.slice(1).join(" -> ")}` : undefined)
    cache.set(name, merged)
    return merged
  })

/** The file of dataset `name` beside a registry in `dir`. */
export const datasetFile = (dir: string, name: string): string => path.join(dir, "datasets", `${name}.toml`)

/** Keys whose value says which kind of table this is: a child table of another kind replaces its parent's. */
const DISCRIMINATORS = ["type", "format"] as const

/**
 * `over` merged into `base`: tables merge key by key (`over` wins), other values are replaced,
 * and a table whose discriminator (`type`, `format`) differs from the base's replaces it whole.
 */
export const mergeConfig = (base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) {
    const b = out[k]
    out[k] = isTable(b) && isTable(v) && sameKind(b, v) ? mergeConfig(b, v) : v
  }
  return out
}

const sameKind = (a: Record<string, unknown>, b: Record<string, unknown>): boolean =>
  DISCRIMINATORS.every((d) => !(d in a) || !(d in b) || a[d] === b[d])

const isTable = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v)
