/**
 * Summary statistics of repeated measurements (one metric over the seeds of one setting): n, mean,
 * sample standard deviation (n - 1), standard error of the mean, the 95% confidence interval of
 * the mean from Student's t, min and max. With one value there is no spread: std, SEM and the
 * interval are null.
 */

export interface Summary {
  readonly n: number
  readonly mean: number
  readonly std: number | null
  readonly sem: number | null
  readonly ciLow: number | null
  readonly ciHigh: number | null
  readonly min: number
  readonly max: number
}

/**
 * Two-sided 95% quantiles of Student's t (t_{0.975}) by degrees of freedom, 1-30, then 40, 60 and
 * 120 (standard tables); between rows the lower row's (larger, so conservative) value is used,
 * beyond 120 the normal 1.960.
 */
const T975: ReadonlyArray<readonly [number, number]> = [
  [1, 12.706], [2, 4.303], [3, 3.182], [4, 2.776], [5, 2.571], [6, 2.447], [7, 2.365], [8, 2.306], [9, 2.262], [10, 2.228],
  [11, 2.201], [12, 2.179], [13, 2.16], [14, 2.145], [15, 2.131], [16, 2.12], [17, 2.11], [18, 2.101], [19, 2.093], [20, 2.086],
  [21, 2.08], [22, 2.074], [23, 2.069], [24, 2.064], [25, 2.06], [26, 2.056], [27, 2.052], [28, 2.048], [29, 2.045], [30, 2.042],
  [40, 2.021], [60, 2], [120, 1.98]
]

/** t_{0.975} for `df` degrees of freedom (df >= 1). */
export const t975 = (df: number): number => {
  if (!(df >= 1)) throw new Error(`t975: degrees of freedom must be >= 1, got ${df}`)
  if (df > 120) return 1.96
  let value = T975[0]![1]
  for (const [d, t] of T975) {
    if (d > df) break
    value = t
  }
  return value
}

/** The summary of `values` (finite numbers; throws on none). */
export const summarize = (values: ReadonlyArray<number>): Summary => {
  const n = values.length
  if (n === 0) throw new Error("summarize: no values")
  let sum = 0
  let min = Infinity
  let max = -Infinity
  for (const v of values) {
    sum += v
    if (v < min) min = v
    if (v > max) max = v
  }
  const mean = sum / n
  if (n === 1) return { n, mean, std: null, sem: null, ciLow: null, ciHigh: null, min, max }
  let squares = 0
  for (const v of values) squares += (v - mean) ** 2
  const std = Math.sqrt(squares / (n - 1))
  const sem = std / Math.sqrt(n)
  const half = t975(n - 1) * sem
  return { n, mean, std, sem, ciLow: mean - half, ciHigh: mean + half, min, max }
}
