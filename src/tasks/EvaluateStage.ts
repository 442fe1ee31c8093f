/**
 * Stage `evaluate`: confusion counts, precision, recall, F1, accuracy, AUROC and AUPRC over the labelled
 * test sequences. The result always carries a status: valid, invalid (the detector could not be
 * fitted) or not_applicable (no labelled test sequence), with its reason, and never a NaN.
 */
import { Effect, Schema } from "effect"
import { closedStruct } from "../config/ClosedStruct.ts"
import { binaryMetrics, scoreMetrics, type BinaryMetrics } from "../eval/Metrics.ts"
import { LABEL_ANOMALY, LABEL_NORMAL, type SplitSequences } from "./Artifacts.ts"
import { splitSequences } from "./SplitStage.ts"
import type { LabelledSequences } from "./LabelStage.ts"
import type { ScoredSequences } from "./ScoreStage.ts"
import { defineStage } from "./Task.ts"

export const EvaluateParams = closedStruct({
  scope: Schema.Literal("sequence").pipe(Schema.withDecodingDefaultKey(Effect.succeed("sequence" as const)))
})
export type EvaluateParams = typeof EvaluateParams.Type

/** One metric block. */
export type MetricBlock =
  | ({
    readonly scope: string
    readonly status: "valid"
    readonly threshold: number
    /** How the threshold was chosen, when not by the detector itself. */
    readonly threshold_basis?: string
    readonly evaluated: number
    /** Threshold-free, from the scores; null with `threshold_free_reason` when undefined (one class only). */
    readonly auroc: number | null
    readonly auprc: number | null
    readonly threshold_free_reason?: string
  } & BinaryMetrics)
  | { readonly scope: string; readonly status: "invalid" | "not_applicable"; readonly reason: string }

export interface Metrics {
  readonly headline: MetricBlock
  readonly scopes: Readonly<Record<string, MetricBlock>>
}

export const evaluateStage = defineStage<EvaluateParams, readonly [LabelledSequences, SplitSequences, ScoredSequences], Metrics>({
  name: "evaluate",
  version: "3",
  params: EvaluateParams,
  cpu: false,
  run: (params, [labelled, split, scored]) => {
    const block = ((): MetricBlock => {
      if (scored.status === "invalid") return { scope: params.scope, status: "invalid", reason: scored.reason }
      const labels = splitSequences(labelled, split).labels
      const labelledIdx: Array<number> = []
      const labelledPos: Array<number> = []
      scored.which.forEach((seq, j) => {
        if (labels[seq] === LABEL_NORMAL || labels[seq] === LABEL_ANOMALY) {
          labelledIdx.push(seq)
          labelledPos.push(j)
        }
      })
      if (labelledIdx.length === 0) {
        return { scope: params.scope, status: "not_applicable", reason: "no labelled sequence in the test split" }
      }
      const y = Int8Array.from(labelledIdx, (i) => labels[i]!)
      const p = Uint8Array.from(labelledPos, (j) => scored.predictions[j]!)
      const sc = Float64Array.from(labelledPos, (j) => scored.scores[j]!)
      const free = scoreMetrics(y, sc)
      const reason = free.auroc.value === null ? free.auroc.reason : free.auprc.value === null ? free.auprc.reason : undefined
      return {
        scope: params.scope,
        status: "valid",
        threshold: scored.threshold,
        evaluated: y.length,
        ...binaryMetrics(y, p),
        ...(scored.thresholdBasis === undefined ? {} : { threshold_basis: scored.thresholdBasis }),
        auroc: free.auroc.value,
        auprc: free.auprc.value,
        ...(reason === undefined ? {} : { threshold_free_reason: reason })
      }
    })()
    return { headline: block, scopes: { [params.scope]: block } }
  },
  summarize: (out) => out.headline
})
