/**
 * The registry: TOML files decoded into concrete runs. `registry.toml` names experiments
 * (a dataset, models, groups, dotted overrides); each dataset and model lives in its own file
 * under `datasets/` and `models/` beside it. Everything is validated before any stage runs, and
 * every error names the file and the dotted key path.
 */
import { Effect, Predicate, Result, Schema, SchemaIssue } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { parse as parseToml, TomlError } from "smol-toml"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import { getDetector, UnknownDetectorError } from "../detectors/registry.ts"
import { GroupParams } from "../tasks/GroupStage.ts"
import { LabelParams } from "../tasks/LabelStage.ts"
import { MineParams } from "../tasks/MineStage.ts"
import { ThresholdParams } from "../tasks/FitStage.ts"
import { hasTimestamps, ParseParams } from "../tasks/ParseStage.ts"
import { SourceParams } from "../tasks/SourceStage.ts"
import { RepresentParams, needsLog } from "../tasks/RepresentStage.ts"
import { SessionsParams } from "../tasks/SessionsStage.ts"
import { SplitParams } from "../tasks/SplitStage.ts"

/** A config file is missing, malformed or inconsistent. */
export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  file: Schema.String,
  keyPath: Schema.String,
  detail: Schema.String
}) {
  /** "file: key.path: what is wrong". */
  override get message(): string {
    return `${this.file}${this.keyPath === "" ? "" : `: ${this.keyPath}`}: ${this.detail}`
  }
}

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

const ModelHeader = Schema.Struct({
  detector: Schema.NonEmptyString,
  description: Schema.optionalKey(Schema.String),
  threshold: Schema.optionalKey(ThresholdParams)
})

/** A model: a detector tag and its decoded hyperparameters. */
export interface ModelConfig {
  readonly detector: string
  readonly detector_version: string
  readonly config: unknown
  /** How predictions follow from scores, when not by the detector's own threshold. */
  readonly threshold?: ThresholdParams
}

const Overrides = Schema.Record(Schema.String, Schema.Unknown)
const Axis = closedStruct({
  /** Dotted path rooted at `dataset.`, `model.` or `run.`. */
  path: Schema.String.check(Schema.isPattern(/^(dataset|model|run)\.[^.]+(\.[^.]+)*$/, {
    message: "an axis path is dotted and starts with dataset., model. or run."
  })),
  values: Schema.NonEmptyArray(Schema.Unknown)
})
const Seeds = Schema.NonEmptyArray(Schema.Int)
const optionalList = Schema.Array(Schema.NonEmptyString).pipe(Schema.withDecodingDefaultKey(Effect.succeed([])))
const optionalOverrides = Overrides.pipe(Schema.withDecodingDefaultKey(Effect.succeed({})))
const optionalAxes = Schema.Array(Axis).pipe(Schema.withDecodingDefaultKey(Effect.succeed([])))

const experimentFields = {
  description: Schema.optionalKey(Schema.String),
  models: optionalList,
  model_sets: optionalList,
  groups: optionalList,
  overrides: optionalOverrides,
  axes: optionalAxes,
  seeds: Schema.optionalKey(Seeds)
}
const Experiment = closedStruct({ dataset: Schema.NonEmptyString, ...experimentFields })
const ExperimentSet = closedStruct({ datasets: Schema.NonEmptyArray(Schema.NonEmptyString), ...experimentFields })
const ModelSet = closedStruct({
  description: Schema.optionalKey(Schema.String),
  models: Schema.NonEmptyArray(Schema.NonEmptyString),
  /** Per model: dotted paths into that model's config. */
  overrides: Schema.Record(Schema.String, Overrides).pipe(Schema.withDecodingDefaultKey(Effect.succeed({})))
})
const StagePolicy = closedStruct({
  retries: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(0))),
  retry_delay_s: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(1)))
})

