/**
 * What evaluating a run produces: metric blocks, each with a status (valid, invalid,
 * not_applicable, diagnostic_only) and never a NaN, and the headline block of the dataset's
 * primary scope. This is what `metrics.json` holds.
 */

/** Confusion matrix and the ratios derived from it. */
export interface BinaryMetrics {
  readonly tp: number
  readonly fp: number
  readonly tn: number
  readonly fn: number
  /** tp / (tp + fp); 0 when nothing was predicted anomalous. */
  readonly precision: number
  /** tp / (tp + fn); 0 when there are no anomalies. */
  readonly recall: number
  /** 2·tp / (2·tp + fp + fn), the harmonic mean of precision and recall; 0 when tp = 0. */
  readonly f1: number
  /** (tp + tn) / items; 0 when there are no labelled items. */
  readonly accuracy: number
}

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
  | ({ readonly scope: "event"; readonly status: "diagnostic_only"; readonly reason: string; readonly evaluated: number } & BinaryMetrics)
  | {
    readonly scope: "next_event"
    readonly status: "valid"
    readonly evaluated_events: number
    /** Top-k accuracy per k, over the events of the normal test sequences. */
    readonly top_k_accuracy: Readonly<Record<string, number>>
  }
  | {
    readonly scope: "detector"
    readonly status: "diagnostic_only"
    /** Detector-specific counts over the test split (DeepLog: anomalous events, unseen keys). */
    readonly counts: Readonly<Record<string, number>>
  }

export interface Metrics {
  readonly headline: MetricBlock
  readonly scopes: Readonly<Record<string, MetricBlock>>
}
