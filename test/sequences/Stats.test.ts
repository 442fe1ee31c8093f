import { describe, expect, it } from "vitest"
import { groupByEntity } from "../../src/sequences/GroupByEntity.ts"
import { lengthStats, sequenceStats } from "../../src/sequences/Stats.ts"
import type { Sequences } from "../../src/artifacts/Sequences.ts"
import { packStrings } from "../../src/artifacts/Columns.ts"
import { hdfsLog } from "./fixtures.ts"

const ofLengths = (lengths: Array<number>, labels: Array<number>): Sequences => {
  const offsets = new Int32Array(lengths.length + 1)
  lengths.forEach((l, i) => (offsets[i + 1] = offsets[i]! + l))
  return { ids: packStrings(lengths.map((_, i) => `s${i}`)), offsets, rows: new Int32Array(offsets[lengths.length]!), events: new Int32Array(offsets[lengths.length]!), labels: Int8Array.from(labels) }
}

describe("sequence statistics", () => {
  it("min, max, mean, median (even and odd), nearest-rank p95", () => {
    const s = ofLengths([4, 1, 3, 10, 2, 6], [0, 1, -1, 0, 0, 1])
    expect(lengthStats(s)).toEqual({ count: 6, min: 1, max: 10, mean: 26 / 6, median: 3.5, p95: 10 })
    const odd = ofLengths([5, 1, 3], [0, 0, 0])
    expect(lengthStats(odd)).toEqual({ count: 3, min: 1, max: 5, mean: 3, median: 3, p95: 5 })
    // 20 lengths 1..20: ceil(0.95 · 20) = 19th smallest
    expect(lengthStats(ofLengths(Array.from({ length: 20 }, (_, i) => 20 - i), new Array<number>(20).fill(0))).p95).toBe(19)
    expect(lengthStats(ofLengths([], []))).toEqual({ count: 0, min: 0, max: 0, mean: 0, median: 0, p95: 0 })
  })

  it("splits lengths and labels by split tag", () => {
    const s = ofLengths([4, 1, 3, 10, 2, 6], [0, 1, -1, 0, 0, 1])
    const stats = sequenceStats(s, Uint8Array.from([0, 0, 2, 1, 1, 1]))
    expect(stats.labels).toEqual({ normal: 3, anomaly: 2, unknown: 1 })
    expect(stats.perSplit!.train).toEqual({ lengths: { count: 2, min: 1, max: 4, mean: 2.5, median: 2.5, p95: 4 }, labels: { normal: 1, anomaly: 1, unknown: 0 } })
    expect(stats.perSplit!.test.labels).toEqual({ normal: 2, anomaly: 1, unknown: 0 })
    expect(stats.perSplit!.ignored.lengths.count).toBe(1)
    expect(sequenceStats(s).perSplit).toBeUndefined()
    expect(() => lengthStats(s, new Uint8Array(2), 0)).toThrow(/split/)
  })

  it("HDFS_20000 block lengths agree with a plain count of lines per block", () => {
    const { lines, parsed, templated } = hdfsLog("hdfs/raw/HDFS_20000.log")
    const perBlock = new Map<string, number>()
    for (const l of lines) for (const b of new Set(l.match(/blk_-?\d+/g) ?? [])) perBlock.set(b, (perBlock.get(b) ?? 0) + 1)
    const lengths = [...perBlock.values()].sort((a, b) => a - b)
    const stats = lengthStats(groupByEntity(parsed, templated, { pattern: "blk_-?\\d+" }))
    expect(stats.count).toBe(1782)
    expect(stats.min).toBe(lengths[0])
    expect(stats.max).toBe(lengths[lengths.length - 1])
    expect(stats.mean).toBeCloseTo(lengths.reduce((a, b) => a + b, 0) / lengths.length, 12)
    expect(stats.median).toBe((lengths[890]! + lengths[891]!) / 2)
    expect(stats.p95).toBe(lengths[Math.ceil(0.95 * 1782) - 1])
  })
})
