/**
 * Two groups of seeded runs compared on one metric (`flow results compare`): the difference of
 * means (B - A) with a percentile bootstrap 95% interval, a two-sided permutation test of that
 * difference, the Mann-Whitney U statistic with its two-sided p-value from the permutation
 * distribution of U (midranks for ties), and the two-sample Kolmogorov-Smirnov statistic D (as
 * dr_gen reports it). Both tests enumerate every split of the pooled values when there are at most
 * `maxExact` of them (exact), else draw `permutations` random splits (seeded); the bootstrap is
 * seeded too, so a comparison prints the same numbers every time.
 */

export interface Comparison {
  readonly nA: number
  readonly nB: number
  readonly meanA: number
  readonly meanB: number
  /** meanB - meanA. */
  readonly difference: number
  readonly bootstrap: { readonly low: number; readonly high: number; readonly resamples: number }
  readonly permutation: { readonly p: number; readonly exact: boolean; readonly splits: number }
  readonly mannWhitney: { readonly u: number; readonly p: number; readonly exact: boolean }
  readonly ks: number
}

export interface CompareOptions {
  readonly resamples?: number
  readonly permutations?: number
  readonly maxExact?: number
  readonly seed?: number
}

/** mulberry32: a small seeded generator of floats in [0, 1). */
const generator = (seed: number): (() => number) => {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const mean = (xs: ReadonlyArray<number>): number => xs.reduce((s, x) => s + x, 0) / xs.length

/** Midranks (1-based) of `values`: tied values share the mean of their ranks. */
export const midranks = (values: ReadonlyArray<number>): Array<number> => {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0])
  const ranks = new Array<number>(values.length)
  for (let i = 0; i < order.length;) {
    let j = i
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++
    for (let k = i; k <= j; k++) ranks[order[k]![1]] = (i + j) / 2 + 1
    i = j + 1
  }
  return ranks
}

/** The two-sample Kolmogorov-Smirnov statistic: the largest gap between the two empirical CDFs. */
export const ksStatistic = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number => {
  const xs = [...new Set([...a, ...b])].sort((x, y) => x - y)
  let d = 0
  for (const x of xs) {
    const fa = a.filter((v) => v <= x).length / a.length
    const fb = b.filter((v) => v <= x).length / b.length
    d = Math.max(d, Math.abs(fa - fb))
  }
  return d
}

const binomial = (n: number, k: number): number => {
  let r = 1
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i
  return Math.round(r)
}

/** Compare `b` against `a` (each at least one value). */
export const compareSamples = (a: ReadonlyArray<number>, b: ReadonlyArray<number>, options: CompareOptions = {}): Comparison => {
  if (a.length === 0 || b.length === 0) throw new Error("compareSamples: each group needs at least one value")
  const resamples = options.resamples ?? 10_000
  const permutations = options.permutations ?? 10_000
  const maxExact = options.maxExact ?? 100_000
  const random = generator(options.seed ?? 1)
  const nA = a.length
  const nB = b.length
  const meanA = mean(a)
  const meanB = mean(b)
  const difference = meanB - meanA

  // Percentile bootstrap of the difference of means, each group resampled with replacement.
  const diffs = new Float64Array(resamples)
  for (let r = 0; r < resamples; r++) {
    let sa = 0
    let sb = 0
    for (let i = 0; i < nA; i++) sa += a[Math.floor(random() * nA)]!
    for (let i = 0; i < nB; i++) sb += b[Math.floor(random() * nB)]!
    diffs[r] = sb / nB - sa / nA
  }
  diffs.sort()
  const at = (q: number) => diffs[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))]!

  // Splits of the pooled values into a B part of nB and an A part of nA: the difference of means
  // and U of each, against the observed ones.
  const pooled = [...a, ...b]
  const ranks = midranks(pooled)
  const n = pooled.length
  const total = pooled.reduce((s, x) => s + x, 0)
  const uOf = (rankSum: number) => rankSum - (nB * (nB + 1)) / 2
  const uObserved = uOf(ranks.slice(nA).reduce((s, r) => s + r, 0))
  const uCentre = (nA * nB) / 2
  const eps = 1e-12 * Math.max(1, Math.abs(difference))
  let extremeDiff = 0
  let extremeU = 0
  let splits = 0
  const visit = (sum: number, rankSum: number) => {
    splits++
    const d = sum / nB - (total - sum) / nA
    if (Math.abs(d) >= Math.abs(difference) - eps) extremeDiff++
    if (Math.abs(uOf(rankSum) - uCentre) >= Math.abs(uObserved - uCentre) - 1e-9) extremeU++
  }
  const exact = binomial(n, nB) <= maxExact
  if (exact) {
    const walk = (from: number, left: number, sum: number, rankSum: number): void => {
      if (left === 0) return visit(sum, rankSum)
      for (let i = from; i <= n - left; i++) walk(i + 1, left - 1, sum + pooled[i]!, rankSum + ranks[i]!)
    }
    walk(0, nB, 0, 0)
  } else {
    const index = pooled.map((_, i) => i)
    for (let r = 0; r < permutations; r++) {
      let sum = 0
      let rankSum = 0
      for (let i = 0; i < nB; i++) {
        const j = i + Math.floor(random() * (n - i))
        const t = index[i]!
        index[i] = index[j]!
        index[j] = t
        sum += pooled[index[i]!]!
        rankSum += ranks[index[i]!]!
      }
      visit(sum, rankSum)
    }
  }
  // Random splits: the observed one counts too ((k + 1) / (N + 1)), so p is never 0.
  const p = (k: number) => (exact ? k / splits : (k + 1) / (splits + 1))
  return {
    nA,
    nB,
    meanA,
    meanB,
    difference,
    bootstrap: { low: at(0.025), high: at(0.975), resamples },
    permutation: { p: p(extremeDiff), exact, splits },
    mannWhitney: { u: uObserved, p: p(extremeU), exact },
    ks: ksStatistic(a, b)
  }
}
