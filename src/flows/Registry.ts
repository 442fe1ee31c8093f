/**
 * The registry: TOML files decoded into concrete runs. `registry.toml` names experiments
 * (a dataset, models, groups, dotted overrides); each dataset and model lives in its own file
 * under `datasets/` and `models/` beside it. Everything is validated before any stage runs, and
 * every error names the file and the dotted key path.
 */
import { Effect, Result, Schema, SchemaIssue } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { parse as parseToml, TomlError } from "smol-toml"
import { closedStruct } from "../config/ClosedStruct.ts"
import { getDetector, UnknownDetectorError } from "../detectors/Detector.ts"
import { GroupParams } from "../tasks/GroupStage.ts"
import { LabelParams } from "../tasks/LabelStage.ts"
import { MineParams } from "../tasks/MineStage.ts"
import { ParseParams } from "../tasks/ParseStage.ts"
import { SourceParams } from "../tasks/SourceStage.ts"
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

/** A dataset: where the log is and how it becomes labelled, split sequences. */
export const DatasetConfig = closedStruct({
  description: Schema.optionalKey(Schema.String),
  source: SourceParams,
  parser: ParseParams,
  miner: MineParams,
  grouping: GroupParams,
  labels: LabelParams,
  split: SplitParams
})
export type DatasetConfig = typeof DatasetConfig.Type

const ModelHeader = Schema.Struct({ detector: Schema.NonEmptyString, description: Schema.optionalKey(Schema.String) })

/** A model: a detector tag and its decoded hyperparameters. */
export interface ModelConfig {
  readonly detector: string
  readonly detector_version: string
  readonly config: unknown
}

const Experiment = closedStruct({
  dataset: Schema.NonEmptyString,
  models: Schema.NonEmptyArray(Schema.NonEmptyString),
  groups: Schema.Array(Schema.NonEmptyString).pipe(Schema.withDecodingDefaultKey(Effect.succeed([]))),
  overrides: Schema.Record(Schema.String, Schema.Unknown).pipe(Schema.withDecodingDefaultKey(Effect.succeed({})))
})

const RegistryFile = closedStruct({
  max_workers: Schema.optionalKey(Schema.Union([Schema.Literal("auto"), Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))])),
  experiments: Schema.Record(Schema.String, Experiment)
})

/** One concrete run: an experiment applied to one model, fully resolved. */
export interface RunSpec {
  readonly name: string
  readonly experiment: string
  readonly groups: ReadonlyArray<string>
  readonly datasetName: string
  readonly modelName: string
  readonly dataset: DatasetConfig
  readonly model: ModelConfig
}

export interface Registry {
  readonly file: string
  readonly maxWorkers: "auto" | number | undefined
  readonly runs: ReadonlyArray<RunSpec>
  /** Every group name and the runs in it. */
  readonly groups: ReadonlyMap<string, ReadonlyArray<string>>
}

/** Which runs to select; empty lists select everything. */
export interface Selection {
  readonly groups: ReadonlyArray<string>
  readonly experiments: ReadonlyArray<string>
}

/** Load and validate a registry and every dataset and model file it names. */
export const loadRegistry = Effect.fn("Registry.loadRegistry")(function*(file: string) {
  const raw = yield* readToml(file)
  const reg = yield* decode(RegistryFile, raw, file, "")
  const dir = path.dirname(file)
  const runs: Array<RunSpec> = []
  const groups = new Map<string, Array<string>>()
  for (const [expName, exp] of Object.entries(reg.experiments)) {
    const expPath = `experiments.${expName}`
    const datasetFile = path.join(dir, "datasets", `${exp.dataset}.toml`)
    if (!fs.existsSync(datasetFile)) {
      return yield* new ConfigError({
        file,
        keyPath: `${expPath}.dataset`,
        detail: `unknown dataset "${exp.dataset}": ${datasetFile} does not exist (known: ${listNames(path.join(dir, "datasets"))})`
      })
    }
    const overrides = splitOverrides(exp.overrides)
    if (overrides.bad.length > 0) {
      return yield* new ConfigError({
        file,
        keyPath: `${expPath}.overrides.${overrides.bad[0]}`,
        detail: `an override path must start with "dataset." or "model."`
      })
    }
    const datasetRaw = yield* readToml(datasetFile)
    const datasetWithOverrides = yield* applyOverrides(datasetRaw, overrides.dataset, file, `${expPath}.overrides`, "dataset")
    const dataset = yield* decode(DatasetConfig, datasetWithOverrides, datasetFile, "", overrides.dataset.length > 0 ? file : undefined)
    for (const [i, modelName] of exp.models.entries()) {
      const modelFile = path.join(dir, "models", `${modelName}.toml`)
      if (!fs.existsSync(modelFile)) {
        return yield* new ConfigError({
          file,
          keyPath: `${expPath}.models[${i}]`,
          detail: `unknown model "${modelName}": ${modelFile} does not exist (known: ${listNames(path.join(dir, "models"))})`
        })
      }
      const modelRaw = yield* readToml(modelFile)
      const modelWithOverrides = yield* applyOverrides(modelRaw, overrides.model, file, `${expPath}.overrides`, "model")
      const model = yield* decodeModel(modelWithOverrides, modelFile)
      const name = `${expName}.${modelName}`
      const runGroups = [...new Set([...exp.groups, expName])]
      runs.push({ name, experiment: expName, groups: runGroups, datasetName: exp.dataset, modelName, dataset, model })
      for (const g of runGroups) groups.set(g, [...(groups.get(g) ?? []), name])
    }
  }
  const registry: Registry = { file, maxWorkers: reg.max_workers, runs, groups }
  return registry
})

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
    if (selection.groups.length === 0 && selection.experiments.length === 0) return registry.runs
    const inGroups = new Set(selection.groups.flatMap((g) => registry.groups.get(g) ?? []))
    return registry.runs.filter((r) => inGroups.has(r.name) || selection.experiments.includes(r.experiment))
  })

