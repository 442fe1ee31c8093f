// Stage `fit`: a detector trained on the train split, a threshold chosen on held-out training sequences, checkpoints.
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import type { FitOutput } from "../../src/artifacts/Model.ts"
import {
  LABEL_ANOMALY as A,
  LABEL_NORMAL as N,
  SPLIT_TEST as TEST,
  SPLIT_TRAIN as TRAIN
} from "../../src/artifacts/Sequences.ts"
import { decodeValue, encodeValue } from "../../src/cache/Codec.ts"
import { fitStage } from "../../src/tasks/FitStage.ts"
import type { StageContext } from "../../src/tasks/Task.ts"
import { ctx, dataset, paramsFor } from "./fixtures.ts"

const decode = (raw: unknown) => Schema.decodeUnknownSync(fitStage.params)(raw)
const fit = (params: ReturnType<typeof decode>, data: ReturnType<typeof dataset>, c: StageContext = ctx) =>
  fitStage.run(params, data, c) as Promise<FitOutput>

// Train: [1 1 2], [1 3]; test: [1 2], [4].
const TINY = dataset([
  { events: [1, 1, 2], label: N, split: TRAIN },
  { events: [1, 3], label: N, split: TRAIN },
  { events: [1, 2], label: N, split: TEST },
  { events: [4], label: A, split: TEST }
])

describe("fit stage run: template_frequency", () => {
  it("counts training templates and sets the threshold at the largest training rarity", async () => {
    // N = 5 events, V = 3 templates: p(1) = 4/9, p(2) = p(3) = 2/9; both training sequences score -ln(2/9) = ln 4.5.
    const out = await fit(paramsFor("template_frequency", {}), TINY)
    expect(out.status).toBe("ok")
    const model = (out as { model: { templates: Array<number>; counts: Array<number>; total: number; threshold: number } }).model
    expect(model.templates).toEqual([1, 2, 3])
    expect(model.counts).toEqual([3, 1, 1])
    expect(model.total).toBe(5)
    expect(model.threshold).toBeCloseTo(Math.log(4.5), 12)
    expect((out as { threshold?: unknown }).threshold).toBeUndefined()
  })

  it("attaches a fixed threshold when the params ask for one", async () => {
    const out = await fit(paramsFor("template_frequency", {}, { threshold: { kind: "fixed", value: 2 } }), TINY)
    expect(out).toMatchObject({ status: "ok", threshold: { kind: "fixed", value: 2, basis: "fixed value 2", tunedOnLabels: false } })
  })

  it("fits on the training sequences before the last validation_fraction and chooses the threshold on the held-out ones", async () => {
    const data = dataset([
      { events: [1, 1], label: N, split: TRAIN },
      { events: [1, 2], label: N, split: TRAIN },
      { events: [9], label: A, split: TEST },
      { events: [1, 1, 1], label: N, split: TRAIN },
      { events: [2], label: N, split: TRAIN },
      { events: [3], label: N, split: TRAIN }
    ])
    // validation_fraction 0.4 of 5 training sequences: the last 2 ([2], [3]) are held out.
    // Fit on [1 1], [1 2], [1 1 1]: N = 7, V = 2, p(2) = 2/10, unseen p = 1/10, so the held-out scores are ln 5 and ln 10.
    const params = paramsFor("template_frequency", {}, { threshold: { kind: "percentile", percentile: 50, validation_fraction: 0.4 } })
    const out = await fit(params, data)
    expect(out.status).toBe("ok")
    const ok = out as Extract<FitOutput, { status: "ok" }>
    expect(ok.model).toMatchObject({ templates: [1, 2], counts: [6, 1], total: 7 })
    expect(ok.threshold!.kind).toBe("percentile")
    expect(ok.threshold!.value).toBeCloseTo((Math.log(5) + Math.log(10)) / 2, 12)
    expect(ok.threshold!.basis).toBe("50th percentile of 2 normal validation scores")
    expect(fitStage.summarize!(out, params)).toEqual({
      detector: "template_frequency",
      config: { smoothing: 1, threshold_quantile: 1 },
      status: "ok",
      threshold: ok.threshold
    })
  })

  it("is invalid, with its reason, when validation_fraction leaves no validation sequence", async () => {
    const params = paramsFor("template_frequency", {}, { threshold: { kind: "three_sigma" } })
    const out = await fit(params, TINY)
    expect(out).toEqual({ status: "invalid", reason: "validation_fraction 0.2 of 2 training sequences leaves no validation or no fitting sequence" })
  })
})

describe("fit stage run: supervised detector without anomalies", () => {
  it("returns status invalid with the reason, and summarizes it", async () => {
    const params = paramsFor("naive_bayes", {})
    const out = await fit(params, TINY)
    expect(out.status).toBe("invalid")
    const reason = (out as { reason: string }).reason
    expect(reason).toMatch(/naive_bayes needs normal and anomalous labelled training sequences; got 2 normal, 0 anomalous/)
    expect(fitStage.summarize!(out, params)).toEqual({ detector: "naive_bayes", config: params.config, status: "invalid", reason })
  })

  it("passes the invalid fit on even when a threshold would be chosen", async () => {
    const out = await fit(paramsFor("naive_bayes", {}, { threshold: { kind: "fixed", value: 0.5 } }), TINY)
    expect(out.status).toBe("invalid")
  })

  it("fails naming the detector when it is unknown", async () => {
    await expect(fit(decode({ detector: "nope", detector_version: "1", config: {}, seed: 0 }), TINY)).rejects.toThrow(/unknown detector "nope"; known detectors: .*template_frequency/)
  })
})

