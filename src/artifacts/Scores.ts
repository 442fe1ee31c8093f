/**
 * What scoring the test split produces: a score and a 0/1 prediction per scored sequence, the
 * threshold behind them, and, for predictive detectors, top-k next-event hits.
 */

/** Top-k next-event hits: `hits[j]` events had their true next event in the top `ks[j]`. */
export interface NextEventHits {
  readonly ks: ReadonlyArray<number>
  readonly events: number
  readonly hits: ReadonlyArray<number>
}

/** Scores of the test split, aligned with `which` (the score stage's output), or the fit's invalid reason. */
export type ScoredSequences =
  | {
    readonly status: "ok"
    readonly which: Int32Array
    readonly scores: Float64Array
    readonly predictions: Uint8Array
    readonly threshold: number
    /** How the threshold was chosen, when not by the detector itself. */
    readonly thresholdBasis?: string
    /** Predictive detectors: top-k next-event hits over the normal test sequences. */
    readonly nextEvent?: NextEventHits
    /** Detector-specific diagnostic counts (DeepLog: anomalous and unseen events). */
    readonly diagnostics?: Readonly<Record<string, number>>
  }
  | { readonly status: "invalid"; readonly reason: string }
