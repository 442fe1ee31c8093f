/**
 * Template n-gram phrases: every run of n consecutive events (n_min <= n <= n_max) of a sequence
 * as one phrase id, for bag-of-phrases models and text-style vectorisers ("5 5 22" as a token).
 * Phrases are interned as the bytes of their template ids (`ByteInterner`), so no string is built
 * per n-gram; `phraseText` renders one when needed.
 */
import { ByteInterner } from "../artifacts/ByteInterner.ts"
import type { Sequences } from "../artifacts/Sequences.ts"

/** Options of `ngramPhrases`; config spelling in brackets. */
export interface NGramOptions {
  /** Shortest phrase, integer >= 1 [`n_min`]. */
  readonly nMin: number
  /** Longest phrase, integer >= n_min [`n_max`]. */
  readonly nMax: number
}

/** Interned phrases: phrase p is the template ids `items[offsets[p] .. offsets[p+1])`. */
export interface PhraseTable {
  readonly offsets: Int32Array
  readonly items: Int32Array
}

/** Phrase ids per sequence: sequence i's phrases are `phrases[offsets[i] .. offsets[i+1])`. */
export interface NGramPhrases {
  readonly table: PhraseTable
  readonly offsets: Int32Array
  readonly phrases: Int32Array
}

/**
 * The n-grams of each sequence, ordered by n (n_min first), then by start position; a sequence
 * shorter than n has no n-grams of that length. Phrase ids number distinct phrases by first
 * appearance. Throws naming `n_min` / `n_max` when they are not integers with 1 <= n_min <= n_max.
 */
export const ngramPhrases = (seqs: Sequences, opts: NGramOptions): NGramPhrases => {
  const { nMin, nMax } = opts
  if (!Number.isSafeInteger(nMin) || nMin < 1) throw new Error(`ngramPhrases: n_min must be an integer >= 1, got ${String(nMin)}`)
  if (!Number.isSafeInteger(nMax) || nMax < nMin) throw new Error(`ngramPhrases: n_max must be an integer >= n_min (${nMin}), got ${String(nMax)}`)
  const count = seqs.offsets.length - 1
  const { events } = seqs
  const offsets = new Int32Array(count + 1)
  for (let i = 0; i < count; i++) {
    const len = seqs.offsets[i + 1]! - seqs.offsets[i]!
    let k = 0
    for (let n = nMin; n <= nMax; n++) k += Math.max(0, len - n + 1)
    offsets[i + 1] = offsets[i]! + k
  }
  const phrases = new Int32Array(offsets[count]!)
  // Phrases are interned as the bytes of their template ids (4 per id).
  const table = new ByteInterner(1024, 1 << 14)
  const bytes = new Uint8Array(events.buffer, events.byteOffset, events.byteLength)
  let at = 0
  for (let i = 0; i < count; i++) {
    const from = seqs.offsets[i]!
    const end = seqs.offsets[i + 1]!
    for (let n = nMin; n <= nMax; n++) {
      for (let s = from; s + n <= end; s++) phrases[at++] = table.intern(bytes, 4 * s, 4 * (s + n))
    }
  }
  return { table: phraseTable(table), offsets, phrases }
}

/** Phrase p as its template ids joined by `separator` (default a space). */
export const phraseText = (table: PhraseTable, p: number, separator = " "): string =>
  Array.from(table.items.subarray(table.offsets[p]!, table.offsets[p + 1]!)).join(separator)

/** The interned phrases of a `ByteInterner` whose keys are Int32Array ranges: the same table in ints. */
const phraseTable = (interned: ByteInterner): PhraseTable => {
  const { blob, offsets } = interned.column()
  // Every key is a whole number of ints, so the byte offsets divide by 4 and the blob (a fresh copy) is aligned.
  return { offsets: Int32Array.from(offsets, (o) => o >> 2), items: new Int32Array(blob.buffer, 0, blob.length >> 2) }
}
