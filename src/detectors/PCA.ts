/**
 * Detector `pca` (Xu et al., SOSP 2009, as in loglizer's `PCA`): project count vectors onto the
 * residual subspace of the principal components that explain most training variance and flag a
 * sequence whose squared prediction error (SPE) exceeds the Q-statistic threshold (Jackson &
 * Mudholkar). Unsupervised; loglizer's defaults: TF-IDF + zero-mean features, 95% of the
 * variance, c_α = 3.2905 (α = 0.001). The eigen-decomposition is ml-pca's.
 */
import { Effect, Schema } from "effect"
import { Matrix } from "ml-matrix"
import { PCA as MlPca } from "ml-pca"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import type { Detector, SequenceView } from "./base/Detector.ts"
import type { FitResult } from "../artifacts/Model.ts"
import { type FeatureModel, normalizationField, rowOf, termWeightingField, trainingFeatures, trainOnField, transformFeatures } from "./base/Features.ts"

/** Hyperparameters of `pca`. */
export const PcaConfig = closedStruct({
  /** In (0, 1): the fraction of training variance the kept components explain; >= 1: their number (an integer). */
  n_components: Schema.Finite.check(Schema.isGreaterThan(0)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.95))),
  /** "q_statistic" (loglizer's default, threshold = None) or a fixed SPE threshold > 0. */
  threshold: Schema.Union([Schema.Literal("q_statistic"), Schema.Finite.check(Schema.isGreaterThan(0))]).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed("q_statistic" as const))
  ),
  /** Normal deviate of the Q-statistic's confidence level: 3.2905 ↔ α = 0.001, 2.5758 ↔ 0.01, 1.96 ↔ 0.05. */
  c_alpha: Schema.Finite.check(Schema.isGreaterThan(0)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(3.2905))),
  term_weighting: termWeightingField("tf-idf"),
  normalization: normalizationField("zero-mean"),
  /** loglizer fits PCA on the whole training split, labels unused. */
  train_on: trainOnField("all")
}).check(
  Schema.makeFilter((c) =>
    c.n_components < 1 || Number.isInteger(c.n_components) ||
    { path: ["n_components"], issue: `n_components (${c.n_components}) must be a fraction in (0, 1) or an integer count >= 1` }
  )
)

/** Decoded `pca` config. */
export type PcaConfig = typeof PcaConfig.Type

/** Features, the kept principal directions and the SPE threshold. */
export interface PcaModel {
  readonly features: FeatureModel
  /** The k kept principal directions, each a unit vector over the feature columns. */
  readonly components: ReadonlyArray<ReadonlyArray<number>>
  /** Eigenvalues of the training covariance XᵀX / N, descending (those below 1e-12 of the largest set to 0). */
  readonly eigenvalues: ReadonlyArray<number>
  /** Anomaly iff SPE > threshold. */
  readonly threshold: number
}

/**
 * Fit: C = XᵀX / N over the N training feature rows (no centring beyond the features' own
 * "zero-mean"), eigenvalues λ_1 >= ... >= λ_m with unit eigenvectors p_j. k = n_components, or
 * the smallest k with Σ_{j<=k} λ_j >= n_components · Σ_j λ_j. Q-statistic (loglizer's formula):
 * φ_i = Σ_{j>k} λ_j^i (i = 1, 2, 3), h0 = 1 − 2φ1φ3 / (3φ2²),
 * Q = φ1 · (c_α·√(2φ2h0²) / φ1 + 1 + φ2·h0·(h0 − 1) / φ1²)^(1/h0).
 * Score: SPE(x) = ‖x − P Pᵀ x‖² with P = [p_1 .. p_k].
 */
