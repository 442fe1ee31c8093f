/**
 * Expansion: one experiment (a dataset, its models and model sets, overrides, axes and seeds) into
 * concrete runs, one per model and point of its axes, each with its dataset and model configs
 * fully resolved and validated. Overrides and axis values are dotted paths rooted at `dataset.`,
 * `model.` or `run.`; every error names the registry key that caused it.
 */
import { Effect, Predicate } from "effect"
import { getDetector } from "../detectors/registry.ts"
import { hasTimestamps } from "../tasks/ParseStage.ts"
import { combineConfigErrors, ConfigError } from "./ConfigError.ts"
import { DatasetConfig, datasetFile, isSessionDataset } from "./Dataset.ts"
import { decodeModel, type LoadedModel, modelFile } from "./Model.ts"
import { RunSettings, type RunSpec } from "./RunSpec.ts"
import { decode } from "./Toml.ts"

/** An axis of a sweep: a dotted path and its values, with the registry key it came from. */
export interface PlacedAxis {
  readonly path: string
  readonly values: ReadonlyArray<unknown>
  readonly keyPath: string
}

/** A model of an experiment, with the overrides its model set gives it. */
export interface ExperimentModel {
  readonly name: string
  readonly keyPath: string
  /** Dotted paths into the model's config. */
  readonly overrides: Readonly<Record<string, unknown>>
  readonly loaded: LoadedModel
}

/** An experiment ready to expand. */
export interface ExperimentInput {
  readonly registryFile: string
  readonly dir: string
  readonly name: string
  /** Where it is declared (`experiments.X` or `experiment_sets.Y`). */
  readonly keyPath: string
  readonly datasetName: string
  readonly datasetRaw: Record<string, unknown>
  readonly groups: ReadonlyArray<string>
  readonly models: ReadonlyArray<ExperimentModel>
  readonly axes: ReadonlyArray<PlacedAxis>
  /** Overrides by dotted path, with the registry key each came from. */
  readonly overrides: ReadonlyArray<readonly [string, unknown, string]>
}

/** Every run of one experiment; the errors of all its models are reported together. */
export const expandExperiment = (e: ExperimentInput): Effect.Effect<ReadonlyArray<RunSpec>, ConfigError> =>
  Effect.gen(function*() {
    const results = yield* Effect.forEach(e.models, (m) => Effect.result(modelRuns(e, m)))
    const errors = results.flatMap((r) => (r._tag === "Failure" ? [r.failure] : []))
    const combined = combineConfigErrors(errors)
    if (combined !== undefined) return yield* combined
    return results.flatMap((r) => (r._tag === "Success" ? r.success : []))
  })

