/**
 * Model configs: a detector tag, its hyperparameters (decoded by the detector's own schema) and
 * optionally how predictions follow from scores (`[threshold]`). One file per model under
 * `models/` beside the registry.
 */
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { getDetector, UnknownDetectorError } from "../detectors/registry.ts"
import { resolveUnder } from "../sources/Source.ts"
import { ThresholdParams } from "../tasks/FitStage.ts"
import { ConfigError } from "./ConfigError.ts"
import { nameIssue, type Referrer } from "./Dataset.ts"
import { decode, listNames, readToml } from "./Toml.ts"

/** The keys every model file has besides its detector's hyperparameters. */
export const ModelHeader = Schema.Struct({
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

/** A model file read and validated on its own: its raw table (for overrides) and its decoded config. */
export interface LoadedModel {
  readonly raw: Record<string, unknown>
  readonly plain: ModelConfig
}

/** The file of model `name` beside a registry in `dir`. */
export const modelFile = (dir: string, name: string): string => path.join(dir, "models", `${name}.toml`)

/** Load a model file (once per load: `cache`), validated on its own so its errors are not blamed on overrides. */
export const loadModel = (input: {
  readonly dir: string
  readonly name: string
  readonly referrer: Referrer
  readonly cache: Map<string, LoadedModel>
  readonly reads?: Set<string>
}): Effect.Effect<LoadedModel, ConfigError> =>
  Effect.gen(function*() {
    const known = input.cache.get(input.name)
    if (known !== undefined) return known
    const file = modelFile(input.dir, input.name)
    const badName = nameIssue(input.name)
    if (badName !== undefined || resolveUnder(path.join(input.dir, "models"), `${input.name}.toml`) === undefined) {
      return yield* new ConfigError({ ...input.referrer, detail: badName ?? `model "${input.name}" is not a file in ${path.join(input.dir, "models")}` })
    }
    if (!fs.existsSync(file)) {
      return yield* new ConfigError({
        ...input.referrer,
        detail: `unknown model "${input.name}": ${file} does not exist (known: ${listNames(path.join(input.dir, "models"))})`
      })
    }
    const raw = yield* readToml(file, input.reads)
    const loaded = { raw, plain: yield* decodeModel(raw, file) }
    input.cache.set(input.name, loaded)
    return loaded
  })

/** Decode a model table: its header, then its hyperparameters with the detector's schema. */
export const decodeModel = (raw: Record<string, unknown>, file: string, overriddenBy?: string): Effect.Effect<ModelConfig, ConfigError> =>
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
      catch: (e) => new ConfigError({ file, keyPath: "detector", detail: e instanceof UnknownDetectorError ? e.message : String(e) })
    })
    const { detector: _d, description: _desc, threshold: _t, ...hyper } = raw
    const config = yield* decode(detector.configSchema, hyper, file, "", overriddenBy)
    return {
      detector: detector.tag,
      detector_version: detector.version,
      config,
      ...(header.threshold === undefined ? {} : { threshold: header.threshold })
    }
  })