export const pca: Detector<PcaConfig, PcaModel> = {
  tag: "pca",
  version: "1",
  configSchema: PcaConfig,
  supervised: false,

  fit(data: SequenceView, train: Int32Array, config: PcaConfig): FitResult<PcaModel> {
    const t = trainingFeatures("pca", data, train, config)
    if (t.status === "invalid") return t
    const { features, x } = t
    const m = x.cols
    if (m === 0) return { status: "invalid", reason: "pca: the training sequences have no events, so there is no feature column" }
    const cov = covariance(x.rows, m, x.values)
    const eig = new MlPca(cov, { isCovarianceMatrix: true, center: false, scale: false })
    // Eigenvalues below 1e-12 of the largest are rounding noise of a zero eigenvalue.
    const largest = Math.max(0, ...eig.getEigenvalues())
    const eigenvalues = eig.getEigenvalues().map((v) => (v > 1e-12 * largest ? v : 0))
    const vectors = eig.getEigenvectors()
    const total = eigenvalues.reduce((a, b) => a + b, 0)
    if (!(total > 0)) return { status: "invalid", reason: "pca: the training features have zero variance (every feature row is 0)" }
    let k: number
    if (config.n_components < 1) {
      let explained = 0
      k = m
      for (let j = 0; j < m; j++) {
        explained += eigenvalues[j]!
        if (explained / total >= config.n_components) {
          k = j + 1
          break
        }
      }
    } else k = config.n_components
    if (k >= m) {
      return {
        status: "invalid",
        reason: `pca: n_components keeps ${k} of ${m} feature columns, leaving no residual subspace to measure SPE in; lower n_components`
      }
    }
    const components = Array.from({ length: k }, (_, c) => Array.from({ length: m }, (_, r) => vectors.get(r, c)))
    let threshold: number
    if (config.threshold === "q_statistic") {
      const q = qStatistic(eigenvalues.slice(k), config.c_alpha)
      if (q.status === "invalid") return q
      threshold = q.threshold
    } else threshold = config.threshold
    return { status: "ok", model: { features, components, eigenvalues, threshold } }
  },

  score(model: PcaModel, data: SequenceView, which: Int32Array) {
    const x = transformFeatures(model.features, data, which)
    const scores = new Float64Array(x.rows)
    for (let i = 0; i < x.rows; i++) scores[i] = spe(rowOf(x, i), model.components)
    const predictions = Uint8Array.from(scores, (s) => (s > model.threshold ? 1 : 0))
    return { scores, predictions, threshold: model.threshold }
  }
}

/** Q-statistic threshold from the residual eigenvalues, or why it is undefined. */
export const qStatistic = (
  residual: ReadonlyArray<number>,
  cAlpha: number
): { readonly status: "ok"; readonly threshold: number } | { readonly status: "invalid"; readonly reason: string } => {
  const phi = [1, 2, 3].map((p) => residual.reduce((s, l) => s + l ** p, 0))
  const [phi1, phi2, phi3] = phi as [number, number, number]
  if (!(phi1 > 0) || !(phi2 > 0)) {
    return { status: "invalid", reason: "pca: the residual subspace has zero variance, so the Q-statistic threshold is undefined; set threshold or lower n_components" }
  }
  const h0 = 1 - (2 * phi1 * phi3) / (3 * phi2 * phi2)
  const base = (cAlpha * Math.sqrt(2 * phi2 * h0 * h0)) / phi1 + 1 + (phi2 * h0 * (h0 - 1)) / (phi1 * phi1)
  const threshold = phi1 * Math.pow(base, 1 / h0)
  if (!Number.isFinite(threshold) || !(threshold > 0)) {
    return { status: "invalid", reason: `pca: the Q-statistic threshold is not a positive number (h0 = ${h0}); set threshold explicitly` }
  }
  return { status: "ok", threshold }
}

/** XᵀX / N as an ml-matrix. */
function covariance(rows: number, cols: number, values: Float64Array): Matrix {
  const c = new Matrix(cols, cols)
  for (let a = 0; a < cols; a++) {
    for (let b = a; b < cols; b++) {
      let s = 0
      for (let i = 0; i < rows; i++) s += values[i * cols + a]! * values[i * cols + b]!
      c.set(a, b, s / rows)
      c.set(b, a, s / rows)
    }
  }
  return c
}

/** ‖x − P Pᵀ x‖². */
function spe(x: Float64Array, components: ReadonlyArray<ReadonlyArray<number>>): number {
  const residual = Float64Array.from(x)
  for (const p of components) {
    let dot = 0
    for (let j = 0; j < x.length; j++) dot += p[j]! * x[j]!
    for (let j = 0; j < x.length; j++) residual[j] -= dot * p[j]!
  }
  let s = 0
  for (const r of residual) s += r * r
  return s
}
