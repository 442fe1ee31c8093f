/**
 * Group parsed rows by the value of a header field (BGL and HPC `Node`, Thunderbird `User`):
 * one sequence per distinct value, rows in log order, sequences ordered by first row. Works on the
 * dictionary codes directly, so no string is built per row.
 */
import type { ParsedLog, TemplatedLog } from "../artifacts/Log.ts"
import type { Sequences } from "../artifacts/Sequences.ts"
import { LABEL_UNKNOWN } from "../artifacts/Sequences.ts"
import { packStrings, stringAt, stringCount } from "../artifacts/Columns.ts"

/** Sequences keyed by a header field's value. Throws naming `field` when the log has no such field. */
export const groupByField = (parsed: ParsedLog, templated: TemplatedLog, field: string): Sequences => {
  const col = parsed.fields.find((f) => f.name === field)?.column
  if (col === undefined) {
    throw new Error(`field: the log format has no field "${field}" (fields: ${parsed.fields.map((f) => f.name).join(", ")})`)
  }
  const n = col.codes.length
  // Order the distinct values by first appearance, then count rows per value.
  const order = new Int32Array(stringCount(col.values)).fill(-1)
  const firstSeen: Array<number> = []
  const counts: Array<number> = []
  for (let r = 0; r < n; r++) {
    const c = col.codes[r]!
    if (order[c] === -1) {
      order[c] = firstSeen.length
      firstSeen.push(c)
      counts.push(0)
    }
    counts[order[c]!]!++
  }
  const offsets = new Int32Array(firstSeen.length + 1)
  for (let i = 0; i < firstSeen.length; i++) offsets[i + 1] = offsets[i]! + counts[i]!
  const fill = offsets.slice(0, firstSeen.length)
  const rows = new Int32Array(n)
  const events = new Int32Array(n)
  for (let r = 0; r < n; r++) {
    const s = order[col.codes[r]!]!
    const at = fill[s]!++
    rows[at] = r
    events[at] = templated.templateIds[r]!
  }
  return {
    ids: packStrings(firstSeen.map((c) => stringAt(col.values, c))),
    offsets,
    rows,
    events,
    labels: new Int8Array(firstSeen.length).fill(LABEL_UNKNOWN)
  }
}
