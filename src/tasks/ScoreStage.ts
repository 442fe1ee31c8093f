/**
 * Stage `score`: apply a fitted detector to the test sequences. Output: the scored indexes,
 * their scores and 0/1 predictions and the threshold, or the fit's invalid reason passed on.
 */
import { getDetector } from "../detectors/registry.ts"
import { SPLIT_TEST, type SplitSequences } from "./Artifacts.ts"
import { applyThreshold } from "../eval/Thresholds.ts"
import { DetectorParams, indexesWithTag, type FitOutput } from "./FitStage.ts"
import type { LabelledSequences } from "./LabelStage.ts"
import { splitSequences } from "./SplitStage.ts"
import { defineStage } from "./Task.ts"

/** Scores of the test split, aligned with `which`. */
export type ScoredSequences =
  | {
    readonly status: "ok"
    readonly which: Int32Array
    readonly scores: Float64Array
    readonly predictions: Uint8Array
    readonly threshold: number
    /** How the threshold was chosen, when not by the detector itself. */
    readonly thresholdBasis?: string
  }
  | { readonly status: "invalid"; readonly reason: string }

export const scoreStage = defineStage<
  DetectorParams,
  readonly [LabelledSequences, SplitSequences, FitOutput],
  ScoredSequences
>({
  name: "score",
  version: "2",
  params: DetectorParams,
  cpu: true,
  run: (params, [labelled, split, fit]) => {
    if (fit.status === "invalid") return { status: "invalid", reason: fit.reason }
    const which = indexesWithTag(split.split, SPLIT_TEST)
    const out = getDetector(params.detector).score(fit.model, splitSequences(labelled, split), which, params.config)
    if (fit.threshold !== undefined) {
      const t = fit.threshold
      return { status: "ok", which, scores: out.scores, predictions: applyThreshold(out.scores, t.value), threshold: t.value, thresholdBasis: t.basis }
    }
    return { status: "ok", which, scores: out.scores, predictions: out.predictions, threshold: out.threshold }
  },
  summarize: (out) =>
    out.status === "ok"
      ? { status: "ok", scored: out.which.length, threshold: out.threshold }
      : { status: "invalid", reason: out.reason }
})
