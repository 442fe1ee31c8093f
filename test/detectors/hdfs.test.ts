import { describe, expect, it } from "vitest"
import { detectors } from "../../src/detectors/registry.ts"
import { binaryMetrics } from "../../src/eval/Metrics.ts"
import { decodeConfig, hdfs100k } from "./fixtures.ts"

// Real data: deep-loglizer's HDFS_100k sessions (first 100k lines of HDFS_v1), fixed split
// (train 6,096 normal + 256 anomalous, test 1,531 + 57). Every detector with its default config.
const { data, train, test } = hdfs100k()
const y = Int8Array.from(test, (i) => data.labels[i]!)

const countKey = (i: number) => {
  const c = new Map<number, number>()
  for (let p = data.offsets[i]!; p < data.offsets[i + 1]!; p++) c.set(data.events[p]!, (c.get(data.events[p]!) ?? 0) + 1)
  return [...c.entries()].sort((a, b) => a[0] - b[0]).join(";")
}

describe("detectors on HDFS_100k", () => {
  it("has the documented split", () => {
    expect([train.length, test.length]).toEqual([6352, 1588])
    expect(y.filter((l) => l === 1).length).toBe(57)
  })

  it("29 of the 57 test anomalies have the count vector of a normal training session", () => {
    // Why no count-vector detector can reach loglizer's full-HDFS recall on this sample (see BENCHMARKS.md).
    const normal = new Set<string>()
    for (const i of train) if (data.labels[i] === 0) normal.add(countKey(i))
    expect(test.filter((i) => data.labels[i] === 1 && normal.has(countKey(i))).length).toBe(29)
  })

  const expected: Record<string, { minF1: number; minPrecision: number }> = {
    logistic_regression: { minF1: 0.68, minPrecision: 0.99 },
    decision_tree: { minF1: 0.68, minPrecision: 0.99 },
    svm: { minF1: 0.68, minPrecision: 0.99 },
    invariants_mining: { minF1: 0.6, minPrecision: 0.99 },
    log_clustering: { minF1: 0.6, minPrecision: 0.99 },
    isolation_forest: { minF1: 0.55, minPrecision: 0.9 },
    pca: { minF1: 0.25, minPrecision: 0.2 },
    naive_bayes: { minF1: 0.4, minPrecision: 0.9 },
    markov: { minF1: 0.55, minPrecision: 0.7 }
  }

  // DeepLog trains for minutes with its defaults; DeepLog.test.ts covers it on this data with small configs.
  const classic = Object.keys(detectors).filter((tag) => tag !== "deeplog")

  it.each(classic)("%s fits, scores finite numbers and keeps its measured quality", (tag) => {
    const detector = detectors[tag]!
    const config = decodeConfig(detector, {})
    const fit = detector.fit(data, train, config)
    if (fit.status !== "ok") throw new Error(fit.reason)
    const out = detector.score(fit.model, data, test, config)
    expect([...out.scores].every(Number.isFinite)).toBe(true)
    const m = binaryMetrics(y, out.predictions)
    const floor = expected[tag]
    if (floor !== undefined) {
      expect(m.f1).toBeGreaterThanOrEqual(floor.minF1)
      expect(m.precision).toBeGreaterThanOrEqual(floor.minPrecision)
    }
  })
})
