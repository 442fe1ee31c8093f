/**
 * Stage `fit`: train a detector on the sequences tagged train. The output is the detector's
 * JSON model, or an "invalid" result with its reason (e.g. a supervised detector given no
 * anomalies), which downstream metrics report instead of crashing.
 */
import { Schema } from "effect"
import { closedStruct } from "../config/ClosedStruct.ts"
import type { FitResult } from "../detectors/Detector.ts"
import { getDetector } from "../detectors/registry.ts"
import { SPLIT_TRAIN, type SplitSequences } from "./Artifacts.ts"
import type { LabelledSequences } from "./LabelStage.ts"
import { splitSequences } from "./SplitStage.ts"
import { defineStage } from "./Task.ts"

/** Which detector, its code version and its decoded hyperparameters. */
export const DetectorParams = closedStruct({
  detector: Schema.NonEmptyString,
  detector_version: Schema.String,
  config: Schema.Unknown,
  /** The run's seed (the `run.seed` axis); part of the key so seeded runs never share a model. */
  seed: Schema.Int
})
export type DetectorParams = typeof DetectorParams.Type

/** Indexes of the sequences with split tag `tag`. */
export const indexesWithTag = (split: Uint8Array, tag: number): Int32Array => {
  let n = 0
  for (let i = 0; i < split.length; i++) if (split[i] === tag) n++
  const out = new Int32Array(n)
  for (let i = 0, j = 0; i < split.length; i++) if (split[i] === tag) out[j++] = i
  return out
}

export const fitStage = defineStage<DetectorParams, readonly [LabelledSequences, SplitSequences], FitResult<unknown>>({
  name: "fit",
  version: "1",
  params: DetectorParams,
  cpu: true,
  run: (params, [labelled, split]) => {
    const detector = getDetector(params.detector)
    const train = indexesWithTag(split.split, SPLIT_TRAIN)
    return detector.fit(splitSequences(labelled, split), train, params.config)
  },
  summarize: (out, params) => ({
    detector: params.detector,
    config: params.config,
    status: out.status,
    ...(out.status === "invalid" ? { reason: out.reason } : {})
  })
})
