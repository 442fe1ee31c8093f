/**
 * The neural core's elementwise kernels as TypeScript loops: the fallback of the native addon's
 * (native/kernels.c computes the same in single precision) and the reference its tests compare
 * against. Dropout draws with mulberry32 from a 32-bit state it returns advanced, the generator
 * of src/neural/Params.ts's Rng, so both backends drop the same elements.
 */

/** mask[i] = 0 with probability p else 1/(1−p); y = x·mask; returns the advanced state. */
export const dropoutLoop = (x: Float32Array, y: Float32Array, mask: Float32Array, n: number, p: number, state: number): number => {
  const keep = 1 / (1 - p)
  let s = state >>> 0
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0
    let t = Math.imul(s ^ (s >>> 15), s | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    const m = ((t ^ (t >>> 14)) >>> 0) / 4294967296 < p ? 0 : keep
    mask[i] = m
    y[i] = x[i]! * m
  }
  return s
}

/** erfc with fractional error below 1.2e-7 (Chebyshev fit, Numerical Recipes' erfcc). */
export const erfc = (x: number): number => {
  const z = Math.abs(x)
  const t = 1 / (1 + 0.5 * z)
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
  return x >= 0 ? r : 2 - r
}

const INV_SQRT2 = Math.SQRT1_2
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI)

export const geluLoop = (x: Float32Array, y: Float32Array, n: number): void => {
  for (let i = 0; i < n; i++) {
    const v = x[i]!
    y[i] = 0.5 * v * erfc(-v * INV_SQRT2)
  }
}

export const geluBackwardLoop = (x: Float32Array, dy: Float32Array, dx: Float32Array, n: number): void => {
  for (let i = 0; i < n; i++) {
    const v = x[i]!
    dx[i] = dy[i]! * (0.5 * erfc(-v * INV_SQRT2) + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v))
  }
}

/** Each T-row of the B·H score blocks to a softmax over its unmasked keys (causal: keys ≤ the query; keyPad[b·T + j] = 1: masked); an all-masked row becomes zeros. */
export const attnSoftmaxLoop = (probs: Float32Array, B: number, H: number, T: number, causal: boolean, keyPad: Uint8Array): void => {
  for (let b = 0; b < B; b++) {
    const kp = b * T
    for (let h = 0; h < H; h++) {
      const p = (b * H + h) * T * T
      for (let i = 0; i < T; i++) {
        const o = p + i * T
        const last = causal ? i : T - 1
        let max = -Infinity
        for (let j = 0; j <= last; j++) if (keyPad[kp + j] !== 1 && probs[o + j]! > max) max = probs[o + j]!
        if (max === -Infinity) {
          probs.fill(0, o, o + T)
          continue
        }
        let sum = 0
        for (let j = 0; j < T; j++) {
          if (j > last || keyPad[kp + j] === 1) {
            probs[o + j] = 0
            continue
          }
          const e = Math.exp(probs[o + j]! - max)
          probs[o + j] = e
          sum += e
        }
        const inv = 1 / sum
        for (let j = 0; j <= last; j++) probs[o + j] = probs[o + j]! * inv
      }
    }
  }
}

/** dP = P ⊙ (dP − rowsum(dP ⊙ P))·scale over one T×T block (P at probs[pOff]). */
export const softmaxBackwardLoop = (dP: Float32Array, probs: Float32Array, pOff: number, T: number, scale: number): void => {
  for (let i = 0; i < T; i++) {
    const o = i * T
    let dot = 0
    for (let j = 0; j < T; j++) dot += dP[o + j]! * probs[pOff + o + j]!
    for (let j = 0; j < T; j++) dP[o + j] = probs[pOff + o + j]! * (dP[o + j]! - dot) * scale
  }
}

export const layerNormLoop = (
  x: Float32Array, y: Float32Array, xhat: Float32Array, rstd: Float32Array, rows: number, D: number,
  gamma: Float32Array, beta: Float32Array, eps: number
): void => {
  for (let r = 0; r < rows; r++) {
    const o = r * D
    let mean = 0
    for (let j = 0; j < D; j++) mean += x[o + j]!
    mean /= D
    let v = 0
    for (let j = 0; j < D; j++) {
      const c = x[o + j]! - mean
      v += c * c
    }
    const rs = 1 / Math.sqrt(v / D + eps)
    rstd[r] = rs
    for (let j = 0; j < D; j++) {
      const h = (x[o + j]! - mean) * rs
      xhat[o + j] = h
      y[o + j] = h * gamma[j]! + beta[j]!
    }
  }
}

export const layerNormBackwardLoop = (
  dy: Float32Array, xhat: Float32Array, rstd: Float32Array, gamma: Float32Array,
  dgamma: Float32Array, dbeta: Float32Array, dx: Float32Array, rows: number, D: number
): void => {
  for (let r = 0; r < rows; r++) {
    const o = r * D
    let sumG = 0
    let sumGX = 0
    for (let j = 0; j < D; j++) {
      const d = dy[o + j]!
      const h = xhat[o + j]!
      dgamma[j] = dgamma[j]! + d * h
      dbeta[j] = dbeta[j]! + d
      const gh = d * gamma[j]!
      sumG += gh
      sumGX += gh * h
    }
    const rs = rstd[r]!
    const mg = sumG / D
    const mgx = sumGX / D
    for (let j = 0; j < D; j++) dx[o + j] = rs * (dy[o + j]! * gamma[j]! - mg - xhat[o + j]! * mgx)
  }
}
