/**
 * The registry: TOML files decoded into concrete runs. `registry.toml` names experiments
 * (a dataset, models, groups, dotted overrides, axes, seeds) and sets of them; each dataset and
 * model lives in its own file under `datasets/` and `models/` beside it. Everything is validated
 * before any stage runs; every error names the file and the dotted key path, and a load reports
 * every error it finds, not only the first.
 */
import { Effect, Option, Schema } from "effect"
import * as path from "node:path"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import { memoSpec, WarmState } from "../runtime/WarmState.ts"
import { stages } from "../tasks/stages.ts"
import { combineConfigErrors, ConfigError } from "./ConfigError.ts"
import { loadDataset, nameIssue, SafeName } from "./Dataset.ts"
import { expandExperiment, type ExperimentModel, type PlacedAxis } from "./Expand.ts"
import { type LoadedModel, loadModel } from "./Model.ts"
import type { RunSpec } from "./RunSpec.ts"
import { decode, type FileStamp, fileStamp, readToml, sameStamp } from "./Toml.ts"

const Overrides = Schema.Record(Schema.String, Schema.Unknown)
const Axis = closedStruct({
  /** Dotted path rooted at `dataset.`, `model.` or `run.`. */
  path: Schema.String.check(Schema.isPattern(/^(dataset|model|run)\.[^.]+(\.[^.]+)*$/, {
    message: "an axis path is dotted and starts with dataset., model. or run."
  })),
  values: Schema.NonEmptyArray(Schema.Unknown)
})
const Seeds = Schema.NonEmptyArray(Schema.Int)
const optionalList = Schema.Array(SafeName).pipe(Schema.withDecodingDefaultKey(Effect.succeed([])))
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
const Experiment = closedStruct({ dataset: SafeName, ...experimentFields })
const ExperimentSet = closedStruct({ datasets: Schema.NonEmptyArray(SafeName), ...experimentFields })
const ModelSet = closedStruct({
  description: Schema.optionalKey(Schema.String),
  models: Schema.NonEmptyArray(SafeName),
  /** Per model: dotted paths into that model's config. */
  overrides: Schema.Record(Schema.String, Overrides).pipe(Schema.withDecodingDefaultKey(Effect.succeed({})))
})
const StagePolicy = closedStruct({
  retries: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(0))),
  retry_delay_s: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(1)))
})

/**
 * How `flow results` and its outputs show runs: display names of dotted keys (`names`), display
 * values per key (`values`: raw value as text -> shown text) and keys left out of grouping like
 * seeds (`ignore`).
 */
const AnalysisTable = closedStruct({
  names: Schema.Record(Schema.String, Schema.String).pipe(Schema.withDecodingDefaultKey(Effect.succeed({}))),
  values: Schema.Record(Schema.String, Schema.Record(Schema.String, Schema.String)).pipe(Schema.withDecodingDefaultKey(Effect.succeed({}))),
  ignore: Schema.Array(Schema.String).pipe(Schema.withDecodingDefaultKey(Effect.succeed([])))
})

/** The registry's `[analysis]` table (empty when absent). */
export type RegistryAnalysis = typeof AnalysisTable.Type

/** The registry file's own schema (datasets and models are decoded by theirs). */
export const RegistryFile = closedStruct({
  analysis: AnalysisTable.pipe(Schema.withDecodingDefaultKey(Effect.succeed({}))),
  max_workers: Schema.optionalKey(Schema.Union([Schema.Literal("auto"), Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))])),
  seeds: Schema.optionalKey(Seeds),
  overrides: optionalOverrides,
  axes: optionalAxes,
  stages: Schema.Record(Schema.String, StagePolicy).pipe(Schema.withDecodingDefaultKey(Effect.succeed({}))),
  model_sets: Schema.Record(Schema.String, ModelSet).pipe(Schema.withDecodingDefaultKey(Effect.succeed({}))),
  experiments: Schema.Record(Schema.String, Experiment).pipe(Schema.withDecodingDefaultKey(Effect.succeed({}))),
  experiment_sets: Schema.Record(Schema.String, ExperimentSet).pipe(Schema.withDecodingDefaultKey(Effect.succeed({})))
})
type RegistryFile = typeof RegistryFile.Type
type Experiment = typeof Experiment.Type

