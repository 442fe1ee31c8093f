// DeepLog: config, what it learns, bad input, ONNX vs native scores on real HDFS sessions,
// deterministic training and checkpoint resume (including a corrupt checkpoint).
import { describe, expect, it } from "vitest"
import { deepLog, type DeepLogModel, onnxRanks, vocabularyOfModel } from "../../../src/detectors/deeplog/DeepLog.ts"
import { unflattenWeights, forward } from "../../../src/detectors/deeplog/NativeLstm.ts"
import { OnnxScorer } from "../../../src/detectors/deeplog/Onnx.ts"
import { rankTargets } from "../../../src/detectors/deeplog/Training.ts"
import { windowsOf } from "../../../src/detectors/deeplog/Windows.ts"
import { decodeConfig, hdfs100k, range, view } from "../fixtures.ts"

const small = { hidden_size: 8, num_layers: 1, history_size: 3, top_g: 2, epochs: 6, batch_size: 16, learning_rate: 0.02, validation_fraction: 0 }

/** Normal sequences follow 1 2 3 4 5 (with a branch 3 -> 6 -> 4); anomalies break the order. */
const grammar = () => {
  const normal = [[1, 2, 3, 4, 5], [1, 2, 3, 6, 4, 5], [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]]
  const train = Array.from({ length: 60 }, (_, i) => normal[i % normal.length]!)
  const test = [[1, 2, 3, 4, 5], [1, 2, 3, 6, 4, 5], [1, 3, 2, 5, 4], [5, 4, 3, 2, 1], [1, 2, 3, 4, 9]]
  return { data: view([...train, ...test], [...train.map(() => 0), 0, 0, 1, 1, 1]), train: range(60), test: range(60, 65) }
}

const fitModel = (config: Record<string, unknown>, g = grammar()) => {
  const fit = deepLog.fit(g.data, g.train, decodeConfig(deepLog, config))
  if (fit.status !== "ok") throw new Error(fit.reason)
  return fit
}

describe("deeplog config", () => {
  it("has DeepLog's defaults", () => {
    expect(decodeConfig(deepLog, {})).toEqual({
      history_size: 10, top_g: 9, num_layers: 2, hidden_size: 64, epochs: 10, batch_size: 256, learning_rate: 0.001,
      validation_fraction: 0.1, random_seed: 0, pad_start: true, end_marker: false, train_on: "normal",
      parameter_detection_enabled: false, gaussian_confidence: 0.99, parameter_elapsed_time: true, parameter_history_size: 3,
      parameter_hidden_size: 16, parameter_epochs: 10, parameter_min_windows: 20
    })
  })
  it.each([["history_size", { history_size: 0 }], ["top_g", { top_g: 0 }], ["learning_rate", { learning_rate: 0 }], ["hidden", { hidden: 3 }]])(
    "rejects a bad %s",
    (key, input) => expect(() => decodeConfig(deepLog, input)).toThrow(key)
  )
})

