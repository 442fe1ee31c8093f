/**
 * What `flow analyze` computes over templated logs: how a log's template distribution compares
 * with a baseline's (cosine similarity, KL and Jensen-Shannon divergence, new and vanished
 * templates, the largest shifts), and when in the day and week each template is active
 * (hour-of-day and day-of-week profiles, with flags for unusual activity). Plain code over counts.
 *
 * Deviations of a count k from an expected count λ are measured with the Anscombe transform of
 * the Poisson, z = 2(√(k + 3/8) − √(λ + 3/8)), close to a standard normal for counts of a steady
 * rate; |z| >= `Z_FLAG` (4) is flagged.
 */

/** |z| from which a count is flagged as a burst or a silence. */
export const Z_FLAG = 4
/** The least count a burst or an activity at an unusual time needs. */
const MIN_BURST = 5
const MIN_UNUSUAL = 3

/** Anscombe z of a count against its expected value. */
export const anscombeZ = (k: number, lambda: number): number => 2 * (Math.sqrt(k + 0.375) - Math.sqrt(lambda + 0.375))

export interface DistributionComparison {
  readonly target_lines: number
  readonly baseline_lines: number
  readonly templates: { readonly target: number; readonly baseline: number; readonly shared: number }
  /** Cosine similarity of the count vectors (1: the same mix). */
  readonly cosine: number
  /** KL(target ‖ baseline) in nats, both smoothed with `smoothing` per template of the union. */
  readonly kl: number
  /** Jensen-Shannon divergence in nats (symmetric, at most ln 2), unsmoothed. */
  readonly js: number
  readonly smoothing: number
  /** Templates of the target the baseline never has, most frequent first. */
  readonly new_templates: ReadonlyArray<{ readonly template: string; readonly count: number; readonly share: number }>
  /** Templates of the baseline the target never has. */
  readonly vanished_templates: ReadonlyArray<{ readonly template: string; readonly count: number; readonly share: number }>
  /** The largest changes of share, either way. */
  readonly shifts: ReadonlyArray<{ readonly template: string; readonly target_share: number; readonly baseline_share: number; readonly change: number }>
}

/** Compare the target's template counts with the baseline's. */
export const compareDistributions = (target: ReadonlyMap<string, number>, baseline: ReadonlyMap<string, number>, smoothing = 0.5, top = 20): DistributionComparison => {
  const union = new Set([...target.keys(), ...baseline.keys()])
  const nT = [...target.values()].reduce((a, b) => a + b, 0)
  const nB = [...baseline.values()].reduce((a, b) => a + b, 0)
  let dot = 0
  let tt = 0
  let bb = 0
  let kl = 0
  let js = 0
  const zT = nT + smoothing * union.size
  const zB = nB + smoothing * union.size
  for (const t of union) {
    const a = target.get(t) ?? 0
    const b = baseline.get(t) ?? 0
    dot += a * b
    tt += a * a
    bb += b * b
    const p = (a + smoothing) / zT
    const q = (b + smoothing) / zB
    kl += p * Math.log(p / q)
    const pa = nT === 0 ? 0 : a / nT
    const pb = nB === 0 ? 0 : b / nB
    const m = (pa + pb) / 2
    if (pa > 0) js += 0.5 * pa * Math.log(pa / m)
    if (pb > 0) js += 0.5 * pb * Math.log(pb / m)
  }
  const share = (c: number, n: number) => (n === 0 ? 0 : c / n)
  const byCount = (a: { count: number; template: string }, b: { count: number; template: string }) => b.count - a.count || (a.template < b.template ? -1 : 1)
  return {
    target_lines: nT,
    baseline_lines: nB,
    templates: { target: target.size, baseline: baseline.size, shared: [...target.keys()].filter((t) => baseline.has(t)).length },
    cosine: tt === 0 || bb === 0 ? 0 : dot / Math.sqrt(tt * bb),
    kl,
    js,
    smoothing,
    new_templates: [...target].filter(([t]) => !baseline.has(t)).map(([template, count]) => ({ template, count, share: share(count, nT) })).sort(byCount),
    vanished_templates: [...baseline].filter(([t]) => !target.has(t)).map(([template, count]) => ({ template, count, share: share(count, nB) })).sort(byCount),
    shifts: [...union]
      .map((template) => {
        const target_share = share(target.get(template) ?? 0, nT)
        const baseline_share = share(baseline.get(template) ?? 0, nB)
        return { template, target_share, baseline_share, change: target_share - baseline_share }
      })
      .sort((a, b) => Math.abs(b.change) - Math.abs(a.change) || (a.template < b.template ? -1 : 1))
      .slice(0, top)
  }
}