/** Retry policy of a stage. */
export interface StageRetry {
  readonly retries: number
  readonly retryDelayMs: number
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
  /** The `[analysis]` table: display remaps and keys `flow results` leaves out of grouping. */
  readonly analysis: RegistryAnalysis
}

/** Which runs to select; empty lists select everything. */
export interface Selection {
  readonly groups: ReadonlyArray<string>
  readonly experiments: ReadonlyArray<string>
  /** Concrete run names. */
  readonly runs?: ReadonlyArray<string>
}

const TRUSTED_AFTER_MS = 2000
const loaded = memoSpec<string, { readonly registry: Registry; readonly stamps: ReadonlyArray<FileStamp> }>("registries", 8)

/**
 * Load and validate a registry and every dataset and model file it names. In a process that keeps
 * a warm state (the daemon, at every command), loading the same registry again gives the registry
 * loaded before when none of the files it read has changed: same inode, size, mtime and ctime, and
 * each last changed 2 s or more before it was read (a file saved in the same instant as a read is
 * read again).
 */
export const loadRegistry = (file: string): Effect.Effect<Registry, ConfigError> =>
  Effect.gen(function*() {
    const warm = yield* Effect.serviceOption(WarmState)
    const memo = Option.isSome(warm) ? warm.value.memo(loaded) : undefined
    const key = `${process.cwd()}\0${file}`
    const known = memo?.get(key)
    if (known !== undefined && known.stamps.every((s) => sameStamp(fileStamp(s.file), s))) return known.registry
    const reads = new Set<string>()
    const registry = yield* loadRegistryFiles(file, reads)
    if (memo !== undefined) {
      const now = Date.now()
      const stamps = [...reads].map(fileStamp)
      if (stamps.every((s): s is FileStamp => s !== undefined && now - Math.max(s.mtimeMs, s.ctimeMs) >= TRUSTED_AFTER_MS)) {
        memo.set(key, { registry, stamps })
      } else {
        memo.delete(key)
      }
    }
    return registry
  })

const loadRegistryFiles = Effect.fn("Registry.loadRegistry")(function*(file: string, reads: Set<string>) {
  const raw = yield* readToml(file, reads)
  // Names the registry gives (table keys) are checked here, values that name things by the schema.
  const errors: Array<ConfigError> = nameErrors(raw, file)
  const decoded = yield* Effect.result(decode(RegistryFile, raw, file, ""))
  if (decoded._tag === "Failure") return yield* combineConfigErrors([...errors, decoded.failure])!
  const reg = decoded.success
  const dir = path.dirname(file)
  const collect = <A>(effect: Effect.Effect<A, ConfigError>): Effect.Effect<A | undefined> =>
    effect.pipe(Effect.catch((e: ConfigError) => Effect.sync(() => void errors.push(e))))
  const datasets = new Map<string, Record<string, unknown>>()
  const models = new Map<string, LoadedModel>()

  const runs: Array<RunSpec> = []
  for (const e of experimentsOf(reg, file, errors)) {
    const expanded = yield* collect(Effect.gen(function*() {
      const datasetRaw = yield* loadDataset({ dir, name: e.exp.dataset, referrer: { file, keyPath: `${e.keyPath}.dataset` }, cache: datasets, reads })
      const wanted = yield* modelsOf(reg, file, e.keyPath, e.name, e.exp)
      const loadedModels = yield* Effect.forEach(wanted, (m) =>
        Effect.result(loadModel({ dir, name: m.name, referrer: { file, keyPath: m.keyPath }, cache: models, reads }).pipe(
          Effect.map((l): ExperimentModel => ({ ...m, loaded: l }))
        )))
      const failed = combineConfigErrors(loadedModels.flatMap((r) => (r._tag === "Failure" ? [r.failure] : [])))
      if (failed !== undefined) return yield* failed
      return yield* expandExperiment({
        registryFile: file,
        dir,
        name: e.name,
        keyPath: e.keyPath,
        datasetName: e.exp.dataset,
        datasetRaw,
        groups: [...new Set([...e.exp.groups, ...e.exp.model_sets, ...e.extraGroups, e.name])],
        models: loadedModels.flatMap((r) => (r._tag === "Success" ? [r.success] : [])),
        axes: yield* axesOf(reg, file, e.keyPath, e.exp),
        overrides: yield* overridesOf(reg, file, e.keyPath, e.exp)
      })
    }))
    if (expanded !== undefined) runs.push(...expanded)
  }
  for (const stage of Object.keys(reg.stages)) {
    if (!(stage in stages)) {
      errors.push(new ConfigError({ file, keyPath: `stages.${stage}`, detail: `unknown stage (known: ${Object.keys(stages).join(", ")})` }))
    }
  }
  const failed = combineConfigErrors(errors)
  if (failed !== undefined) return yield* failed

  const groups = new Map<string, Array<string>>()
  const experiments = new Map<string, Array<string>>()
  for (const r of runs) {
    experiments.set(r.experiment, [...(experiments.get(r.experiment) ?? []), r.name])
    for (const g of r.groups) groups.set(g, [...(groups.get(g) ?? []), r.name])
  }
  const retries = new Map(Object.entries(reg.stages).map(([k, v]) => [k, { retries: v.retries, retryDelayMs: v.retry_delay_s * 1000 }]))
  const registry: Registry = { file, maxWorkers: reg.max_workers, runs, groups, experiments, retries, analysis: reg.analysis }
  return registry
})

