/**
 * Detector `svm` (Liang et al., ICDM 2007, as in loglizer's `SVM`, which wraps scikit-learn's
 * `LinearSVC(penalty="l1", loss="squared_hinge", dual=False, C=1, tol=0.01, max_iter=100)`, i.e.
 * liblinear): a linear SVM with squared hinge loss on TF-IDF count vectors. Supervised. No SVM
 * package is installed, so it is fitted here by liblinear's primal coordinate descent (Newton
 * step per coordinate plus a line search), with a seeded random coordinate order per pass.
 */
import type { CurvePoint } from "../artifacts/Curves.ts"
import { Effect, Schema } from "effect"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import { mulberry32, shuffleInPlace } from "../artifacts/Random.ts"
import type { Detector, SequenceView } from "./base/Detector.ts"
import type { FitResult } from "../artifacts/Model.ts"
import { type DenseMatrix, type FeatureModel, labelledFeatures, normalizationField, seedField, termWeightingField, transformFeatures } from "./base/Features.ts"

const PositiveFinite = Schema.Finite.check(Schema.isGreaterThan(0))

/** Hyperparameters of `svm`. */
export const LinearSvmConfig = closedStruct({
  /** "l1" (sparse weights, loglizer's choice) or "l2" regularisation. */
  penalty: Schema.Literals(["l1", "l2"]).pipe(Schema.withDecodingDefaultKey(Effect.succeed("l1" as const))),
  /** Loss weight C > 0 (larger = weaker penalty). */
  C: PositiveFinite.pipe(Schema.withDecodingDefaultKey(Effect.succeed(1))),
  /** Stop when the largest optimality violation falls to tol × its value at the start; > 0. */
  tol: PositiveFinite.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.01))),
  /** Most passes over the coordinates, >= 1. */
  max_iter: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(100))),
  seed: seedField,
  term_weighting: termWeightingField("tf-idf"),
  normalization: normalizationField("none")
})

/** Decoded `svm` config. */
export type LinearSvmConfig = typeof LinearSvmConfig.Type

/** Features, weights and bias. */
export interface LinearSvmModel {
  readonly features: FeatureModel
  readonly weights: ReadonlyArray<number>
  readonly bias: number
  /** Coordinate-descent passes used. */
  readonly passes: number
}

/**
 * Minimises R(w̃) + C Σ_i max(0, 1 − y_i w̃·x̃_i)², y_i = ±1, x̃ = [x, 1] (the bias is an extra
 * weight and is penalised, as in liblinear with intercept_scaling = 1), R = ‖w̃‖₁ ("l1") or
 * ½‖w̃‖² ("l2"). Per coordinate j, with the rows of positive margin loss A = {i : 1 − y_i z_i > 0}:
 * g = −2C Σ_A y_i x_ij (1 − y_i z_i), h = max(2C Σ_A x_ij², 1e-12); "l1": the soft-thresholded
 * Newton step d (−(g+1)/h if g + 1 <= h·w_j, −(g−1)/h if g − 1 >= h·w_j, else −w_j); "l2": d = −(g + w_j)/(h + 1);
 * then λ = 1, ½, ... until the objective falls by at least 0.01·λ·(model decrease) (Yuan et al.,
 * JMLR 2010). Score = w·x + b; anomaly iff > 0.
 */
export const linearSvm: Detector<LinearSvmConfig, LinearSvmModel> = {
  tag: "svm",
  version: "2",
  configSchema: LinearSvmConfig,
  supervised: true,

  fit(data: SequenceView, train: Int32Array, config: LinearSvmConfig): FitResult<LinearSvmModel> {
    const t = labelledFeatures("svm", data, train, config)
    if (t.status === "invalid") return t
    const { features, x, y } = t
    const { w, passes, curve } = coordinateDescent(x, y, config)
    if (w.some((v) => !Number.isFinite(v))) return { status: "invalid", reason: "svm: coordinate descent diverged" }
    return { status: "ok", model: { features, weights: Array.from(w.subarray(0, x.cols)), bias: w[x.cols]!, passes }, report: { passes, curves: curve } }
  },

  score(model: LinearSvmModel, data: SequenceView, which: Int32Array) {
    const x = transformFeatures(model.features, data, which)
    const scores = new Float64Array(x.rows)
    for (let i = 0; i < x.rows; i++) {
      let z = model.bias
      for (let j = 0; j < x.cols; j++) z += model.weights[j]! * x.values[i * x.cols + j]!
      scores[i] = z
    }
    const predictions = Uint8Array.from(scores, (z) => (z > 0 ? 1 : 0))
    return { scores, predictions, threshold: 0 }
  }
}

