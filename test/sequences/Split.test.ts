import { describe, expect, it } from "vitest"
import { type StraddlePolicy, chronologicalSplit, randomSplit, rawEntrySplit } from "../../src/sequences/Split.ts"
import { mulberry32 } from "../../src/artifacts/Random.ts"
import type { Sequences } from "../../src/artifacts/Sequences.ts"
import { SPLIT_IGNORED, SPLIT_TEST, SPLIT_TRAIN } from "../../src/artifacts/Sequences.ts"
import { packStrings, unpackStrings } from "../../src/artifacts/Columns.ts"
import { seqRows } from "./fixtures.ts"

const T = SPLIT_TRAIN, X = SPLIT_TEST, I = SPLIT_IGNORED

const withLabels = (labels: Array<number>): Sequences => ({
  ids: packStrings(labels.map((_, i) => `s${i}`)),
  offsets: Int32Array.from({ length: labels.length + 1 }, (_, i) => i),
  rows: Int32Array.from(labels, (_, i) => i),
  events: new Int32Array(labels.length),
  labels: Int8Array.from(labels)
})

const grouped = (ids: Array<string>, groups: Array<Array<number>>, labels: Array<number>): Sequences => {
  const offsets = new Int32Array(groups.length + 1)
  groups.forEach((g, i) => (offsets[i + 1] = offsets[i]! + g.length))
  const rows = Int32Array.from(groups.flat())
  return { ids: packStrings(ids), offsets, rows, events: Int32Array.from(rows, (r) => 100 + r), labels: Int8Array.from(labels) }
}

// 10 sequences: N N A N U | N A N N U  (N = 0, A = 1, U = -1)
const seqs = withLabels([0, 0, 1, 0, -1, 0, 1, 0, 0, -1])

