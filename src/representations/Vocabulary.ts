/**
 * The vocabulary of a representation: which template ids become columns, and in what order.
 * Build it from the training sequences only, so test-only templates are out-of-vocabulary (as a
 * deployed detector would see them). Lookup is a dense Int32Array over template ids, which are
 * small non-negative integers (mined ids, or the numbers of a session file's `T<n>`).
 */
import type { Sequences } from "../artifacts/Sequences.ts"

/** Template ids in column order, and the reverse lookup. */
export interface Vocabulary {
  /** Template id of each column, ascending. */
  readonly templateIds: Int32Array
  /** Column of template id t, or -1 (t < index.length); ids beyond the end are out of vocabulary. */
  readonly index: Int32Array
}

/** Which sequences to take: those whose split tag equals `tag`. */
export interface SequenceSelection {
  readonly split: Uint8Array
  readonly tag: number
}

/** The vocabulary of the given template ids (duplicates allowed; must be integers >= 0). */
export const vocabularyOf = (templateIds: ArrayLike<number>): Vocabulary => {
  let max = -1
  for (let k = 0; k < templateIds.length; k++) {
    const t = templateIds[k]!
    if (!Number.isInteger(t) || t < 0) throw new Error(`vocabularyOf: template id ${String(t)} is not an integer >= 0`)
    if (t > max) max = t
  }
  const index = new Int32Array(max + 1).fill(-1)
  for (let k = 0; k < templateIds.length; k++) index[templateIds[k]!] = 0
  let cols = 0
  for (let t = 0; t <= max; t++) if (index[t] === 0) index[t] = cols++
  const ids = new Int32Array(cols)
  for (let t = 0; t <= max; t++) if (index[t]! >= 0) ids[index[t]!] = t
  return { templateIds: ids, index }
}

/** The vocabulary of the events of all sequences, or of the selected ones (e.g. the train split). */
export const buildVocabulary = (seqs: Sequences, select?: SequenceSelection): Vocabulary => {
  if (select === undefined) return vocabularyOf(seqs.events)
  const n = seqs.offsets.length - 1
  if (select.split.length !== n) throw new Error(`buildVocabulary: split has ${select.split.length} entries but there are ${n} sequences`)
  let total = 0
  for (let i = 0; i < n; i++) if (select.split[i] === select.tag) total += seqs.offsets[i + 1]! - seqs.offsets[i]!
  const picked = new Int32Array(total)
  let at = 0
  for (let i = 0; i < n; i++) {
    if (select.split[i] !== select.tag) continue
    picked.set(seqs.events.subarray(seqs.offsets[i]!, seqs.offsets[i + 1]!), at)
    at += seqs.offsets[i + 1]! - seqs.offsets[i]!
  }
  return vocabularyOf(picked)
}

/** Column of a template id, or -1 when it is out of vocabulary. */
export const columnOf = (vocab: Vocabulary, templateId: number): number =>
  templateId >= 0 && templateId < vocab.index.length ? vocab.index[templateId]! : -1
