/**
 * Binary encoding of stage outputs. A value is walked once: every typed array inside it is
 * lifted out into an aligned binary section and replaced by a placeholder, and the rest is
 * stored as JSON. Decoding gives typed-array views back without copying, so a parsed log of
 * millions of rows never becomes millions of JS objects on the way into or out of the cache.
 */

const MAGIC = 0x3142464c // "LFB1" little-endian

/** The encoding's version, part of every cache key: bump with MAGIC when the layout changes. */
export const CODEC_VERSION = "LFB1"
const ALIGN = 8
const encoder = new TextEncoder()
const decoder = new TextDecoder()

type TypedArray =
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array

const ctors = {
  Int8Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array
} as const
type CtorName = keyof typeof ctors

interface ArrayRef {
  readonly $array: number
}
interface Section {
  readonly type: CtorName
  readonly offset: number
  readonly length: number
}

const typeName = (v: unknown): CtorName | undefined => {
  if (!ArrayBuffer.isView(v) || v instanceof DataView) return undefined
  const name = v.constructor.name
  return name in ctors ? (name as CtorName) : name === "Buffer" ? "Uint8Array" : undefined
}

/** Encode any JSON-able value that may contain typed arrays into one byte buffer. */
export const encodeValue = (value: unknown): Uint8Array => {
  const arrays: Array<TypedArray> = []
  const sections: Array<Section> = []
  let dataBytes = 0
  const lift = (v: unknown): unknown => {
    const t = typeName(v)
    if (t !== undefined) {
      const arr = v as TypedArray
      sections.push({ type: t, offset: dataBytes, length: arr.length })
      arrays.push(arr)
      dataBytes += align(arr.byteLength)
      const ref: ArrayRef = { $array: arrays.length - 1 }
      return ref
    }
    if (Array.isArray(v)) return v.map(lift)
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {}
      for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = lift(x)
      return out
    }
    if (typeof v === "number" && !Number.isFinite(v)) return { $number: String(v) }
    return v
  }
  const json = lift(value)
  const header = encoder.encode(JSON.stringify({ json, sections }))
  const dataStart = align(8 + header.length)
  const out = new Uint8Array(dataStart + dataBytes)
  const view = new DataView(out.buffer)
  view.setUint32(0, MAGIC, true)
  view.setUint32(4, header.length, true)
  out.set(header, 8)
  for (let i = 0; i < arrays.length; i++) {
    const a = arrays[i]!
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), dataStart + sections[i]!.offset)
  }
  return out
}

/** Decode a buffer written by `encodeValue`; typed arrays are views into `bytes` when aligned. */
export const decodeValue = (bytes: Uint8Array): unknown => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (bytes.byteLength < 8 || view.getUint32(0, true) !== MAGIC) {
    throw new Error("not a logflow artifact (bad magic)")
  }
  const headerLen = view.getUint32(4, true)
  const { json, sections } = JSON.parse(decoder.decode(bytes.subarray(8, 8 + headerLen))) as {
    json: unknown
    sections: Array<Section>
  }
  const dataStart = align(8 + headerLen)
  // Views need the element alignment of their type; copy once if the buffer is misaligned.
  const base = bytes.byteOffset % ALIGN === 0 ? bytes : bytes.slice()
  const restore = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(restore)
    if (v !== null && typeof v === "object") {
      const o = v as Record<string, unknown>
      if (typeof o.$array === "number" && Object.keys(o).length === 1) {
        const s = sections[o.$array]!
        return makeView(s.type, base.buffer, base.byteOffset + dataStart + s.offset, s.length)
      }
      if (typeof o.$number === "string" && Object.keys(o).length === 1) return Number(o.$number)
      const out: Record<string, unknown> = {}
      for (const [k, x] of Object.entries(o)) out[k] = restore(x)
      return out
    }
    return v
  }
  return restore(json)
}

const makeView = (type: CtorName, buffer: ArrayBufferLike, offset: number, length: number): TypedArray => {
  switch (type) {
    case "Int8Array": return new Int8Array(buffer, offset, length)
    case "Uint8Array": return new Uint8Array(buffer, offset, length)
    case "Int16Array": return new Int16Array(buffer, offset, length)
    case "Uint16Array": return new Uint16Array(buffer, offset, length)
    case "Int32Array": return new Int32Array(buffer, offset, length)
    case "Uint32Array": return new Uint32Array(buffer, offset, length)
    case "Float32Array": return new Float32Array(buffer, offset, length)
    case "Float64Array": return new Float64Array(buffer, offset, length)
  }
}

const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN
