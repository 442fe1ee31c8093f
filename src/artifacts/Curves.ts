/**
 * Training curves, as every iterative detector reports them (`FitResult.report.curves`) and as a
 * result folder's `curves.jsonl` holds them: one point per split, metric and position, the
 * position on named x-axes (`epoch`, `step`: optimisation steps or iterations counted from 1,
 * `samples`: training examples seen), whichever the detector knows.
 */

export type CurveSplit = "train" | "validation"

export interface CurvePoint {
  readonly split: CurveSplit
  /** What is measured, e.g. `loss`, `objective`, `top_g_accuracy`. */
  readonly metric: string
  readonly epoch?: number
  readonly step?: number
  readonly samples?: number
  readonly value: number
}

/** The x-axes a point may carry, in the order a chart prefers them. */
export const CURVE_AXES = ["epoch", "step", "samples"] as const
export type CurveAxis = (typeof CURVE_AXES)[number]

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v)
const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v)

/** Whether `v` is a well-formed curve point. */
export const isCurvePoint = (v: unknown): v is CurvePoint =>
  isRecord(v) && (v.split === "train" || v.split === "validation") && typeof v.metric === "string" && finite(v.value) &&
  CURVE_AXES.some((a) => finite(v[a])) && CURVE_AXES.every((a) => v[a] === undefined || finite(v[a]))

/**
 * A report's `curves` as points: points pass as they are; DeepLog's per-epoch records (`epoch`,
 * `train_loss`, `validation_loss`, `validation_top_g`, `steps` that epoch) become a train loss and
 * validation loss and top-g accuracy point per epoch, with the steps counted across epochs.
 * Anything else is dropped.
 */
export const curvePoints = (curves: ReadonlyArray<unknown>): Array<CurvePoint> => {
  const out: Array<CurvePoint> = []
  let steps = 0
  for (const c of curves) {
    if (isCurvePoint(c)) {
      out.push(c)
      continue
    }
    if (!isRecord(c) || !finite(c.epoch)) continue
    if (finite(c.steps)) steps += c.steps
    const at = { epoch: c.epoch, ...(finite(c.steps) ? { step: steps } : {}) }
    if (finite(c.train_loss)) out.push({ split: "train", metric: "loss", ...at, value: c.train_loss })
    if (finite(c.validation_loss)) out.push({ split: "validation", metric: "loss", ...at, value: c.validation_loss })
    if (finite(c.validation_top_g)) out.push({ split: "validation", metric: "top_g_accuracy", ...at, value: c.validation_top_g })
  }
  return out
}
