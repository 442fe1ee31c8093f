/**
 * Stream chunks' context (`continuous_context`): each chunk after the first starts with rows of the
 * chunk before it, as history for detectors that predict an event from the ones before it. Those
 * rows are not the chunk's: labels ignore them (Labels.ts), and a detector that does not read
 * context must not see them either, or a chunk would be scored (and trained on) for events that
 * belong to, and are labelled with, its predecessor.
 */
import type { Sequences } from "../artifacts/Sequences.ts"

/** The sequences without each one's first `context[i]` events (ids and labels unchanged). */
export const withoutContext = (seqs: Sequences, context: Int32Array): Sequences => {
  const n = seqs.labels.length
  if (context.length !== n) throw new Error(`withoutContext: ${context.length} context counts for ${n} sequences`)
  const offsets = new Int32Array(n + 1)
  for (let i = 0; i < n; i++) {
    const length = seqs.offsets[i + 1]! - seqs.offsets[i]!
    const c = context[i]!
    if (c < 0 || c > length) throw new Error(`withoutContext: sequence ${i} has ${length} events, so ${c} cannot be context`)
    offsets[i + 1] = offsets[i]! + length - c
  }
  const rows = new Int32Array(offsets[n]!)
  const events = new Int32Array(offsets[n]!)
  for (let i = 0; i < n; i++) {
    const from = seqs.offsets[i]! + context[i]!
    const to = seqs.offsets[i + 1]!
    rows.set(seqs.rows.subarray(from, to), offsets[i]!)
    events.set(seqs.events.subarray(from, to), offsets[i]!)
  }
  return { ...seqs, offsets, rows, events }
}

/** Whether any sequence has context events. */
export const hasContext = (context: Int32Array | undefined): context is Int32Array => context !== undefined && context.some((c) => c > 0)
