import { describe, expect, it } from "vitest"
import { decodeValue, encodeValue } from "../../src/cache/Codec.ts"

describe("Codec", () => {
  it("round-trips nested JSON with typed arrays of every kind", () => {
    const value = {
      name: "x",
      n: 3,
      none: null,
      list: [1, "a", { deep: new Int32Array([-1, 2, 2147483647]) }],
      bytes: new Uint8Array([0, 255]),
      i8: new Int8Array([-128, 127]),
      u16: new Uint16Array([65535]),
      i16: new Int16Array([-5]),
      u32: new Uint32Array([4294967295]),
      f32: new Float32Array([1.5]),
      f64: new Float64Array([Math.PI, NaN, -Infinity]),
      odd: new Uint8Array([1, 2, 3]) // forces padding before the next section
    }
    const back = decodeValue(encodeValue(value)) as typeof value
    expect(back.name).toBe("x")
    expect(back.none).toBeNull()
    expect(back.list[2]).toEqual({ deep: new Int32Array([-1, 2, 2147483647]) })
    expect(back.list[2] && (back.list[2] as { deep: Int32Array }).deep).toBeInstanceOf(Int32Array)
    expect(back.bytes).toEqual(new Uint8Array([0, 255]))
    expect(back.i8).toEqual(new Int8Array([-128, 127]))
    expect(back.u16).toEqual(new Uint16Array([65535]))
    expect(back.i16).toEqual(new Int16Array([-5]))
    expect(back.u32).toEqual(new Uint32Array([4294967295]))
    expect(back.f32).toEqual(new Float32Array([1.5]))
    expect(Array.from(back.f64)).toEqual([Math.PI, NaN, -Infinity])
    expect(back.odd).toEqual(new Uint8Array([1, 2, 3]))
  })

  it("encodes subarray views by their own bytes only", () => {
    const big = new Int32Array([9, 8, 7, 6])
    const back = decodeValue(encodeValue({ v: big.subarray(1, 3) })) as { v: Int32Array }
    expect(Array.from(back.v)).toEqual([8, 7])
  })

  it("keeps non-finite plain numbers", () => {
    expect(decodeValue(encodeValue({ t: NaN, u: Infinity }))).toEqual({ t: NaN, u: Infinity })
  })

  it("decodes from a misaligned buffer", () => {
    const bytes = encodeValue({ v: new Float64Array([1, 2]) })
    const shifted = new Uint8Array(bytes.length + 1)
    shifted.set(bytes, 1)
    expect(decodeValue(shifted.subarray(1))).toEqual({ v: new Float64Array([1, 2]) })
  })

  it("rejects bytes that are not an artifact", () => {
    expect(() => decodeValue(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]))).toThrow(/bad magic/)
  })
})