describe("chronologicalSplit", () => {
  it("puts the first floor(f·n) sequences in train and the rest in test", () => {
    const { split, summary } = chronologicalSplit(seqs, { trainFraction: 0.5, trainOnNormalOnly: false })
    expect(Array.from(split)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    expect(summary).toEqual({
      train: { count: 5, normal: 3, anomaly: 1, unknown: 1 },
      test: { count: 5, normal: 3, anomaly: 1, unknown: 1 },
      ignored: { count: 0, normal: 0, anomaly: 0, unknown: 0 }
    })
    // floor(0.35 · 10) = 3
    expect(chronologicalSplit(seqs, { trainFraction: 0.35, trainOnNormalOnly: false }).summary.train.count).toBe(3)
  })

  it("takes test_fraction from the end and ignores the middle", () => {
    const { split, summary } = chronologicalSplit(seqs, { trainFraction: 0.5, testFraction: 0.3, trainOnNormalOnly: false })
    expect(Array.from(split)).toEqual([T, T, T, T, T, I, I, X, X, X])
    expect(summary.ignored).toEqual({ count: 2, normal: 1, anomaly: 1, unknown: 0 })
    expect(summary.test).toEqual({ count: 3, normal: 2, anomaly: 0, unknown: 1 })
    const full = chronologicalSplit(seqs, { trainFraction: 0.7, testFraction: 0.3, trainOnNormalOnly: false })
    expect(Array.from(full.split)).toEqual([T, T, T, T, T, T, T, X, X, X])
  })

  it("ignores anomalous and unknown train sequences under train_on_normal_entities_only", () => {
    const { split, summary } = chronologicalSplit(seqs, { trainFraction: 0.5, trainOnNormalOnly: true })
    expect(Array.from(split)).toEqual([T, T, I, T, I, X, X, X, X, X])
    expect(summary).toEqual({
      train: { count: 3, normal: 3, anomaly: 0, unknown: 0 },
      test: { count: 5, normal: 3, anomaly: 1, unknown: 1 },
      ignored: { count: 2, normal: 0, anomaly: 1, unknown: 1 }
    })
  })

  it("floors 0.29 · 100 to 29 despite floating-point error", () => {
    expect(0.29 * 100).toBeLessThan(29)
    const many = withLabels(new Array<number>(100).fill(0))
    expect(chronologicalSplit(many, { trainFraction: 0.29, trainOnNormalOnly: false }).summary.train.count).toBe(29)
  })

  it("rejects fractions outside (0, 1] and train + test above 1, naming the key", () => {
    for (const f of [0, -0.1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => chronologicalSplit(seqs, { trainFraction: f, trainOnNormalOnly: false })).toThrow(/train_fraction must be in \(0, 1\]/)
      expect(() => chronologicalSplit(seqs, { trainFraction: 0.5, testFraction: f, trainOnNormalOnly: false })).toThrow(/test_fraction must be in \(0, 1\]/)
    }
    expect(() => chronologicalSplit(seqs, { trainFraction: 0.8, testFraction: 0.3, trainOnNormalOnly: false })).toThrow(
      /train_fraction \+ test_fraction must be at most 1, got 0.8 \+ 0.3/
    )
  })

  it("reports a fraction that leaves a split empty instead of accepting it", () => {
    expect(() => chronologicalSplit(seqs, { trainFraction: 1, trainOnNormalOnly: false })).toThrow(/train_fraction 1 leaves the test split empty/)
    expect(() => chronologicalSplit(withLabels([0]), { trainFraction: 0.9, trainOnNormalOnly: false })).toThrow(/train_fraction leaves the train split empty \(1 sequences\)/)
    expect(() => chronologicalSplit(seqs, { trainFraction: 0.05, trainOnNormalOnly: false })).toThrow(/train_fraction leaves the train split empty/)
    expect(() => chronologicalSplit(seqs, { trainFraction: 0.5, testFraction: 0.05, trainOnNormalOnly: false })).toThrow(/test_fraction 0.05 leaves the test split empty/)
    const unknown = withLabels(new Array<number>(10).fill(-1))
    expect(() => chronologicalSplit(unknown, { trainFraction: 0.5, trainOnNormalOnly: true })).toThrow(/train_on_normal_entities_only leaves the train split empty/)
    expect(() => chronologicalSplit(withLabels([]), { trainFraction: 0.5, trainOnNormalOnly: false })).toThrow(/empty/)
  })
})

describe("randomSplit (mulberry32 + Fisher-Yates)", () => {
  const many = withLabels(Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? 1 : 0)))

  it("mulberry32 is deterministic, in [0, 1) and roughly uniform", () => {
    const a = mulberry32(42)
    const b = mulberry32(42)
    const xs = Array.from({ length: 10_000 }, () => a())
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()))
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true)
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02)
    expect(mulberry32(1)()).not.toBe(mulberry32(2)())
  })

  it("has the chronological sizes, is reproducible per seed and differs across seeds", () => {
    const one = randomSplit(many, { trainFraction: 0.6, testFraction: 0.3, seed: 7, trainOnNormalOnly: false })
    expect(one.summary.train.count).toBe(600)
    expect(one.summary.test.count).toBe(300)
    expect(one.summary.ignored.count).toBe(100)
    expect(Array.from(randomSplit(many, { trainFraction: 0.6, testFraction: 0.3, seed: 7, trainOnNormalOnly: false }).split)).toEqual(Array.from(one.split))
    const other = randomSplit(many, { trainFraction: 0.6, testFraction: 0.3, seed: 8, trainOnNormalOnly: false })
    expect(Array.from(other.split)).not.toEqual(Array.from(one.split))
    // shuffled: train is not the chronological prefix
    expect(Array.from(one.split.subarray(0, 600)).every((t) => t === T)).toBe(false)
    const normalOnly = randomSplit(many, { trainFraction: 0.6, seed: 7, trainOnNormalOnly: true })
    expect(normalOnly.summary.train.anomaly).toBe(0)
    expect(normalOnly.summary.train.count + normalOnly.summary.ignored.count).toBe(600)
  })

  it("rejects a bad seed and empty splits", () => {
    for (const seed of [-1, 1.5, 2 ** 32, Number.NaN]) {
      expect(() => randomSplit(many, { trainFraction: 0.5, seed, trainOnNormalOnly: false })).toThrow(/seed/)
    }
    expect(() => randomSplit(seqs, { trainFraction: 1, seed: 1, trainOnNormalOnly: false })).toThrow(/train_fraction 1 leaves the test split empty/)
  })
})

