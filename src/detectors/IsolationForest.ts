/**
 * Detector `isolation_forest` (Liu, Ting & Zhou, ICDM 2008; loglizer wraps scikit-learn's
 * `IsolationForest`): random trees split on a random feature at a random value until each
 * training row is isolated; anomalies are isolated in few splits. No maintained JavaScript
 * implementation exists, so this is written here, seeded (mulberry32) and deterministic, with
 * scikit-learn's conventions. Unsupervised; loglizer's demo uses raw counts and contamination 0.03.
 */
import { Effect, Schema } from "effect"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import { mulberry32 } from "../artifacts/Random.ts"
import type { Detector, SequenceView } from "./base/Detector.ts"
import type { FitResult } from "../artifacts/Model.ts"
import { type DenseMatrix, type FeatureModel, normalizationField, seedField, termWeightingField, trainingFeatures, trainOnField, transformFeatures } from "./base/Features.ts"

/** Hyperparameters of `isolation_forest`. */
export const IsolationForestConfig = closedStruct({
  /** Trees in the forest, >= 1. */
  n_estimators: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(100))),
  /** Rows drawn (without replacement) per tree, >= 2; capped at the training rows (scikit-learn's "auto" = 256). */
  max_samples: Schema.Int.check(Schema.isGreaterThanOrEqualTo(2)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(256))),
  /** Expected share of anomalies in training, in (0, 0.5]: the threshold is the (1 − contamination) quantile of training scores. */
  contamination: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 0.5, exclusiveMinimum: true })).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed(0.03))
  ),
  seed: seedField,
  term_weighting: termWeightingField("none"),
  normalization: normalizationField("none"),
  /** loglizer's demo fits on the whole training split, labels unused. */
  train_on: trainOnField("all")
})

/** Decoded `isolation_forest` config. */
export type IsolationForestConfig = typeof IsolationForestConfig.Type

/**
 * One isolation tree as parallel arrays over its nodes (node 0 is the root). Internal node:
 * `feature >= 0`, rows with x[feature] <= threshold go to `left`, the others to `right`. Leaf:
 * `feature = -1`, `size` training rows reached it.
 */
export interface IsolationTree {
  readonly feature: ReadonlyArray<number>
  readonly threshold: ReadonlyArray<number>
  readonly left: ReadonlyArray<number>
  readonly right: ReadonlyArray<number>
  readonly size: ReadonlyArray<number>
}

/** Features, the trees, the subsample size ψ and the score threshold. */
export interface IsolationForestModel {
  readonly features: FeatureModel
  readonly trees: ReadonlyArray<IsolationTree>
  /** Rows per tree ψ; scores are normalised by c(ψ). */
  readonly samples: number
  /** Anomaly iff score > threshold. */
  readonly threshold: number
}

/**
 * c(n), the average path length of an unsuccessful binary-search-tree lookup among n items
 * (scikit-learn's `_average_path_length`): 0 for n <= 1, 1 for n = 2, else
 * 2(ln(n − 1) + γ) − 2(n − 1)/n with γ = 0.5772156649 (Euler's constant).
 */
export const averagePathLength = (n: number): number => {
  if (n <= 1) return 0
  if (n === 2) return 1
  return 2 * (Math.log(n - 1) + 0.5772156649) - (2 * (n - 1)) / n
}

/**
 * Fit: ψ = min(max_samples, N); per tree, ψ rows drawn without replacement (partial
 * Fisher-Yates), grown to depth ceil(log2 ψ): a node with one row, or whose rows are all equal, is
 * a leaf; otherwise a feature is drawn uniformly among those not constant on the node's rows, a
 * split value t uniformly in [min, max), and rows with x <= t go left. Path length h(x) = depth
 * of the leaf x reaches + c(leaf size). Score s(x) = 2^(−mean_trees h(x) / c(ψ)) in (0, 1]; higher
 * is more anomalous (scikit-learn's `score_samples` is −s). Threshold = the (1 − contamination)
 * quantile of the training scores with linear interpolation (numpy's percentile, as scikit-learn's
 * `offset_`); anomaly iff s > threshold.
 */
