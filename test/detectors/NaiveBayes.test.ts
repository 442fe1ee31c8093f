import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import type { SequenceView } from "../../src/detectors/base/Detector.ts"
import { naiveBayes, type NaiveBayesModel } from "../../src/detectors/NaiveBayes.ts"

/** Builds a SequenceView from event lists and labels. */
const view = (sequences: ReadonlyArray<ReadonlyArray<number>>, labels: ReadonlyArray<number>): SequenceView => {
  const offsets = new Int32Array(sequences.length + 1)
  sequences.forEach((s, i) => (offsets[i + 1] = offsets[i]! + s.length))
  return { offsets, events: Int32Array.from(sequences.flat()), labels: Int8Array.from(labels) }
}

const decode = Schema.decodeUnknownSync(naiveBayes.configSchema)

const fitOk = (data: SequenceView, train: ReadonlyArray<number>, config: unknown): NaiveBayesModel => {
  const result = naiveBayes.fit(data, Int32Array.from(train), decode(config))
  if (result.status !== "ok") throw new Error(result.reason)
  return result.model
}

/** Posterior from unnormalised joint probabilities P(normal, seq), P(anomaly, seq). */
const posterior = (normal: number, anomaly: number) => anomaly / (normal + anomaly)

// Train: s0, s1 normal; s2 anomalous; s3 unlabelled (skipped, so template 5 is never seen).
const train = [[1, 1, 2], [1, 2], [3, 3], [5]]
const trainLabels = [0, 0, 1, -1]
const queries = [[3, 1], [3], [], [5, 5], [3, 3]]
const data = view([...train, ...queries], [...trainLabels, ...queries.map(() => -1)])
const trainIdx = [0, 1, 2, 3]
const queryIdx = Int32Array.from([4, 5, 6, 7, 8])

describe("naive_bayes config", () => {
  it("applies defaults", () => {
    expect(decode({})).toEqual({ smoothing: 1, n_min: 1, n_max: 2, anomalous_posterior_threshold: 0.5, top_k_phrases: 0 })
  })

  it.each([
    ["smoothing", { smoothing: 0 }],
    ["smoothing", { smoothing: -0.5 }],
    ["n_min", { n_min: 0 }],
    ["n_min", { n_min: 1.5 }],
    ["n_min", { n_min: 3, n_max: 2 }],
    ["n_max", { n_max: 0 }],
    ["anomalous_posterior_threshold", { anomalous_posterior_threshold: 0 }],
    ["anomalous_posterior_threshold", { anomalous_posterior_threshold: 1 }],
    ["anomalous_posterior_threshold", { anomalous_posterior_threshold: 1.2 }],
    ["top_k_phrases", { top_k_phrases: -1 }],
    ["top_k_phrases", { top_k_phrases: 2.5 }],
    ["ngram", { ngram: 2 }]
  ])("rejects a bad %s", (key, input) => {
    expect(() => decode(input)).toThrow(key)
  })
})

