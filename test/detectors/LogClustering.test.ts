import { describe, expect, it } from "vitest"
import type { DenseMatrix } from "../../src/detectors/base/Features.ts"
import { completeLinkageClusters, cosineDistance, logClustering, type LogClusteringModel } from "../../src/detectors/LogClustering.ts"
import { mulberry32 } from "../../src/artifacts/Random.ts"
import { counts, decodeConfig, fitOk, range, view } from "./fixtures.ts"

// Raw counts of templates (1, 2): (5,0), (10,0), (0,5), (0,15), (6,5). Cosine distances: the first two
// 0, the next two 0; (6,5) is 1 − 6/√61 ≈ 0.2318 from (1,0) and 1 − 5/√61 ≈ 0.3598 from (0,1).
const rowsAB = [[5, 0], [10, 0], [0, 5], [0, 15], [6, 5]]
const train = rowsAB.map(([a, b]) => counts([1, a!], [2, b!]))
const queries = [counts([2, 1]), counts([1, 1], [2, 1]), counts([1, 1], [2, 3]), []]
const data = view([...train, ...queries], [0, 0, 0, 0, 0, -1, -1, -1, -1])
const raw = { term_weighting: "none" }
const dist = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => {
  const dot = a[0]! * b[0]! + a[1]! * b[1]!
  return 1 - dot / (Math.hypot(a[0]!, a[1]!) * Math.hypot(b[0]!, b[1]!) + 1e-8)
}

describe("log_clustering config", () => {
  it("applies loglizer's defaults", () => {
    expect(decodeConfig(logClustering, {})).toEqual({
      max_dist: 0.3,
      anomaly_threshold: 0.3,
      mode: "online",
      num_bootstrap_samples: 1000,
      term_weighting: "tf-idf",
      normalization: "none",
      train_on: "normal"
    })
  })

  it.each([
    ["max_dist", { max_dist: 0 }],
    ["anomaly_threshold", { anomaly_threshold: -0.1 }],
    ["mode", { mode: "batch" }],
    ["num_bootstrap_samples", { num_bootstrap_samples: -1 }],
    ["distance", { distance: "cosine" }]
  ])("rejects a bad %s", (key, input) => {
    expect(() => decodeConfig(logClustering, input)).toThrow(key)
  })
})

