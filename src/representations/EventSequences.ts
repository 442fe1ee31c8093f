/**
 * Template-id sequences: each sequence's events as vocabulary columns, in order, for sequence
 * models (DeepLog, LogAnomaly) that read events one by one. Out-of-vocabulary templates become
 * a fixed code (default -1) rather than being dropped, so positions are preserved.
 */
import type { Sequences } from "../artifacts/Sequences.ts"
import type { Vocabulary } from "./Vocabulary.ts"

/** Event columns per sequence: sequence i is `columns[offsets[i] .. offsets[i+1])`. */
export interface EventColumns {
  readonly offsets: Int32Array
  readonly columns: Int32Array
  /** Out-of-vocabulary events in all. */
  readonly oov: number
}

/** Map every event to its vocabulary column; unknown templates get `oovCode` (default -1). */
export const eventColumns = (seqs: Sequences, vocab: Vocabulary, oovCode = -1): EventColumns => {
  const { events } = seqs
  const { index } = vocab
  const columns = new Int32Array(events.length)
  let oov = 0
  for (let p = 0; p < events.length; p++) {
    const t = events[p]!
    const c = t >= 0 && t < index.length ? index[t]! : -1
    if (c < 0) {
      columns[p] = oovCode
      oov++
    } else {
      columns[p] = c
    }
  }
  return { offsets: seqs.offsets, columns, oov }
}