const RegistryFile = closedStruct({
  max_workers: Schema.optionalKey(Schema.Union([Schema.Literal("auto"), Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))])),
  seeds: Schema.optionalKey(Seeds),
  overrides: optionalOverrides,
  axes: optionalAxes,
  stages: Schema.Record(Schema.String, StagePolicy).pipe(Schema.withDecodingDefaultKey(Effect.succeed({}))),
  model_sets: Schema.Record(Schema.String, ModelSet).pipe(Schema.withDecodingDefaultKey(Effect.succeed({}))),
  experiments: Schema.Record(Schema.String, Experiment).pipe(Schema.withDecodingDefaultKey(Effect.succeed({}))),
  experiment_sets: Schema.Record(Schema.String, ExperimentSet).pipe(Schema.withDecodingDefaultKey(Effect.succeed({})))
})

/** Run-level settings (the `run.` axis root). */
export const RunSettings = closedStruct({
  seed: Schema.Int.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0)))
})
export type RunSettings = typeof RunSettings.Type

/** Retry policy of a stage. */
export interface StageRetry {
  readonly retries: number
  readonly retryDelayMs: number
}

/** One concrete run: an experiment applied to one model and one point of its axes, fully resolved. */
export interface RunSpec {
  readonly name: string
  readonly experiment: string
  readonly groups: ReadonlyArray<string>
  readonly datasetName: string
  readonly modelName: string
  readonly dataset: DatasetConfig
  readonly model: ModelConfig
  readonly run: RunSettings
  /** The axis values of this run, by dotted path. */
  readonly axes: Readonly<Record<string, unknown>>
}

export interface Registry {
  readonly file: string
  readonly maxWorkers: "auto" | number | undefined
  readonly runs: ReadonlyArray<RunSpec>
  /** Every group name and the runs in it. */
  readonly groups: ReadonlyMap<string, ReadonlyArray<string>>
  /** Experiments (sets expanded) and their runs. */
  readonly experiments: ReadonlyMap<string, ReadonlyArray<string>>
  /** Retry policy per stage name. */
  readonly retries: ReadonlyMap<string, StageRetry>
}

/** Which runs to select; empty lists select everything. */
export interface Selection {
  readonly groups: ReadonlyArray<string>
  readonly experiments: ReadonlyArray<string>
  /** Concrete run names. */
  readonly runs?: ReadonlyArray<string>
}

type Experiment = typeof Experiment.Type
type Axis = typeof Axis.Type

/**
 * Load and validate a registry and every dataset and model file it names. A process that loads
 * the same registry again (the daemon, at every command) gets the registry it loaded before when
 * none of the files it read has changed: same inode, size, mtime and ctime, and each last changed
 * 2 s or more before it was read (a file saved in the same instant as a read is read again).
 */
export const loadRegistry = (file: string): Effect.Effect<Registry, ConfigError> =>
  Effect.suspend(() => {
    const key = `${process.cwd()}\0${file}`
    const known = loadedRegistries.get(key)
    if (known !== undefined && known.stamps.every((s) => sameStamp(fileStamp(s.file), s))) return Effect.succeed(known.registry)
    const files = new Set<string>()
    readers.add(files)
    return loadRegistryFiles(file).pipe(
      Effect.tap((registry) =>
        Effect.sync(() => {
          const now = Date.now()
          const stamps = [...files].map(fileStamp)
          if (stamps.every((s): s is FileStamp => s !== undefined && now - Math.max(s.mtimeMs, s.ctimeMs) >= TRUSTED_AFTER_MS)) {
            loadedRegistries.set(key, { registry, stamps })
          } else {
            loadedRegistries.delete(key)
          }
        })
      ),
      Effect.ensuring(Effect.sync(() => readers.delete(files)))
    )
  })

interface FileStamp {
  readonly file: string
  readonly ino: number
  readonly size: number
  readonly mtimeMs: number
  readonly ctimeMs: number
}
const TRUSTED_AFTER_MS = 2000
const loadedRegistries = new Map<string, { readonly registry: Registry; readonly stamps: ReadonlyArray<FileStamp> }>()
/** Files read by the loads in progress (readToml adds to each). */
const readers = new Set<Set<string>>()
const fileStamp = (file: string): FileStamp | undefined => {
  const st = fs.statSync(file, { throwIfNoEntry: false })
  return st === undefined ? undefined : { file, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs }
}
const sameStamp = (a: FileStamp | undefined, b: FileStamp): boolean =>
  a !== undefined && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs

const loadRegistryFiles = Effect.fn("Registry.loadRegistry")(function*(file: string) {
  const raw = yield* readToml(file)
  const reg = yield* decode(RegistryFile, raw, file, "")
  const dir = path.dirname(file)
  const runs: Array<RunSpec> = []
  const groups = new Map<string, Array<string>>()
  const experiments = new Map<string, Array<string>>()
  const datasetCache = new Map<string, Record<string, unknown>>()
  const modelCache = new Map<string, { raw: Record<string, unknown>; plain: ModelConfig }>()

  // Experiment sets fan out to one experiment per dataset, named SET.DATASET.
  const expanded: Array<[string, string, Experiment, ReadonlyArray<string>]> = Object.entries(reg.experiments).map(
    ([name, e]) => [name, `experiments.${name}`, e, []]
  )
  for (const [setName, set] of Object.entries(reg.experiment_sets)) {
    const { datasets, ...rest } = set
    for (const ds of datasets) {
      const name = `${setName}.${ds}`
      if (reg.experiments[name] !== undefined) {
        return yield* new ConfigError({ file, keyPath: `experiment_sets.${setName}`, detail: `expands to experiment "${name}", which is also defined under [experiments]` })
      }
      expanded.push([name, `experiment_sets.${setName}`, { ...rest, dataset: ds }, [setName]])
    }
  }
  for (const [setName, set] of Object.entries(reg.model_sets)) {
    for (const m of Object.keys(set.overrides)) {
      if (!set.models.includes(m)) {
        return yield* new ConfigError({ file, keyPath: `model_sets.${setName}.overrides.${m}`, detail: `"${m}" is not one of the set's models (${set.models.join(", ")})` })
      }
    }
  }

  for (const [expName, expPath, exp, extraGroups] of expanded) {
    const datasetRaw = yield* loadDataset(dir, exp.dataset, file, `${expPath}.dataset`, datasetCache)
    // The models of the experiment: its own, then each model set's, with the set's per-model overrides.
    const models: Array<{ name: string; keyPath: string; overrides: Record<string, unknown> }> = exp.models.map((m, i) => ({
      name: m,
      keyPath: `${expPath}.models[${i}]`,
      overrides: {}
    }))
    for (const [i, setName] of exp.model_sets.entries()) {
      const set = reg.model_sets[setName]
      if (set === undefined) {
        return yield* new ConfigError({
          file,
          keyPath: `${expPath}.model_sets[${i}]`,
          detail: `unknown model set "${setName}" (known: ${Object.keys(reg.model_sets).sort().join(", ") || "none"})`
        })
      }
      for (const m of set.models) {
        models.push({ name: m, keyPath: `model_sets.${setName}.models`, overrides: set.overrides[m] ?? {} })
      }
    }
    if (models.length === 0) {
      return yield* new ConfigError({ file, keyPath: expPath, detail: "an experiment needs at least one model (models or model_sets)" })
    }
    const seen = new Set<string>()
    for (const m of models) {
      if (seen.has(m.name)) {
        return yield* new ConfigError({ file, keyPath: m.keyPath, detail: `model "${m.name}" appears twice in experiment "${expName}"` })
      }
      seen.add(m.name)
    }

    const axes: Array<Axis & { keyPath: string }> = [
      ...reg.axes.map((a, i) => ({ ...a, keyPath: `axes[${i}]` })),
      ...exp.axes.map((a, i) => ({ ...a, keyPath: `${expPath}.axes[${i}]` }))
    ]
    const seeds = exp.seeds ?? reg.seeds
    if (seeds !== undefined) axes.push({ path: "run.seed", values: seeds, keyPath: exp.seeds !== undefined ? `${expPath}.seeds` : "seeds" })
    const axisPaths = new Set<string>()
    for (const a of axes) {
      if (axisPaths.has(a.path)) return yield* new ConfigError({ file, keyPath: `${a.keyPath}.path`, detail: `axis "${a.path}" is given twice` })
      axisPaths.add(a.path)
    }
    const experimentOverrides = { ...reg.overrides, ...exp.overrides }
    for (const k of Object.keys(experimentOverrides)) {
      if (!/^(dataset|model|run)\./.test(k)) {
        return yield* new ConfigError({
          file,
          keyPath: `${k in exp.overrides ? `${expPath}.overrides` : "overrides"}.${k}`,
          detail: `an override path must start with "dataset.", "model." or "run."`
        })
      }
    }
    const runGroups = [...new Set([...exp.groups, ...exp.model_sets, ...extraGroups, expName])]

    for (const m of models) {
      const { raw: modelRaw, plain: plainModel } = yield* loadModel(dir, m.name, file, m.keyPath, modelCache)
      for (const point of cartesian(axes)) {
        const settings: Array<[string, unknown, string]> = [
          ...Object.entries(experimentOverrides).map(([k, v]): [string, unknown, string] => [k, v, `${k in exp.overrides ? `${expPath}.overrides` : "overrides"}.${k}`]),
          ...Object.entries(m.overrides).map(([k, v]): [string, unknown, string] => [`model.${k}`, v, `model_sets.${m.keyPath.split(".")[1]}.overrides.${m.name}.${k}`]),
          ...point.map(([a, v]): [string, unknown, string] => [a.path, v, `${a.keyPath}.values`])
        ]
        const pick = (root: string) => settings.filter(([k]) => k.startsWith(`${root}.`)).map(([k, v, where]): [Array<string>, unknown, string] => [k.split(".").slice(1), v, where])
        const datasetFile = path.join(dir, "datasets", `${exp.dataset}.toml`)
        const modelFile = path.join(dir, "models", `${m.name}.toml`)
        const dsOverrides = pick("dataset")
        const datasetInput = yield* applyOverrides(datasetRaw, dsOverrides, file, "dataset")
        const dataset: DatasetConfig = yield* decode(
          DatasetConfig.for(datasetInput),
          datasetInput,
          datasetFile,
          "",
          dsOverrides.length > 0 ? `after overrides from ${file}: ${dsOverrides.map(([, , w]) => w).join(", ")}` : undefined
        )
        const runOverrides = pick("run")
        const run = yield* decode(
          RunSettings,
          yield* applyOverrides({}, runOverrides, file, "run"),
          file,
          "run",
          runOverrides.length > 0 ? `from ${runOverrides.map(([, , w]) => w).join(", ")}` : undefined
        )
        // A run seed set by the registry (seeds or a run.seed axis/override) also seeds a detector
        // that takes a `seed` (or `random_seed`), unless the experiment sets that key itself.
        const config = plainModel.config
        const seedKey = Predicate.isObject(config) ? (["seed", "random_seed"] as const).find((k) => k in config) : undefined
        const seedFromRun = seedKey !== undefined && runOverrides.some(([parts]) => parts[0] === "seed") &&
          !settings.some(([k]) => k === `model.${seedKey}`)
        const mOverrides: Array<[Array<string>, unknown, string]> = [
          ...pick("model"),
          ...(seedFromRun ? [[[seedKey], run.seed, "run.seed"] as [Array<string>, unknown, string]] : [])
        ]
        const model = yield* decodeModel(
          yield* applyOverrides(modelRaw, mOverrides, file, "model"),
          modelFile,
          mOverrides.length > 0 ? `after overrides from ${file}: ${mOverrides.map(([, , w]) => w).join(", ")}` : undefined
        )
        const axisValues = Object.fromEntries(point.map(([a, v]) => [a.path, v]))
        const name = `${expName}.${m.name}${runSuffix(point.map(([a, v]) => [a.path, v]))}`
        if (runs.some((r) => r.name === name)) {
          return yield* new ConfigError({ file, keyPath: expPath, detail: `two runs would be named "${name}"` })
        }
        const needs = getDetector(model.detector).needs?.(model.config) ?? []
        if (needs.length > 0 && isSessionDataset(dataset)) {
          return yield* new ConfigError({
            file,
            keyPath: expPath,
            detail: `model ${m.name} (${model.detector}) reads ${needs.join(" and ")}, which need a raw-log dataset; ${exp.dataset} is pre-sequenced (sessions)`
          })
        }
        if (needs.includes("elapsed_time") && !isSessionDataset(dataset) && !hasTimestamps(dataset.parser)) {
          return yield* new ConfigError({
            file,
            keyPath: expPath,
            detail: `model ${m.name} (${model.detector}) reads elapsed times, and dataset ${exp.dataset}'s parser builds no timestamps`
          })
        }
        runs.push({ name, experiment: expName, groups: runGroups, datasetName: exp.dataset, modelName: m.name, dataset, model, run, axes: axisValues })
        experiments.set(expName, [...(experiments.get(expName) ?? []), name])
        for (const g of runGroups) groups.set(g, [...(groups.get(g) ?? []), name])
      }
    }
  }
  for (const stage of Object.keys(reg.stages)) {
    if (!knownStages.includes(stage)) {
      return yield* new ConfigError({ file, keyPath: `stages.${stage}`, detail: `unknown stage (known: ${knownStages.join(", ")})` })
    }
  }
  const retries = new Map(Object.entries(reg.stages).map(([k, v]) => [k, { retries: v.retries, retryDelayMs: v.retry_delay_s * 1000 }]))
  const registry: Registry = { file, maxWorkers: reg.max_workers, runs, groups, experiments, retries }
  return registry
})