const modelRuns = (e: ExperimentInput, m: ExperimentModel) =>
  Effect.gen(function*() {
    const runs: Array<RunSpec> = []
    for (const point of cartesian(e.axes)) {
      const settings: Array<[string, unknown, string]> = [
        ...e.overrides.map(([k, v, where]): [string, unknown, string] => [k, v, where]),
        ...Object.entries(m.overrides).map(([k, v]): [string, unknown, string] => [`model.${k}`, v, `model_sets.${m.keyPath.split(".")[1]}.overrides.${m.name}.${k}`]),
        ...point.map(([a, v]): [string, unknown, string] => [a.path, v, `${a.keyPath}.values`])
      ]
      const pick = (root: string) =>
        settings.filter(([k]) => k.startsWith(`${root}.`)).map(([k, v, where]): [Array<string>, unknown, string] => [k.split(".").slice(1), v, where])
      const dsOverrides = pick("dataset")
      const datasetInput = yield* applyOverrides(e.datasetRaw, dsOverrides, e.registryFile, "dataset")
      const dataset: DatasetConfig = yield* decode(
        DatasetConfig.for(datasetInput),
        datasetInput,
        datasetFile(e.dir, e.datasetName),
        "",
        dsOverrides.length > 0 ? `after overrides from ${e.registryFile}: ${dsOverrides.map(([, , w]) => w).join(", ")}` : undefined
      )
      const runOverrides = pick("run")
      const run = yield* decode(
        RunSettings,
        yield* applyOverrides({}, runOverrides, e.registryFile, "run"),
        e.registryFile,
        "run",
        runOverrides.length > 0 ? `from ${runOverrides.map(([, , w]) => w).join(", ")}` : undefined
      )
      // A run seed set by the registry (seeds or a run.seed axis/override) also seeds a detector
      // that takes a `seed` (or `random_seed`), unless the experiment sets that key itself.
      const config = m.loaded.plain.config
      const seedKey = Predicate.isObject(config) ? (["seed", "random_seed"] as const).find((k) => k in config) : undefined
      const seedFromRun = seedKey !== undefined && runOverrides.some(([parts]) => parts[0] === "seed") &&
        !settings.some(([k]) => k === `model.${seedKey}`)
      const mOverrides: Array<[Array<string>, unknown, string]> = [
        ...pick("model"),
        ...(seedFromRun ? [[[seedKey], run.seed, "run.seed"] as [Array<string>, unknown, string]] : [])
      ]
      const model = yield* decodeModel(
        yield* applyOverrides(m.loaded.raw, mOverrides, e.registryFile, "model"),
        modelFile(e.dir, m.name),
        mOverrides.length > 0 ? `after overrides from ${e.registryFile}: ${mOverrides.map(([, , w]) => w).join(", ")}` : undefined
      )
      const axisValues = Object.fromEntries(point.map(([a, v]) => [a.path, v]))
      const name = `${e.name}.${m.name}${runSuffix(point.map(([a, v]) => [a.path, v]))}`
      if (!isSafeRunName(name)) {
        return yield* new ConfigError({ file: e.registryFile, keyPath: e.keyPath, detail: `the run name "${name}" is not a safe folder name` })
      }
      if (runs.some((r) => r.name === name)) {
        return yield* new ConfigError({ file: e.registryFile, keyPath: e.keyPath, detail: `two runs would be named "${name}"` })
      }
      const needs = getDetector(model.detector).needs?.(model.config) ?? []
      if (needs.length > 0 && isSessionDataset(dataset)) {
        return yield* new ConfigError({
          file: e.registryFile,
          keyPath: e.keyPath,
          detail: `model ${m.name} (${model.detector}) reads ${needs.join(" and ")}, which need a raw-log dataset; ${e.datasetName} is pre-sequenced (sessions)`
        })
      }
      if (needs.includes("elapsed_time") && !isSessionDataset(dataset) && !hasTimestamps(dataset.parser)) {
        return yield* new ConfigError({
          file: e.registryFile,
          keyPath: e.keyPath,
          detail: `model ${m.name} (${model.detector}) reads elapsed times, and dataset ${e.datasetName}'s parser builds no timestamps`
        })
      }
      runs.push({
        name,
        experiment: e.name,
        groups: e.groups,
        datasetName: e.datasetName,
        modelName: m.name,
        dataset,
        model,
        run,
        axes: axisValues
      })
    }
    return runs
  })

/** Every combination of axis values, in axis order (the last axis varies fastest). */
export const cartesian = <A extends { readonly values: ReadonlyArray<unknown> }>(axes: ReadonlyArray<A>): Array<Array<[A, unknown]>> =>
  axes.reduce<Array<Array<[A, unknown]>>>((acc, a) => acc.flatMap((combo) => a.values.map((v) => [...combo, [a, v] as [A, unknown]])), [[]])

/**
 * `[name=value,...]` from axis values; the name is the path's last segment unless that is
 * ambiguous. A value is rendered as itself (a string) or as JSON, then made safe for a file name
 * by `nameSafe`: `0.7`, `drain` and `-1` stay as they are, `a/b` becomes `a%2Fb`.
 */
export const runSuffix = (values: ReadonlyArray<[string, unknown]>): string => {
  if (values.length === 0) return ""
  const last = values.map(([p]) => p.split(".").at(-1)!)
  const parts = values.map(([p, v], i) => {
    const label = last.filter((l) => l === last[i]).length > 1 ? p : last[i]!
    return `${nameSafe(label)}=${nameSafe(typeof v === "string" ? v : String(JSON.stringify(v)))}`
  })
  return `[${parts.join(",")}]`
}

/**
 * `s` with every character outside letters, digits, `_ . + -` percent-encoded (its UTF-8 bytes,
 * `%2F` for `/`, `%25` for `%`), and the dots of any run of two or more as `%2E`: the result never
 * holds a path separator, `..`, or the `[ = , ]` that structure a run name, and distinct inputs
 * stay distinct.
 */
export const nameSafe = (s: string): string =>
  s
    .replace(/[^A-Za-z0-9_.+-]/gu, (c) => [...Buffer.from(c, "utf8")].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join(""))
    .replace(/\.{2,}/g, (dots) => "%2E".repeat(dots.length))

/** Whether a run name is safe as one folder name: no path separator, no `..`, no NUL, not empty. */
const isSafeRunName = (name: string): boolean => name !== "" && !/[/\\\0]/.test(name) && !name.includes("..")

/** Set dotted paths in a copy of a raw config; a path through a missing table is an error. */
export const applyOverrides = (
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
