// flow analyze's numbers on hand-made counts: distribution comparison and temporal flags.
import { describe, expect, it } from "vitest"
import { anscombeZ, compareDistributions, TemporalProfile, temporalFlags } from "../../src/eval/LogProfiles.ts"

const counts = (o: Record<string, number>) => new Map(Object.entries(o))
const H = 3_600_000
/** 2026-11-30 was a Monday: hour 0 of it, in ms. */
const MONDAY = Date.UTC(2026, 10, 30)

describe("compareDistributions", () => {
  it("the same mix: cosine 1, KL and JS 0, nothing new or vanished", () => {
    const c = compareDistributions(counts({ a: 10, b: 30 }), counts({ a: 100, b: 300 }))
    expect(c.cosine).toBeCloseTo(1, 12)
    expect(c.js).toBeCloseTo(0, 12)
    expect(c.kl).toBeLessThan(0.01) // smoothing only
    expect(c.new_templates).toEqual([])
    expect(c.vanished_templates).toEqual([])
  })
  it("disjoint mixes: cosine 0, JS ln 2; new and vanished templates listed with shares; shifts largest first", () => {
    const c = compareDistributions(counts({ x: 3, y: 1 }), counts({ a: 2 }))
    expect(c.cosine).toBe(0)
    expect(c.js).toBeCloseTo(Math.log(2), 12)
    expect(c.new_templates).toEqual([{ template: "x", count: 3, share: 0.75 }, { template: "y", count: 1, share: 0.25 }])
    expect(c.vanished_templates).toEqual([{ template: "a", count: 2, share: 1 }])
    expect(c.shifts.map((s) => s.template)).toEqual(["a", "x", "y"])
  })
  it("KL with smoothing 0.5 by hand", () => {
    const c = compareDistributions(counts({ a: 1, b: 3 }), counts({ a: 3, b: 1 }))
    const p = [1.5 / 5, 3.5 / 5]
    const q = [3.5 / 5, 1.5 / 5]
    expect(c.kl).toBeCloseTo(p[0]! * Math.log(p[0]! / q[0]!) + p[1]! * Math.log(p[1]! / q[1]!), 12)
    expect(c.cosine).toBeCloseTo(6 / 10, 12)
  })
})

describe("TemporalProfile and temporalFlags", () => {
  /** `perHour` lines of each template spread evenly over each of `hours` (or over its first `minutes` at the same rate). */
  const steady = (p: TemporalProfile, hours: ReadonlyArray<number>, perHour: Record<string, number>, day = MONDAY, minutes = 60) => {
    for (const h of hours) {
      for (const [t, n] of Object.entries(perHour)) {
        const count = Math.round((n * minutes) / 60)
        for (let i = 0; i < count; i++) p.add(t, day + h * H + Math.floor(((i + 0.5) * minutes * 60_000) / count))
      }
    }
  }

  it("profiles by hour of day (UTC) and day of week, Monday first; untimed lines counted apart", () => {
    const p = new TemporalProfile()
    p.add("a", MONDAY + 5 * H + 10)
    p.add("a", MONDAY + 24 * H * 6 + 23 * H) // Sunday 23:00
    p.add("a", Number.NaN)
    expect(Array.from(p.hours.get("a")!).flatMap((n, h) => (n > 0 ? [h] : []))).toEqual([5, 23])
    expect(Array.from(p.weekdays.get("a")!)).toEqual([1, 0, 0, 0, 0, 0, 1])
    expect([p.lines, p.untimed, p.bucketLines.size]).toEqual([2, 1, 2])
  })

  it("without a baseline: a clock hour where a template's rate jumps is a burst; steady hours and a partly covered hour are not", () => {
    const p = new TemporalProfile()
    steady(p, [1, 2, 3, 4], { a: 50, b: 50 })
    steady(p, [5], { a: 50, b: 50 }, MONDAY, 12) // the log ends 12 minutes into this hour: fewer lines, same rates
    for (let i = 0; i < 150; i++) p.add("b", MONDAY + 3 * H + 2000 + i) // b bursts in hour 3
    const flags = temporalFlags(p)
    expect(flags).toHaveLength(1)
    expect(flags[0]).toMatchObject({ template: "b", kind: "burst", at: new Date(MONDAY + 3 * H).toISOString(), count: 200 })
    expect(flags[0]!.z!).toBeGreaterThanOrEqual(4)
  })

  it("against a baseline: bursts and silences by hour of day, activity at an hour the baseline never had, new templates", () => {
    const base = new TemporalProfile()
    for (let d = 0; d < 5; d++) steady(base, [8, 9, 10], { a: 40, b: 40 }, MONDAY + d * 24 * H)
    steady(base, [9], { c: 5 })
    const target = new TemporalProfile()
    steady(target, [8], { a: 40, b: 40 }) // as usual
    steady(target, [9], { a: 80, b: 2 }) // b silent, a bursts
    steady(target, [10], { a: 40, b: 40, c: 6 }) // c at an hour the baseline never had it
    steady(target, [10], { z: 7 })
    const flags = temporalFlags(target, base)
    const key = (f: { template: string; kind: string; at: string }) => `${f.template} ${f.kind} ${f.at}`
    expect(flags.map(key).sort()).toEqual([
      "a burst 09:00-09:59 UTC",
      "b silence 09:00-09:59 UTC",
      "c unusual_hour 10:00-10:59 UTC",
      "z new_template log"
    ])
  })

  it("the Anscombe z is 0 at the expected count and grows with the deviation", () => {
    expect(anscombeZ(10, 10)).toBe(0)
    expect(anscombeZ(40, 10)).toBeGreaterThan(4)
    expect(anscombeZ(0, 30)).toBeLessThan(-4)
  })
})