const knownStages = ["source", "parse", "mine", "group", "label", "sessions", "split", "represent", "fit", "score", "evaluate"]

/** Every combination of axis values, in axis order (the last axis varies fastest). */
const cartesian = <A extends { readonly values: ReadonlyArray<unknown> }>(axes: ReadonlyArray<A>): Array<Array<[A, unknown]>> =>
  axes.reduce<Array<Array<[A, unknown]>>>((acc, a) => acc.flatMap((combo) => a.values.map((v) => [...combo, [a, v] as [A, unknown]])), [[]])

/** `[name=value,...]` from axis values; the name is the path's last segment unless that is ambiguous. */
const runSuffix = (values: ReadonlyArray<[string, unknown]>): string => {
  if (values.length === 0) return ""
  const last = values.map(([p]) => p.split(".").at(-1)!)
  const parts = values.map(([p, v], i) => {
    const label = last.filter((l) => l === last[i]).length > 1 ? p : last[i]
    return `${label}=${typeof v === "string" ? v : JSON.stringify(v)}`
  })
  return `[${parts.join(",")}]`
}

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
    const raw = yield* loadDataset(dir, name, file, "", new Map())
    return yield* decode(DatasetConfig.for(raw), raw, file, "")
  })

/** A dataset's raw config with `extends` resolved (deep merge, child wins); cycles are errors. */
const loadDataset = (
  dir: string,
  name: string,
  registryFile: string,
  keyPath: string,
  cache: Map<string, Record<string, unknown>>
): Effect.Effect<Record<string, unknown>, ConfigError> =>
  Effect.gen(function*() {
    const known = cache.get(name)
    if (known !== undefined) return known
    const chain: Array<string> = []
    let current = name
    let referrer = { file: registryFile, keyPath }
    const layers: Array<Record<string, unknown>> = []
    for (;;) {
      if (chain.includes(current)) {
        return yield* new ConfigError({ ...referrer, detail: `extends cycle: ${[...chain, current].join(" -> ")}` })
      }
      chain.push(current)
      const file = path.join(dir, "datasets", `${current}.toml`)
      if (!fs.existsSync(file)) {
        return yield* new ConfigError({
          ...referrer,
          detail: `unknown dataset "${current}": ${file} does not exist (known: ${listNames(path.join(dir, "datasets"))})`
        })
      }
      const raw = yield* readToml(file)
      const { extends: parent, ...rest } = raw
      layers.unshift(rest)
      if (parent === undefined) break
      if (typeof parent !== "string") return yield* new ConfigError({ file, keyPath: "extends", detail: "Expected a dataset name (string)" })
      referrer = { file, keyPath: "extends" }
      current = parent
    }
    const merged = layers.reduce<Record<string, unknown>>((acc, l) => deepMerge(acc, l), {})
    // Validate the dataset on its own first, so its own errors are not blamed on overrides.
    yield* decode(DatasetConfig.for(merged), merged, path.join(dir, "datasets", `${name}.toml`), "", chain.length > 1 ? `with extends ${chain.slice(1).join(" -> ")}` : undefined)
    cache.set(name, merged)
    return merged
  })

