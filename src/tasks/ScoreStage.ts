/**
 * Stage `score`: apply a fitted detector to the test sequences. Output: the scored indexes,
 * their scores and 0/1 predictions and the threshold, or the fit's invalid reason passed on.
 */
import { getDetector } from "../detectors/registry.ts"
import { SPLIT_TEST } from "../artifacts/Sequences.ts"
import { applyThreshold } from "../eval/Thresholds.ts"
import { LABEL_NORMAL } from "../artifacts/Sequences.ts"
import { DetectorParams, detectorInputs, type DetectorInputsOf, detectorView } from "./FitStage.ts"
import type { FitOutput } from "../artifacts/Model.ts"
import { indexesWithTag } from "../artifacts/Sequences.ts"
import { defineStage } from "./Task.ts"
import type { ScoredSequences } from "../artifacts/Scores.ts"

/** The k of the top-k next-event accuracies reported for predictive detectors (DeepLog's g = 9 among them). */
export const TOP_K: ReadonlyArray<number> = [1, 3, 5, 9]

export const scoreStage = defineStage<
  DetectorParams,
  DetectorInputsOf & { readonly fit: FitOutput },
  ScoredSequences
>({
  name: "score",
  version: "6",
  params: DetectorParams,
  cpu: true,
  run: async (params, { labelled, split, fit, representations: reps = [] }): Promise<ScoredSequences> => {
    if (fit.status === "invalid") return { status: "invalid", reason: fit.reason }
    const which = indexesWithTag(split.split, SPLIT_TEST)
    const detector = getDetector(params.detector)
    const seqs = detectorView(labelled, split, detector)
    const inputs = detectorInputs(seqs.rows, reps)
    // Next-event accuracy over the normal test sequences comes with the scores (one pass over the
    // model); a detector that does not answer the request but predicts next events is asked apart.
    const normalTest = which.filter((i) => seqs.labels[i] === LABEL_NORMAL)
    const request = { which: normalTest, ks: TOP_K }
    const out = detector.scoreAsync === undefined
      ? detector.score(fit.model, seqs, which, params.config, inputs, request)
      : await detector.scoreAsync(fit.model, seqs, which, params.config, inputs, request)
    const nextEvent = out.nextEvent ?? (detector.predictNextAsync !== undefined
      ? await detector.predictNextAsync(fit.model, seqs, normalTest, TOP_K)
      : detector.predictNext?.(fit.model, seqs, normalTest, TOP_K))
    const extra = {
      ...(nextEvent === undefined ? {} : { nextEvent }),
      ...(out.diagnostics === undefined ? {} : { diagnostics: out.diagnostics })
    }
    if (fit.threshold !== undefined) {
      const t = fit.threshold
      return { status: "ok", which, scores: out.scores, predictions: applyThreshold(out.scores, t.value), threshold: t.value, thresholdBasis: t.basis, ...extra }
    }
    return { status: "ok", which, scores: out.scores, predictions: out.predictions, threshold: out.threshold, ...extra }
  },
  summarize: (out) =>
    out.status === "ok"
      ? { status: "ok", scored: out.which.length, threshold: out.threshold }
      : { status: "invalid", reason: out.reason }
})
