/**
 * Byte ranges of buffers as hash-table keys, four bytes at a time: the content cache of the
 * miners (`mining/ContentCache.ts`) and the header-field dictionaries of `parseLog` both key
 * tables by ranges of a read buffer without making strings or views of them.
 */

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

/** A DataView of the last buffer asked for, made again only when the buffer changes. */
export class ViewOf {
  private buffer: Uint8Array | undefined
  private view: DataView = new DataView(new ArrayBuffer(0))

  of(bytes: Uint8Array): DataView {
    if (bytes !== this.buffer) {
      this.buffer = bytes
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    }
    return this.view
  }
}
