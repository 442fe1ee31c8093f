/**
 * Test helpers of the neural core: the kernels to run each test on, deterministic fillers, and a
 * finite-difference check of analytic gradients (central differences on float32 values, the loss
 * summed in double precision).
 */
import { expect } from "vitest"
import type { Ctx } from "../../src/neural/Context.ts"
import { Rng } from "../../src/neural/Params.ts"
import type { Kernels } from "../../src/runtime/Kernels.ts"
import { loadKernels } from "../../src/runtime/Kernels.ts"

/** The TypeScript kernels, and the native ones too when they are built. */
export const kernelsUnderTest = (): Array<Kernels> => {
  const native = loadKernels()
  return native.name === "typescript" ? [loadKernels("typescript")] : [loadKernels("typescript"), native]
}

export const makeCtx = (kernels: Kernels, training = false, seed = 7): Ctx => ({ kernels, training, rng: new Rng(seed) })

/** n values uniform in ±scale. */
export const randomArray = (rng: Rng, n: number, scale = 1): Float32Array => {
  const a = new Float32Array(n)
  for (let i = 0; i < n; i++) a[i] = (2 * rng.next() - 1) * scale
  return a
}

/** scale·sin(a·i + b) for i < n: the fillers the PyTorch reference values were computed from. */
export const sinFill = (n: number, a: number, b: number, scale: number): Float32Array => {
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = scale * Math.sin(a * i + b)
  return out
}

/** Σ a ⊙ w in double precision. */
export const dot = (a: Float32Array, w: Float32Array): number => {
  if (a.length !== w.length) throw new Error(`dot: ${a.length} values against ${w.length} weights`)
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]! * w[i]!
  return s
}

/** Values whose loss gradient `analytic` (a copy taken after the backward pass) is to be checked. */
export interface Probe {
  readonly name: string
  readonly values: Float32Array
  readonly analytic: Float32Array
}

export interface Mismatch {
  readonly name: string
  readonly index: number
  readonly analytic: number
  readonly numeric: number
}

export interface GradCheckOptions {
  /** Entries checked per probe, chosen at random (all when the probe is smaller). Default 6. */
  readonly samples?: number
  readonly eps?: number
  readonly rtol?: number
  readonly atol?: number
}

/**
 * Compares each probe's analytic gradient with central differences of `loss` (which runs the
 * forward pass and returns the loss) on a few random entries; returns the entries that differ by
 * more than atol + rtol·max(|analytic|, |numeric|). Every value is restored afterwards.
 */
export const checkGradients = (loss: () => number, probes: ReadonlyArray<Probe>, rng: Rng, options: GradCheckOptions = {}): Array<Mismatch> => {
  const samples = options.samples ?? 6
  const eps = options.eps ?? 1e-2
  const rtol = options.rtol ?? 1e-2
  const atol = options.atol ?? 1e-4
  const bad: Array<Mismatch> = []
  for (const p of probes) {
    if (p.values.length !== p.analytic.length) throw new Error(`gradcheck: ${p.name} has ${p.values.length} values and ${p.analytic.length} gradients`)
    const n = p.values.length
    const order = Array.from({ length: n }, (_, i) => i)
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1)
      const t = order[i]!
      order[i] = order[j]!
      order[j] = t
    }
    for (const index of order.slice(0, Math.min(samples, n))) {
      const v = p.values[index]!
      p.values[index] = v + eps
      const up = p.values[index]!
      const lossUp = loss()
      p.values[index] = v - eps
      const down = p.values[index]!
      const lossDown = loss()
      p.values[index] = v
      const numeric = (lossUp - lossDown) / (up - down)
      const analytic = p.analytic[index]!
      if (!(Math.abs(analytic - numeric) <= atol + rtol * Math.max(Math.abs(analytic), Math.abs(numeric)))) bad.push({ name: p.name, index, analytic, numeric })
    }
  }
  return bad
}

/** Fails the test with the mismatching entries listed. */
export const expectGradientsMatch = (loss: () => number, probes: ReadonlyArray<Probe>, rng: Rng, options: GradCheckOptions = {}): void => {
  expect(checkGradients(loss, probes, rng, options)).toEqual([])
}

/** Expects `actual` to equal `expected` elementwise within `tol` (absolute), naming the first difference. */
export const expectClose = (actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void => {
  expect(actual.length).toBe(expected.length)
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!)
    if (!(d <= tol)) expect.fail(`element ${i}: ${actual[i]} vs expected ${expected[i]} (|difference| ${d} > ${tol})`)
  }
}
