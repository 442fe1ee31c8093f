// Stage `represent`: event columns, count vectors, n-grams, parameter values and elapsed times of split sequences.
import { Schema } from "effect"
import * as os from "node:os"
import { describe, expect, it } from "vitest"
import { packStrings, stringAt } from "../../src/artifacts/Columns.ts"
import type { ParsedLog } from "../../src/artifacts/Log.ts"
import type { Representation } from "../../src/artifacts/Representation.ts"
import { LABEL_NORMAL, type LabelledSequences, type Sequences, SPLIT_TEST, SPLIT_TRAIN, type SplitSequences } from "../../src/artifacts/Sequences.ts"
import type { MinedLog } from "../../src/mining/MinerState.ts"
import type { CountMatrix } from "../../src/representations/CountVectors.ts"
import type { EventColumns } from "../../src/representations/EventSequences.ts"
import type { NGramPhrases } from "../../src/representations/NGrams.ts"
import type { ParameterMatrices } from "../../src/representations/ParameterValues.ts"
import { mineStage } from "../../src/tasks/MineStage.ts"
import { needsLog, representStage } from "../../src/tasks/RepresentStage.ts"
import type { StageContext } from "../../src/tasks/Task.ts"

const decode = (raw: unknown) => Schema.decodeUnknownSync(representStage.params)(raw)
const ctx: StageContext = { dataRoot: os.tmpdir(), sourcesDir: os.tmpdir(), progress: () => {} }

/** Sequences of template ids; rows are event positions 0, 1, 2, ... */
const sequencesOf = (events: ReadonlyArray<ReadonlyArray<number>>, rows?: ReadonlyArray<ReadonlyArray<number>>): Sequences => {
  const offsets = [0]
  for (const e of events) offsets.push(offsets.at(-1)! + e.length)
  return {
    ids: packStrings(events.map((_, i) => `s${i}`)),
    offsets: Int32Array.from(offsets),
    rows: Int32Array.from(rows?.flat() ?? events.flat().map((_, p) => p)),
    events: Int32Array.from(events.flat()),
    labels: new Int8Array(events.length).fill(LABEL_NORMAL)
  }
}
const splitOf = (tags: ReadonlyArray<number>): SplitSequences => ({
  split: Uint8Array.from(tags),
  summary: { train: { count: 0, normal: 0, anomaly: 0, unknown: 0 }, test: { count: 0, normal: 0, anomaly: 0, unknown: 0 }, ignored: { count: 0, normal: 0, anomaly: 0, unknown: 0 } }
})

// s0 and s1 train, s2 test; template 11 occurs only in the test sequence.
const EVENTS = [[5, 7, 5], [7, 7, 9], [5, 11]]
const TAGS = [SPLIT_TRAIN, SPLIT_TRAIN, SPLIT_TEST]
const labelled: LabelledSequences = { sequences: sequencesOf(EVENTS), unlabeled: 0 }
const split = splitOf(TAGS)

const run = (raw: unknown, inputs: Partial<Parameters<typeof representStage.run>[1]> = {}) =>
  representStage.run(decode(raw), { labelled, split, ...inputs }, ctx) as Representation

/** Training vocabulary and per-sequence counts, computed here with plain maps. */
const trainVocabulary = [...new Set(EVENTS.filter((_, i) => TAGS[i] === SPLIT_TRAIN).flat())].sort((a, b) => a - b)