/**
 * When each template is active: counts per hour of day (UTC) and day of week (0 = Monday) and per
 * clock hour, and how long the log covers each of those (its exposure, in seconds: a whole hour
 * for every clock hour with a line, except the first and last, covered from the first line and to
 * the last), so counts compare as rates and a partly covered hour is no burst.
 */
export class TemporalProfile {
  readonly hours = new Map<string, Float64Array>()
  readonly weekdays = new Map<string, Float64Array>()
  /** Per template: count per clock hour (hours since the epoch). */
  readonly buckets = new Map<string, Map<number, number>>()
  /** Lines per clock hour. */
  readonly bucketLines = new Map<number, number>()
  lines = 0
  untimed = 0
  private first = Number.POSITIVE_INFINITY
  private last = Number.NEGATIVE_INFINITY

  /** A line of `template` at `ms` (NaN: untimed, not profiled). */
  add(template: string, ms: number): void {
    if (!Number.isFinite(ms)) {
      this.untimed++
      return
    }
    this.lines++
    if (ms < this.first) this.first = ms
    if (ms > this.last) this.last = ms
    const bucket = Math.floor(ms / 3_600_000)
    const { hour, day } = slotOf(bucket)
    let h = this.hours.get(template)
    if (h === undefined) {
      this.hours.set(template, (h = new Float64Array(24)))
      this.weekdays.set(template, new Float64Array(7))
      this.buckets.set(template, new Map())
    }
    h[hour]!++
    this.weekdays.get(template)![day]!++
    const b = this.buckets.get(template)!
    b.set(bucket, (b.get(bucket) ?? 0) + 1)
    this.bucketLines.set(bucket, (this.bucketLines.get(bucket) ?? 0) + 1)
  }

  /** Seconds the log covers per clock hour, per hour of day and per day of week. */
  exposure(): { readonly buckets: Map<number, number>; readonly hours: Float64Array; readonly days: Float64Array } {
    const buckets = new Map<number, number>()
    const hours = new Float64Array(24)
    const days = new Float64Array(7)
    const firstBucket = Math.floor(this.first / 3_600_000)
    const lastBucket = Math.floor(this.last / 3_600_000)
    for (const bucket of this.bucketLines.keys()) {
      const from = Math.max(bucket * 3_600_000, this.first)
      const to = Math.min((bucket + 1) * 3_600_000, bucket === lastBucket ? this.last + 1000 : Number.POSITIVE_INFINITY)
      const seconds = bucket === firstBucket || bucket === lastBucket ? Math.max(1, (to - from) / 1000) : 3600
      buckets.set(bucket, seconds)
      const { hour, day } = slotOf(bucket)
      hours[hour]! += seconds
      days[day]! += seconds
    }
    return { buckets, hours, days }
  }
}

/** The hour of day (UTC) and day of week (Monday = 0) of a clock hour. */
const slotOf = (bucket: number): { readonly hour: number; readonly day: number } => {
  const date = Math.floor(bucket / 24)
  return { hour: bucket - date * 24, day: (((date + 3) % 7) + 7) % 7 } // 1970-01-01 was a Thursday
}

