import { describe, expect, it } from "vitest"
import { summarize, t975 } from "../../src/eval/Stats.ts"

describe("summarize", () => {
  it("n, mean, sample std, SEM, the t interval, min and max", () => {
    const s = summarize([0.5, 0.7, 0.6])
    expect(s.n).toBe(3)
    expect(s.mean).toBeCloseTo(0.6, 12)
    expect(s.std).toBeCloseTo(0.1, 12) // sqrt(((-.1)^2 + .1^2 + 0) / 2)
    expect(s.sem).toBeCloseTo(0.1 / Math.sqrt(3), 12)
    expect(s.ciLow).toBeCloseTo(0.6 - 4.303 * 0.1 / Math.sqrt(3), 12)
    expect(s.ciHigh).toBeCloseTo(0.6 + 4.303 * 0.1 / Math.sqrt(3), 12)
    expect([s.min, s.max]).toEqual([0.5, 0.7])
  })
  it("one value has no spread; none is an error", () => {
    expect(summarize([0.25])).toEqual({ n: 1, mean: 0.25, std: null, sem: null, ciLow: null, ciHigh: null, min: 0.25, max: 0.25 })
    expect(() => summarize([])).toThrow(/no values/)
  })
  it("t quantiles from the table, the lower row between rows, the normal beyond 120", () => {
    expect(t975(1)).toBe(12.706)
    expect(t975(2)).toBe(4.303)
    expect(t975(30)).toBe(2.042)
    expect(t975(35)).toBe(2.042)
    expect(t975(60)).toBe(2)
    expect(t975(1000)).toBe(1.96)
    expect(() => t975(0)).toThrow()
  })
})
