/**
 * Detector `logistic_regression` (Bodík et al., EuroSys 2010, as in loglizer's `LR`, which wraps
 * scikit-learn's `LogisticRegression(penalty="l2", C=100, tol=0.01, max_iter=100)`): L2-regularised
 * logistic regression with an unpenalised intercept on TF-IDF count vectors. Supervised. Fitted
 * by Newton's method (the linear solves are ml-matrix's); ml-logistic-regression is not used
 * because it fits a different model (no intercept, no penalty, fixed-step gradient ascent).
 */
import type { CurvePoint } from "../artifacts/Curves.ts"
import { Effect, Schema } from "effect"
import { Matrix, solve } from "ml-matrix"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import type { Detector, SequenceView } from "./base/Detector.ts"
import type { FitResult } from "../artifacts/Model.ts"
import { type DenseMatrix, type FeatureModel, labelledFeatures, normalizationField, termWeightingField, transformFeatures } from "./base/Features.ts"

const PositiveFinite = Schema.Finite.check(Schema.isGreaterThan(0))

/** Hyperparameters of `logistic_regression`. */
export const LogisticRegressionConfig = closedStruct({
  /** Inverse regularisation strength C > 0 (larger = weaker penalty). */
  C: PositiveFinite.pipe(Schema.withDecodingDefaultKey(Effect.succeed(100))),
  /** Stop when every entry of the gradient of the per-row objective is at most tol in size; > 0. */
  tol: PositiveFinite.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.01))),
  /** Most Newton iterations, >= 1. */
  max_iter: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(100))),
  term_weighting: termWeightingField("tf-idf"),
  normalization: normalizationField("none")
})

/** Decoded `logistic_regression` config. */
export type LogisticRegressionConfig = typeof LogisticRegressionConfig.Type

/** Features, weights and intercept. */
export interface LogisticRegressionModel {
  readonly features: FeatureModel
  readonly weights: ReadonlyArray<number>
  readonly intercept: number
  /** Newton iterations used. */
  readonly iterations: number
}

/**
 * Minimises F(w, b) = ½‖w‖² + C Σ_i log(1 + e^(−y_i (w·x_i + b))), y_i = ±1 (scikit-learn's
 * objective). Newton step: solve H d = ∇F with H = diag(1, .., 1, 0) + C Σ p_i(1 − p_i) x̃_i x̃_iᵀ
 * (x̃ = [x, 1], p_i = σ(w·x_i + b)) plus 1e-10 on the diagonal, then halve the step until F
 * decreases. Stops when max |∇F| / (C·N) <= tol. Score = σ(w·x + b) = P(anomaly); anomaly iff > 0.5.
 */
export const logisticRegression: Detector<LogisticRegressionConfig, LogisticRegressionModel> = {
  tag: "logistic_regression",
  version: "2",
  configSchema: LogisticRegressionConfig,
  supervised: true,

  fit(data: SequenceView, train: Int32Array, config: LogisticRegressionConfig): FitResult<LogisticRegressionModel> {
    const t = labelledFeatures("logistic_regression", data, train, config)
    if (t.status === "invalid") return t
    const { features, x, y } = t
    const { theta, iterations, curve } = newton(x, y, config)
    if (theta.some((v) => !Number.isFinite(v))) return { status: "invalid", reason: "logistic_regression: Newton's method diverged" }
    return { status: "ok", model: { features, weights: theta.slice(0, x.cols), intercept: theta[x.cols]!, iterations }, report: { iterations, curves: curve } }
  },

  score(model: LogisticRegressionModel, data: SequenceView, which: Int32Array) {
    const x = transformFeatures(model.features, data, which)
    const scores = new Float64Array(x.rows)
    for (let i = 0; i < x.rows; i++) {
      let z = model.intercept
      for (let j = 0; j < x.cols; j++) z += model.weights[j]! * x.values[i * x.cols + j]!
      scores[i] = sigmoid(z)
    }
    const predictions = Uint8Array.from(scores, (p) => (p > 0.5 ? 1 : 0))
    return { scores, predictions, threshold: 0.5 }
  }
}

/** Newton's method; `curve`: the objective on the training set before the first step (step 0) and after each. */
function newton(x: DenseMatrix, y: Uint8Array, config: LogisticRegressionConfig): { theta: Array<number>; iterations: number; curve: Array<CurvePoint> } {
  const { rows: n, cols: m } = x
  const d = m + 1
  const C = config.C
  let theta = new Array<number>(d).fill(0)
  const margin = (t: ReadonlyArray<number>, i: number): number => {
    let z = t[m]!
    for (let j = 0; j < m; j++) z += t[j]! * x.values[i * m + j]!
    return z
  }
  const objective = (t: ReadonlyArray<number>): number => {
    let f = 0
    for (let j = 0; j < m; j++) f += 0.5 * t[j]! * t[j]!
    for (let i = 0; i < n; i++) f += C * softplus(-(y[i] === 1 ? 1 : -1) * margin(t, i))
    return f
  }
  let f = objective(theta)
  const curve: Array<CurvePoint> = [{ split: "train", metric: "objective", step: 0, samples: 0, value: f }]
  let iterations = 0
  for (; iterations < config.max_iter; iterations++) {
    const grad = new Array<number>(d).fill(0)
    const hess = new Matrix(d, d)
    for (let j = 0; j < m; j++) {
      grad[j] = theta[j]!
      hess.set(j, j, 1)
    }
    for (let i = 0; i < n; i++) {
      const p = sigmoid(margin(theta, i))
      const r = C * (p - y[i]!)
      const w = C * p * (1 - p)
      for (let a = 0; a < d; a++) {
        const xa = a === m ? 1 : x.values[i * m + a]!
        if (xa === 0) continue
        grad[a] += r * xa
        for (let b = a; b < d; b++) {
          const xb = b === m ? 1 : x.values[i * m + b]!
          if (xb !== 0) hess.set(a, b, hess.get(a, b) + w * xa * xb)
        }
      }
    }
    if (Math.max(...grad.map(Math.abs)) / (C * n) <= config.tol) break
    for (let a = 0; a < d; a++) {
      hess.set(a, a, hess.get(a, a) + 1e-10)
      for (let b = 0; b < a; b++) hess.set(a, b, hess.get(b, a))
    }
    const step = solve(hess, Matrix.columnVector(grad)).to1DArray()
    let scale = 1
    let next = theta
    let fNext = f
    for (let tries = 0; tries < 40; tries++, scale /= 2) {
      next = theta.map((v, a) => v - scale * step[a]!)
      fNext = objective(next)
      if (fNext <= f) break
    }
    if (!(fNext <= f)) break
    const done = f - fNext <= 1e-12 * Math.max(1, Math.abs(f))
    theta = next
    f = fNext
    curve.push({ split: "train", metric: "objective", step: iterations + 1, samples: (iterations + 1) * n, value: f })
    if (done) break
  }
  return { theta, iterations, curve }
}

/** 1 / (1 + e^−z) without overflow. */
function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z))
  const e = Math.exp(z)
  return e / (1 + e)
}

/** log(1 + e^z) without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))
}