export interface TemporalFlag {
  readonly template: string
  /** burst / silence: far more or fewer lines than its rate predicts; unusual_hour / unusual_day: active when the baseline never had it; new_template: absent from the baseline. */
  readonly kind: "burst" | "silence" | "unusual_hour" | "unusual_day" | "new_template"
  /** What the count is of: an hour of the day, a day of the week, a clock hour (ISO start), or the whole log. */
  readonly at: string
  readonly count: number
  readonly expected: number | null
  readonly z: number | null
}

const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
const hourName = (h: number) => `${String(h).padStart(2, "0")}:00-${String(h).padStart(2, "0")}:59 UTC`

/**
 * Unusual activity of the target, as rates over the time each log covers. Against a baseline: per
 * template and hour of day (and day of week) both logs cover, the target's count against the
 * baseline's rate in that slot times the target's seconds in it; activity (3 or more lines) in a
 * slot the baseline covered but never had this template in; templates the baseline never has.
 * Without one: per template and clock hour, its count against its rate over the log's other clock
 * hours times that hour's seconds (needs three or more clock hours).
 */
export const temporalFlags = (target: TemporalProfile, baseline?: TemporalProfile): Array<TemporalFlag> => {
  const flags: Array<TemporalFlag> = []
  const deviation = (template: string, at: string, k: number, lambda: number) => {
    const z = anscombeZ(k, lambda)
    if (z >= Z_FLAG && k >= MIN_BURST) flags.push({ template, kind: "burst", at, count: k, expected: Number(lambda.toFixed(3)), z: Number(z.toFixed(2)) })
    else if (z <= -Z_FLAG) flags.push({ template, kind: "silence", at, count: k, expected: Number(lambda.toFixed(3)), z: Number(z.toFixed(2)) })
  }
  const te = target.exposure()
  if (baseline !== undefined) {
    const be = baseline.exposure()
    const templates = new Set([...target.hours.keys(), ...baseline.hours.keys()])
    for (const t of [...templates].sort()) {
      const th = target.hours.get(t)
      const bh = baseline.hours.get(t)
      if (bh === undefined) {
        flags.push({ template: t, kind: "new_template", at: "log", count: th!.reduce((a, b) => a + b, 0), expected: 0, z: null })
        continue
      }
      const parts: ReadonlyArray<[ArrayLike<number> | undefined, ArrayLike<number>, Float64Array, Float64Array, "unusual_hour" | "unusual_day", (i: number) => string]> = [
        [th, bh, te.hours, be.hours, "unusual_hour", hourName],
        [target.weekdays.get(t), baseline.weekdays.get(t)!, te.days, be.days, "unusual_day", (d) => DAYS[d]!]
      ]
      for (const [tc, bc, tSeconds, bSeconds, unusual, name] of parts) {
        for (let i = 0; i < bc.length; i++) {
          if (bSeconds[i] === 0 || tSeconds[i] === 0) continue // a slot only one of the logs covers
          const k = tc?.[i] ?? 0
          if (bc[i] === 0) {
            if (k >= MIN_UNUSUAL) flags.push({ template: t, kind: unusual, at: name(i), count: k, expected: 0, z: null })
            continue
          }
          deviation(t, name(i), k, (bc[i]! / bSeconds[i]!) * tSeconds[i]!)
        }
      }
    }
    return flags
  }
  if (te.buckets.size < 3) return flags
  let covered = 0
  for (const seconds of te.buckets.values()) covered += seconds
  for (const [t, buckets] of [...target.buckets].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const own = [...buckets.values()].reduce((a, b) => a + b, 0)
    for (const [bucket, seconds] of [...te.buckets].sort((a, b) => a[0] - b[0])) {
      const k = buckets.get(bucket) ?? 0
      const lambda = ((own - k) / (covered - seconds)) * seconds
      const z = anscombeZ(k, lambda)
      if (z >= Z_FLAG && k >= MIN_BURST) flags.push({ template: t, kind: "burst", at: new Date(bucket * 3_600_000).toISOString(), count: k, expected: Number(lambda.toFixed(3)), z: Number(z.toFixed(2)) })
    }
  }
  return flags
}
