import { describe, expect, it } from "vitest"
import {
  fitParameterModel,
  inverseNormalCdf,
  type ParameterModelConfig,
  type ParameterSeries,
  scoreParameterModel,
  twoSidedZ
} from "../../../src/detectors/deeplog/ParameterModel.ts"
import { mulberry32 } from "../../../src/artifacts/Random.ts"

const CONFIG: ParameterModelConfig = {
  history: 4,
  hidden: 16,
  layers: 1,
  epochs: 20,
  batchSize: 32,
  learningRate: 0.01,
  validationFraction: 0.2,
  confidence: 0.99,
  seed: 7,
  minTrainingWindows: 20
}

/** Standard normal draws (Box-Muller) from mulberry32. */
const gaussian = (seed: number): (() => number) => {
  const rand = mulberry32(seed)
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
}

/**
 * A learnable template: [sin(t/3) + N(0, 0.05²), t mod 5, never numeric]. The first `nTrain`
 * vectors are training (role 1), the rest are scored (role 2).
 */
const patternSeries = (templateId: number, n: number, nTrain: number, seed: number): ParameterSeries => {
  const noise = gaussian(seed)
  const dims = 3
  const values = new Float64Array(n * dims)
  const rows = new Int32Array(n)
  const role = new Uint8Array(n)
  for (let t = 0; t < n; t++) {
    values[t * dims] = Math.sin(t / 3) + 0.05 * noise()
    values[t * dims + 1] = t % 5
    values[t * dims + 2] = NaN
    rows[t] = templateId + 10 * t
    role[t] = t < nTrain ? 1 : 2
  }
  return { templateId, rows, dims, values, role }
}

const withValues = (s: ParameterSeries, edit: (values: Float64Array) => void): ParameterSeries => {
  const values = s.values.slice()
  edit(values)
  return { ...s, values }
}

describe("inverseNormalCdf", () => {
  it("matches known quantiles", () => {
    expect(inverseNormalCdf(0.975)).toBeCloseTo(1.959964, 6)
    expect(Math.abs(inverseNormalCdf(0.975) - 1.959963984540054)).toBeLessThan(1e-12)
    expect(Math.abs(inverseNormalCdf(0.995) - 2.575829303548901)).toBeLessThan(1e-12)
    expect(inverseNormalCdf(0.5)).toBe(0)
    expect(Math.abs(inverseNormalCdf(0.001) - -3.090232306167813)).toBeLessThan(1e-12)
    expect(Math.abs(inverseNormalCdf(1e-10) - -6.361340902404056)).toBeLessThan(1e-10)
    expect(Math.abs(inverseNormalCdf(0.8413447460685429) - 1)).toBeLessThan(1e-12)
    expect(inverseNormalCdf(0.3)).toBeCloseTo(-inverseNormalCdf(0.7), 14)
    expect(inverseNormalCdf(0)).toBe(-Infinity)
    expect(inverseNormalCdf(1)).toBe(Infinity)
    expect(() => inverseNormalCdf(1.5)).toThrow(/p must be in/)
    expect(() => inverseNormalCdf(NaN)).toThrow(/p must be in/)
  })

  it("gives the two-sided z of a confidence", () => {
    expect(Math.abs(twoSidedZ(0.99) - 2.575829303548901)).toBeLessThan(1e-12)
    expect(Math.abs(twoSidedZ(0.95) - 1.959963984540054)).toBeLessThan(1e-12)
    expect(() => twoSidedZ(1)).toThrow(/confidence/)
  })
})

