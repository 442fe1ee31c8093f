/**
 * Fixed (tumbling or sliding) windows over the log in order. Use it when there is no entity to
 * group by and labels are per line (BGL, Thunderbird). Positions are either parsed rows
 * (`basis: "parsed"`, row index 0..n-1) or raw lines (`basis: "raw"`, the 0-based raw line index
 * `lineNo - 1`, so lines that did not parse leave holes and windows stay aligned to the file).
 * Windows start at `alignmentOffset + k·step` (k = 0, 1, ...) and cover `size` positions.
 */
import type { ParsedLog, TemplatedLog } from "../artifacts/Log.ts"
import type { Sequences } from "../artifacts/Sequences.ts"
import { LABEL_UNKNOWN } from "../artifacts/Sequences.ts"
import { prefixedIntegerIds } from "./Ids.ts"

/** What a window position counts: parsed rows or raw line numbers. */
export type WindowBasis = "parsed" | "raw"

/** Options of `fixedWindows`; config spelling in brackets. */
export interface FixedWindowOptions {
  /** Positions per window, integer >= 1 [`window_size`]. */
  readonly size: number
  /** Positions between window starts, integer >= 1; step = size gives tumbling windows [`step`]. */
  readonly step: number
  /** Parsed rows (default) or raw line positions [`basis`]. */
  readonly basis?: WindowBasis
  /**
   * Position of the first window's start, integer >= 0 (default 0) [`window_alignment_offset`].
   * Positions before it belong to no window; it must lie inside the log.
   */
  readonly alignmentOffset?: number
}

/**
 * Windows [s, s + size) for s = offset, offset + step, ... while s < end, where end is the row
 * count (parsed basis) or `rawLines` (raw basis). A window holds the rows whose position falls in
 * it, in log order. The last windows may be partial and are kept; windows holding no row (raw
 * basis, unparsed stretches) are left out. With step > size, positions between windows are
 * skipped. Ids are `w<s>` (0-based start position). Labels are all LABEL_UNKNOWN. An empty log
 * gives no windows.
 */
export const fixedWindows = (parsed: ParsedLog, templated: TemplatedLog, opts: FixedWindowOptions): Sequences => {
  validateInt("window_size", opts.size, 1)
  validateInt("step", opts.step, 1)
  const offset = opts.alignmentOffset ?? 0
  validateInt("window_alignment_offset", offset, 0)
  const basis = opts.basis ?? "parsed"
  if (basis !== "parsed" && basis !== "raw") {
    throw new Error(`fixedWindows: basis must be "parsed" or "raw", got ${JSON.stringify(basis)}`)
  }
  const { size, step } = opts
  const n = parsed.lineNo.length
  if (templated.templateIds.length !== n) {
    throw new Error(`fixedWindows: templateIds has ${templated.templateIds.length} rows but the parsed log has ${n}`)
  }
  const lineNo = parsed.lineNo
  const position = basis === "parsed" ? (row: number) => row : (row: number) => lineNo[row]! - 1
  const end = basis === "parsed" ? n : Math.max(parsed.rawLines, n === 0 ? 0 : lineNo[n - 1]!)
  if (n === 0) return emptySequences()
  if (offset >= end) {
    throw new Error(`fixedWindows: window_alignment_offset ${offset} is at or past the end of the log (${end} ${basis === "raw" ? "raw lines" : "parsed rows"})`)
  }

  // Pass 1: the row range [lo, hi) of every window start; both bounds only move forward.
  const maxWindows = Math.ceil((end - offset) / step)
  const starts = new Float64Array(maxWindows)
  const lows = new Int32Array(maxWindows)
  const highs = new Int32Array(maxWindows)
  let count = 0
  let lo = 0
  let hi = 0
  for (let s = offset; s < end; s += step) {
    while (lo < n && position(lo) < s) lo++
    if (hi < lo) hi = lo
    while (hi < n && position(hi) < s + size) hi++
    if (hi === lo) continue
    starts[count] = s
    lows[count] = lo
    highs[count] = hi
    count++
  }

  // Pass 2: copy rows and template ids.
  const offsets = new Int32Array(count + 1)
  for (let w = 0; w < count; w++) offsets[w + 1] = offsets[w]! + highs[w]! - lows[w]!
  const total = offsets[count]!
  const rows = new Int32Array(total)
  const events = new Int32Array(total)
  const templateIds = templated.templateIds
  for (let w = 0; w < count; w++) {
    let at = offsets[w]!
    for (let row = lows[w]!, stop = highs[w]!; row < stop; row++, at++) {
      rows[at] = row
      events[at] = templateIds[row]!
    }
  }
  return { ids: prefixedIntegerIds("w", starts.subarray(0, count)), offsets, rows, events, labels: new Int8Array(count).fill(LABEL_UNKNOWN) }
}

const emptySequences = (): Sequences => ({
  ids: { blob: new Uint8Array(0), offsets: new Int32Array(1) },
  offsets: new Int32Array(1),
  rows: new Int32Array(0),
  events: new Int32Array(0),
  labels: new Int8Array(0)
})

const validateInt = (key: string, value: number, min: number): void => {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new Error(`fixedWindows: ${key} must be an integer >= ${min}, got ${String(value)}`)
  }
}