describe("log_clustering", () => {
  it("clusters offline by complete linkage cut at max_dist and scores the nearest representative", () => {
    const model = fitOk(logClustering, data, range(5), { ...raw, mode: "offline" })
    // Clusters {(5,0), (10,0), (6,5)} and {(0,5), (0,15)}; representatives are their means.
    expect(model.sizes).toEqual([3, 2])
    expect(model.representatives[0]![0]).toBeCloseTo(7, 12)
    expect(model.representatives[0]![1]).toBeCloseTo(5 / 3, 12)
    expect(model.representatives[1]).toEqual([0, 10])
    const out = logClustering.score(model, data, range(5, 9), decodeConfig(logClustering, raw))
    const expected = [
      0, // (0,1) is on representative 2
      Math.min(dist([1, 1], [7, 5 / 3]), dist([1, 1], [0, 10])),
      Math.min(dist([1, 3], [7, 5 / 3]), dist([1, 3], [0, 10])),
      1 // the empty sequence (zero vector) is at distance 1 from everything
    ]
    expected.forEach((e, j) => expect(out.scores[j]).toBeCloseTo(e, 7))
    expect([...out.predictions]).toEqual(expected.map((e) => (e > 0.3 ? 1 : 0)))
  })

  it("bootstraps offline, then joins rows online with a running mean", () => {
    // Offline on the first 2 rows: one cluster (7.5, 0). Online: (0,5) opens a cluster, (0,15) joins it
    // (mean (0,10)), (6,5) joins cluster 0 (distance 0.2318): (7.5,0) + ((6,5) − (7.5,0)) / 3 = (7, 5/3).
    const model = fitOk(logClustering, data, range(5), { ...raw, num_bootstrap_samples: 2 })
    expect(model.sizes).toEqual([3, 2])
    expect(model.representatives[0]![0]).toBeCloseTo(7, 12)
    expect(model.representatives[0]![1]).toBeCloseTo(5 / 3, 12)
    expect(model.representatives[1]).toEqual([0, 10])
    // Purely online (no bootstrap) gives the same clusters here.
    expect(fitOk(logClustering, data, range(5), { ...raw, num_bootstrap_samples: 0 }).sizes).toEqual([3, 2])
  })

  it("trains on normal sequences only by default", () => {
    const d = view([...train, counts([1, 1], [2, 1])], [0, 0, 0, 0, 0, 1])
    expect(fitOk(logClustering, d, range(6), raw).sizes).toEqual([3, 2])
    expect(fitOk(logClustering, d, range(6), { ...raw, train_on: "all" }).sizes).toEqual([4, 2])
  })

  it("finds the same flat clusters as greedy complete linkage on random points (no ties)", () => {
    const random = mulberry32(7)
    for (let trial = 0; trial < 5; trial++) {
      const n = 40
      const x: DenseMatrix = { rows: n, cols: 3, values: Float64Array.from({ length: n * 3 }, () => random()) }
      for (const cut of [0.05, 0.2, 0.4]) {
        expect(samePartition(completeLinkageClusters(x, n, cut), greedyCompleteLinkage(x, cut))).toBe(true)
      }
    }
  })

  it("scores the same from a JSON round trip", () => {
    const model = fitOk(logClustering, data, range(5))
    const copy = JSON.parse(JSON.stringify(model)) as LogClusteringModel
    const config = decodeConfig(logClustering, {})
    expect(logClustering.score(copy, data, range(9), config)).toEqual(logClustering.score(model, data, range(9), config))
  })

  it.each([
    ["no normal training sequences", [1, 1], /needs normal training sequences/],
    ["an empty train split", [], /train split is empty/]
  ])("is invalid with %s", (_, labels, reason) => {
    const d = view(labels.map(() => [1]), labels)
    const out = logClustering.fit(d, range(labels.length), decodeConfig(logClustering, {}))
    expect(out.status === "invalid" && out.reason).toMatch(reason)
  })
})

/** Textbook complete linkage: merge the closest pair of clusters while it is within the cut. */
function greedyCompleteLinkage(x: DenseMatrix, cut: number): Int32Array {
  const row = (i: number) => x.values.subarray(i * x.cols, (i + 1) * x.cols)
  let clusters = Array.from({ length: x.rows }, (_, i) => [i])
  for (;;) {
    let best = Infinity
    let pair = [-1, -1]
    for (let a = 0; a < clusters.length; a++) {
      for (let b = a + 1; b < clusters.length; b++) {
        let d = 0
        for (const i of clusters[a]!) for (const j of clusters[b]!) d = Math.max(d, cosineDistance(row(i), row(j)))
        if (d < best) {
          best = d
          pair = [a, b]
        }
      }
    }
    if (!(best <= cut)) break
    const [a, b] = pair as [number, number]
    clusters = [...clusters.filter((_, k) => k !== a && k !== b), [...clusters[a]!, ...clusters[b]!]]
  }
  const labels = new Int32Array(x.rows)
  clusters.forEach((c, k) => c.forEach((i) => (labels[i] = k)))
  return labels
}

function samePartition(a: Int32Array, b: Int32Array): boolean {
  const ab = new Map<number, number>()
  const ba = new Map<number, number>()
  for (let i = 0; i < a.length; i++) {
    if ((ab.get(a[i]!) ?? b[i]) !== b[i] || (ba.get(b[i]!) ?? a[i]) !== a[i]) return false
    ab.set(a[i]!, b[i]!)
    ba.set(b[i]!, a[i]!)
  }
  return true
}