describe("deeplog", () => {
  it("learns the normal key order and flags sequences that break it, or hold an unseen key", () => {
    const g = grammar()
    const { model, report } = fitModel(small, g)
    const out = deepLog.score(model, g.data, g.test, decodeConfig(deepLog, small))
    expect([...out.predictions]).toEqual([0, 0, 1, 1, 1])
    expect(model.threshold).toBe(1.5)
    // Key 9 was never seen in training: rank K = 6 and counted separately.
    expect(out.scores[4]).toBe(6)
    expect(out.diagnostics).toMatchObject({ unseen_key_events: 1, sequences_flagged_only_by_unseen_keys: 1 })
    expect(report?.keys).toBe(6)
    expect((report?.curves as Array<{ train_loss: number }>).length).toBe(6)
    const curves = report?.curves as Array<{ train_loss: number }>
    expect(curves[5]!.train_loss).toBeLessThan(curves[0]!.train_loss)
  })

  it("with end_marker, flags a sequence cut short, which plain DeepLog cannot see", () => {
    const train = Array.from({ length: 40 }, () => [1, 2, 3, 4, 5])
    const data = view([...train, [1, 2, 3], [1, 2, 3, 4, 5]], [...train.map(() => 0), 1, 0])
    const test = range(40, 42)
    const cfg = { ...small, top_g: 1, epochs: 8 }
    const plain = fitModel(cfg, { data, train: range(40), test }).model
    expect([...deepLog.score(plain, data, test, decodeConfig(deepLog, cfg)).predictions]).toEqual([0, 0])
    const withEnd = fitModel({ ...cfg, end_marker: true }, { data, train: range(40), test }).model
    expect(withEnd.shape.outputSize).toBe(6)
    expect([...deepLog.score(withEnd, data, test, decodeConfig(deepLog, cfg)).predictions]).toEqual([1, 0])
  })

  it("with parameter_detection_enabled, flags a sequence whose parameter value breaks its template's pattern", () => {
    // 120 sequences [1, 2]; rows are event positions. Template 1 carries one value cycling 100..104.
    const n = 120
    const data = view(Array.from({ length: n }, () => [1, 2]), [...Array<number>(100).fill(0), ...Array<number>(20).fill(0)])
    const eventRows = Int32Array.from({ length: 2 * n }, (_, p) => p)
    const rows = Int32Array.from({ length: n }, (_, s) => 2 * s)
    const numeric = Float64Array.from(rows, (r, s) => 100 + (s % 5))
    numeric[110] = 10_000 // the outlier, in test sequence 110
    const matrices = {
      templateIds: Int32Array.of(1), arity: Int32Array.of(1), rowOffsets: Int32Array.of(0, n), rows,
      valueOffsets: Int32Array.of(0, n), valueIndex: Int32Array.from(rows, (_, i) => i), numeric, mismatched: 0
    }
    const inputs = { eventRows, representations: { parameters: matrices } }
    const cfg = { ...small, epochs: 2, top_g: 1, parameter_detection_enabled: true, parameter_elapsed_time: false, parameter_epochs: 30, parameter_min_windows: 10 }
    expect(deepLog.needs!(decodeConfig(deepLog, cfg))).toEqual(["parameters"])
    const fit = deepLog.fit(data, range(100), decodeConfig(deepLog, cfg), inputs)
    if (fit.status !== "ok") throw new Error(fit.reason)
    expect(fit.model.parameters?.model.templates.map((t) => t.templateId)).toEqual([1])
    const out = deepLog.score(fit.model, data, range(100, 120), decodeConfig(deepLog, cfg), inputs)
    // The outlier's own row, and at most the parameter_history_size (3) rows whose history holds it.
    const flagged = [...out.predictions].map((p, j) => (p === 1 ? 100 + j : -1)).filter((s) => s >= 0)
    expect(flagged[0]).toBe(110)
    expect(flagged.every((s) => s >= 110 && s <= 113)).toBe(true)
    expect(out.diagnostics).toMatchObject({ parameter_vectors_scored: 20, parameter_anomalous_rows: flagged.length, sequences_flagged_only_by_parameters: flagged.length })
    // Without the representation the model cannot be scored: a clear error.
    expect(() => deepLog.score(fit.model, data, range(100, 120), decodeConfig(deepLog, cfg))).toThrow(/needs the parameters representation/)
  })

  it("is deterministic for a seed and differs across seeds", () => {
    const a = fitModel({ ...small, epochs: 2 }).model
    const b = fitModel({ ...small, epochs: 2 }).model
    const c = fitModel({ ...small, epochs: 2, random_seed: 7 }).model
    expect(Buffer.from(a.weights.buffer, a.weights.byteOffset, a.weights.byteLength).equals(Buffer.from(b.weights.buffer, b.weights.byteOffset, b.weights.byteLength))).toBe(true)
    expect([...a.weights]).not.toEqual([...c.weights])
    expect(Buffer.from(a.onnx).equals(Buffer.from(b.onnx))).toBe(true)
  })

  it("gives clear reasons for an empty training split, top_g not below the vocabulary, and a history longer than every sequence", () => {
    const g = grammar()
    const fit = (config: Record<string, unknown>, train = g.train) => deepLog.fit(g.data, train, decodeConfig(deepLog, { ...small, ...config }))
    expect(fit({}, new Int32Array(0))).toEqual({ status: "invalid", reason: expect.stringContaining("the train split is empty") })
    expect(fit({ top_g: 6 })).toEqual({ status: "invalid", reason: expect.stringContaining("top_g 6 is not below the number of keys seen in training (6)") })
    expect(fit({ history_size: 50, pad_start: false })).toEqual({
      status: "invalid",
      reason: expect.stringContaining("history_size 50 is larger than every training sequence (the longest has 10 events)")
    })
    // With padding (the default) a long history is fine.
    expect(fit({ history_size: 50, epochs: 1 }).status).toBe("ok")
  })

  it("resumes from a checkpoint to the same weights as an uninterrupted run; an unusable checkpoint restarts", async () => {
    const g = grammar()
    const config = decodeConfig(deepLog, { ...small, epochs: 4 })
    const saved = new Map<number, unknown>()
    const ctx = { progress: () => {}, checkpoint: (step: number, state: unknown) => void saved.set(step, state) }
    const full = await deepLog.fitAsync!(g.data, g.train, config, ctx)
    if (full.status !== "ok") throw new Error(full.reason)
    expect([...saved.keys()]).toEqual([1, 2, 3, 4])
    // The sync fit trains the same model.
    const sync = deepLog.fit(g.data, g.train, config)
    expect(sync.status === "ok" && [...sync.model.weights]).toEqual([...full.model.weights])

    const resumed = await deepLog.fitAsync!(g.data, g.train, config, { ...ctx, resume: { step: 2, state: saved.get(2)! } })
    if (resumed.status !== "ok") throw new Error(resumed.reason)
    expect(resumed.report?.resumed_from_epoch).toBe(2)
    expect(resumed.report?.weights_sha256).toBe(full.report?.weights_sha256)
    expect([...resumed.model.weights]).toEqual([...full.model.weights])
    expect(resumed.report?.curves).toHaveLength(4)

    const messages: Array<string> = []
    const garbage = await deepLog.fitAsync!(g.data, g.train, config, {
      progress: (_f, m) => void (m !== undefined && messages.push(m)),
      resume: { step: 3, state: new Uint8Array([1, 2, 3, 4]) }
    })
    expect(garbage.status === "ok" && garbage.report?.resumed_from_epoch).toBe(null)
    expect(garbage.status === "ok" && garbage.report?.weights_sha256).toBe(full.report?.weights_sha256)
    expect(messages[0]).toMatch(/checkpoint unusable .*training from scratch/)
  })
})

