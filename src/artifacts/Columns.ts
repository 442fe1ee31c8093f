/**
 * Text columns: strings packed as one UTF-8 blob with offsets (`StringColumn`) and
 * dictionary-encoded fields (`DictColumn`). Use them for any per-row or per-sequence text that has
 * to live in the cache or cross a thread: one blob, not one JS string per row.
 */

/** Strings packed as one UTF-8 blob plus start offsets (length n + 1). */
export interface StringColumn {
  readonly blob: Uint8Array
  readonly offsets: Int32Array
}

/**
 * A dictionary-encoded header field: codes index into `values`, the distinct values packed as
 * one UTF-8 blob (a field whose values are all distinct, like a time with microseconds, costs
 * bytes, not one JS string per line).
 */
export interface DictColumn {
  readonly values: StringColumn
  readonly codes: Int32Array
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Pack strings into one blob with n + 1 byte offsets. */
export const packStrings = (values: ReadonlyArray<string>): StringColumn => {
  const parts = values.map((v) => encoder.encode(v))
  const offsets = new Int32Array(values.length + 1)
  let total = 0
  for (let i = 0; i < parts.length; i++) {
    offsets[i] = total
    total += parts[i]!.length
  }
  offsets[parts.length] = total
  const blob = new Uint8Array(total)
  for (let i = 0; i < parts.length; i++) blob.set(parts[i]!, offsets[i]!)
  return { blob, offsets }
}

/** Number of strings in a column. */
export const stringCount = (col: StringColumn): number => col.offsets.length - 1

/** The i-th string of a column. */
export const stringAt = (col: StringColumn, i: number): string =>
  decoder.decode(col.blob.subarray(col.offsets[i]!, col.offsets[i + 1]!))

/** Every string of a column. */
export const unpackStrings = (col: StringColumn): Array<string> => {
  const out = new Array<string>(stringCount(col))
  for (let i = 0; i < out.length; i++) out[i] = stringAt(col, i)
  return out
}

/** The value of a dictionary-encoded field at `row`. */
export const dictValueAt = (col: DictColumn, row: number): string => stringAt(col.values, col.codes[row]!)

/** A copy of `a` in a new array of `size` elements (default twice its length): how a growing column makes room. */
export const growInt32 = (a: Int32Array, size = a.length * 2): Int32Array<ArrayBuffer> => {
  const next = new Int32Array(size)
  next.set(a)
  return next
}
