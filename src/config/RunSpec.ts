/**
 * A concrete run, as the registry expands it: an experiment applied to one model and one point of
 * its axes, with its dataset and model configs fully resolved. What the plan turns into stages.
 */
import { Effect, Schema } from "effect"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import type { DatasetConfig } from "./Dataset.ts"
import type { ModelConfig } from "./Model.ts"

/** Run-level settings (the `run.` axis root). */
export const RunSettings = closedStruct({
  seed: Schema.Int.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0)))
})
export type RunSettings = typeof RunSettings.Type

/** One concrete run. */
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