describe("rawEntrySplit: boundary on parsed rows before grouping", () => {
  // Rows 0..9, boundary 5. a [0 2] N: train; b [1 4 6] A and c [3 7] N straddle; d [5 8] N and e [6 9] N: test.
  const five = grouped(["a", "b", "c", "d", "e"], [[0, 2], [1, 4, 6], [3, 7], [5, 8], [6, 9]], [0, 1, 0, 0, 0])
  const firstN = (policy: StraddlePolicy, trainOnNormalOnly = false) =>
    rawEntrySplit(five, { boundary: { kind: "raw_first_n", n: 5 }, policy, rowCount: 10, trainOnNormalOnly })

  it("first_event / last_event / drop tag whole straddlers", () => {
    const first = firstN("first_event")
    expect(first.boundaryRow).toBe(5)
    expect(first.straddling).toBe(2)
    expect(first.sequences).toBe(five)
    expect(Array.from(first.split)).toEqual([T, T, T, X, X])
    expect(Array.from(firstN("last_event").split)).toEqual([T, X, X, X, X])
    const drop = firstN("drop")
    expect(Array.from(drop.split)).toEqual([T, I, I, X, X])
    expect(drop.summary).toEqual({
      train: { count: 1, normal: 1, anomaly: 0, unknown: 0 },
      test: { count: 2, normal: 2, anomaly: 0, unknown: 0 },
      ignored: { count: 2, normal: 1, anomaly: 1, unknown: 0 }
    })
    expect(Array.from(firstN("first_event", true).split)).toEqual([T, I, T, X, X])
  })

  it("split_partial cuts straddlers in two and keeps the order by first row", () => {
    const out = firstN("split_partial")
    const s = out.sequences
    expect(s).not.toBe(five)
    expect(unpackStrings(s.ids)).toEqual(["a", "b", "c", "d", "e", "b", "c"])
    expect(unpackStrings(s.ids).map((_, i) => seqRows(s, i))).toEqual([[0, 2], [1, 4], [3], [5, 8], [6, 9], [6], [7]])
    expect(Array.from(s.events)).toEqual([100, 102, 101, 104, 103, 105, 108, 106, 109, 106, 107])
    expect(Array.from(s.labels)).toEqual([0, 1, 0, 0, 0, 1, 0])
    expect(Array.from(out.split)).toEqual([T, T, T, X, X, X, X])
    expect(out.summary.train).toEqual({ count: 3, normal: 2, anomaly: 1, unknown: 0 })
    expect(out.summary.test).toEqual({ count: 4, normal: 3, anomaly: 1, unknown: 0 })
    expect(Array.from(firstN("split_partial", true).split)).toEqual([T, I, T, X, X, X, X])
    expect(Array.from(five.offsets)).toEqual([0, 2, 5, 7, 9, 11])
  })

  it("raw_first_fraction and raw_first_fraction_of_normal place the boundary", () => {
    const half = rawEntrySplit(five, { boundary: { kind: "raw_first_fraction", fraction: 0.5 }, policy: "drop", rowCount: 10, trainOnNormalOnly: false })
    expect(half.boundaryRow).toBe(5)
    // normal rows 0 1 3 5 6 7 8 9 (8); half = 4 -> the 4th normal row is 5 -> boundary 6
    const rowLabels = Int8Array.from([0, 0, 1, 0, 1, 0, 0, 0, 0, 0])
    const normal = rawEntrySplit(five, {
      boundary: { kind: "raw_first_fraction_of_normal", fraction: 0.5, rowLabels },
      policy: "last_event",
      rowCount: 10,
      trainOnNormalOnly: false
    })
    expect(normal.boundaryRow).toBe(6)
    // a [0 2] train; b [1 4 6] last 6 -> test; c [3 7] -> test; d [5 8] straddles -> test; e [6 9] test
    expect(Array.from(normal.split)).toEqual([T, X, X, X, X])
    expect(normal.straddling).toBe(3)
  })

  it("rejects bad boundaries, a bad policy and empty sides, naming the key", () => {
    const run = (boundary: Parameters<typeof rawEntrySplit>[1]["boundary"], policy: StraddlePolicy = "drop") =>
      () => rawEntrySplit(five, { boundary, policy, rowCount: 10, trainOnNormalOnly: false })
    expect(run({ kind: "raw_first_n", n: 0 })).toThrow(/raw_first_n must be an integer >= 1/)
    expect(run({ kind: "raw_first_n", n: 10 })).toThrow(/raw_first_n 10 leaves no entry for the test split/)
    expect(run({ kind: "raw_first_fraction", fraction: 0 })).toThrow(/raw_first_fraction must be in \(0, 1\]/)
    expect(run({ kind: "raw_first_fraction", fraction: 1.2 })).toThrow(/raw_first_fraction must be in \(0, 1\]/)
    expect(run({ kind: "raw_first_fraction", fraction: 1 })).toThrow(/raw_first_fraction leaves the test split empty/)
    expect(run({ kind: "raw_first_fraction", fraction: 0.05 })).toThrow(/raw_first_fraction leaves the train split empty/)
    expect(run({ kind: "raw_first_fraction_of_normal", fraction: 0.1, rowLabels: new Int8Array(10).fill(1) })).toThrow(
      /raw_first_fraction_of_normal 0.1 of 0 normal entries leaves the train split empty/
    )
    expect(run({ kind: "raw_first_n", n: 5 }, "middle" as StraddlePolicy)).toThrow(/straddle_policy must be one of/)
    const allStraddle = grouped(["x", "y"], [[0, 9], [1, 8]], [0, 0])
    expect(() => rawEntrySplit(allStraddle, { boundary: { kind: "raw_first_n", n: 5 }, policy: "drop", rowCount: 10, trainOnNormalOnly: false })).toThrow(
      /raw_first_n leaves the train split empty/
    )
  })
})
