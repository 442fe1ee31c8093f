/**
 * The threshold rule several detectors share: the nearest-rank quantile q of the training scores
 * (sorted ascending s[0..n-1], threshold = s[ceil(q·n) − 1]; q = 1 gives the maximum), and the
 * config key that sets q.
 */
import { Effect, Schema } from "effect"

/** `threshold_quantile`: a number in (0, 1], `fallback` when absent. */
export const thresholdQuantileKey = (fallback: number) =>
  Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMinimum: true })).pipe(Schema.withDecodingDefaultKey(Effect.succeed(fallback)))

/** The nearest-rank quantile `q` of ascending `sorted` (at least one value). */
export const nearestRank = (sorted: ArrayLike<number>, q: number): number => sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!