const loadModel = (
  dir: string,
  name: string,
  registryFile: string,
  keyPath: string,
  cache: Map<string, { raw: Record<string, unknown>; plain: ModelConfig }>
): Effect.Effect<{ raw: Record<string, unknown>; plain: ModelConfig }, ConfigError> =>
  Effect.gen(function*() {
    const known = cache.get(name)
    if (known !== undefined) return known
    const file = path.join(dir, "models", `${name}.toml`)
    if (!fs.existsSync(file)) {
      return yield* new ConfigError({
        file: registryFile,
        keyPath,
        detail: `unknown model "${name}": ${file} does not exist (known: ${listNames(path.join(dir, "models"))})`
      })
    }
    const raw = yield* readToml(file)
    // Validate the file on its own first, so its own errors are not blamed on overrides.
    const loaded = { raw, plain: yield* decodeModel(raw, file) }
    cache.set(name, loaded)
    return loaded
  })

const deepMerge = (base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) {
    const b = out[k]
    out[k] = isTable(b) && isTable(v) ? deepMerge(b, v) : v
  }
  return out
}
const isTable = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v)

/** The runs a selection picks; an unknown group or experiment is a ConfigError. */
export const selectRuns = (registry: Registry, selection: Selection): Effect.Effect<ReadonlyArray<RunSpec>, ConfigError> =>
  Effect.gen(function*() {
    for (const g of selection.groups) {
      if (!registry.groups.has(g)) {
        return yield* new ConfigError({
          file: registry.file,
          keyPath: "",
          detail: `unknown group "${g}" (known groups: ${[...registry.groups.keys()].sort().join(", ")})`
        })
      }
    }
    const experiments = new Set(registry.runs.map((r) => r.experiment))
    for (const e of selection.experiments) {
      if (!experiments.has(e)) {
        return yield* new ConfigError({
          file: registry.file,
          keyPath: `experiments.${e}`,
          detail: `unknown experiment "${e}" (known: ${[...experiments].sort().join(", ")})`
        })
      }
    }
    const names = selection.runs ?? []
    for (const n of names) {
      if (!registry.runs.some((r) => r.name === n)) {
        return yield* new ConfigError({ file: registry.file, keyPath: "", detail: `unknown run "${n}" (flow list shows the runs)` })
      }
    }
    if (selection.groups.length === 0 && selection.experiments.length === 0 && names.length === 0) return registry.runs
    const inGroups = new Set(selection.groups.flatMap((g) => registry.groups.get(g) ?? []))
    return registry.runs.filter((r) => inGroups.has(r.name) || selection.experiments.includes(r.experiment) || names.includes(r.name))
  })

