/** Small hand-built Sequences for the representation tests. */
import type { Sequences } from "../../src/artifacts/Sequences.ts"
import { packStrings } from "../../src/artifacts/Columns.ts"

/** Sequences whose i-th sequence has the given events (rows = event positions unless given). */
export const eventSequences = (events: Array<Array<number>>, rows?: Array<Array<number>>): Sequences => {
  const offsets = new Int32Array(events.length + 1)
  events.forEach((e, i) => (offsets[i + 1] = offsets[i]! + e.length))
  const flat = Int32Array.from(events.flat())
  return {
    ids: packStrings(events.map((_, i) => `s${i}`)),
    offsets,
    rows: rows === undefined ? Int32Array.from(flat, (_, p) => p) : Int32Array.from(rows.flat()),
    events: flat,
    labels: new Int8Array(events.length).fill(-1)
  }
}
