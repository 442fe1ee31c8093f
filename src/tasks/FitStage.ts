/**
 * Stage `fit`: train a detector on the sequences tagged train. The output is the detector's
 * JSON model, or an "invalid" result with its reason (e.g. a supervised detector given no
 * anomalies), which downstream metrics report instead of crashing. With a `threshold` other than
 * the detector's own, the last `validation_fraction` of the training sequences is held out: the
 * detector fits on the rest and the threshold is chosen on the held-out scores (never on test).
 */
import { Effect, Schema } from "effect"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import type { AnyDetector, DetectorInputs } from "../detectors/base/Detector.ts"
import { getDetector } from "../detectors/registry.ts"
import type { Representation } from "../artifacts/Representation.ts"
import { type ThresholdSpec, chooseThreshold } from "../eval/Thresholds.ts"
import { hasContext, withoutContext } from "../sequences/Context.ts"
import { SPLIT_TRAIN, type Sequences, type SplitSequences } from "../artifacts/Sequences.ts"
import type { LabelledSequences } from "../artifacts/Sequences.ts"
import { splitSequences } from "../artifacts/Sequences.ts"
import { defineStage, type StageContext } from "./Task.ts"
import { decodeValue, encodeValue } from "../cache/Codec.ts"
import type { FitOutput } from "../artifacts/Model.ts"
import { indexesWithTag } from "../artifacts/Sequences.ts"

const ValidationFraction = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMinimum: true, exclusiveMaximum: true })).pipe(
  Schema.withDecodingDefaultKey(Effect.succeed(0.2))
)
const K = Schema.Finite.check(Schema.isGreaterThan(0)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(3)))

/** How predictions follow from scores: the detector's own threshold, or one of the threshold kinds. */
export const ThresholdParams = Schema.Union([
  closedStruct({ kind: Schema.Literal("detector") }),
  closedStruct({ kind: Schema.Literal("fixed"), value: Schema.Finite }),
  closedStruct({
    kind: Schema.Literal("percentile"),
    percentile: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 100, exclusiveMinimum: true })),
    validation_fraction: ValidationFraction
  }),
  closedStruct({ kind: Schema.Literal("three_sigma"), k: K, validation_fraction: ValidationFraction }),
  closedStruct({ kind: Schema.Literal("mad"), k: K, validation_fraction: ValidationFraction }),
  closedStruct({ kind: Schema.Literal("best_f1"), validation_fraction: ValidationFraction })
])
export type ThresholdParams = typeof ThresholdParams.Type

/** Which detector, its code version and its decoded hyperparameters. */
export const DetectorParams = closedStruct({
  detector: Schema.NonEmptyString,
  detector_version: Schema.String,
  config: Schema.Unknown,
  /** The run's seed (the `run.seed` axis); part of the key so seeded runs never share a model. */
  seed: Schema.Int,
  threshold: Schema.optionalKey(ThresholdParams)
})
export type DetectorParams = typeof DetectorParams.Type

/** The checkpoint an earlier attempt left, decoded; one whose bytes do not decode is reported and ignored. */
const resumeOf = (ctx: StageContext): { step: number; state: unknown } | undefined => {
  const resume = ctx.checkpoint?.resume
  if (resume === undefined) return undefined
  try {
    return { step: resume.step, state: decodeValue(resume.bytes) }
  } catch (e) {
    ctx.progress(0, `checkpoint unusable (${e instanceof Error ? e.message : String(e)}); training from scratch`)
    return undefined
  }
}

const spec = (t: ThresholdParams): ThresholdSpec | undefined => {
  switch (t.kind) {
    case "detector":
      return undefined
    case "fixed":
      return { kind: "fixed", value: t.value }
    case "percentile":
      return { kind: "percentile", percentile: t.percentile }
    case "three_sigma":
      return { kind: "three_sigma", k: t.k }
    case "mad":
      return { kind: "mad", k: t.k }
    case "best_f1":
      return { kind: "best_f1" }
  }
}

/**
 * The sequences a detector is given: the split's, with stream chunks' context events for a
 * detector that reads them as history, without them for any other.
 */