const decodeModel = (raw: Record<string, unknown>, file: string, overriddenBy?: string) =>
  Effect.gen(function*() {
    const header = yield* decode(
      ModelHeader,
      {
        detector: raw.detector,
        ...(raw.description === undefined ? {} : { description: raw.description }),
        ...(raw.threshold === undefined ? {} : { threshold: raw.threshold })
      },
      file,
      ""
    )
    const detector = yield* Effect.try({
      try: () => getDetector(header.detector),
      catch: (e) =>
        new ConfigError({ file, keyPath: "detector", detail: e instanceof UnknownDetectorError ? e.message : String(e) })
    })
    const { detector: _d, description: _desc, threshold: _t, ...hyper } = raw
    const config = yield* decode(detector.configSchema, hyper, file, "", overriddenBy)
    const model: ModelConfig = {
      detector: detector.tag,
      detector_version: detector.version,
      config,
      ...(header.threshold === undefined ? {} : { threshold: header.threshold })
    }
    return model
  })

/** Read and parse a TOML file; syntax errors name the file, line and column. */
export const readToml = (file: string): Effect.Effect<Record<string, unknown>, ConfigError> =>
  Effect.try({
    try: () => {
      for (const r of readers) r.add(file)
      return parseToml(fs.readFileSync(file, "utf8")) as Record<string, unknown>
    },
    catch: (e) => {
      if (e instanceof TomlError) {
        return new ConfigError({ file: `${file}:${e.line}:${e.column}`, keyPath: "", detail: `TOML syntax error: ${firstLine(e.message)}` })
      }
      const msg = e instanceof Error ? e.message : String(e)
      return new ConfigError({ file, keyPath: "", detail: msg.includes("ENOENT") ? "file not found" : msg })
    }
  })

