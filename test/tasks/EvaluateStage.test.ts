// Stage `evaluate`: confusion counts and ratios, AUROC / AUPRC, and the event, next-event and detector scopes.
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { packStrings } from "../../src/artifacts/Columns.ts"
import type { Metrics } from "../../src/artifacts/Metrics.ts"
import type { ScoredSequences } from "../../src/artifacts/Scores.ts"
import {
  LABEL_ANOMALY as A,
  LABEL_NORMAL as N,
  LABEL_UNKNOWN as U,
  type LabelledSequences,
  type Sequences,
  SPLIT_TEST as TEST,
  SPLIT_TRAIN as TRAIN,
  type SplitSequences
} from "../../src/artifacts/Sequences.ts"
import { evaluateStage } from "../../src/tasks/EvaluateStage.ts"

const decode = (raw: unknown) => Schema.decodeUnknownSync(evaluateStage.params)(raw)

const sequences = (rows: ReadonlyArray<ReadonlyArray<number>>, labels: ReadonlyArray<number>): Sequences => {
  const offsets = [0]
  for (const r of rows) offsets.push(offsets.at(-1)! + r.length)
  return {
    ids: packStrings(rows.map((_, i) => `s${i}`)),
    offsets: Int32Array.from(offsets),
    rows: Int32Array.from(rows.flat()),
    events: Int32Array.from(rows.flat()),
    labels: Int8Array.from(labels)
  }
}
const splitOf = (tags: ReadonlyArray<number>, seqs?: Sequences): SplitSequences => {
  const empty = { count: 0, normal: 0, anomaly: 0, unknown: 0 }
  return { split: Uint8Array.from(tags), summary: { train: empty, test: empty, ignored: empty }, ...(seqs === undefined ? {} : { sequences: seqs }) }
}
const scoredOf = (which: ReadonlyArray<number>, scores: ReadonlyArray<number>, threshold: number, extra: Partial<Extract<ScoredSequences, { status: "ok" }>> = {}): ScoredSequences => ({
  status: "ok",
  which: Int32Array.from(which),
  scores: Float64Array.from(scores),
  predictions: Uint8Array.from(scores, (s) => (s > threshold ? 1 : 0)),
  threshold,
  ...extra
})

const run = (raw: unknown, labelled: LabelledSequences, split: SplitSequences, scored: ScoredSequences) =>
  evaluateStage.run(decode(raw), { labelled, split, scored }, {} as never) as Metrics

// s0, s1 train; test: s2 A 0.9, s3 A 0.3, s4 N 0.8, s5 N 0.2, s6 N 0.1, s7 unknown 0.95.
const LABELS = [N, N, A, A, N, N, N, U]
const labelled: LabelledSequences = { sequences: sequences(LABELS.map((_, i) => [i]), LABELS), unlabeled: 1 }
const split = splitOf([TRAIN, TRAIN, TEST, TEST, TEST, TEST, TEST, TEST])
const SCORES = [0.9, 0.3, 0.8, 0.2, 0.1, 0.95]

