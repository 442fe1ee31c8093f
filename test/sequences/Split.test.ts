import { describe, expect, it } from "vitest"
import { chronologicalSplit } from "../../src/sequences/Split.ts"
import type { Sequences } from "../../src/tasks/Artifacts.ts"
import { SPLIT_IGNORED, SPLIT_TEST, SPLIT_TRAIN } from "../../src/tasks/Artifacts.ts"
import { packStrings } from "../../src/tasks/StringColumn.ts"

const withLabels = (labels: Array<number>): Sequences => ({
  ids: packStrings(labels.map((_, i) => `s${i}`)),
  offsets: Int32Array.from({ length: labels.length + 1 }, (_, i) => i),
  rows: Int32Array.from(labels, (_, i) => i),
  events: new Int32Array(labels.length),
  labels: Int8Array.from(labels)
})

// 10 sequences: N N A N U | N A N N U  (N = 0, A = 1, U = -1)
const seqs = withLabels([0, 0, 1, 0, -1, 0, 1, 0, 0, -1])

describe("chronologicalSplit", () => {
  it("puts the first floor(f·n) sequences in train", () => {
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

  it("ignores anomalous and unknown train sequences under trainOnNormalOnly", () => {
    const { split, summary } = chronologicalSplit(seqs, { trainFraction: 0.5, trainOnNormalOnly: true })
    const T = SPLIT_TRAIN, I = SPLIT_IGNORED, X = SPLIT_TEST
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

  it("rejects fractions outside (0, 1)", () => {
    for (const f of [0, 1, -0.1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => chronologicalSplit(seqs, { trainFraction: f, trainOnNormalOnly: false })).toThrow(/trainFraction/)
    }
  })
})
