/**
 * Template n-gram phrases: every run of n consecutive events (n_min <= n <= n_max) of a sequence
 * as one phrase id, for bag-of-phrases models and text-style vectorisers ("5 5 22" as a token).
 * Phrases are interned in a table of int tuples (open-addressing hash over typed arrays), so no
 * string is built per n-gram; `phraseText` renders one when needed.
 */
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
  const table = new TupleTable()
  let at = 0
  for (let i = 0; i < count; i++) {
    const from = seqs.offsets[i]!
    const end = seqs.offsets[i + 1]!
    for (let n = nMin; n <= nMax; n++) {
      for (let s = from; s + n <= end; s++) phrases[at++] = table.intern(events, s, n)
    }
  }
  return { table: table.done(), offsets, phrases }
}

/** Phrase p as its template ids joined by `separator` (default a space). */
export const phraseText = (table: PhraseTable, p: number, separator = " "): string =>
  Array.from(table.items.subarray(table.offsets[p]!, table.offsets[p + 1]!)).join(separator)

/** Open-addressing hash set of int tuples, numbered by first appearance. */
class TupleTable {
  private count = 0
  private starts = new Int32Array(1024)
  private hashes = new Int32Array(1024)
  private items = new Int32Array(4096)
  private used = 0
  private slots = new Int32Array(2048) // phrase + 1, 0 = empty

  intern(src: Int32Array, from: number, n: number): number {
    let h = 0x811c9dc5 ^ n
    for (let k = 0; k < n; k++) h = Math.imul(h ^ src[from + k]!, 0x01000193)
    const mask = this.slots.length - 1
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const e = this.slots[s]! - 1
      if (e < 0) {
        const id = this.add(src, from, n, h)
        this.slots[s] = id + 1
        if (this.count * 2 > this.slots.length) this.rehash()
        return id
      }
      if (this.hashes[e] !== h || this.lengthOf(e) !== n) continue
      const at = this.starts[e]!
      let same = true
      for (let k = 0; k < n; k++) {
        if (this.items[at + k] !== src[from + k]) {
          same = false
          break
        }
      }
      if (same) return e
    }
  }

  done(): PhraseTable {
    const offsets = new Int32Array(this.count + 1)
    offsets.set(this.starts.subarray(0, this.count))
    offsets[this.count] = this.used
    return { offsets, items: this.items.slice(0, this.used) }
  }

  private lengthOf(e: number): number {
    return (e + 1 < this.count ? this.starts[e + 1]! : this.used) - this.starts[e]!
  }

  private add(src: Int32Array, from: number, n: number, h: number): number {
    if (this.count === this.starts.length) {
      this.starts = grow(this.starts, this.starts.length * 2)
      this.hashes = grow(this.hashes, this.hashes.length * 2)
    }
    if (this.used + n > this.items.length) this.items = grow(this.items, Math.max(this.items.length * 2, this.used + n))
    const e = this.count++
    this.starts[e] = this.used
    this.hashes[e] = h
    this.items.set(src.subarray(from, from + n), this.used)
    this.used += n
    return e
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2)
    const mask = slots.length - 1
    for (let e = 0; e < this.count; e++) {
      let s = this.hashes[e]! & mask
      while (slots[s] !== 0) s = (s + 1) & mask
      slots[s] = e + 1
    }
    this.slots = slots
  }
}

const grow = (a: Int32Array, size: number): Int32Array<ArrayBuffer> => {
  const next = new Int32Array(size)
  next.set(a)
  return next
}