describe("represent stage run: count_vectors", () => {
  it("counts template occurrences per sequence over the training vocabulary, out-of-vocabulary events apart", () => {
    const out = run({ kind: "count_vectors" })
    const m = out.value as CountMatrix & { vocabulary: Int32Array }
    expect(trainVocabulary).toEqual([5, 7, 9])
    expect(Array.from(m.vocabulary)).toEqual(trainVocabulary)
    const dense = Array.from({ length: m.rows }, (_, i) => {
      const row = new Array<number>(m.cols).fill(0)
      for (let k = m.indptr[i]!; k < m.indptr[i + 1]!; k++) row[m.indices[k]!] = m.data[k]!
      return row
    })
    const expected = EVENTS.map((seq) => trainVocabulary.map((t) => seq.filter((e) => e === t).length))
    expect(dense).toEqual(expected)
    expect(expected).toEqual([[2, 1, 0], [0, 2, 1], [1, 0, 0]])
    expect(Array.from(m.oov)).toEqual(EVENTS.map((seq) => seq.filter((e) => !trainVocabulary.includes(e)).length))
    expect(out.shape).toEqual({ rows: 3, cols: 3, nonzeros: expected.flat().filter((c) => c > 0).length })
    expect(representStage.summarize!(out, decode({ kind: "count_vectors" }))).toEqual({ kind: "count_vectors", shape: { rows: 3, cols: 3, nonzeros: 5 } })
  })
})

describe("represent stage run: event_sequences", () => {
  it("maps each event to its training-vocabulary column, -1 when out of vocabulary", () => {
    const out = run({ kind: "event_sequences" })
    const v = out.value as EventColumns & { vocabulary: Int32Array }
    expect(Array.from(v.columns)).toEqual(EVENTS.flat().map((t) => trainVocabulary.indexOf(t)))
    expect(Array.from(v.offsets)).toEqual([0, 3, 6, 8])
    expect(v.oov).toBe(1)
    expect(out.shape).toEqual({ sequences: 3, events: 8, vocabulary: 3, oov: 1 })
  })

  it("reads the split's own sequences when the split cut them (split_partial)", () => {
    const cut = sequencesOf([[5], [7], [9, 9]])
    const out = representStage.run(decode({ kind: "event_sequences" }), { labelled, split: { ...splitOf([SPLIT_TRAIN, SPLIT_TRAIN, SPLIT_TEST]), sequences: cut } }, ctx) as Representation
    const v = out.value as EventColumns & { vocabulary: Int32Array }
    expect(Array.from(v.vocabulary)).toEqual([5, 7])
    expect(Array.from(v.columns)).toEqual([0, 1, -1, -1])
    expect(out.shape).toEqual({ sequences: 3, events: 4, vocabulary: 2, oov: 2 })
  })
})

describe("represent stage run: ngrams", () => {
  it("lists every run of n_min..n_max consecutive events per sequence, by n then position", () => {
    const out = run({ kind: "ngrams", n_min: 1, n_max: 2 })
    const v = out.value as NGramPhrases
    const text = (p: number) => Array.from(v.table.items.subarray(v.table.offsets[p]!, v.table.offsets[p + 1]!)).join(" ")
    const perSequence = EVENTS.map((_, i) => Array.from(v.phrases.subarray(v.offsets[i]!, v.offsets[i + 1]!), text))
    const expected = EVENTS.map((seq) => [
      ...seq.map(String),
      ...seq.slice(1).map((e, k) => `${seq[k]} ${e}`)
    ])
    expect(perSequence).toEqual(expected)
    expect(out.shape).toEqual({ sequences: 3, phrases: new Set(expected.flat()).size, occurrences: expected.flat().length })
  })
})

describe("represent stage run: elapsed_time", () => {
  it("gives the milliseconds since the sequence's previous event, 0 for its first", () => {
    // Rows of the parsed log, by sequence: s0 = rows 0, 2, 3; s1 = rows 1, 4, 5; s2 = rows 6, 7 (row 7 untimed).
    const rows = [[0, 2, 3], [1, 4, 5], [6, 7]]
    const times = [1000, 1500, 4000, 4100, 9000, 9500, 20000, Number.NaN]
    const seqs: LabelledSequences = { sequences: sequencesOf(EVENTS, rows), unlabeled: 0 }
    const parsed: ParsedLog = {
      rawLines: 8,
      lineNo: Int32Array.from({ length: 8 }, (_, i) => i + 1),
      content: packStrings(times.map(() => "x")),
      fields: [],
      timestamps: Float64Array.from(times),
      unparsed: { count: 0, samples: [] }
    }
    const out = representStage.run(decode({ kind: "elapsed_time" }), { labelled: seqs, split, parsed }, ctx) as Representation
    const v = out.value as { offsets: Int32Array; elapsed: Float64Array }
    const expected = rows.flatMap((r) => r.map((row, k) => (k === 0 ? 0 : times[row]! - times[r[k - 1]!]!)))
    expect(Array.from(v.elapsed)).toEqual(expected)
    expect(expected.slice(0, 6)).toEqual([0, 3000, 100, 0, 7500, 500])
    expect(out.shape).toEqual({ events: 8, missing: 1 })
  })

  it("needs a parsed log", () => {
    expect(() => run({ kind: "elapsed_time" })).toThrow(/elapsed_time needs a raw-log dataset/)
  })
})