/** The tables whose keys name things (experiments, experiment sets, model sets). */
const NAMED_TABLES = ["experiments", "experiment_sets", "model_sets"] as const

/** One error per table key of the registry that breaks the name rule (see NAME_PATTERN). */
const nameErrors = (raw: Record<string, unknown>, file: string): Array<ConfigError> =>
  NAMED_TABLES.flatMap((table) => {
    const t = raw[table]
    if (t === null || typeof t !== "object" || Array.isArray(t)) return []
    return Object.keys(t).flatMap((name) => {
      const issue = nameIssue(name)
      return issue === undefined ? [] : [new ConfigError({ file, keyPath: `${table}.${name}`, detail: issue })]
    })
  })

/** Experiments, with experiment sets fanned out to one experiment per dataset (named SET.DATASET). */
const experimentsOf = (reg: RegistryFile, file: string, errors: Array<ConfigError>) => {
  // An experiment or set with a bad name (reported by nameErrors) is not expanded.
  const out: Array<{ name: string; keyPath: string; exp: Experiment; extraGroups: ReadonlyArray<string> }> = Object.entries(reg.experiments)
    .filter(([name]) => nameIssue(name) === undefined)
    .map(([name, exp]) => ({ name, keyPath: `experiments.${name}`, exp, extraGroups: [] }))
  for (const [setName, set] of Object.entries(reg.experiment_sets)) {
    if (nameIssue(setName) !== undefined) continue
    const { datasets, ...rest } = set
    for (const ds of datasets) {
      const name = `${setName}.${ds}`
      if (reg.experiments[name] !== undefined) {
        errors.push(new ConfigError({ file, keyPath: `experiment_sets.${setName}`, detail: `expands to experiment "${name}", which is also defined under [experiments]` }))
        continue
      }
      out.push({ name, keyPath: `experiment_sets.${setName}`, exp: { ...rest, dataset: ds }, extraGroups: [setName] })
    }
  }
  for (const [setName, set] of Object.entries(reg.model_sets)) {
    for (const m of Object.keys(set.overrides)) {
      if (!set.models.includes(m)) {
        errors.push(new ConfigError({ file, keyPath: `model_sets.${setName}.overrides.${m}`, detail: `"${m}" is not one of the set's models (${set.models.join(", ")})` }))
      }
    }
  }
  return out
}

