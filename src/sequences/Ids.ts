/**
 * Sequence ids made of a one-letter prefix and an integer (`w120`, `t1117838570000`, `c4000`),
 * written straight into one ASCII StringColumn blob without building a string per sequence.
 * Use it for windows and chunks, whose ids are positions rather than names from the log.
 */
import type { StringColumn } from "../artifacts/Columns.ts"

/** Ids `<prefix><value>` for each (safe, possibly negative) integer value. */
export const prefixedIntegerIds = (prefix: string, values: ArrayLike<number>): StringColumn => {
  const head = new TextEncoder().encode(prefix)
  const count = values.length
  const offsets = new Int32Array(count + 1)
  for (let i = 0; i < count; i++) {
    const v = values[i]!
    if (!Number.isSafeInteger(v)) throw new Error(`prefixedIntegerIds: value ${String(v)} at ${i} is not a safe integer`)
    offsets[i + 1] = offsets[i]! + head.length + (v < 0 ? 1 : 0) + digits(Math.abs(v))
  }
  const blob = new Uint8Array(offsets[count]!)
  for (let i = 0; i < count; i++) {
    let at = offsets[i]!
    blob.set(head, at)
    at += head.length
    const v = values[i]!
    if (v < 0) blob[at++] = 0x2d // "-"
    let rest = Math.abs(v)
    for (let end = offsets[i + 1]! - 1; end >= at; end--) {
      blob[end] = 0x30 + (rest % 10)
      rest = Math.floor(rest / 10)
    }
  }
  return { blob, offsets }
}

const digits = (value: number): number => {
  let d = 1
  while (value >= 10) {
    value = Math.floor(value / 10)
    d++
  }
  return d
}