/** Coordinate descent; `curve`: the objective on the training set at the start (epoch 0) and after each pass over the coordinates. */
function coordinateDescent(x: DenseMatrix, labels: Uint8Array, config: LinearSvmConfig): { w: Float64Array; passes: number; curve: Array<CurvePoint> } {
  const { rows: n, cols: m } = x
  const d = m + 1
  const C = config.C
  const l1 = config.penalty === "l1"
  const y = Float64Array.from(labels, (v) => (v === 1 ? 1 : -1))
  // Column-wise nonzeros of x̃ (the last column is the constant 1).
  const colRows: Array<Int32Array> = []
  const colVals: Array<Float64Array> = []
  for (let j = 0; j < d; j++) {
    const rs: Array<number> = []
    const vs: Array<number> = []
    for (let i = 0; i < n; i++) {
      const v = j === m ? 1 : x.values[i * m + j]!
      if (v !== 0) {
        rs.push(i)
        vs.push(v)
      }
    }
    colRows.push(Int32Array.from(rs))
    colVals.push(Float64Array.from(vs))
  }
  const w = new Float64Array(d)
  const b = new Float64Array(n).fill(1) // b_i = 1 − y_i w̃·x̃_i
  const random = mulberry32(config.seed)
  const order = Int32Array.from({ length: d }, (_, j) => j)
  const objective = (): number => {
    let f = 0
    for (let j = 0; j < d; j++) f += l1 ? Math.abs(w[j]!) : 0.5 * w[j]! * w[j]!
    for (let i = 0; i < n; i++) if (b[i]! > 0) f += C * b[i]! * b[i]!
    return f
  }
  const curve: Array<CurvePoint> = [{ split: "train", metric: "objective", epoch: 0, value: objective() }]
  let initialViolation = -1
  let passes = 0
  for (; passes < config.max_iter; passes++) {
    shuffleInPlace(order, random)
    let maxViolation = 0
    for (const j of order) {
      const rs = colRows[j]!
      const vs = colVals[j]!
      let g = 0
      let h = 0
      for (let k = 0; k < rs.length; k++) {
        const i = rs[k]!
        if (b[i]! > 0) {
          g -= 2 * C * y[i]! * vs[k]! * b[i]!
          h += 2 * C * vs[k]! * vs[k]!
        }
      }
      h = Math.max(h, 1e-12)
      const wj = w[j]!
      let step: number
      let violation: number
      if (l1) {
        violation = wj > 0 ? Math.abs(g + 1) : wj < 0 ? Math.abs(g - 1) : Math.max(Math.abs(g) - 1, 0)
        if (g + 1 <= h * wj) step = -(g + 1) / h
        else if (g - 1 >= h * wj) step = -(g - 1) / h
        else step = -wj
      } else {
        violation = Math.abs(g + wj)
        step = -(g + wj) / (h + 1)
      }
      maxViolation = Math.max(maxViolation, violation)
      if (step === 0) continue
      const regularizer = (v: number) => (l1 ? Math.abs(v) : 0.5 * v * v)
      const decrease = l1 ? g * step + Math.abs(wj + step) - Math.abs(wj) : (g + wj) * step
      let lambda = 1
      for (let tries = 0; tries < 30; tries++, lambda /= 2) {
        let change = regularizer(wj + lambda * step) - regularizer(wj)
        for (let k = 0; k < rs.length; k++) {
          const i = rs[k]!
          const before = b[i]!
          const after = before - lambda * step * y[i]! * vs[k]!
          change += C * ((after > 0 ? after * after : 0) - (before > 0 ? before * before : 0))
        }
        if (change <= 0.01 * lambda * decrease) break
      }
      if (lambda < 2 ** -29) continue
      w[j] = wj + lambda * step
      for (let k = 0; k < rs.length; k++) b[rs[k]!] -= lambda * step * y[rs[k]!]! * vs[k]!
    }
    curve.push({ split: "train", metric: "objective", epoch: passes + 1, value: objective() })
    if (initialViolation < 0) initialViolation = maxViolation
    if (maxViolation <= config.tol * initialViolation) {
      passes++
      break
    }
  }
  return { w, passes, curve }
}
