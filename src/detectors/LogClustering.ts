/**
 * Detector `log_clustering` (Lin et al., ICSE 2016, as in loglizer's `LogClustering`): cluster the
 * TF-IDF count vectors of (normal) training sequences by cosine distance, keep each cluster's
 * mean as its representative, and flag a sequence whose nearest representative is farther than
 * `anomaly_threshold`. Online mode (loglizer's default): complete-linkage clustering of the first
 * `num_bootstrap_samples` rows, then one pass that joins each further row to its nearest cluster
 * or opens a new one. No suitable clustering package is installed, so the linkage is written here.
 */
import { Effect, Schema } from "effect"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import type { Detector, SequenceView } from "./base/Detector.ts"
import type { FitResult } from "../artifacts/Model.ts"
import { type DenseMatrix, type FeatureModel, normalizationField, rowOf, termWeightingField, trainingFeatures, trainOnField, transformFeatures } from "./base/Features.ts"

/** Offline mode keeps a condensed n(n−1)/2 distance matrix; refuse more rows than this. */
const OFFLINE_MAX_ROWS = 20_000

const PositiveFinite = Schema.Finite.check(Schema.isGreaterThan(0))

/** Hyperparameters of `log_clustering`. */
export const LogClusteringConfig = closedStruct({
  /** Largest cosine distance inside a cluster (the linkage cut and the online join radius); > 0. */
  max_dist: PositiveFinite.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.3))),
  /** Anomaly iff the distance to the nearest representative exceeds this; > 0. */
  anomaly_threshold: PositiveFinite.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.3))),
  /** "online": bootstrap offline, then one online pass; "offline": complete linkage over every row. */
  mode: Schema.Literals(["online", "offline"]).pipe(Schema.withDecodingDefaultKey(Effect.succeed("online" as const))),
  /** Rows clustered offline before the online pass; >= 0. */
  num_bootstrap_samples: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(1000))),
  term_weighting: termWeightingField("tf-idf"),
  normalization: normalizationField("none"),
  /** loglizer's benchmark clusters the normal training sequences only (`x_train[y_train == 0]`). */
  train_on: trainOnField("normal")
})

/** Decoded `log_clustering` config. */
export type LogClusteringConfig = typeof LogClusteringConfig.Type

/** Features and the cluster representatives. */
export interface LogClusteringModel {
  readonly features: FeatureModel
  /** Mean feature vector of each cluster. */
  readonly representatives: ReadonlyArray<ReadonlyArray<number>>
  /** Training rows per cluster. */
  readonly sizes: ReadonlyArray<number>
}

/**
 * Distance (loglizer's): d(x, y) = 1 − x·y / (‖x‖‖y‖ + 1e-8), and 0 when below 1e-8; a zero
 * vector is at distance 1 from everything. Offline: complete linkage (cluster distance = largest
 * pairwise distance), flat clusters = merges at height <= max_dist (scipy's
 * `fcluster(criterion="distance")`), representative = mean, clusters numbered by first row.
 * Online, for each later row x: nearest representative c (first of equals); if d <= max_dist,
 * size_c += 1 and rep_c += (x − rep_c) / size_c, else x opens a cluster.
 * Score = distance to the nearest representative; anomaly iff > anomaly_threshold.
 */
export const logClustering: Detector<LogClusteringConfig, LogClusteringModel> = {
  tag: "log_clustering",
  version: "1",
  configSchema: LogClusteringConfig,
  supervised: false,

  fit(data: SequenceView, train: Int32Array, config: LogClusteringConfig): FitResult<LogClusteringModel> {
    const t = trainingFeatures("log_clustering", data, train, config)
    if (t.status === "invalid") return t
    const { features, x } = t
    const offlineRows = config.mode === "offline" ? x.rows : Math.min(x.rows, config.num_bootstrap_samples)
    if (offlineRows > OFFLINE_MAX_ROWS) {
      return {
        status: "invalid",
        reason: `log_clustering: offline clustering of ${offlineRows} rows needs a ${offlineRows}² distance matrix; ` +
          `use mode = "online" or num_bootstrap_samples <= ${OFFLINE_MAX_ROWS}`
      }
    }
    const representatives: Array<Float64Array> = []
    const sizes: Array<number> = []
    if (offlineRows > 0) {
      const labels = completeLinkageClusters(x, offlineRows, config.max_dist)
      for (let i = 0; i < offlineRows; i++) {
        const c = labels[i]!
        if (c === representatives.length) {
          representatives.push(new Float64Array(x.cols))
          sizes.push(0)
        }
        const rep = representatives[c]!
        rowOf(x, i).forEach((v, j) => (rep[j] = rep[j]! + v))
        sizes[c]!++
      }
      representatives.forEach((rep, c) => rep.forEach((v, j) => (rep[j] = v / sizes[c]!)))
    }
    for (let i = offlineRows; i < x.rows; i++) {
      const row = rowOf(x, i)
      const { distance, cluster } = nearest(row, representatives)
      if (cluster >= 0 && distance <= config.max_dist) {
        const rep = representatives[cluster]!
        const size = ++sizes[cluster]!
        for (let j = 0; j < row.length; j++) rep[j] = rep[j]! + (row[j]! - rep[j]!) / size
      } else {
        representatives.push(Float64Array.from(row))
        sizes.push(1)
      }
    }
    if (representatives.length === 0) return { status: "invalid", reason: "log_clustering: no training row to cluster" }
    return { status: "ok", model: { features, representatives: representatives.map((r) => Array.from(r)), sizes } }
  },

  score(model: LogClusteringModel, data: SequenceView, which: Int32Array, config: LogClusteringConfig) {
    const x = transformFeatures(model.features, data, which)
    const reps = model.representatives.map((r) => Float64Array.from(r))
    const scores = new Float64Array(x.rows)
    for (let i = 0; i < x.rows; i++) scores[i] = nearest(rowOf(x, i), reps).distance
    const predictions = Uint8Array.from(scores, (s) => (s > config.anomaly_threshold ? 1 : 0))
    return { scores, predictions, threshold: config.anomaly_threshold }
  }
}