export const isolationForest: Detector<IsolationForestConfig, IsolationForestModel> = {
  tag: "isolation_forest",
  version: "1",
  configSchema: IsolationForestConfig,
  supervised: false,

  fit(data: SequenceView, train: Int32Array, config: IsolationForestConfig): FitResult<IsolationForestModel> {
    const t = trainingFeatures("isolation_forest", data, train, config)
    if (t.status === "invalid") return t
    const { features, x } = t
    if (x.rows < 2) return { status: "invalid", reason: `isolation_forest needs at least 2 training rows; got ${x.rows}` }
    const samples = Math.min(config.max_samples, x.rows)
    const maxDepth = Math.ceil(Math.log2(samples))
    const random = mulberry32(config.seed)
    const pool = Int32Array.from({ length: x.rows }, (_, i) => i)
    const trees: Array<IsolationTree> = []
    for (let t = 0; t < config.n_estimators; t++) {
      for (let k = 0; k < samples; k++) {
        const j = k + Math.floor(random() * (x.rows - k))
        const tmp = pool[k]!
        pool[k] = pool[j]!
        pool[j] = tmp
      }
      trees.push(growTree(x, pool.slice(0, samples), maxDepth, random))
    }
    const model = { features, trees, samples, threshold: 0 }
    const trainScores = scoresOf(model, x).sort()
    return { status: "ok", model: { ...model, threshold: linearQuantile(trainScores, 1 - config.contamination) } }
  },

  score(model: IsolationForestModel, data: SequenceView, which: Int32Array) {
    const scores = scoresOf(model, transformFeatures(model.features, data, which))
    const predictions = Uint8Array.from(scores, (s) => (s > model.threshold ? 1 : 0))
    return { scores, predictions, threshold: model.threshold }
  }
}

/** Quantile q of ascending values with linear interpolation between ranks (numpy's default). */
export const linearQuantile = (sorted: ArrayLike<number>, q: number): number => {
  const pos = q * (sorted.length - 1)
  const lo = Math.floor(pos)
  const hi = Math.min(lo + 1, sorted.length - 1)
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!)
}

function growTree(x: DenseMatrix, rows: Int32Array, maxDepth: number, random: () => number): IsolationTree {
  const tree = { feature: [] as Array<number>, threshold: [] as Array<number>, left: [] as Array<number>, right: [] as Array<number>, size: [] as Array<number> }
  const cols = x.cols
  const lo = new Float64Array(cols)
  const hi = new Float64Array(cols)
  const grow = (part: Int32Array, depth: number): number => {
    const node = tree.feature.length
    tree.feature.push(-1)
    tree.threshold.push(0)
    tree.left.push(-1)
    tree.right.push(-1)
    tree.size.push(part.length)
    if (part.length <= 1 || depth >= maxDepth) return node
    lo.fill(Infinity)
    hi.fill(-Infinity)
    for (const r of part) {
      for (let j = 0; j < cols; j++) {
        const v = x.values[r * cols + j]!
        if (v < lo[j]!) lo[j] = v
        if (v > hi[j]!) hi[j] = v
      }
    }
    const candidates: Array<number> = []
    for (let j = 0; j < cols; j++) if (hi[j]! > lo[j]!) candidates.push(j)
    if (candidates.length === 0) return node
    const feature = candidates[Math.floor(random() * candidates.length)]!
    const min = lo[feature]!
    const max = hi[feature]!
    let threshold = min + random() * (max - min)
    if (threshold >= max) threshold = min
    const leftRows = part.filter((r) => x.values[r * cols + feature]! <= threshold)
    const rightRows = part.filter((r) => x.values[r * cols + feature]! > threshold)
    tree.feature[node] = feature
    tree.threshold[node] = threshold
    tree.left[node] = grow(leftRows, depth + 1)
    tree.right[node] = grow(rightRows, depth + 1)
    return node
  }
  grow(rows, 0)
  return tree
}

function scoresOf(model: Pick<IsolationForestModel, "trees" | "samples">, x: DenseMatrix): Float64Array {
  const norm = averagePathLength(model.samples)
  const out = new Float64Array(x.rows)
  for (let i = 0; i < x.rows; i++) {
    let total = 0
    for (const tree of model.trees) {
      let node = 0
      let depth = 0
      while (tree.feature[node]! >= 0) {
        node = x.values[i * x.cols + tree.feature[node]!]! <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!
        depth++
      }
      total += depth + averagePathLength(tree.size[node]!)
    }
    out[i] = Math.pow(2, -total / model.trees.length / norm)
  }
  return out
}
