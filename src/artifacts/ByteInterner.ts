/**
 * The one byte-string interner: byte ranges of any buffer numbered by first appearance (code 0,
 * 1, 2, ...), without making a string or a view per lookup. An open-addressing table of 32-bit
 * hashes (four bytes at a time), each new key's bytes copied into one arena, which is also the
 * interned values' `StringColumn`. Use it for dictionaries of header fields, entity ids, content
 * caches and n-gram tuples (an Int32Array's bytes), anything that maps many repeated byte
 * strings to dense codes.
 */
import { growInt32, type StringColumn } from "./Columns.ts"

/** An FNV-style hash of `view[start, end)` over 4-byte words, with a final avalanche so the low bits (the table slot) mix well. */
export const hashRange = (view: DataView, start: number, end: number): number => {
  let h = 0x811c9dc5 ^ (end - start)
  let i = start
  for (; i + 4 <= end; i += 4) h = Math.imul(h ^ view.getInt32(i, true), 0x01000193) ^ (h >>> 15)
  for (; i < end; i++) h = Math.imul(h ^ view.getUint8(i), 0x01000193)
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  return h
}

/** Whether `a[aStart, aStart + length)` and `b[bStart, bStart + length)` hold the same bytes. */
export const sameRange = (a: DataView, aStart: number, b: DataView, bStart: number, length: number): boolean => {
  let i = 0
  for (; i + 4 <= length; i += 4) if (a.getInt32(aStart + i, true) !== b.getInt32(bStart + i, true)) return false
  for (; i < length; i++) if (a.getUint8(aStart + i) !== b.getUint8(bStart + i)) return false
  return true
}

const EMPTY = -1

export class ByteInterner {
  /** Keys interned so far (the next code). */
  count = 0
  private table: Int32Array
  private hashes: Int32Array
  /** Arena offset of each code; the arena holds the keys back to back. */
  private starts: Int32Array
  private arena: Uint8Array
  private arenaView: DataView<ArrayBufferLike>
  private used = 0
  /** The DataView of the last source buffer (made again only when the buffer changes). */
  private source: Uint8Array | undefined
  private sourceView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0))
  /** Where the last `find` that missed stopped: its hash and the empty slot, for `addFound`. */
  private missHash = 0
  private missSlot = EMPTY

  constructor(expected = 64, arenaBytes = 1024) {
    let size = 16
    while (size < expected * 2) size *= 2
    this.table = new Int32Array(size).fill(EMPTY)
    // starts has one more entry than hashes: code c's key ends where code c + 1's begins.
    this.hashes = new Int32Array(Math.max(16, expected))
    this.starts = new Int32Array(this.hashes.length + 1)
    this.arena = new Uint8Array(Math.max(16, arenaBytes))
    this.arenaView = new DataView(this.arena.buffer)
  }

  /** The code of `bytes[start, end)`, or -1 (then `addFound` adds it without hashing it again). */
  find(bytes: Uint8Array, start: number, end: number): number {
    return this.findHashed(bytes, start, end, hashRange(this.viewOf(bytes), start, end))
  }

  /** `find` when the caller computed `hashRange` of the key already (`h`). */
  findHashed(bytes: Uint8Array, start: number, end: number, h: number): number {
    const view = this.viewOf(bytes)
    const mask = this.table.length - 1
    const length = end - start
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const code = this.table[slot]!
      if (code === EMPTY) {
        this.missHash = h
        this.missSlot = slot
        return EMPTY
      }
      if (this.hashes[code] === h && this.starts[code + 1]! - this.starts[code]! === length && sameRange(this.arenaView, this.starts[code]!, view, start, length)) {
        return code
      }
    }
  }

  /**
   * Add `bytes[start, end)`, which the last `find` (with the same arguments) missed; returns its
   * code. A `clear` in between is fine: the slot is looked for again from the remembered hash.
   */
  addFound(bytes: Uint8Array, start: number, end: number): number {
    if (this.missSlot === EMPTY || this.table[this.missSlot] !== EMPTY) {
      const mask = this.table.length - 1
      let slot = this.missHash & mask
      while (this.table[slot] !== EMPTY) slot = (slot + 1) & mask
      this.missSlot = slot
    }
    const code = this.count++
    if (code >= this.hashes.length) {
      this.hashes = growInt32(this.hashes)
      this.starts = growInt32(this.starts, this.hashes.length + 1)
    }
    const length = end - start
    if (this.used + length > this.arena.length) {
      const arena = new Uint8Array(Math.max(this.arena.length * 2, this.used + length))
      arena.set(this.arena.subarray(0, this.used))
      this.arena = arena
      this.arenaView = new DataView(arena.buffer)
    }
    copyRange(bytes, start, end, this.arena, this.used)
    this.used += length
    this.starts[code] = this.used - length
    this.starts[code + 1] = this.used
    this.hashes[code] = this.missHash
    this.table[this.missSlot] = code
    this.missSlot = EMPTY
    if (2 * this.count > this.table.length) this.rehash()
    return code
  }

  /** The code of `bytes[start, end)`, adding it when new. */
  intern(bytes: Uint8Array, start: number, end: number): number {
    const code = this.find(bytes, start, end)
    return code !== EMPTY ? code : this.addFound(bytes, start, end)
  }

  /** Whether code `code` holds the bytes `bytes[start, end)` (a check without hashing). */
  holds(code: number, bytes: Uint8Array, start: number, end: number): boolean {
    const at = this.starts[code]!
    const length = this.starts[code + 1]! - at
    return length === end - start && sameRange(this.arenaView, at, this.viewOf(bytes), start, length)
  }

  /** The bytes of every code, in code order: the interned keys as one column (a copy). */
  column(): StringColumn {
    return { blob: this.arena.slice(0, this.used), offsets: this.starts.slice(0, this.count + 1) }
  }

  /** Bytes held by the arena. */
  get bytes(): number {
    return this.used
  }

  /** Forget every key (codes start again at 0); the memory is kept. */
  clear(): void {
    this.table.fill(EMPTY)
    this.count = 0
    this.used = 0
    this.missSlot = EMPTY
  }

  private viewOf(bytes: Uint8Array): DataView<ArrayBufferLike> {
    if (bytes !== this.source) {
      this.source = bytes
      this.sourceView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    }
    return this.sourceView
  }

  private rehash(): void {
    const table = new Int32Array(this.table.length * 2).fill(EMPTY)
    const mask = table.length - 1
    for (let code = 0; code < this.count; code++) {
      let slot = this.hashes[code]! & mask
      while (table[slot] !== EMPTY) slot = (slot + 1) & mask
      table[slot] = code
    }
    this.table = table
  }
}

/** Copy `src[s, e)` to `out` at `pos` (short ranges by hand: a subarray per key is mostly garbage). */
const copyRange = (src: Uint8Array, s: number, e: number, out: Uint8Array, pos: number): void => {
  if (e - s < 48) {
    for (let k = s; k < e; k++) out[pos++] = src[k]!
  } else {
    out.set(src.subarray(s, e), pos)
  }
}