describe("naive_bayes", () => {
  it("computes unigram posteriors by hand", () => {
    // Vocabulary {1, 2, 3}, V = 3, α = 1. Normal counts 1→3, 2→2, 3→0 (total 5):
    // P(1|n) = 4/8, P(2|n) = 3/8, P(3|n) = 1/8. Anomaly counts 3→2 (total 2):
    // P(1|a) = 1/5, P(2|a) = 1/5, P(3|a) = 3/5. Priors: P(n) = 2/3, P(a) = 1/3.
    const config = { n_max: 1 }
    const out = naiveBayes.score(fitOk(data, trainIdx, config), data, queryIdx, decode(config))
    const p31 = posterior((2 / 3) * (1 / 8) * (4 / 8), (1 / 3) * (3 / 5) * (1 / 5)) // = 24/49
    const p3 = posterior((2 / 3) * (1 / 8), (1 / 3) * (3 / 5)) // = 12/17
    const p33 = posterior((2 / 3) * (1 / 8) ** 2, (1 / 3) * (3 / 5) ** 2)
    expect(p31).toBeCloseTo(24 / 49, 14)
    const expected = [p31, p3, 1 / 3, 1 / 3, p33] // empty and unseen-only sequences get the prior
    expected.forEach((p, j) => expect(out.scores[j]).toBeCloseTo(p, 12))
    expect([...out.predictions]).toEqual(expected.map((p) => (p >= 0.5 ? 1 : 0)))
    expect(out.threshold).toBe(0.5)
  })

  it("adds bigram phrases", () => {
    // n = 1..2. Phrases: s0 → 1, 1, 2, "1 1", "1 2"; s1 → 1, 2, "1 2"; s2 → 3, 3, "3 3". V = 6.
    // Normal counts 1→3, 2→2, "1 1"→1, "1 2"→2 (total 8, denominator 8 + 6 = 14).
    // Anomaly counts 3→2, "3 3"→1 (total 3, denominator 3 + 6 = 9).
    const out = naiveBayes.score(fitOk(data, trainIdx, {}), data, Int32Array.from([8, 4]), decode({}))
    // [3, 3]: phrases 3, 3, "3 3".
    expect(out.scores[0]).toBeCloseTo(posterior((2 / 3) * (1 / 14) ** 3, (1 / 3) * (3 / 9) ** 2 * (2 / 9)), 12)
    // [3, 1]: phrases 3, 1, "3 1" (unseen, ignored).
    expect(out.scores[1]).toBeCloseTo(posterior((2 / 3) * (1 / 14) * (4 / 14), (1 / 3) * (3 / 9) * (1 / 9)), 12)
  })

  it("uses smoothing and the posterior threshold", () => {
    // α = 2, unigrams: P(3|n) = 2/11, P(3|a) = 4/8. [3]: posterior = (1/3·4/8) / (1/3·4/8 + 2/3·2/11).
    const config = { smoothing: 2, n_max: 1, anomalous_posterior_threshold: 0.6 }
    const out = naiveBayes.score(fitOk(data, trainIdx, config), data, Int32Array.from([5]), decode(config))
    const p = posterior((2 / 3) * (2 / 11), (1 / 3) * (4 / 8)) // = 11/19 ≈ 0.579
    expect(out.scores[0]).toBeCloseTo(p, 12)
    expect(out.predictions[0]).toBe(0)
    expect(out.threshold).toBe(0.6)
  })

  it("keeps only the top-k phrases", () => {
    // Train [1, 1, 1, 2] normal, [3, 3] anomalous; totals 1→3, 3→2, 2→1. Query [2, 3].
    const d = view([[1, 1, 1, 2], [3, 3], [2, 3]], [0, 1, -1])
    // All phrases: V = 3; normal total 4 → P(2|n) = 2/7, P(3|n) = 1/7; anomaly total 2 → P(2|a) = 1/5, P(3|a) = 3/5.
    const all = { n_max: 1 }
    const outAll = naiveBayes.score(fitOk(d, [0, 1], all), d, Int32Array.from([2]), decode(all))
    expect(outAll.scores[0]).toBeCloseTo(147 / 197, 12)
    // k = 2 keeps {1, 3}: V = 2; normal total 3 → P(3|n) = 1/5; anomaly total 2 → P(3|a) = 3/4; 2 is ignored.
    const top2 = { n_max: 1, top_k_phrases: 2 }
    const model = fitOk(d, [0, 1], top2)
    expect(model.phrases).toEqual(["1", "3"])
    const outTop = naiveBayes.score(model, d, Int32Array.from([2]), decode(top2))
    expect(outTop.scores[0]).toBeCloseTo(posterior((1 / 2) * (1 / 5), (1 / 2) * (3 / 4)), 12) // 15/19
  })

  it("stays finite where the plain product underflows", () => {
    // 500 × template 3 and 856 × template 1 (unigrams): both joint probabilities are below 1e-700.
    const long = [...Array<number>(500).fill(3), ...Array<number>(856).fill(1)]
    expect((1 / 8) ** 500 * (1 / 2) ** 856).toBe(0)
    const d = view([...train, long], [...trainLabels, -1])
    const config = { n_max: 1 }
    const out = naiveBayes.score(fitOk(d, trainIdx, config), d, Int32Array.from([4]), decode(config))
    const logit = Math.log(1 / 2) + 500 * Math.log((3 / 5) / (1 / 8)) + 856 * Math.log((1 / 5) / (4 / 8))
    expect(out.scores[0]).toBeCloseTo(1 / (1 + Math.exp(-logit)), 9)
    expect(out.scores[0]).toBeGreaterThan(0.2)
    expect(out.scores[0]).toBeLessThan(0.5)
    // Extreme logits saturate at exactly 0 or 1, never NaN.
    const d2 = view([...train, Array<number>(3000).fill(3), Array<number>(3000).fill(1)], [...trainLabels, -1, -1])
    const out2 = naiveBayes.score(fitOk(d2, trainIdx, config), d2, Int32Array.from([4, 5]), decode(config))
    expect([...out2.scores]).toEqual([1, 0])
  })

  it("scores the same from a JSON round trip of the model", () => {
    const model = fitOk(data, trainIdx, {})
    const copy = JSON.parse(JSON.stringify(model)) as NaiveBayesModel
    const config = decode({})
    expect(naiveBayes.score(copy, data, queryIdx, config)).toEqual(naiveBayes.score(model, data, queryIdx, config))
  })

  it.each([
    ["no anomalous", [0, 1, 3], /2 normal, 0 anomalous \(1 unlabelled/],
    ["no normal", [2, 3], /0 normal, 1 anomalous/],
    ["no labelled", [3], /0 normal, 0 anomalous/],
    ["no", [], /0 normal, 0 anomalous/]
  ])("is invalid with %s training sequences", (_, trainSet, reason) => {
    const result = naiveBayes.fit(data, Int32Array.from(trainSet), decode({}))
    expect(result.status).toBe("invalid")
    if (result.status === "invalid") expect(result.reason).toMatch(reason)
  })
})
