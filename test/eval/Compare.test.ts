// Reference values from SciPy 1.17.1 (mannwhitneyu exact, ks_2samp, permutation_test with every
// split), computed outside this repository.
import { describe, expect, it } from "vitest"
import { compareSamples, ksStatistic, midranks } from "../../src/eval/Compare.ts"

const a = [0.61, 0.64, 0.58, 0.66, 0.6]
const b = [0.7, 0.72, 0.67, 0.75]

describe("compareSamples", () => {
  it("means, U, exact two-sided p-values and KS D equal SciPy's", () => {
    const c = compareSamples(a, b)
    expect(c).toMatchObject({ nA: 5, nB: 4 })
    expect(c.difference).toBeCloseTo(0.71 - 0.618, 12)
    expect(c.mannWhitney).toMatchObject({ u: 20, exact: true })
    expect(c.mannWhitney.p).toBeCloseTo(0.015873015873015872, 12)
    expect(c.permutation).toMatchObject({ exact: true, splits: 126 })
    expect(c.permutation.p).toBeCloseTo(0.015873015873015872, 12)
    expect(c.ks).toBe(1)
  })

  it("ties: midranks, and U's exact permutation p (SciPy's rankdata over all 126 splits: 14/126)", () => {
    expect(midranks([1, 2, 2, 3, 2])).toEqual([1, 3, 3, 5, 3])
    const c = compareSamples([1, 2, 2, 3], [2, 3, 3, 4, 5])
    expect(c.mannWhitney.u).toBe(17)
    expect(c.mannWhitney.p).toBeCloseTo(14 / 126, 12)
    expect(ksStatistic([1, 2, 2, 3], [2, 3, 3, 4, 5])).toBeCloseTo(0.55, 12)
  })

  it("the bootstrap interval holds the difference, is seeded, and is degenerate without spread", () => {
    const c = compareSamples(a, b)
    expect(c.bootstrap.low).toBeLessThan(c.difference)
    expect(c.bootstrap.high).toBeGreaterThan(c.difference)
    expect(compareSamples(a, b)).toEqual(c)
    const flat = compareSamples([0.5, 0.5, 0.5], [0.7, 0.7, 0.7])
    expect(flat.bootstrap.low).toBeCloseTo(0.2, 12)
    expect(flat.bootstrap.high).toBeCloseTo(0.2, 12)
    // Identical groups: nothing to tell apart.
    const same = compareSamples([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
    expect([same.difference, same.permutation.p, same.mannWhitney.p, same.ks]).toEqual([0, 1, 1, 0])
  })

  it("random splits past maxExact: seeded, p near the exact one, never 0", () => {
    const exact = compareSamples(a, b)
    const sampled = compareSamples(a, b, { maxExact: 10, permutations: 20_000 })
    expect(sampled.permutation.exact).toBe(false)
    expect(sampled.permutation.p).toBeGreaterThan(0)
    expect(Math.abs(sampled.permutation.p - exact.permutation.p)).toBeLessThan(0.01)
    expect(() => compareSamples([], b)).toThrow()
  })
})
