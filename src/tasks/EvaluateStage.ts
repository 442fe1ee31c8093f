/**
 * Stage `evaluate`: confusion counts, precision, recall, F1, accuracy, AUROC and AUPRC over the labelled
 * test sequences, in the dataset's primary scope (`sequence` for entities and sessions, `window`
 * for fixed and time windows, `stream` for stream chunks: the headline). Line-labelled logs also get
 * an `event` scope (each line predicted anomalous when a predicted-anomalous test window holds it;
 * diagnostic_only), and predictive detectors a `next_event` scope (top-k accuracy over the normal
 * test sequences). Every block carries a status (valid, invalid, not_applicable, diagnostic_only)
 * and its reason, and never a NaN.
 */
import { Effect, Schema } from "effect"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import { binaryMetrics, scoreMetrics } from "../eval/Metrics.ts"
import { LABEL_ANOMALY, LABEL_NORMAL, type SplitSequences } from "../artifacts/Sequences.ts"
import { splitSequences } from "../artifacts/Sequences.ts"
import type { LabelledSequences } from "../artifacts/Sequences.ts"
import type { ScoredSequences } from "../artifacts/Scores.ts"
import { defineStage } from "./Task.ts"
import type { MetricBlock, Metrics } from "../artifacts/Metrics.ts"

export const EvaluateParams = closedStruct({
  scope: Schema.Literals(["sequence", "window", "stream"]).pipe(Schema.withDecodingDefaultKey(Effect.succeed("sequence" as const)))
})
export type EvaluateParams = typeof EvaluateParams.Type

export const evaluateStage = defineStage<EvaluateParams, { readonly labelled: LabelledSequences; readonly split: SplitSequences; readonly scored: ScoredSequences }, Metrics>({
  name: "evaluate",
  version: "5",
  params: EvaluateParams,
  cpu: false,
  run: (params, { labelled, split, scored }) => {
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
    const scopes: Record<string, MetricBlock> = { [params.scope]: block }
    const event = eventScope(labelled, split, scored)
    if (event !== undefined) scopes.event = event
    if (scored.status === "ok" && scored.nextEvent !== undefined && scored.nextEvent.events > 0) {
      const ne = scored.nextEvent
      scopes.next_event = {
        scope: "next_event",
        status: "valid",
        evaluated_events: ne.events,
        top_k_accuracy: Object.fromEntries(ne.ks.map((k, j) => [`top_${k}`, ne.hits[j]! / ne.events]))
      }
    }
    if (scored.status === "ok" && scored.diagnostics !== undefined) {
      scopes.detector = { scope: "detector", status: "diagnostic_only", counts: scored.diagnostics }
    }
    return { headline: block, scopes }
  },
  summarize: (out) => out.headline
})

/** Per-line metrics for line-labelled logs: a line is predicted anomalous when any predicted-anomalous test sequence holds it. */
const eventScope = (labelled: LabelledSequences, split: SplitSequences, scored: ScoredSequences): MetricBlock | undefined => {
  const rowLabels = labelled.rowLabels
  if (rowLabels === undefined || scored.status !== "ok") return undefined
  const seqs = splitSequences(labelled, split)
  const predicted = new Int8Array(rowLabels.length).fill(-1)
  scored.which.forEach((s, j) => {
    for (let p = seqs.offsets[s]!; p < seqs.offsets[s + 1]!; p++) {
      const r = seqs.rows[p]!
      if (r >= 0 && r < predicted.length) predicted[r] = Math.max(predicted[r]!, scored.predictions[j]!)
    }
  })
  const rows: Array<number> = []
  for (let r = 0; r < predicted.length; r++) if (predicted[r]! >= 0) rows.push(r)
  if (rows.length === 0) return undefined
  const y = Int8Array.from(rows, (r) => rowLabels[r]!)
  const p = Uint8Array.from(rows, (r) => predicted[r]!)
  return {
    scope: "event",
    status: "diagnostic_only",
    reason: "line predictions are propagated from window predictions (a line is anomalous when a predicted-anomalous test window holds it)",
    evaluated: rows.length,
    ...binaryMetrics(y, p)
  }
}