const decodeModel = (raw: Record<string, unknown>, file: string) =>
  Effect.gen(function*() {
    const header = yield* decode(
      ModelHeader,
      { detector: raw.detector, ...(raw.description === undefined ? {} : { description: raw.description }) },
      file,
      ""
    )
    const detector = yield* Effect.try({
      try: () => getDetector(header.detector),
      catch: (e) =>
        new ConfigError({ file, keyPath: "detector", detail: e instanceof UnknownDetectorError ? e.message : String(e) })
    })
    const { detector: _d, description: _desc, ...hyper } = raw
    const config = yield* decode(detector.configSchema, hyper, file, "")
    const model: ModelConfig = { detector: detector.tag, detector_version: detector.version, config }
    return model
  })

/** Read and parse a TOML file; syntax errors name the file, line and column. */
export const readToml = (file: string): Effect.Effect<Record<string, unknown>, ConfigError> =>
  Effect.try({
    try: () => parseToml(fs.readFileSync(file, "utf8")) as Record<string, unknown>,
    catch: (e) => {
      if (e instanceof TomlError) {
        return new ConfigError({ file: `${file}:${e.line}:${e.column}`, keyPath: "", detail: `TOML syntax error: ${firstLine(e.message)}` })
      }
      const msg = e instanceof Error ? e.message : String(e)
      return new ConfigError({ file, keyPath: "", detail: msg.includes("ENOENT") ? "file not found" : msg })
    }
  })

/** Decode with a schema; every issue is reported with its dotted key path. */
export const decode = <S extends Schema.Codec<unknown, unknown>>(
  schema: S,
  input: unknown,
  file: string,
  prefix: string,
  overriddenBy?: string
): Effect.Effect<S["Type"], ConfigError> => {
  const result = Schema.decodeUnknownResult(schema)(input, { errors: "all", onExcessProperty: "error" })
  if (Result.isSuccess(result)) return Effect.succeed(result.success)
  const issues = SchemaIssue.makeFormatterStandardSchemaV1()(result.failure.issue).issues
  const first = issues[0]
  const keyPath = [prefix, ...(first?.path ?? []).map(String)].filter((s) => s !== "").join(".")
  const more = issues.length > 1
    ? `; also: ${issues.slice(1, 4).map((i) => `${(i.path ?? []).map(String).join(".") || "<root>"}: ${i.message.split("\n")[0]}`).join("; ")}`
    : ""
  return Effect.fail(
    new ConfigError({
      file,
      keyPath,
      detail: `${(first?.message ?? "invalid").split("\n")[0]}${more}${overriddenBy === undefined ? "" : ` (after overrides from ${overriddenBy})`}`
    })
  )
}

const splitOverrides = (o: Record<string, unknown>) => {
  const dataset: Array<[Array<string>, unknown]> = []
  const model: Array<[Array<string>, unknown]> = []
  const bad: Array<string> = []
  for (const [k, v] of Object.entries(o)) {
    const parts = k.split(".")
    if (parts[0] === "dataset" && parts.length > 1) dataset.push([parts.slice(1), v])
    else if (parts[0] === "model" && parts.length > 1) model.push([parts.slice(1), v])
    else bad.push(k)
  }
  return { dataset, model, bad }
}

/** Set dotted paths in a copy of a raw config; a path through a missing table is an error. */
const applyOverrides = (
  raw: Record<string, unknown>,
  overrides: ReadonlyArray<[Array<string>, unknown]>,
  file: string,
  keyPrefix: string,
  root: string
): Effect.Effect<Record<string, unknown>, ConfigError> =>
  Effect.suspend(() => {
    const out = structuredClone(raw)
    for (const [parts, value] of overrides) {
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
                keyPath: `${keyPrefix}.${root}.${parts.join(".")}`,
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

const firstLine = (s: string): string => s.split("\n")[0] ?? s