describe("represent stage run: parameters", () => {
  it("lays out every row's parameter values by template and position", () => {
    const content = ["Deleting block 101 file a", "Served block 7 to host", "Deleting block 202 file a", "Deleting block 303 file a"]
    const parsed: ParsedLog = {
      rawLines: 4,
      lineNo: Int32Array.from([1, 2, 3, 4]),
      content: packStrings(content),
      fields: [],
      unparsed: { count: 0, samples: [] }
    }
    const templates = mineStage.run(Schema.decodeUnknownSync(mineStage.params)({}), { parsed }, ctx) as MinedLog
    const seqs: LabelledSequences = { sequences: sequencesOf([[templates.templateIds[0]!, templates.templateIds[1]!], [templates.templateIds[2]!, templates.templateIds[3]!]], [[0, 1], [2, 3]]), unlabeled: 0 }
    const out = representStage.run(decode({ kind: "parameters" }), { labelled: seqs, split: splitOf([SPLIT_TRAIN, SPLIT_TEST]), parsed, templates }, ctx) as Representation
    const v = out.value as ParameterMatrices & { values: { blob: Uint8Array; offsets: Int32Array } }
    const k = Array.from(v.templateIds).indexOf(templates.templateIds[0]!)
    const rows = Array.from(v.rows.subarray(v.rowOffsets[k]!, v.rowOffsets[k + 1]!))
    expect(rows).toEqual([0, 2, 3])
    expect(v.arity[k]).toBe(1)
    const at = (m: number) => v.valueOffsets[k]! + m
    expect(rows.map((_, m) => stringAt(v.values, v.valueIndex[at(m)]!))).toEqual(["101", "202", "303"])
    expect(rows.map((_, m) => v.numeric[at(m)])).toEqual([101, 202, 303])
    expect(out.shape).toEqual({ templates: 2, rows: 4, unmatched_rows: 0, mismatched_rows: 0 })
  })

  it("needs a parsed log and templates", () => {
    expect(() => run({ kind: "parameters" })).toThrow(/parameters need a raw-log dataset/)
  })
})

describe("represent stage params", () => {
  it("decodes each kind as given and says which kinds need the raw log", () => {
    expect(decode({ kind: "count_vectors" })).toEqual({ kind: "count_vectors" })
    expect(decode({ kind: "ngrams", n_min: 2, n_max: 3 })).toEqual({ kind: "ngrams", n_min: 2, n_max: 3 })
    expect(["event_sequences", "count_vectors", "parameters", "elapsed_time"].map((kind) => needsLog(decode({ kind })))).toEqual([false, false, true, true])
  })

  it("rejects an unknown key, naming it", () => {
    expect(() => decode({ kind: "count_vectors", normalize: true })).toThrow(/unknown key "normalize"/)
  })

  it("rejects bad values naming their key", () => {
    expect(() => decode({ kind: "ngrams", n_min: 3, n_max: 2 })).toThrow(/n_max \(2\) must be at least n_min \(3\)[\s\S]*\["n_max"\]/)
    expect(() => decode({ kind: "ngrams", n_min: 0, n_max: 2 })).toThrow(/\["n_min"\]/)
    expect(() => decode({ kind: "ngrams", n_min: 1 })).toThrow(/\["n_max"\]/)
  })
})
