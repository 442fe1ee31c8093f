// The byte interner numbers byte strings by first appearance: checked against a Map of the same
// strings on generated inputs (fast-check), and on the growth, clear and int-tuple paths its users take.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ByteInterner } from "../../src/artifacts/ByteInterner.ts"
import { unpackStrings } from "../../src/artifacts/Columns.ts"

const utf8 = new TextEncoder()

/** Intern every string of `keys` (each placed at a random offset of a buffer of its own). */
const internAll = (interner: ByteInterner, keys: ReadonlyArray<string>, pad: ReadonlyArray<number>) =>
  keys.map((k, i) => {
    const bytes = utf8.encode(k)
    const buf = new Uint8Array(bytes.length + pad[i % pad.length]! + 3)
    buf.set(bytes, pad[i % pad.length]!)
    return interner.intern(buf, pad[i % pad.length]!, pad[i % pad.length]! + bytes.length)
  })

describe("ByteInterner", () => {
  it("gives each distinct byte string the code of its first appearance, as a Map would, and keeps the keys in code order", () => {
    fc.assert(
      // Keys over a small alphabet repeat often, also after the table and arena grew.
      fc.property(fc.array(fc.string({ unit: fc.constantFrom("a", "b", "é", "\u{1F600}"), maxLength: 5 }), { minLength: 300, maxLength: 1500 }), fc.array(fc.nat(7), { minLength: 1, maxLength: 5 }), (keys, pad) => {
        const interner = new ByteInterner(4, 16) // small, so the table and the arena grow
        const codes = internAll(interner, keys, pad)
        const expected = new Map<string, number>()
        for (const k of keys) if (!expected.has(k)) expected.set(k, expected.size)
        expect(codes).toEqual(keys.map((k) => expected.get(k)))
        expect(interner.count).toBe(expected.size)
        expect(unpackStrings(interner.column())).toEqual([...expected.keys()])
      })
    )
  })

  it("find misses without adding, addFound adds what it missed, holds compares without hashing", () => {
    const interner = new ByteInterner()
    const buf = utf8.encode("alpha beta alpha")
    expect(interner.find(buf, 0, 5)).toBe(-1)
    expect(interner.count).toBe(0)
    expect(interner.addFound(buf, 0, 5)).toBe(0)
    expect(interner.find(buf, 11, 16)).toBe(0) // "alpha" again, elsewhere in the buffer
    expect(interner.intern(buf, 6, 10)).toBe(1)
    expect(interner.holds(0, buf, 11, 16)).toBe(true)
    expect(interner.holds(1, buf, 0, 4)).toBe(false)
    expect(interner.holds(0, buf, 0, 4)).toBe(false) // a prefix is another key
    // The empty string is a key like any other.
    expect(interner.intern(buf, 3, 3)).toBe(2)
    expect(interner.intern(new Uint8Array(0), 0, 0)).toBe(2)
  })

  it("after clear, codes start again at 0, and a key missed before the clear can still be added", () => {
    const interner = new ByteInterner(4, 8)
    const a = utf8.encode("a-key")
    const b = utf8.encode("b-key")
    internAll(interner, Array.from({ length: 100 }, (_, i) => `k${i}`), [0])
    expect(interner.find(a, 0, a.length)).toBe(-1)
    interner.clear()
    expect(interner.count).toBe(0)
    expect(interner.addFound(a, 0, a.length)).toBe(0)
    expect(interner.intern(b, 0, b.length)).toBe(1)
    expect(interner.find(a, 0, a.length)).toBe(0)
    expect(unpackStrings(interner.column())).toEqual(["a-key", "b-key"])
  })

  it("interns Int32 tuples through their bytes (how n-gram phrases use it)", () => {
    const events = Int32Array.from([5, 5, 22, 5, 5, 22, 7])
    const bytes = new Uint8Array(events.buffer)
    const interner = new ByteInterner()
    const pairs = [0, 1, 2, 3, 4, 5].map((s) => interner.intern(bytes, 4 * s, 4 * (s + 2)))
    expect(pairs).toEqual([0, 1, 2, 0, 1, 3])
  })
})
