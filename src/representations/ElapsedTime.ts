/**
 * Elapsed time between events: for every event of a sequence, the milliseconds since the
 * previous event of the same sequence (DeepLog's time-interval parameter, LogAnomaly's and
 * PLELog's timing features). Aligned with `Sequences.events`; needs `ParsedLog.timestamps`.
 */
import type { ParsedLog } from "../artifacts/Log.ts"
import type { Sequences } from "../artifacts/Sequences.ts"

/**
 * `out[p] = t(rows[p]) − t(rows[p−1])` within a sequence; the first event of each sequence gets
 * 0 (NaN if its own time is missing); NaN where either timestamp is missing. The difference may be negative when a log's times go
 * backwards. Throws when the parsed log has no timestamps.
 */
export const elapsedTimes = (seqs: Sequences, parsed: ParsedLog): Float64Array => {
  const ts = parsed.timestamps
  if (ts === undefined) {
    throw new Error("elapsedTimes: the elapsed_time representation needs per-row timestamps, but this parsed log has none (its format has no time field)")
  }
  const { offsets, rows } = seqs
  const out = new Float64Array(rows.length)
  for (let i = 0; i < offsets.length - 1; i++) {
    if (offsets[i]! < offsets[i + 1]!) out[offsets[i]!] = Number.isNaN(ts[rows[offsets[i]!]!]!) ? Number.NaN : 0
    for (let p = offsets[i]! + 1, end = offsets[i + 1]!; p < end; p++) {
      const row = rows[p]!
      const prev = rows[p - 1]!
      if (row >= ts.length || prev >= ts.length) throw new Error(`elapsedTimes: row ${Math.max(row, prev)} has no timestamp (${ts.length} rows)`)
      out[p] = ts[row]! - ts[prev]!
    }
  }
  return out
}