describe("fit stage checkpoints (deeplog)", () => {
  // Normal sequences follow 1 2 3 4 5 (with a branch through 6); 60 training sequences, 2 test.
  const normal = [[1, 2, 3, 4, 5], [1, 2, 3, 6, 4, 5], [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]]
  const data = dataset([
    ...Array.from({ length: 60 }, (_, i) => ({ events: normal[i % 3]!, label: N, split: TRAIN })),
    { events: [1, 2, 3, 4, 5], label: N, split: TEST },
    { events: [5, 4, 3, 2, 1], label: A, split: TEST }
  ])
  const config = { hidden_size: 8, num_layers: 1, history_size: 3, top_g: 2, epochs: 2, batch_size: 16, learning_rate: 0.02, validation_fraction: 0 }
  const params = paramsFor("deeplog", config)

  /** A context that records progress messages and saved checkpoints, resuming from `resume` if given. */
  const recording = (resume?: { step: number; bytes: Uint8Array }) => {
    const messages: Array<string> = []
    const saved = new Map<number, Uint8Array>()
    const c: StageContext = {
      ...ctx,
      progress: (_f, m) => void (m !== undefined && messages.push(m)),
      checkpoint: { resume, save: (step, bytes) => void saved.set(step, bytes) }
    }
    return { c, messages, saved }
  }
  const reportOf = (out: FitOutput) => {
    if (out.status !== "ok") throw new Error(out.reason)
    return out.report as { resumed_from_epoch: number | null; weights_sha256: string; epochs: number }
  }

  it("checkpoints only for detectors with a resumable fit", () => {
    expect(fitStage.checkpoints!(params)).toBe(true)
    expect(fitStage.checkpoints!(paramsFor("template_frequency", {}))).toBe(false)
  })

  it("saves a decodable checkpoint per epoch; resuming from one reaches the same weights", async () => {
    const first = recording()
    const full = reportOf(await fit(params, data, first.c))
    expect(full.resumed_from_epoch).toBe(null)
    expect([...first.saved.keys()]).toEqual([1, 2])
    for (const bytes of first.saved.values()) expect(() => decodeValue(bytes)).not.toThrow()

    const again = recording({ step: 1, bytes: first.saved.get(1)! })
    const resumed = reportOf(await fit(params, data, again.c))
    expect(resumed.resumed_from_epoch).toBe(1)
    expect(resumed.weights_sha256).toBe(full.weights_sha256)
    expect([...again.saved.keys()]).toEqual([2])
  })

  it("reports a checkpoint whose bytes do not decode through progress, ignores it and trains from scratch", async () => {
    const clean = reportOf(await fit(params, data, recording().c))
    const bad = recording({ step: 1, bytes: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]) })
    const out = reportOf(await fit(params, data, bad.c))
    expect(bad.messages[0]).toMatch(/^checkpoint unusable \(not a logflow artifact \(bad magic\)\); training from scratch$/)
    expect(out.resumed_from_epoch).toBe(null)
    expect(out.weights_sha256).toBe(clean.weights_sha256)
    expect([...bad.saved.keys()]).toEqual([1, 2])
  })

  it("ignores a checkpoint that decodes but holds no training state", async () => {
    const bad = recording({ step: 1, bytes: encodeValue({ not: "a checkpoint" }) })
    const out = reportOf(await fit(params, data, bad.c))
    expect(bad.messages[0]).toMatch(/^checkpoint unusable \(.+\); training from scratch$/)
    expect(out.resumed_from_epoch).toBe(null)
  })
})

describe("fit stage params", () => {
  const base = { detector: "template_frequency", detector_version: "1", config: {}, seed: 3 }

  it("decodes as given, applying the threshold kinds' defaults", () => {
    expect(decode(base)).toEqual(base)
    expect(decode({ ...base, threshold: { kind: "percentile", percentile: 99 } }).threshold).toEqual({ kind: "percentile", percentile: 99, validation_fraction: 0.2 })
    expect(decode({ ...base, threshold: { kind: "three_sigma" } }).threshold).toEqual({ kind: "three_sigma", k: 3, validation_fraction: 0.2 })
    expect(decode({ ...base, threshold: { kind: "mad", k: 2 } }).threshold).toEqual({ kind: "mad", k: 2, validation_fraction: 0.2 })
    expect(decode({ ...base, threshold: { kind: "best_f1" } }).threshold).toEqual({ kind: "best_f1", validation_fraction: 0.2 })
  })

  it("rejects an unknown key, naming it", () => {
    expect(() => decode({ ...base, thresold: { kind: "detector" } })).toThrow(/unknown key "thresold"/)
    expect(() => decode({ ...base, threshold: { kind: "fixed", value: 1, k: 3 } })).toThrow(/unknown key "k"/)
  })

  it("rejects bad values naming their key", () => {
    expect(() => decode({ ...base, seed: 1.5 })).toThrow(/\["seed"\]/)
    expect(() => decode({ ...base, detector: "" })).toThrow(/\["detector"\]/)
    const { detector_version: _, ...noVersion } = base
    expect(() => decode(noVersion)).toThrow(/\["detector_version"\]/)
    expect(() => decode({ ...base, threshold: { kind: "percentile", percentile: 0 } })).toThrow(/\["threshold"\]\["percentile"\]/)
    expect(() => decode({ ...base, threshold: { kind: "best_f1", validation_fraction: 1 } })).toThrow(/\["threshold"\]\["validation_fraction"\]/)
    expect(() => decode({ ...base, threshold: { kind: "three_sigma", k: 0 } })).toThrow(/\["threshold"\]\["k"\]/)
  })
})
