/**
 * Tokens by line shape: a content with every ASCII digit replaced by `0` is its shape, and when
 * the tokeniser cannot tell digits apart (numeric parametrisation on, no mask, split or delimiter
 * that names a particular digit or back-references one: `LogMasker.digitUniform`), two contents
 * of one shape have the same tokens and the same per-position values (`TokenSpans.value`). So a
 * line whose numbers changed but whose shape was seen before skips masking and tokenising; the
 * miner still matches it and updates its templates as for any line, so results are identical to
 * tokenising every line (tested). Shapes are kept for ASCII contents of at most `maxKeyBytes`
 * bytes, up to `capacity` of them; one more empties the cache.
 *
 * `scan` reads a content once, four bytes at a time: it writes the shape and hashes both the
 * shape and the content itself (the content cache's key), as `hashRange` would.
 */
import { ByteInterner, hashRange } from "../artifacts/ByteInterner.ts"
import type { TokenSpans } from "./Masker.ts"
import type { ObserveMemo, PositionValues } from "./TemplateTable.ts"

/**
 * A shape's tokens and the value each position counts toward the variable threshold, with what
 * the miner last found for them when finding it changed nothing (`memoVersion`: the miner's
 * version then, `memoCluster`: the cluster joined; and the template table's `ObserveMemo`).
 */
export class ShapeEntry implements PositionValues, ObserveMemo {
  readonly tokens: ReadonlyArray<string>
  readonly values: ReadonlyArray<string>
  memoVersion = -1
  memoCluster = -1
  memoSlot: object | undefined = undefined
  memoSlotVersion = -1
  memoGroup = -1

  constructor(tokens: ReadonlyArray<string>, values: ReadonlyArray<string>) {
    this.tokens = tokens
    this.values = values
  }

  value(p: number): string {
    return this.values[p]!
  }
}

const P = 0x01000193

export class ShapeCache {
  readonly capacity: number
  readonly maxKeyBytes: number
  /** `hashRange` of the content of the last `scan`. */
  contentHash = 0
  private readonly keys: ByteInterner
  private entries: Array<ShapeEntry | undefined> = []
  private readonly scratch: Uint8Array
  private readonly scratchView: DataView
  /** Shape length of the last `scan`, -1 when the content has no shape. */
  private shapeLength = -1
  private shapeHash = 0
  private source: Uint8Array | undefined
  private sourceView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0))

  constructor(capacity = 16384, maxKeyBytes = 512) {
    this.capacity = capacity
    this.maxKeyBytes = maxKeyBytes
    this.keys = new ByteInterner(Math.min(capacity, 1024), Math.min(capacity, 1024) * 64)
    this.scratch = new Uint8Array(maxKeyBytes + 4)
    this.scratchView = new DataView(this.scratch.buffer)
  }

  /** Read the content `bytes[start, end)`: its hash (`contentHash`) and its shape, for `find`. */
  scan(bytes: Uint8Array, start: number, end: number): void {
    if (bytes !== this.source) {
      this.source = bytes
      this.sourceView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    }
    const view = this.sourceView
    const n = end - start
    if (n > this.maxKeyBytes) {
      this.contentHash = hashRange(view, start, end)
      this.shapeLength = -1
      return
    }
    const out = this.scratchView
    let h = 0x811c9dc5 ^ n
    let z = h
    let high = 0
    let i = start
    let o = 0
    for (; i + 4 <= end; i += 4, o += 4) {
      const x = view.getInt32(i, true)
      h = Math.imul(h ^ x, P) ^ (h >>> 15)
      high |= x
      // Per byte (ASCII): >= '0' and not >= ':' is a digit; its low nibble is cleared, making it '0'.
      const y = x | 0x80808080
      const digits = (y - 0x30303030) & ~(y - 0x3a3a3a3a) & 0x80808080
      const w = x & ~Math.imul(digits >>> 7, 0x0f)
      out.setInt32(o, w, true)
      z = Math.imul(z ^ w, P) ^ (z >>> 15)
    }
    for (; i < end; i++, o++) {
      const c = view.getUint8(i)
      h = Math.imul(h ^ c, P)
      high |= c
      const w = c >= 48 && c <= 57 ? 48 : c
      out.setUint8(o, w)
      z = Math.imul(z ^ w, P)
    }
    this.contentHash = avalanche(h)
    this.shapeHash = avalanche(z)
    this.shapeLength = (high & 0x80808080) === 0 ? n : -1
  }

  /**
   * The entry of the shape of the last `scan`: undefined when it is not cached yet (then `add`
   * its tokens), null when the content has no shape (non-ASCII or too long).
   */
  find(): ShapeEntry | undefined | null {
    if (this.shapeLength < 0) return null
    const code = this.keys.findHashed(this.scratch, 0, this.shapeLength, this.shapeHash)
    return code < 0 ? undefined : this.entries[code]
  }

  /** Remember the tokens of the shape the last `find` missed; returns its entry. */
  add(tokens: ReadonlyArray<string>, spans: TokenSpans): ShapeEntry {
    const values = new Array<string>(tokens.length)
    for (let p = 0; p < tokens.length; p++) values[p] = spans.value(p, tokens[p]!)
    const entry = new ShapeEntry(tokens, values)
    if (this.keys.count >= this.capacity) {
      this.keys.clear()
      this.entries = []
    }
    this.entries[this.keys.addFound(this.scratch, 0, this.shapeLength)] = entry
    return entry
  }
}

/** `hashRange`'s final mixing. */
const avalanche = (h: number): number => {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  return h
}
