/**
 * Detector `invariants_mining` (Lou et al., USENIX ATC 2010, as in loglizer's `InvariantsMiner`):
 * mine sparse integer linear relations θ·x = 0 among template counts that hold for almost every
 * training sequence (e.g. "every open is matched by a close": c_open − c_close = 0), then flag a
 * sequence that breaks any of them. Unsupervised; loglizer's defaults: raw counts, percentage
 * 0.98, ε = 0.5, scales [1, 2, 3], no length limit. Eigen-decompositions are ml-matrix's.
 */
import { Effect, Schema } from "effect"
import { EVD, Matrix } from "ml-matrix"
import { PCA as MlPca } from "ml-pca"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import type { Detector, SequenceView } from "./base/Detector.ts"
import type { FitResult } from "../artifacts/Model.ts"
import { type DenseMatrix, type FeatureModel, normalizationField, termWeightingField, trainingFeatures, trainOnField, transformFeatures } from "./base/Features.ts"

/** Hyperparameters of `invariants_mining`. */
export const InvariantsMiningConfig = closedStruct({
  /** Fraction of training sequences an invariant (and an invariant-space direction) must hold for, in (0, 1]. */
  percentage: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMinimum: true })).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed(0.98))
  ),
  /** |x·v| < epsilon counts as "holds" when estimating the invariant space's dimension; > 0. */
  epsilon: Schema.Finite.check(Schema.isGreaterThan(0)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.5))),
  /** Longest invariant searched, in templates; 0 = no limit (loglizer's None). */
  longest_invariant: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(0))),
  /** Integers the smallest coefficient is scaled to, tried in order, when rounding θ to integers. */
  scale_list: Schema.NonEmptyArray(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed([1, 2, 3] as const))
  ),
  term_weighting: termWeightingField("none"),
  normalization: normalizationField("none"),
  /** loglizer's benchmark mines on the whole training split, labels unused. */
  train_on: trainOnField("all")
})

/** Decoded `invariants_mining` config. */
export type InvariantsMiningConfig = typeof InvariantsMiningConfig.Type

/** One mined invariant: Σ_k theta[k] · x[columns[k]] = 0. */
export interface Invariant {
  readonly columns: ReadonlyArray<number>
  readonly theta: ReadonlyArray<number>
}

/** Features, the estimated invariant-space dimension and the mined invariants. */
export interface InvariantsMiningModel {
  readonly features: FeatureModel
  /** Dimension r of the invariant space; the search stops after r invariants. */
  readonly dimension: number
  readonly invariants: ReadonlyArray<Invariant>
}

/** A sequence violates an invariant when |θ·x| exceeds this (loglizer's 1e-6). */
const VIOLATION = 1e-6

/**
 * Fit, as loglizer:
 * 1. Dimension r: eigenvectors u of XᵀX from the smallest eigenvalue up; u counts while
 *    #{i : |X_i·u| < ε} >= percentage · N; r = how many count before the first that does not.
 * 2. Columns that are 0 in every training row are invariants of length 1 (θ = [1]).
 * 3. Apriori search over column sets of growing length L = 2, 3, ...: a set is a candidate when
 *    every (L−1)-subset is still in the search space (neither an invariant nor pruned); for it,
 *    θ = the eigenvector of the smallest eigenvalue of X_SᵀX_S (no entry with |θ_k| < 1e-6), scaled
 *    so its smallest |entry| becomes s (s in scale_list, first that works) and rounded half to
 *    even; valid when no entry rounds to 0 and |X_S·θ| < 1e-8 for >= percentage · N rows. A valid
 *    set becomes an invariant and leaves the search space, with the sets that join it to an
 *    earlier overlapping invariant (loglizer's `_prune`). Stop after r invariants.
 * Score: Σ over invariants of |θ·x|; predicted anomalous iff > 1e-6.
 *
 * Departure from loglizer's code: it keeps sets of 2+ columns in its search space as tuples but
 * looks subsets up as lists, so there no set of 3+ columns is ever a candidate and `_prune`
 * never removes a pair. We search and prune as the algorithm intends (Lou et al.'s Apriori).
 */
