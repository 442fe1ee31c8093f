/**
 * A bounded map from a content's UTF-8 bytes to an id, for the miner's and matcher's content
 * caches. Keys are read straight from a column's blob (no string is built for a hit): a 32-bit
 * hash, an open-addressing table, and a byte comparison against a private copy of the key. It
 * holds up to `capacity` keys of at most `maxKeyBytes` bytes; inserting one more empties it.
 */

import { hashRange, sameRange, ViewOf } from "../parsing/ByteRange.ts"

const EMPTY = -1

export class ContentCache {
  readonly capacity: number
  readonly maxKeyBytes: number
  private table: Int32Array
  private hashes: Int32Array
  private keyStart: Int32Array
  private keyLength: Int32Array
  private values: Int32Array
  private arena: Uint8Array
  private arenaView: DataView
  /** The DataView of the last key source seen by `get`. */
  private readonly sources = new ViewOf()
  private sourceView: DataView = new DataView(new ArrayBuffer(0))
  private arenaUsed = 0
  private count = 0
  private lastHash = 0
  /** The entry the last `get` found (-1: none), so that `set` replaces a stale value in place. */
  private lastFound = EMPTY
  private scratch = new Uint8Array(256)
  private readonly encoder = new TextEncoder()

  constructor(capacity: number, maxKeyBytes = 512) {
    this.capacity = capacity
    this.maxKeyBytes = maxKeyBytes
    let size = 16
    while (size < capacity * 2) size *= 2
    this.table = new Int32Array(size).fill(EMPTY)
    const initial = Math.min(capacity, 1024)
    this.hashes = new Int32Array(initial)
    this.keyStart = new Int32Array(initial)
    this.keyLength = new Int32Array(initial)
    this.values = new Int32Array(initial)
    this.arena = new Uint8Array(initial * 64)
    this.arenaView = new DataView(this.arena.buffer)
  }

  /** The id stored for `bytes[start, end)`, or -1; remembers the hash for a following `set`. */
  get(bytes: Uint8Array, start: number, end: number): number {
    this.sourceView = this.sources.of(bytes)
    const h = hashRange(this.sourceView, start, end)
    this.lastHash = h
    this.lastFound = EMPTY
    const mask = this.table.length - 1
    const length = end - start
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const e = this.table[slot]!
      if (e === EMPTY) return EMPTY
      if (this.hashes[e] === h && this.keyLength[e] === length && this.sameBytes(e, start, length)) {
        this.lastFound = e
        return this.values[e]!
      }
    }
  }

  /** Store `value` for `bytes[start, end)` (call right after a `get` of the same key). */
  set(bytes: Uint8Array, start: number, end: number, value: number): void {
    if (this.lastFound !== EMPTY) {
      this.values[this.lastFound] = value
      return
    }
    const length = end - start
    if (length > this.maxKeyBytes) return
    if (this.count >= this.capacity) this.clear()
    const e = this.count++
    if (e >= this.values.length) this.growEntries()
    if (this.arenaUsed + length > this.arena.length) {
      const arena = new Uint8Array(Math.max(this.arena.length * 2, this.arenaUsed + length))
      arena.set(this.arena.subarray(0, this.arenaUsed))
      this.arena = arena
      this.arenaView = new DataView(arena.buffer)
    }
    for (let i = 0; i < length; i++) this.arena[this.arenaUsed + i] = bytes[start + i]!
    this.keyStart[e] = this.arenaUsed
    this.keyLength[e] = length
    this.arenaUsed += length
    this.hashes[e] = this.lastHash
    this.values[e] = value
    const mask = this.table.length - 1
    let slot = this.lastHash & mask
    while (this.table[slot] !== EMPTY) slot = (slot + 1) & mask
    this.table[slot] = e
  }

  /** `get` for a string key (encoded to UTF-8 first). */
  getString(content: string): number {
    const n = this.encode(content)
    return n > this.maxKeyBytes ? EMPTY : this.get(this.scratch, 0, n)
  }

  /** `set` for a string key (call right after `getString` of the same key). */
  setString(content: string, value: number): void {
    const n = this.encode(content)
    if (n <= this.maxKeyBytes) {
      this.get(this.scratch, 0, n)
      this.set(this.scratch, 0, n, value)
    }
  }

  private encode(content: string): number {
    if (content.length > this.maxKeyBytes) return this.maxKeyBytes + 1
    if (this.scratch.length < content.length * 3) {
      this.scratch = new Uint8Array(content.length * 3)
    }
    return this.encoder.encodeInto(content, this.scratch).written
  }

  private sameBytes(e: number, start: number, length: number): boolean {
    return sameRange(this.arenaView, this.keyStart[e]!, this.sourceView, start, length)
  }

  private clear(): void {
    this.table.fill(EMPTY)
    this.count = 0
    this.arenaUsed = 0
  }

  private growEntries(): void {
    const size = Math.min(this.capacity, this.values.length * 2)
    const grow = (a: Int32Array): Int32Array => {
      const b = new Int32Array(size)
      b.set(a)
      return b
    }
    this.hashes = grow(this.hashes)
    this.keyStart = grow(this.keyStart)
    this.keyLength = grow(this.keyLength)
    this.values = grow(this.values)
  }
}