/** The models of an experiment: its own, then each model set's, with the set's per-model overrides. */
const modelsOf = (reg: RegistryFile, file: string, keyPath: string, name: string, exp: Experiment) =>
  Effect.gen(function*() {
    const models: Array<Omit<ExperimentModel, "loaded">> = exp.models.map((m, i) => ({ name: m, keyPath: `${keyPath}.models[${i}]`, overrides: {} }))
    for (const [i, setName] of exp.model_sets.entries()) {
      const set = reg.model_sets[setName]
      if (set === undefined) {
        return yield* new ConfigError({
          file,
          keyPath: `${keyPath}.model_sets[${i}]`,
          detail: `unknown model set "${setName}" (known: ${Object.keys(reg.model_sets).sort().join(", ") || "none"})`
        })
      }
      for (const m of set.models) models.push({ name: m, keyPath: `model_sets.${setName}.models`, overrides: set.overrides[m] ?? {} })
    }
    if (models.length === 0) {
      return yield* new ConfigError({ file, keyPath, detail: "an experiment needs at least one model (models or model_sets)" })
    }
    const seen = new Set<string>()
    for (const m of models) {
      if (seen.has(m.name)) return yield* new ConfigError({ file, keyPath: m.keyPath, detail: `model "${m.name}" appears twice in experiment "${name}"` })
      seen.add(m.name)
    }
    return models
  })

/** The registry's axes, then the experiment's, then its seeds (a `run.seed` axis); each path once. */
const axesOf = (reg: RegistryFile, file: string, keyPath: string, exp: Experiment) =>
  Effect.gen(function*() {
    const axes: Array<PlacedAxis> = [
      ...reg.axes.map((a, i) => ({ ...a, keyPath: `axes[${i}]` })),
      ...exp.axes.map((a, i) => ({ ...a, keyPath: `${keyPath}.axes[${i}]` }))
    ]
    const seeds = exp.seeds ?? reg.seeds
    if (seeds !== undefined) axes.push({ path: "run.seed", values: seeds, keyPath: exp.seeds !== undefined ? `${keyPath}.seeds` : "seeds" })
    const paths = new Set<string>()
    for (const a of axes) {
      if (paths.has(a.path)) return yield* new ConfigError({ file, keyPath: `${a.keyPath}.path`, detail: `axis "${a.path}" is given twice` })
      paths.add(a.path)
    }
    return axes
  })

/** The registry's overrides, then the experiment's (which win), each with the key it came from. */
const overridesOf = (reg: RegistryFile, file: string, keyPath: string, exp: Experiment) =>
  Effect.gen(function*() {
    const merged = { ...reg.overrides, ...exp.overrides }
    const out: Array<readonly [string, unknown, string]> = []
    for (const [k, v] of Object.entries(merged)) {
      const where = `${k in exp.overrides ? `${keyPath}.overrides` : "overrides"}.${k}`
      if (!/^(dataset|model|run)\./.test(k)) {
        return yield* new ConfigError({ file, keyPath: where, detail: `an override path must start with "dataset.", "model." or "run."` })
      }
      out.push([k, v, where])
    }
    return out
  })

/** The runs a selection picks; an unknown group or experiment is a ConfigError. */
export const selectRuns = (registry: Registry, selection: Selection): Effect.Effect<ReadonlyArray<RunSpec>, ConfigError> =>
  Effect.gen(function*() {
    const errors: Array<ConfigError> = []
    for (const g of selection.groups) {
      if (!registry.groups.has(g)) {
        errors.push(new ConfigError({
          file: registry.file,
          keyPath: "",
          detail: `unknown group "${g}" (known groups: ${[...registry.groups.keys()].sort().join(", ")})`
        }))
      }
    }
    const experiments = new Set(registry.runs.map((r) => r.experiment))
    for (const e of selection.experiments) {
      if (!experiments.has(e)) {
        errors.push(new ConfigError({
          file: registry.file,
          keyPath: `experiments.${e}`,
          detail: `unknown experiment "${e}" (known: ${[...experiments].sort().join(", ")})`
        }))
      }
    }
    const names = selection.runs ?? []
    for (const n of names) {
      if (!registry.runs.some((r) => r.name === n)) {
        errors.push(new ConfigError({ file: registry.file, keyPath: "", detail: `unknown run "${n}" (flow list shows the runs)` }))
      }
    }
    const failed = combineConfigErrors(errors)
    if (failed !== undefined) return yield* failed
    if (selection.groups.length === 0 && selection.experiments.length === 0 && names.length === 0) return registry.runs
    const inGroups = new Set(selection.groups.flatMap((g) => registry.groups.get(g) ?? []))
    return registry.runs.filter((r) => inGroups.has(r.name) || selection.experiments.includes(r.experiment) || names.includes(r.name))
  })