export const invariantsMining: Detector<InvariantsMiningConfig, InvariantsMiningModel> = {
  tag: "invariants_mining",
  version: "1",
  configSchema: InvariantsMiningConfig,
  supervised: false,

  fit(data: SequenceView, train: Int32Array, config: InvariantsMiningConfig): FitResult<InvariantsMiningModel> {
    const t = trainingFeatures("invariants_mining", data, train, config)
    if (t.status === "invalid") return t
    const { features, x } = t
    if (x.cols === 0) {
      return { status: "invalid", reason: "invariants_mining: the training sequences have no events, so there is no count column" }
    }
    const dimension = invariantSpaceDimension(x, config.epsilon, config.percentage)
    const invariants = searchInvariants(x, dimension, config)
    return { status: "ok", model: { features, dimension, invariants } }
  },

  score(model: InvariantsMiningModel, data: SequenceView, which: Int32Array) {
    const x = transformFeatures(model.features, data, which)
    const scores = new Float64Array(x.rows)
    for (let i = 0; i < x.rows; i++) {
      let sum = 0
      for (const inv of model.invariants) {
        let dot = 0
        inv.columns.forEach((c, k) => (dot += x.values[i * x.cols + c]! * inv.theta[k]!))
        sum += Math.abs(dot)
      }
      scores[i] = sum
    }
    const predictions = Uint8Array.from(scores, (s) => (s > VIOLATION ? 1 : 0))
    return { scores, predictions, threshold: VIOLATION }
  }
}

/** Step 1: how many smallest-eigenvalue directions of XᵀX nearly every row is orthogonal to. */
export const invariantSpaceDimension = (x: DenseMatrix, epsilon: number, percentage: number): number => {
  const gram = gramMatrix(x, Array.from({ length: x.cols }, (_, j) => j))
  const vectors = new MlPca(gram, { isCovarianceMatrix: true, center: false, scale: false }).getEigenvectors()
  let r = 0
  for (let c = x.cols - 1; c >= 0; c--) {
    let holds = 0
    for (let i = 0; i < x.rows; i++) {
      let dot = 0
      for (let j = 0; j < x.cols; j++) dot += x.values[i * x.cols + j]! * vectors.get(j, c)
      if (Math.abs(dot) < epsilon) holds++
    }
    if (holds / x.rows < percentage) break
    r++
  }
  return r
}

/** Steps 2 and 3. */
function searchInvariants(x: DenseMatrix, r: number, config: InvariantsMiningConfig): Array<Invariant> {
  const invariants = new Map<string, Invariant>()
  const space = new Set<string>()
  let items: Array<Array<number>> = []
  for (let j = 0; j < x.cols; j++) {
    let nonzero = false
    for (let i = 0; i < x.rows && !nonzero; i++) nonzero = x.values[i * x.cols + j] !== 0
    if (nonzero) {
      space.add(keyOf([j]))
      items.push([j])
    } else invariants.set(keyOf([j]), { columns: [j], theta: [1] })
  }
  if (r === 0) return [...invariants.values()]
  let length = 2
  search: while (items.length > 0) {
    if (config.longest_invariant > 0 && items[0]!.length >= config.longest_invariant) break
    const joined = joinSets(items, length)
    for (const item of joined) if (subsetsInSpace(item, space)) space.add(keyOf(item))
    items = []
    for (const item of joined) {
      const key = keyOf(item)
      if (invariants.has(key) || !space.has(key)) continue
      if (length > 2 && !subsetsInSpace(item, space)) {
        space.delete(key)
        continue
      }
      const theta = integerInvariant(x, item, config.scale_list, config.percentage)
      if (theta !== undefined) {
        prune(invariants, item, space)
        invariants.set(key, { columns: item, theta })
        space.delete(key)
      } else items.push(item)
      if (invariants.size >= r) break search
    }
    length++
  }
  return [...invariants.values()]
}

