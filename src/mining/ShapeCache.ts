/**
 * Tokens by line shape: a content with every ASCII digit replaced by `0` is its shape, and when
 * the tokeniser cannot tell digits apart (numeric parametrisation on, no mask, split or delimiter
 * that names a particular digit or back-references one: `LogMasker.digitUniform`), two contents
 * of one shape have the same tokens and the same per-position values (`TokenSpans.value`). So a
 * line whose numbers changed but whose shape was seen before skips masking and tokenising; the
 * miner still matches it and updates its templates as for any line, so results are identical to
 * tokenising every line (tested). Shapes are kept for ASCII contents of at most `maxKeyBytes`
 * bytes, up to `capacity` of them; one more empties the cache.
 */
import { ByteInterner } from "../artifacts/ByteInterner.ts"
import type { TokenSpans } from "./Masker.ts"
import type { PositionValues } from "./TemplateTable.ts"

/** A shape's tokens and the value each position counts toward the variable threshold. */
export class ShapeEntry implements PositionValues {
  readonly tokens: ReadonlyArray<string>
  readonly values: ReadonlyArray<string>

  constructor(tokens: ReadonlyArray<string>, values: ReadonlyArray<string>) {
    this.tokens = tokens
    this.values = values
  }

  value(p: number): string {
    return this.values[p]!
  }
}

export class ShapeCache {
  readonly capacity: number
  readonly maxKeyBytes: number
  private readonly keys: ByteInterner
  private entries: Array<ShapeEntry | undefined> = []
  private scratch: Uint8Array
  private scratchLength = 0

  constructor(capacity = 16384, maxKeyBytes = 512) {
    this.capacity = capacity
    this.maxKeyBytes = maxKeyBytes
    this.keys = new ByteInterner(Math.min(capacity, 1024), Math.min(capacity, 1024) * 64)
    this.scratch = new Uint8Array(maxKeyBytes)
  }

  /**
   * The entry of the shape of `bytes[start, end)`: undefined when it is not cached yet (then
   * `add` its tokens), null when the content has no shape (non-ASCII or too long).
   */
  find(bytes: Uint8Array, start: number, end: number): ShapeEntry | undefined | null {
    const n = end - start
    if (n > this.maxKeyBytes) return null
    const scratch = this.scratch
    for (let k = 0; k < n; k++) {
      const c = bytes[start + k]!
      if (c >= 128) return null
      scratch[k] = c >= 48 && c <= 57 ? 48 : c
    }
    this.scratchLength = n
    const code = this.keys.find(scratch, 0, n)
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
    this.entries[this.keys.addFound(this.scratch, 0, this.scratchLength)] = entry
    return entry
  }
}