describe("evaluate stage run: the headline", () => {
  it("gives precision, recall, F1 and accuracy from the confusion matrix of the labelled test sequences", () => {
    const out = run({}, labelled, split, scoredOf([2, 3, 4, 5, 6, 7], SCORES, 0.25))
    // Threshold 0.25 predicts s2, s3, s4 (and the unlabelled s7, which is skipped):
    // tp = 2 (s2, s3), fp = 1 (s4), tn = 2 (s5, s6), fn = 0.
    const [tp, fp, tn, fn] = [2, 1, 2, 0]
    const precision = tp / (tp + fp)
    const recall = tp / (tp + fn)
    expect(out.headline).toMatchObject({ scope: "sequence", status: "valid", threshold: 0.25, evaluated: 5, tp, fp, tn, fn })
    const h = out.headline as { precision: number; recall: number; f1: number; accuracy: number; auroc: number; auprc: number }
    expect(h.precision).toBeCloseTo(2 / 3, 12)
    expect(h.recall).toBe(1)
    expect(h.f1).toBeCloseTo((2 * precision * recall) / (precision + recall), 12)
    expect(h.f1).toBeCloseTo(0.8, 12)
    expect(h.accuracy).toBeCloseTo(4 / 5, 12)
    // AUROC: of the 2 x 3 (anomaly, normal) pairs, only (0.3, 0.8) is ordered wrongly: 5/6.
    expect(h.auroc).toBeCloseTo(5 / 6, 12)
    // Average precision: anomalies at ranks 1 and 3 of the scores, descending: ½·1 + ½·(2/3).
    expect(h.auprc).toBeCloseTo(0.5 * 1 + 0.5 * (2 / 3), 12)
    expect(out.scopes).toEqual({ sequence: out.headline })
    expect(evaluateStage.summarize!(out, decode({}))).toEqual(out.headline)
  })

  it("reports the headline in the dataset's scope and carries the threshold's basis", () => {
    const out = run({ scope: "window" }, labelled, split, scoredOf([2, 3, 4, 5, 6, 7], SCORES, 0.5, { thresholdBasis: "99th percentile of 40 normal validation scores" }))
    expect(Object.keys(out.scopes)).toEqual(["window"])
    // Threshold 0.5: tp = 1 (s2), fn = 1 (s3), fp = 1 (s4), tn = 2: precision = recall = F1 = ½.
    expect(out.headline).toMatchObject({ scope: "window", tp: 1, fn: 1, fp: 1, tn: 2, precision: 0.5, recall: 0.5, f1: 0.5, accuracy: 0.6 })
    expect(out.headline).toMatchObject({ threshold_basis: "99th percentile of 40 normal validation scores" })
  })

  it("gives an invalid headline, with the reason, for an invalid score", () => {
    const out = run({}, labelled, split, { status: "invalid", reason: "naive_bayes needs anomalies" })
    expect(out.headline).toEqual({ scope: "sequence", status: "invalid", reason: "naive_bayes needs anomalies" })
    expect(out.scopes).toEqual({ sequence: out.headline })
    expect(evaluateStage.summarize!(out, decode({}))).toEqual({ scope: "sequence", status: "invalid", reason: "naive_bayes needs anomalies" })
  })

  it("is not applicable when no test sequence is labelled", () => {
    const out = run({}, labelled, split, scoredOf([7], [0.95], 0.5))
    expect(out.headline).toEqual({ scope: "sequence", status: "not_applicable", reason: "no labelled sequence in the test split" })
  })

  it("gives null AUROC / AUPRC with a reason when the test sequences hold one class only", () => {
    const out = run({}, labelled, split, scoredOf([4, 5, 6], [0.8, 0.2, 0.1], 0.5))
    expect(out.headline).toMatchObject({ status: "valid", tp: 0, fp: 1, tn: 2, fn: 0, precision: 0, recall: 0, f1: 0, auroc: null, auprc: null })
    expect((out.headline as { threshold_free_reason?: string }).threshold_free_reason).toMatch(/0 anomalous and 3 normal/)
  })

  it("reads the labels of the split's own sequences when the split cut them", () => {
    // The split replaced the sequences: two sequences, the second anomalous.
    const cut = sequences([[0], [1]], [N, A])
    const out = run({}, labelled, splitOf([TRAIN, TEST], cut), scoredOf([1], [0.7], 0.5))
    expect(out.headline).toMatchObject({ status: "valid", evaluated: 1, tp: 1, fp: 0, tn: 0, fn: 0 })
  })
})

describe("evaluate stage run: the other scopes", () => {
  it("adds a diagnostic event scope for line-labelled logs: a line is predicted anomalous when a predicted-anomalous test window holds it", () => {
    // Windows over 6 rows: s0 = 0, 1 (train); s1 = 2, 3; s2 = 3, 4; s3 = 5. Lines 2 and 5 are anomalous.
    const windows: LabelledSequences = {
      sequences: sequences([[0, 1], [2, 3], [3, 4], [5]], [N, A, N, A]),
      unlabeled: 0,
      rowLabels: Int8Array.from([N, N, A, N, N, A])
    }
    const out = run({ scope: "window" }, windows, splitOf([TRAIN, TEST, TEST, TEST]), scoredOf([1, 2, 3], [0.9, 0.1, 0.1], 0.5))
    // Predicted lines: 2 and 3 (window s1). Lines 2..5: tp = line 2, fp = line 3, tn = line 4, fn = line 5.
    expect(out.scopes.event).toMatchObject({ scope: "event", status: "diagnostic_only", evaluated: 4, tp: 1, fp: 1, tn: 1, fn: 1, precision: 0.5, recall: 0.5 })
    expect(out.headline).toMatchObject({ scope: "window", tp: 1, fn: 1, tn: 1, fp: 0 })
  })

  it("adds top-k next-event accuracy and the detector's diagnostic counts when the score has them", () => {
    const scored = scoredOf([2, 3, 4, 5, 6], SCORES.slice(0, 5), 0.5, {
      nextEvent: { ks: [1, 3], events: 4, hits: [1, 3] },
      diagnostics: { unseen_key_events: 2 }
    })
    const out = run({}, labelled, split, scored)
    expect(out.scopes.next_event).toEqual({ scope: "next_event", status: "valid", evaluated_events: 4, top_k_accuracy: { top_1: 0.25, top_3: 0.75 } })
    expect(out.scopes.detector).toEqual({ scope: "detector", status: "diagnostic_only", counts: { unseen_key_events: 2 } })
    const none = run({}, labelled, split, scoredOf([2, 3], [0.9, 0.3], 0.5, { nextEvent: { ks: [1], events: 0, hits: [0] } }))
    expect(Object.keys(none.scopes)).toEqual(["sequence"])
  })
})

describe("evaluate stage params", () => {
  it("defaults scope to sequence", () => {
    expect(decode({})).toEqual({ scope: "sequence" })
    expect(decode({ scope: "stream" })).toEqual({ scope: "stream" })
  })

  it("rejects an unknown key, naming it", () => {
    expect(() => decode({ scope: "sequence", weight: 1 })).toThrow(/unknown key "weight"/)
  })

  it("rejects a bad scope, naming the key", () => {
    expect(() => decode({ scope: "event" })).toThrow(/\["scope"\]/)
  })
})
