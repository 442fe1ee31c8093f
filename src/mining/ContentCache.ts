/**
 * A bounded map from a content's UTF-8 bytes to an id, for the miner's and matcher's content
 * caches. Keys are read straight from a column's blob (no string is built for a hit) and interned
 * by the `ByteInterner`; it holds up to `capacity` keys of at most `maxKeyBytes` bytes, and
 * inserting one more empties it.
 */
import { ByteInterner } from "../artifacts/ByteInterner.ts"

const EMPTY = -1

export class ContentCache {
  readonly capacity: number
  readonly maxKeyBytes: number
  private readonly keys: ByteInterner
  private values: Int32Array
  /** The key the last `get` found (-1: none), so that `set` replaces a stale value in place. */
  private lastFound = EMPTY
  private scratch = new Uint8Array(256)
  private readonly encoder = new TextEncoder()

  constructor(capacity: number, maxKeyBytes = 512) {
    this.capacity = capacity
    this.maxKeyBytes = maxKeyBytes
    this.keys = new ByteInterner(capacity, Math.min(capacity, 1024) * 64)
    this.values = new Int32Array(Math.min(capacity, 1024))
  }

  /** The id stored for `bytes[start, end)`, or -1; remembers the lookup for a following `set`. */
  get(bytes: Uint8Array, start: number, end: number): number {
    const code = this.keys.find(bytes, start, end)
    this.lastFound = code
    return code === EMPTY ? EMPTY : this.values[code]!
  }

  /** `get` when the caller computed the key's `hashRange` (ByteInterner.ts) already (`h`). */
  getHashed(bytes: Uint8Array, start: number, end: number, h: number): number {
    const code = this.keys.findHashed(bytes, start, end, h)
    this.lastFound = code
    return code === EMPTY ? EMPTY : this.values[code]!
  }

  /** Store `value` for `bytes[start, end)` (call right after a `get` of the same key). */
  set(bytes: Uint8Array, start: number, end: number, value: number): void {
    if (this.lastFound !== EMPTY) {
      this.values[this.lastFound] = value
      return
    }
    if (end - start > this.maxKeyBytes) return
    if (this.keys.count >= this.capacity) this.keys.clear()
    const code = this.keys.addFound(bytes, start, end)
    if (code >= this.values.length) {
      const values = new Int32Array(Math.min(this.capacity, this.values.length * 2))
      values.set(this.values)
      this.values = values
    }
    this.values[code] = value
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
}
