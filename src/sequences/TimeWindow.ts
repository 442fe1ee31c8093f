/**
 * Time windows over parsed rows: tumbling (step = span) or sliding (step < span) windows of
 * `spanMs` milliseconds starting every `stepMs`, anchored at the earliest timestamp. Use it for
 * line-labelled logs whose natural unit is a period of time (BGL, Thunderbird: loglizer's
 * "sliding windows" of, e.g., 6 h every 1 h). Needs `ParsedLog.timestamps`.
 */
import { growInt32 } from "../artifacts/Columns.ts"
import type { ParsedLog, TemplatedLog } from "../artifacts/Log.ts"
import type { Sequences } from "../artifacts/Sequences.ts"
import { LABEL_UNKNOWN } from "../artifacts/Sequences.ts"
import { prefixedIntegerIds } from "./Ids.ts"

/** Options of `timeWindows`; config spelling in brackets. */
export interface TimeWindowOptions {
  /** Window length in milliseconds, integer >= 1 [`time_span_ms`]. */
  readonly spanMs: number
  /** Milliseconds between window starts, integer >= 1 [`step_ms`]. */
  readonly stepMs: number
}

/** Time windows and how many rows had no timestamp (those are in no window). */
export interface TimeWindows {
  readonly sequences: Sequences
  readonly untimed: number
}

/**
 * Window k covers times [t0 + k·stepMs, t0 + k·stepMs + spanMs), t0 = the smallest timestamp;
 * it holds the rows whose timestamp falls in it, in log (row) order. Only windows holding a row
 * are kept, ordered by start time. Rows whose timestamp is NaN belong to no window and are
 * counted in `untimed`; with step > span, rows between windows belong to none either. Ids are
 * `t<floor(start ms)>`. Throws naming `time_span_ms` when the log has no timestamps at all.
 */
export const timeWindows = (parsed: ParsedLog, templated: TemplatedLog, opts: TimeWindowOptions): TimeWindows => {
  validateInt("time_span_ms", opts.spanMs)
  validateInt("step_ms", opts.stepMs)
  const n = parsed.lineNo.length
  if (templated.templateIds.length !== n) {
    throw new Error(`timeWindows: templateIds has ${templated.templateIds.length} rows but the parsed log has ${n}`)
  }
  const ts = parsed.timestamps
  if (ts === undefined) {
    throw new Error("timeWindows: time_span_ms needs per-row timestamps, but this parsed log has none (its format has no time field)")
  }
  if (ts.length !== n) throw new Error(`timeWindows: timestamps has ${ts.length} rows but the parsed log has ${n}`)

  // Timed rows in time order (row order breaks ties); no sort when the log is already ordered.
  let timed = 0
  let ordered = true
  let last = Number.NEGATIVE_INFINITY
  for (let row = 0; row < n; row++) {
    const t = ts[row]!
    if (Number.isNaN(t)) continue
    timed++
    if (t < last) ordered = false
    last = t
  }
  if (timed === 0 && n > 0) throw new Error(`timeWindows: time_span_ms needs timestamps, but none of the ${n} parsed rows has a parseable time`)
  const order = new Int32Array(timed)
  for (let row = 0, at = 0; row < n; row++) if (!Number.isNaN(ts[row]!)) order[at++] = row
  if (!ordered) order.sort((a, b) => ts[a]! - ts[b]! || a - b)
  const times = new Float64Array(timed)
  for (let i = 0; i < timed; i++) times[i] = ts[order[i]!]!

  // Pass 1: for each non-empty window, its range [lo, hi) in `order`. Empty windows are jumped over.
  const { spanMs: span, stepMs: step } = opts
  const t0 = timed > 0 ? times[0]! : 0
  let ks = new Float64Array(64)
  let lows = new Int32Array(64)
  let highs = new Int32Array(64)
  let count = 0
  let total = 0
  let lo = 0
  let hi = 0
  for (let k = 0; lo < timed; ) {
    const start = t0 + k * step
    while (lo < timed && times[lo]! < start) lo++
    if (lo === timed) break
    if (times[lo]! >= start + span) {
      k = Math.max(k + 1, Math.floor((times[lo]! - t0 - span) / step) + 1)
      continue
    }
    if (hi < lo) hi = lo
    while (hi < timed && times[hi]! < start + span) hi++
    if (count === ks.length) {
      ks = growF64(ks)
      lows = growInt32(lows)
      highs = growInt32(highs)
    }
    ks[count] = Math.floor(start)
    lows[count] = lo
    highs[count] = hi
    count++
    total += hi - lo
    if (total > 0x7fffffff) {
      throw new Error(`timeWindows: time_span_ms ${span} / step_ms ${step} put more than 2^31 rows into windows; use a larger step_ms`)
    }
    k++
  }

  // Pass 2: rows of each window in row order.
  const offsets = new Int32Array(count + 1)
  for (let w = 0; w < count; w++) offsets[w + 1] = offsets[w]! + highs[w]! - lows[w]!
  const rows = new Int32Array(total)
  const events = new Int32Array(total)
  for (let w = 0; w < count; w++) {
    const from = offsets[w]!
    rows.set(order.subarray(lows[w]!, highs[w]!), from)
    if (!ordered) rows.subarray(from, offsets[w + 1]!).sort()
  }
  const templateIds = templated.templateIds
  for (let p = 0; p < total; p++) events[p] = templateIds[rows[p]!]!
  return {
    sequences: { ids: prefixedIntegerIds("t", ks.subarray(0, count)), offsets, rows, events, labels: new Int8Array(count).fill(LABEL_UNKNOWN) },
    untimed: n - timed
  }
}

const validateInt = (key: string, value: number): void => {
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`timeWindows: ${key} must be an integer >= 1 (milliseconds), got ${String(value)}`)
}

const growF64 = (a: Float64Array): Float64Array<ArrayBuffer> => {
  const next = new Float64Array(a.length * 2)
  next.set(a)
  return next
}


