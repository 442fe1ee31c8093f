import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import type { SequenceView } from "../../src/detectors/base/Detector.ts"
import { getDetector, UnknownDetectorError } from "../../src/detectors/registry.ts"
import { templateFrequency, type TemplateFrequencyModel } from "../../src/detectors/TemplateFrequency.ts"

/** Builds a SequenceView from event lists (labels default to unknown). */
const view = (sequences: ReadonlyArray<ReadonlyArray<number>>, labels?: ReadonlyArray<number>): SequenceView => {
  const offsets = new Int32Array(sequences.length + 1)
  sequences.forEach((s, i) => (offsets[i + 1] = offsets[i]! + s.length))
  return {
    offsets,
    events: Int32Array.from(sequences.flat()),
    labels: Int8Array.from(labels ?? sequences.map(() => -1))
  }
}

const decode = Schema.decodeUnknownSync(templateFrequency.configSchema)

const fitOk = (data: SequenceView, train: ReadonlyArray<number>, config: unknown): TemplateFrequencyModel => {
  const result = templateFrequency.fit(data, Int32Array.from(train), decode(config))
  if (result.status !== "ok") throw new Error(result.reason)
  return result.model
}

// s0..s2 train, s3..s5 test. Training events: N = 7; counts 1→5, 2→1, 3→1; V = 3.
const data = view([[1, 1, 2], [1, 3], [1, 1], [4], [], [2, 1]])
const train = [0, 1, 2]
const test = Int32Array.from([3, 4, 5])

describe("template_frequency config", () => {
  it("applies defaults", () => {
    expect(decode({})).toEqual({ smoothing: 1, threshold_quantile: 1 })
    expect(decode({ smoothing: 0.5 })).toEqual({ smoothing: 0.5, threshold_quantile: 1 })
  })

  it.each([
    ["smoothing", { smoothing: 0 }],
    ["smoothing", { smoothing: -1 }],
    ["smoothing", { smoothing: "1" }],
    ["threshold_quantile", { threshold_quantile: 0 }],
    ["threshold_quantile", { threshold_quantile: 1.5 }],
    ["smothing", { smothing: 1 }]
  ])("rejects a bad %s", (key, input) => {
    expect(() => decode(input)).toThrow(key)
  })

  it("lists the known keys when rejecting an unknown one", () => {
    expect(() => decode({ window: 3 })).toThrow(/unknown key "window".*smoothing, threshold_quantile/)
  })
})

describe("template_frequency", () => {
  it("scores by the rarest event with α = 1", () => {
    // Denominator N + α·(V + 1) = 7 + 4 = 11: p(1) = 6/11, p(2) = p(3) = 2/11, unseen = 1/11.
    const model = fitOk(data, train, {})
    expect(model.total).toBe(7)
    // Training scores: s0 = −log(2/11), s1 = −log(2/11), s2 = −log(6/11); max = log(11/2).
    expect(model.threshold).toBeCloseTo(Math.log(11 / 2), 12)
    const out = templateFrequency.score(model, data, test, decode({}))
    // s3 = [4] unseen → log 11; s4 empty → 0; s5 = [2, 1] → log(11/2).
    expect(out.scores[0]).toBeCloseTo(Math.log(11), 12)
    expect(out.scores[1]).toBe(0)
    expect(out.scores[2]).toBeCloseTo(Math.log(11 / 2), 12)
    // Anomaly iff score > threshold: s5 equals the threshold, so it is normal.
    expect([...out.predictions]).toEqual([1, 0, 0])
    expect(out.threshold).toBe(model.threshold)
  })

  it("uses the smoothing α", () => {
    // α = 2: denominator 7 + 2·4 = 15: p(1) = 7/15, p(2) = 3/15, unseen = 2/15.
    const config = { smoothing: 2 }
    const model = fitOk(data, train, config)
    expect(model.threshold).toBeCloseTo(Math.log(15 / 3), 12)
    const out = templateFrequency.score(model, data, test, decode(config))
    expect(out.scores[0]).toBeCloseTo(Math.log(15 / 2), 12)
    expect(out.scores[2]).toBeCloseTo(Math.log(15 / 3), 12)
  })

  it("takes the nearest-rank quantile of the training scores", () => {
    // Sorted training scores: [log(11/6), log(11/2), log(11/2)]; q = 0.3 → rank ceil(0.9) = 1.
    const model = fitOk(data, train, { threshold_quantile: 0.3 })
    expect(model.threshold).toBeCloseTo(Math.log(11 / 6), 12)
    // q = 0.5 → rank ceil(1.5) = 2.
    expect(fitOk(data, train, { threshold_quantile: 0.5 }).threshold).toBeCloseTo(Math.log(11 / 2), 12)
    const out = templateFrequency.score(model, data, Int32Array.from([0, 2, 4]), decode({ threshold_quantile: 0.3 }))
    expect([...out.predictions]).toEqual([1, 0, 0])
  })

  it("scores the same from a JSON round trip of the model", () => {
    const model = fitOk(data, train, {})
    const copy = JSON.parse(JSON.stringify(model)) as TemplateFrequencyModel
    const config = decode({})
    expect(templateFrequency.score(copy, data, test, config)).toEqual(templateFrequency.score(model, data, test, config))
  })

  it("is invalid without training sequences", () => {
    const result = templateFrequency.fit(data, new Int32Array(0), decode({}))
    expect(result.status).toBe("invalid")
  })
})

describe("detector registry", () => {
  it("finds detectors by tag", () => {
    expect(getDetector("template_frequency")).toBe(templateFrequency)
  })

  it("names the known tags for an unknown one", () => {
    expect(() => getDetector("lstm")).toThrow(UnknownDetectorError)
    expect(() => getDetector("lstm")).toThrow(/"lstm".*naive_bayes.*template_frequency/)
    expect(() => getDetector("toString")).toThrow(UnknownDetectorError)
  })
})