const decoded = new WeakMap<object, Map<string, unknown>>()

/** Decode with a schema; every issue is reported with its dotted key path. */
export const decode = <S extends Schema.Codec<unknown, unknown>>(
  schema: S,
  input: unknown,
  file: string,
  prefix: string,
  note?: string
): Effect.Effect<S["Type"], ConfigError> => {
  // A registry decodes the same dataset, model and run inputs for many runs: each distinct input
  // once per schema (successes only; a failure is reported with this call's file and key path).
  let memo = decoded.get(schema)
  if (memo === undefined) decoded.set(schema, memo = new Map())
  let key: string | undefined
  try {
    key = JSON.stringify(input)
  } catch {
    key = undefined // not JSON (a BigInt from TOML): decode every time
  }
  if (key !== undefined && memo.has(key)) return Effect.succeed(memo.get(key) as S["Type"])
  const result = Schema.decodeUnknownResult(schema)(input, { errors: "all", onExcessProperty: "error" })
  if (Result.isSuccess(result)) {
    if (key !== undefined) memo.set(key, result.success)
    return Effect.succeed(result.success)
  }
  const issues = SchemaIssue.makeFormatterStandardSchemaV1()(result.failure.issue).issues
  const first = issues[0]
  const keyPath = dotted([prefix, ...(first?.path ?? [])])
  const more = issues.length > 1
    ? `; also: ${issues.slice(1, 4).map((i) => `${dotted(i.path ?? []) || "<root>"}: ${i.message.split("\n")[0]}`).join("; ")}`
    : ""
  return Effect.fail(
    new ConfigError({
      file,
      keyPath,
      detail: `${(first?.message ?? "invalid").split("\n")[0]}${more}${note === undefined ? "" : ` (${note})`}`
    })
  )
}

/** Set dotted paths in a copy of a raw config; a path through a missing table is an error. */
const applyOverrides = (
  raw: Record<string, unknown>,
  overrides: ReadonlyArray<[Array<string>, unknown, string]>,
  file: string,
  root: string
): Effect.Effect<Record<string, unknown>, ConfigError> =>
  Effect.suspend(() => {
    const out = structuredClone(raw)
    for (const [parts, value, where] of overrides) {
      let cursor: Record<string, unknown> = out
      for (const [i, part] of parts.entries()) {
        if (i === parts.length - 1) {
          cursor[part] = value
        } else {
          const next = cursor[part]
          if (next === null || typeof next !== "object" || Array.isArray(next)) {
            return Effect.fail(
              new ConfigError({
                file,
                keyPath: where,
                detail: `"${root}.${parts.slice(0, i + 1).join(".")}" is not a table in the ${root} config`
              })
            )
          }
          cursor = next as Record<string, unknown>
        }
      }
    }
    return Effect.succeed(out)
  })

const listNames = (dir: string): string => {
  try {
    return fs.readdirSync(dir).filter((f) => f.endsWith(".toml")).map((f) => f.slice(0, -5)).sort().join(", ") || "none"
  } catch {
    return "none"
  }
}

/** `a.b[0].c` from path segments (numbers are array indexes). */
const dotted = (segments: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>): string =>
  segments.reduce<string>((acc, segment) => {
    const seg = typeof segment === "object" ? segment.key : segment
    if (typeof seg === "number") return `${acc}[${seg}]`
    const s = String(seg)
    return s === "" ? acc : acc === "" ? s : `${acc}.${s}`
  }, "")

const firstLine = (s: string): string => s.split("\n")[0] ?? s