describe("deeplog on HDFS_100k sessions (real data)", () => {
  const { data, train, test } = hdfs100k()
  const config = { hidden_size: 16, epochs: 1, batch_size: 512, learning_rate: 0.01, top_g: 3 }
  const trainPart = train.subarray(0, 1500)
  const fit = deepLog.fit(data, trainPart, decodeConfig(deepLog, config))
  if (fit.status !== "ok") throw new Error(fit.reason)
  const model: DeepLogModel = fit.model

  it("ONNX Runtime logits equal the native forward pass within 1e-5 on real test windows", async () => {
    const vocab = vocabularyOfModel(model)
    const windows = windowsOf(data, test.subarray(0, 300), vocab, model.history, true)
    const inputs = windows.inputs
    const native = forward(model.shape, unflattenWeights(model.shape, model.weights), inputs, windows.count, model.history)
    const scorer = await OnnxScorer.create(model.onnx)
    const onnx = await scorer.run(inputs, windows.count, model.history)
    await scorer.release()
    expect(onnx.length).toBe(native.length)
    let worst = 0
    for (let i = 0; i < native.length; i++) worst = Math.max(worst, Math.abs(native[i]! - onnx[i]!))
    expect(worst).toBeLessThan(1e-5)
    // Ranks, and so scores and predictions, are the same from either scorer.
    const fromNative = rankTargets(model.shape, unflattenWeights(model.shape, model.weights), windows).rank
    expect([...(await onnxRanks(model, windows))]).toEqual([...fromNative])
  })

  it("top-k next-event hits are the same from the native LSTM and from ONNX Runtime", async () => {
    const normalTest = test.filter((i) => data.labels[i] === 0).subarray(0, 400)
    const a = deepLog.predictNext!(model, data, normalTest, [1, 3, 5])
    const b = await deepLog.predictNextAsync!(model, data, normalTest, [1, 3, 5])
    expect(b).toEqual(a)
    expect(a.events).toBeGreaterThan(1000)
    expect(a.hits[2]).toBeGreaterThanOrEqual(a.hits[0]!)
  })

  it("per-event predictions: one per event in order, ranks as the scorer's, mass above from the softmax, top k by logit", async () => {
    const which = test.subarray(0, 200)
    const p = await deepLog.predictEvents!(model, data, which, 3)
    const windows = windowsOf(data, which, vocabularyOfModel(model), model.history, model.padStart)
    expect(p.event.length).toBe(windows.count) // pad_start: every event predicted, none dropped
    expect([...p.event]).toEqual([...windows.event])
    expect([...p.rank]).toEqual([...(await onnxRanks(model, windows))])
    // Independent check of mass above and top k on a few events from the native forward pass.
    const logits = forward(model.shape, unflattenWeights(model.shape, model.weights), windows.inputs, windows.count, model.history)
    const K = p.classes
    for (const w of [0, 7, 99, windows.count - 1]) {
      const z = [...logits.subarray(w * K, w * K + K)]
      const e = z.map((v) => Math.exp(v - Math.max(...z)))
      const prob = e.map((v) => v / e.reduce((a, b) => a + b, 0))
      const order = z.map((v, c) => [v, c] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, c]) => c)
      expect([...p.top.subarray(w * 3, w * 3 + 3)]).toEqual(order.slice(0, 3).map((c) => model.keys[c]))
      const y = windows.targets[w]!
      const expected = y >= K ? 1 : order.slice(0, order.indexOf(y)).reduce((m, c) => m + prob[c]!, 0)
      expect(p.massAbove[w]).toBeCloseTo(expected, 5)
    }
  })

  it("next-event hits asked of score come from the same pass and equal predictNext over the subset", async () => {
    const c = decodeConfig(deepLog, config)
    const which = test.subarray(0, 600)
    const normal = which.filter((i) => data.labels[i] === 0)
    expect(normal.length).toBeLessThan(which.length) // the subset leaves anomalous sequences out
    const request = { which: normal, ks: [1, 3, 5] }
    const native = deepLog.score(model, data, which, c, undefined, request)
    const onnx = await deepLog.scoreAsync!(model, data, which, c, undefined, request)
    const expected = deepLog.predictNext!(model, data, normal, [1, 3, 5])
    expect(native.nextEvent).toEqual(expected)
    expect(onnx.nextEvent).toEqual(expected)
    // Without a request, no next-event hits; the scores are the same either way.
    const plain = deepLog.score(model, data, which, c)
    expect(plain.nextEvent).toBeUndefined()
    expect([...plain.scores]).toEqual([...native.scores])
  })

  it("score (native) and scoreAsync (ONNX) agree on every test sequence", async () => {
    const c = decodeConfig(deepLog, config)
    const a = deepLog.score(model, data, test, c)
    const b = await deepLog.scoreAsync!(model, data, test, c)
    expect([...b.scores]).toEqual([...a.scores])
    expect([...b.predictions]).toEqual([...a.predictions])
    expect(b.diagnostics).toEqual(a.diagnostics)
  })
})