/** loglizer's cosine distance. */
export const cosineDistance = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let dot = 0
  let na = 0
  let nb = 0
  for (let j = 0; j < a.length; j++) {
    dot += a[j]! * b[j]!
    na += a[j]! * a[j]!
    nb += b[j]! * b[j]!
  }
  const d = 1 - dot / (Math.sqrt(na) * Math.sqrt(nb) + 1e-8)
  return d < 1e-8 ? 0 : d
}

/**
 * Flat complete-linkage clusters of the first `n` rows cut at `maxDist`: label per row, numbered
 * 0, 1, ... in order of each cluster's first row. Nearest-neighbour-chain algorithm (complete
 * linkage is reducible, so it finds the same merges as the greedy one), O(n²) time and memory.
 */
export const completeLinkageClusters = (x: DenseMatrix, n: number, maxDist: number): Int32Array => {
  // Condensed distances, index of (i, j) with i < j: i·n − i(i+1)/2 + j − i − 1.
  const at = (i: number, j: number) => (i < j ? i * n - (i * (i + 1)) / 2 + j - i - 1 : j * n - (j * (j + 1)) / 2 + i - j - 1)
  const dist = new Float64Array((n * (n - 1)) / 2)
  for (let i = 0; i < n; i++) {
    const xi = rowOf(x, i)
    for (let j = i + 1; j < n; j++) dist[at(i, j)] = cosineDistance(xi, rowOf(x, j))
  }
  // Union-find over rows; a cluster is named by the row it lives at (the smaller of a merged pair).
  const parent = Int32Array.from({ length: n }, (_, i) => i)
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!
    return i
  }
  const active = new Uint8Array(n).fill(1)
  let remaining = n
  const chain: Array<number> = []
  while (remaining > 1) {
    if (chain.length === 0) chain.push(active.indexOf(1))
    for (;;) {
      const a = chain[chain.length - 1]!
      const prev = chain.length >= 2 ? chain[chain.length - 2]! : -1
      let b = prev
      let best = prev >= 0 ? dist[at(a, prev)]! : Infinity
      for (let k = 0; k < n; k++) {
        if (k === a || active[k] === 0) continue
        const d = dist[at(a, k)]!
        if (d < best) {
          best = d
          b = k
        }
      }
      if (b === prev) break
      chain.push(b)
    }
    const a = chain.pop()!
    const b = chain.pop()!
    const height = dist[at(a, b)]!
    const keep = Math.min(a, b)
    const drop = Math.max(a, b)
    for (let k = 0; k < n; k++) {
      if (k === a || k === b || active[k] === 0) continue
      dist[at(keep, k)] = Math.max(dist[at(a, k)]!, dist[at(b, k)]!)
    }
    active[drop] = 0
    remaining--
    // Complete linkage is monotone: once a merge is above the cut, every later merge of it is too.
    if (height <= maxDist) parent[find(drop)] = find(keep)
  }
  const labels = new Int32Array(n)
  const number = new Map<number, number>()
  for (let i = 0; i < n; i++) {
    const root = find(i)
    if (!number.has(root)) number.set(root, number.size)
    labels[i] = number.get(root)!
  }
  return labels
}

/** Nearest representative (first of equals; an exact match ends the search, as in loglizer). */
function nearest(row: Float64Array, reps: ReadonlyArray<Float64Array>): { distance: number; cluster: number } {
  let distance = Infinity
  let cluster = -1
  for (let c = 0; c < reps.length; c++) {
    const d = cosineDistance(row, reps[c]!)
    if (d === 0) return { distance: 0, cluster: c }
    if (d < distance) {
      distance = d
      cluster = c
    }
  }
  return { distance, cluster }
}
