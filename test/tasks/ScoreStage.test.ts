// Stage `score`: a fitted detector applied to the test split; scores, predictions, threshold, next-event hits.
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import type { FitOutput } from "../../src/artifacts/Model.ts"
import type { ScoredSequences } from "../../src/artifacts/Scores.ts"
import {
  LABEL_ANOMALY as A,
  LABEL_NORMAL as N,
  SPLIT_IGNORED as IGN,
  SPLIT_TEST as TEST,
  SPLIT_TRAIN as TRAIN
} from "../../src/artifacts/Sequences.ts"
import { fitStage } from "../../src/tasks/FitStage.ts"
import { scoreStage, TOP_K } from "../../src/tasks/ScoreStage.ts"
import { ctx, dataset, paramsFor } from "./fixtures.ts"

const decode = (raw: unknown) => Schema.decodeUnknownSync(scoreStage.params)(raw)
const score = (params: ReturnType<typeof decode>, data: ReturnType<typeof dataset>, fit: FitOutput) =>
  scoreStage.run(params, { ...data, fit }, ctx) as Promise<ScoredSequences>

const ok = (out: ScoredSequences) => {
  if (out.status !== "ok") throw new Error(out.reason)
  return out
}

// s0, s1 train; s2 test [1 2] (normal); s3 ignored; s4 test [4] (anomalous, template never trained on).
const DATA = dataset([
  { events: [1, 1, 2], label: N, split: TRAIN },
  { events: [1, 3], label: N, split: TRAIN },
  { events: [1, 2], label: N, split: TEST },
  { events: [3, 3], label: A, split: IGN },
  { events: [4], label: A, split: TEST }
])

describe("score stage run: template_frequency", () => {
  it("scores only the test sequences, in index order, against a hand-made model", async () => {
    // Model: counts 1 -> 3, 2 -> 1 (N = 4, V = 2, α = 1): p(1) = 4/7, p(2) = 2/7, unseen 1/7.
    const fit: FitOutput = { status: "ok", model: { templates: [1, 2], counts: [3, 1], total: 4, threshold: 1.5 } }
    const out = ok(await score(paramsFor("template_frequency", {}), DATA, fit))
    expect(Array.from(out.which)).toEqual([2, 4])
    expect(out.scores[0]).toBeCloseTo(-Math.log(2 / 7), 12)
    expect(out.scores[1]).toBeCloseTo(Math.log(7), 12)
    // -ln(2/7) = 1.25 <= 1.5 < ln 7 = 1.95.
    expect(Array.from(out.predictions)).toEqual([0, 1])
    expect(out.threshold).toBe(1.5)
    expect(out.thresholdBasis).toBeUndefined()
    expect(out.nextEvent).toBeUndefined()
  })

  it("with a model from the fit stage, flags the sequence holding a template unseen in training", async () => {
    const params = paramsFor("template_frequency", {})
    const fit = await fitStage.run(params, DATA, ctx)
    // Training: 1 x3, 2 x1, 3 x1 (N = 5, V = 3): threshold = -ln(2/9) = ln 4.5; s2 scores ln 4.5, s4 scores ln 9.
    const out = ok(await score(params, DATA, fit))
    expect(out.threshold).toBeCloseTo(Math.log(4.5), 12)
    expect(out.scores[0]).toBeCloseTo(Math.log(4.5), 12)
    expect(out.scores[1]).toBeCloseTo(Math.log(9), 12)
    expect(Array.from(out.predictions)).toEqual([0, 1])
    expect(scoreStage.summarize!(out, params)).toEqual({ status: "ok", scored: 2, threshold: out.threshold })
  })

  it("applies the fit's chosen threshold instead of the detector's own, and reports its basis", async () => {
    const fit: FitOutput = {
      status: "ok",
      model: { templates: [1, 2], counts: [3, 1], total: 4, threshold: 1.5 },
      threshold: { kind: "fixed", value: 1, basis: "fixed value 1", tunedOnLabels: false }
    }
    const out = ok(await score(paramsFor("template_frequency", {}), DATA, fit))
    // Both scores (1.25 and 1.95) exceed 1.
    expect(Array.from(out.predictions)).toEqual([1, 1])
    expect(out.threshold).toBe(1)
    expect(out.thresholdBasis).toBe("fixed value 1")
  })
})

describe("score stage run: an invalid fit", () => {
  it("passes the fit's reason on without scoring, and summarizes it", async () => {
    const params = paramsFor("naive_bayes", {})
    const out = await score(params, DATA, { status: "invalid", reason: "no anomalies in train" })
    expect(out).toEqual({ status: "invalid", reason: "no anomalies in train" })
    expect(scoreStage.summarize!(out, params)).toEqual({ status: "invalid", reason: "no anomalies in train" })
  })
})

describe("score stage run: next-event accuracy", () => {
  it("asks a predictive detector for top-k next-event hits over the normal test sequences only", async () => {
    // Order-1 Markov model: START -> 1 (x2); 1 -> 2 (x3), 1 -> 3 (x1); 2 -> 3 (x3); 3 -> END (x4).
    const model = {
      order: 1,
      templates: [1, 2, 3],
      contexts: [
        { context: [-1], next: [1], counts: [2] },
        { context: [1], next: [2, 3], counts: [3, 1] },
        { context: [2], next: [3], counts: [3] },
        { context: [3], next: [-2], counts: [4] }
      ],
      threshold: 2
    }
    const data = dataset([
      { events: [1, 2, 3], label: N, split: TRAIN },
      { events: [1, 3], label: N, split: TEST },
      { events: [3, 1], label: A, split: TEST }
    ])
    const out = ok(await score(paramsFor("markov", { order: 1 }), data, { status: "ok", model }))
    // Normal test [1 3]: START -> 1 is ranked first, 1 -> 3 second (after 2); the end is not counted.
    expect(TOP_K).toEqual([1, 3, 5, 9])
    expect(out.nextEvent).toEqual({ ks: [1, 3, 5, 9], events: 2, hits: [1, 2, 2, 2] })
    // Its worst transition is 1 -> 3: (1 + 1) / (4 + 1·5) with V + 2 = 5 symbols.
    expect(out.scores[0]).toBeCloseTo(Math.log(4.5), 12)
    expect(Array.from(out.which)).toEqual([1, 2])
  })
})

describe("score stage params", () => {
  it("shares the fit stage's params schema", () => {
    expect(scoreStage.params).toBe(fitStage.params)
    const base = { detector: "markov", detector_version: "2", config: { order: 1 }, seed: 0 }
    expect(decode({ ...base, threshold: { kind: "mad" } })).toEqual({ ...base, threshold: { kind: "mad", k: 3, validation_fraction: 0.2 } })
  })

  it("rejects an unknown key or a bad value, naming the key", () => {
    const base = { detector: "markov", detector_version: "2", config: {}, seed: 0 }
    expect(() => decode({ ...base, model: "x" })).toThrow(/unknown key "model"/)
    expect(() => decode({ ...base, seed: "0" })).toThrow(/\["seed"\]/)
    expect(() => decode({ ...base, threshold: { kind: "fixed", value: Number.POSITIVE_INFINITY } })).toThrow(/\["threshold"\]\["value"\]/)
  })
})