describe("fitParameterModel / scoreParameterModel", () => {
  it("learns a pattern: normal test vectors pass, 10σ outliers are flagged", () => {
    const clean = patternSeries(3, 1200, 1000, 11)
    const model = fitParameterModel([clean], CONFIG)
    expect(model.skipped).toEqual([])
    expect(model.templates).toHaveLength(1)
    const t = model.templates[0]!
    expect(t.columns).toEqual([0, 1])
    expect(t.errorSource).toBe("validation")
    expect(t.trainWindows + t.validationWindows).toBe(996)
    expect(t.validationWindows).toBe(199)
    expect(t.threshold).toBeCloseTo(t.errorMean + model.z * t.errorStd, 12)
    // The model predicts far better than the mean (normalized MSE 1). (Across data and init
    // seeds, this setup gives 1.5-4% false positives on the clean test part.)
    expect(t.errorMean).toBeLessThan(0.1)

    const scored = scoreParameterModel(model, [clean])
    expect(scored.rows.length).toBe(200)
    let fp = 0
    for (let k = 0; k < scored.anomalous.length; k++) fp += scored.anomalous[k]!
    expect(fp / scored.rows.length).toBeLessThan(0.05)

    const outlierAt = [1020, 1060, 1100, 1140, 1180]
    const std0 = t.std[0]!
    const dirty = withValues(clean, (v) => {
      for (const i of outlierAt) v[i * 3] = v[i * 3]! + 10 * std0
    })
    const s2 = scoreParameterModel(model, [dirty])
    for (const i of outlierAt) {
      const k = s2.rows.indexOf(clean.rows[i]!)
      expect(k).toBeGreaterThanOrEqual(0)
      expect(s2.anomalous[k]).toBe(1)
      expect(s2.errors[k]).toBeGreaterThan(10 * t.threshold)
    }
  })

  it("skips templates without enough windows or usable columns, drops unusable columns", () => {
    const good = patternSeries(1, 120, 100, 1)
    // Too few training windows: 8 training vectors → 4 windows with history 4.
    const short = patternSeries(2, 12, 8, 2)
    // Column 0 constant, column 1 numeric in only 30% of the training vectors.
    const n = 60
    const bad: ParameterSeries = {
      templateId: 3,
      rows: Int32Array.from({ length: n }, (_, i) => 1000 + i),
      dims: 2,
      values: Float64Array.from({ length: 2 * n }, (_, k) => (k % 2 === 0 ? 5 : Math.floor(k / 2) % 10 < 3 ? k : NaN)),
      role: new Uint8Array(n).fill(1)
    }
    const model = fitParameterModel([good, short, bad], { ...CONFIG, epochs: 3 })
    expect(model.templates.map((t) => t.templateId)).toEqual([1])
    const t = model.templates[0]!
    expect(t.columns).toEqual([0, 1])
    expect(t.droppedColumns.map((d) => d.column)).toEqual([2])
    expect(t.droppedColumns[0]!.reason).toMatch(/numeric in 0 of 100/)
    expect(model.skipped.map((s) => s.templateId)).toEqual([2, 3])
    expect(model.skipped[0]!.reason).toMatch(/4 training windows.*fewer than 20/)
    expect(model.skipped[1]!.reason).toMatch(/no usable column.*column 0: constant.*column 1: numeric in 18 of 60/)

    // Only role-2 vectors of modelled templates with a full history are scored.
    const early = { ...good, role: good.role.map((r, i) => (i < 2 ? 2 : r)) }
    const scored = scoreParameterModel(model, [early, short])
    expect(scored.rows.length).toBe(20)
    expect(Array.from(scored.templateIds).every((id) => id === 1)).toBe(true)
    expect(scored.rows[0]).toBe(good.rows[100])
  })

  it("floors σ when the errors have no spread", () => {
    // 10 training windows, 10% validation → one validation error → observed σ = 0.
    const s = patternSeries(5, 14, 14, 3)
    const model = fitParameterModel([s], { ...CONFIG, epochs: 2, minTrainingWindows: 1, validationFraction: 0.1 })
    const t = model.templates[0]!
    expect(t.validationWindows).toBe(1)
    expect(t.errorStdObserved).toBe(0)
    expect(t.errorStd).toBe(Math.max(0.1 * t.errorMean, 1e-4))
    expect(t.threshold).toBeGreaterThan(t.errorMean)
  })

  it("uses the training errors when there is no validation window", () => {
    const model = fitParameterModel([patternSeries(5, 40, 40, 3)], { ...CONFIG, epochs: 2, validationFraction: 0 })
    expect(model.templates[0]!.errorSource).toBe("training")
    expect(model.templates[0]!.validationWindows).toBe(0)
  })

  it("is deterministic and resumes from finished templates", () => {
    const series = [10, 11, 12, 13].map((id) => patternSeries(id, 150, 120, id))
    const config = { ...CONFIG, epochs: 4 }
    const a = fitParameterModel(series, config)
    const b = fitParameterModel(series, config)
    expect(b).toEqual(a)
    for (let k = 0; k < a.templates.length; k++) {
      expect(Buffer.from(b.templates[k]!.weights.buffer).equals(Buffer.from(a.templates[k]!.weights.buffer))).toBe(true)
    }
    // Different templates get different initialisations.
    expect(a.templates[0]!.weights).not.toEqual(a.templates[1]!.weights)

    const done = a.templates.filter((t) => t.templateId < 12)
    const calls: Array<[number, number, number | undefined]> = []
    const c = fitParameterModel(series, config, { done, onTemplate: (d, total, m) => calls.push([d, total, m?.templateId]) })
    expect(c).toEqual(a)
    expect(c.templates[0]).toBe(done[0])
    expect(c.templates[1]).toBe(done[1])
    expect(calls).toEqual([
      [1, 4, 10],
      [2, 4, 11],
      [3, 4, 12],
      [4, 4, 13]
    ])

    // A reused model that does not belong to the series is refused.
    expect(() => fitParameterModel(series, { ...config, hidden: 8 }, { done })).toThrow(/template 10.*shape/)
  })

  it("rejects bad input naming the template or field", () => {
    const s = patternSeries(3, 30, 30, 1)
    expect(() => fitParameterModel([{ ...s, dims: 4 }], CONFIG)).toThrow(/template 3.*values has length 90, expected/)
    const rows = s.rows.slice()
    rows[7] = rows[6]!
    expect(() => fitParameterModel([{ ...s, rows }], CONFIG)).toThrow(/template 3.*strictly ascending/)
    expect(() => fitParameterModel([{ ...s, role: s.role.slice(1) }], CONFIG)).toThrow(/template 3.*role has length/)
    expect(() => fitParameterModel([{ ...s, role: s.role.map(() => 4) }], CONFIG)).toThrow(/template 3.*role 4/)
    expect(() => fitParameterModel([s, s], CONFIG)).toThrow(/template 3.*more than once/)
    expect(() => scoreParameterModel({ templates: [], skipped: [], z: 1, confidence: 0.9, history: 2 }, [{ ...s, dims: 2 }])).toThrow(/template 3/)
    for (const [field, value] of [
      ["learningRate", NaN],
      ["learningRate", Infinity],
      ["history", Infinity],
      ["history", 0],
      ["hidden", 2.5],
      ["epochs", NaN],
      ["batchSize", -1],
      ["validationFraction", 1],
      ["validationFraction", NaN],
      ["confidence", 1],
      ["confidence", NaN],
      ["seed", NaN],
      ["minTrainingWindows", -1]
    ] as const) {
      expect(() => fitParameterModel([s], { ...CONFIG, [field]: value })).toThrow(new RegExp(`config: ${field} must be`))
    }
  })
})