/** θ with integer entries for which X_S·θ = 0 on >= percentage of the rows, or undefined. */
export const integerInvariant = (
  x: DenseMatrix,
  columns: ReadonlyArray<number>,
  scales: ReadonlyArray<number>,
  percentage: number
): Array<number> | undefined => {
  const evd = new EVD(gramMatrix(x, columns), { assumeSymmetric: true })
  const values = evd.realEigenvalues
  let smallest = 0
  for (let k = 1; k < values.length; k++) if (values[k]! < values[smallest]!) smallest = k
  const v = columns.map((_, k) => evd.eigenvectorMatrix.get(k, smallest))
  if (v.some((e) => Math.abs(e) < 1e-6)) return undefined
  let minAt = 0
  for (let k = 1; k < v.length; k++) if (Math.abs(v[k]!) < Math.abs(v[minAt]!)) minAt = k
  for (const s of scales) {
    const theta = v.map((e) => roundHalfEven((e * s) / v[minAt]!))
    theta[minAt] = s
    if (theta.some((t) => t === 0)) continue
    let holds = 0
    for (let i = 0; i < x.rows; i++) {
      let dot = 0
      columns.forEach((c, k) => (dot += x.values[i * x.cols + c]! * theta[k]!))
      if (Math.abs(dot) < 1e-8) holds++
    }
    if (holds >= percentage * x.rows) return theta
  }
  return undefined
}

/** Round to the nearest integer, ties to even (numpy's `round`). */
export const roundHalfEven = (v: number): number => {
  const f = Math.floor(v)
  const d = v - f
  if (d > 0.5) return f + 1
  if (d < 0.5) return f
  return f % 2 === 0 ? f : f + 1
}

const keyOf = (columns: ReadonlyArray<number>): string => columns.join(",")

/**
 * The distinct sorted unions of size `length` of two sets in `items` (each of size length − 1), in
 * lexicographic order. Only unions whose (length − 1)-subsets are all in `items` can become
 * candidates, and such a union is also the join of its two subsets that share its first
 * length − 2 columns, so joining sets with a common prefix (Apriori's join) finds them all
 * without trying every pair.
 */
function joinSets(items: ReadonlyArray<ReadonlyArray<number>>, length: number): Array<Array<number>> {
  const byPrefix = new Map<string, Array<ReadonlyArray<number>>>()
  for (const item of items) {
    const prefix = keyOf(item.slice(0, length - 2))
    let group = byPrefix.get(prefix)
    if (group === undefined) byPrefix.set(prefix, (group = []))
    group.push(item)
  }
  const out: Array<Array<number>> = []
  for (const group of byPrefix.values()) {
    for (let a = 0; a < group.length; a++) {
      for (let b = a + 1; b < group.length; b++) {
        const [p, q] = [group[a]![length - 2]!, group[b]![length - 2]!]
        out.push([...group[a]!.slice(0, length - 2), Math.min(p, q), Math.max(p, q)])
      }
    }
  }
  return out.sort(lexicographic)
}

function lexicographic(a: ReadonlyArray<number>, b: ReadonlyArray<number>): number {
  for (let k = 0; k < Math.min(a.length, b.length); k++) if (a[k] !== b[k]) return a[k]! - b[k]!
  return a.length - b.length
}

/** Every subset of `item` with one element fewer is in the search space. */
function subsetsInSpace(item: ReadonlyArray<number>, space: ReadonlySet<string>): boolean {
  for (let skip = 0; skip < item.length; skip++) {
    if (!space.has(keyOf(item.filter((_, k) => k !== skip)))) return false
  }
  return true
}

/** For each earlier invariant overlapping `item`: drop (union − {c}) from the space for each shared c. */
function prune(invariants: ReadonlyMap<string, Invariant>, item: ReadonlyArray<number>, space: Set<string>): void {
  for (const inv of invariants.values()) {
    const shared = inv.columns.filter((c) => item.includes(c))
    if (shared.length === 0) continue
    const union = [...new Set([...inv.columns, ...item])].sort((p, q) => p - q)
    for (const c of shared) space.delete(keyOf(union.filter((u) => u !== c)))
  }
}

/** X_Sᵀ X_S for the columns S. */
function gramMatrix(x: DenseMatrix, columns: ReadonlyArray<number>): Matrix {
  const g = new Matrix(columns.length, columns.length)
  for (let a = 0; a < columns.length; a++) {
    for (let b = a; b < columns.length; b++) {
      let s = 0
      for (let i = 0; i < x.rows; i++) s += x.values[i * x.cols + columns[a]!]! * x.values[i * x.cols + columns[b]!]!
      g.set(a, b, s)
      g.set(b, a, s)
    }
  }
  return g
}
