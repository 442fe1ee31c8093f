/**
 * What fitting a detector produces: its model (plain data: JSON values or typed arrays, cached
 * with the binary codec) or the reason the training set cannot produce one, and the decision
 * threshold chosen for it when it is not the detector's own.
 */

/** Outcome of a detector's `fit`: a model, or the reason the training set cannot produce one. */
export type FitResult<Model> =
  | {
    readonly status: "ok"
    readonly model: Model
    /** A small JSON report for the run's manifest (e.g. training curves under `curves`, one point per epoch). */
    readonly report?: Readonly<Record<string, unknown>>
  }
  | { readonly status: "invalid"; readonly reason: string }

/** The ways a threshold is chosen from scores (config spelling). */
export type ThresholdKind = "fixed" | "percentile" | "three_sigma" | "mad" | "best_f1"

/** A chosen threshold and how it was obtained. */
export interface Threshold {
  readonly kind: ThresholdKind
  /** Anomalous iff score > value. */
  readonly value: number
  /** How the value was derived, in words (kind, statistic, how many scores, which split). */
  readonly basis: string
  /** True when labels chose the value beyond selecting normal scores (best_f1): report it as validation-tuned. */
  readonly tunedOnLabels: boolean
  /** best_f1 only: the F1 the threshold reaches on the validation scores it was tuned on. */
  readonly validationF1?: number
}

/** A fitted model (with the threshold chosen for it, when not the detector's own), or why there is none (the fit stage's output). */
export type FitOutput =
  | { readonly status: "ok"; readonly model: unknown; readonly threshold?: Threshold; readonly report?: Readonly<Record<string, unknown>> }
  | { readonly status: "invalid"; readonly reason: string }