export const detectorView = (labelled: LabelledSequences, split: SplitSequences, detector: AnyDetector): Sequences & { readonly context?: Int32Array } => {
  const seqs = splitSequences(labelled, split)
  const context = labelled.context
  if (!hasContext(context)) return seqs
  if (split.sequences !== undefined) {
    // The precheck refuses this combination before any stage runs; a cached split from elsewhere may not.
    throw new Error("the split cut sequences in two (straddle_policy split_partial), which stream chunks with continuous_context cannot follow")
  }
  return detector.readsContext === true ? { ...seqs, context } : withoutContext(seqs, context)
}

/** What fit and score hand a detector that `needs` representations. */
export const detectorInputs = (eventRows: Int32Array, reps: ReadonlyArray<Representation>): DetectorInputs | undefined =>
  reps.length === 0 ? undefined : { eventRows, representations: Object.fromEntries(reps.map((r) => [r.kind, r.value])) }

/** What fit (and, with the fit, score) read: the labelled, split sequences and the representations the detector `needs`. */
export type DetectorInputsOf = {
  readonly labelled: LabelledSequences
  readonly split: SplitSequences
  readonly representations?: ReadonlyArray<Representation>
}

export const fitStage = defineStage<DetectorParams, DetectorInputsOf, FitOutput>({
  name: "fit",
  version: "4",
  params: DetectorParams,
  cpu: true,
  // Only detectors with a long, resumable fit (DeepLog) checkpoint; the others skip the lookup.
  checkpoints: (params) => getDetector(params.detector).fitAsync !== undefined,
  run: async (params, { labelled, split, representations: reps = [] }, ctx): Promise<FitOutput> => {
    const detector = getDetector(params.detector)
    const seqs = detectorView(labelled, split, detector)
    const train = indexesWithTag(split.split, SPLIT_TRAIN)
    const inputs = detectorInputs(seqs.rows, reps)
    const fitOn = (rows: Int32Array) =>
      detector.fitAsync === undefined
        ? Promise.resolve(detector.fit(seqs, rows, params.config, inputs))
        : detector.fitAsync(seqs, rows, params.config, {
          inputs,
          progress: ctx.progress,
          resume: resumeOf(ctx),
          ...(ctx.checkpoint === undefined ? {} : { checkpoint: (step: number, state: unknown) => ctx.checkpoint!.save(step, encodeValue(state)) })
        })
    const s = params.threshold === undefined ? undefined : spec(params.threshold)
    if (s === undefined || s.kind === "fixed") {
      const fit = await fitOn(train)
      if (fit.status === "invalid" || s === undefined) return fit
      const chosen = chooseThreshold(s)
      return chosen.status === "ok" ? { ...fit, threshold: chosen.threshold } : chosen
    }
    // Hold out the last validation_fraction of the training sequences to choose the threshold on.
    const fraction = "validation_fraction" in params.threshold! ? params.threshold.validation_fraction : 0.2
    const nValidation = Math.floor(train.length * fraction + 1e-9)
    if (nValidation === 0 || nValidation === train.length) {
      return { status: "invalid", reason: `validation_fraction ${fraction} of ${train.length} training sequences leaves no validation or no fitting sequence` }
    }
    const fitPart = train.subarray(0, train.length - nValidation)
    const validation = train.subarray(train.length - nValidation)
    const fit = await fitOn(fitPart)
    if (fit.status === "invalid") return fit
    const scored = detector.scoreAsync === undefined
      ? detector.score(fit.model, seqs, validation, params.config, inputs)
      : await detector.scoreAsync(fit.model, seqs, validation, params.config, inputs)
    const labels = Int8Array.from(validation, (i) => seqs.labels[i]!)
    const chosen = chooseThreshold(s, { scores: scored.scores, labels, source: "validation" })
    return chosen.status === "ok" ? { ...fit, threshold: chosen.threshold } : chosen
  },
  summarize: (out, params) => ({
    detector: params.detector,
    config: params.config,
    status: out.status,
    ...(out.status === "invalid" ? { reason: out.reason } : {}),
    ...(out.status === "ok" && out.threshold !== undefined ? { threshold: out.threshold } : {}),
    ...(out.status === "ok" && out.report !== undefined ? { report: out.report } : {})
  })
})
