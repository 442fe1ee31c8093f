/**
 * Fixed (tumbling or sliding) windows over parsed rows in log order. Use it when there is no
 * entity to group by and labels are per line (BGL, Thunderbird). A window starts every `step`
 * rows and covers up to `size` rows; the last windows may be shorter than `size` and are kept,
 * so every row falls in some window when step <= size. Ids are `w<start>`.
 */
import type { ParsedLog, Sequences, TemplatedLog } from "../tasks/Artifacts.ts"
import { LABEL_UNKNOWN } from "../tasks/Artifacts.ts"

/** Options of `fixedWindows`. */
export interface FixedWindowOptions {
  /** Rows per window (integer >= 1). */
  readonly size: number
  /** Rows between window starts (integer >= 1); step = size gives tumbling windows. */
  readonly step: number
}

/**
 * Windows starting at rows 0, step, 2·step, ... while start < rowCount, window = rows
 * [start, min(start + size, rowCount)). Partial windows at the end are kept (with step < size
 * they may lie inside the previous window). With step > size, rows between windows are skipped.
 * Labels are all LABEL_UNKNOWN.
 */
export const fixedWindows = (parsed: ParsedLog, templated: TemplatedLog, opts: FixedWindowOptions): Sequences => {
  validatePositiveInt("size", opts.size)
  validatePositiveInt("step", opts.step)
  const { size, step } = opts
  const n = parsed.lineNo.length
  if (templated.templateIds.length !== n) {
    throw new Error(`fixedWindows: templateIds has ${templated.templateIds.length} rows but the parsed log has ${n}`)
  }

  const count = n === 0 ? 0 : Math.ceil(n / step)
  const offsets = new Int32Array(count + 1)
  for (let w = 0; w < count; w++) {
    const start = w * step
    offsets[w + 1] = offsets[w]! + Math.min(size, n - start)
  }
  const total = offsets[count]!
  const rows = new Int32Array(total)
  const events = new Int32Array(total)
  const templateIds = templated.templateIds
  for (let w = 0; w < count; w++) {
    const start = w * step
    const from = offsets[w]!
    const len = offsets[w + 1]! - from
    for (let k = 0; k < len; k++) {
      rows[from + k] = start + k
      events[from + k] = templateIds[start + k]!
    }
  }

  return { ids: windowIds(count, step), offsets, rows, events, labels: new Int8Array(count).fill(LABEL_UNKNOWN) }
}

const validatePositiveInt = (name: string, value: number): void => {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`fixedWindows: option ${name} must be an integer >= 1, got ${String(value)}`)
  }
}

/** Ids `w<start>` written straight into one ASCII blob, without a string per window. */
const windowIds = (count: number, step: number): { blob: Uint8Array; offsets: Int32Array } => {
  const offsets = new Int32Array(count + 1)
  for (let w = 0; w < count; w++) offsets[w + 1] = offsets[w]! + 1 + digits(w * step)
  const blob = new Uint8Array(offsets[count]!)
  for (let w = 0; w < count; w++) {
    const at = offsets[w]!
    blob[at] = 0x77 // "w"
    let value = w * step
    for (let end = offsets[w + 1]! - 1; end > at; end--) {
      blob[end] = 0x30 + (value % 10)
      value = Math.floor(value / 10)
    }
  }
  return { blob, offsets }
}

const digits = (value: number): number => {
  let d = 1
  while (value >= 10) {
    value = Math.floor(value / 10)
    d++
  }
  return d
}
