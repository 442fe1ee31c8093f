// Stage `group`: parsed rows to sequences by entity, header field, fixed window, time window or stream chunk.
import { Schema } from "effect"
import * as os from "node:os"
import { describe, expect, it } from "vitest"
import type { DictColumn } from "../../src/artifacts/Columns.ts"
import { packStrings, unpackStrings } from "../../src/artifacts/Columns.ts"
import type { ParsedLog, TemplatedLog } from "../../src/artifacts/Log.ts"
import { LABEL_UNKNOWN, type GroupedSequences, type Sequences } from "../../src/artifacts/Sequences.ts"
import { groupStage } from "../../src/tasks/GroupStage.ts"
import { stageKey } from "../../src/cache/CacheKey.ts"
import { eraseStage, node, StageConfigError, type StageContext, stageVersion } from "../../src/tasks/Task.ts"

const decode = (raw: unknown) => Schema.decodeUnknownSync(groupStage.params)(raw)
const ctx: StageContext = { dataRoot: os.tmpdir(), sourcesDir: os.tmpdir(), progress: () => {} }

const dict = (values: ReadonlyArray<string>): DictColumn => {
  const distinct = [...new Set(values)]
  return { values: packStrings(distinct), codes: Int32Array.from(values, (v) => distinct.indexOf(v)) }
}

const CONTENT = [
  "Receiving blk_1 from a",
  "Receiving blk_-2 from b",
  "Served blk_1 to c",
  "Deleting blk_-2 and blk_3",
  "heartbeat",
  "Verified blk_1 again blk_1"
]
const NODE = ["n2", "n1", "n2", "n3", "n1", "n2"]
const TEMPLATES = [10, 10, 11, 12, 13, 14]

const parsed = (opts: { lineNo?: ReadonlyArray<number>; rawLines?: number; timestamps?: ReadonlyArray<number> } = {}): ParsedLog => ({
  rawLines: opts.rawLines ?? CONTENT.length,
  lineNo: Int32Array.from(opts.lineNo ?? CONTENT.map((_, i) => i + 1)),
  content: packStrings(CONTENT),
  fields: [{ name: "Node", column: dict(NODE) }],
  ...(opts.timestamps === undefined ? {} : { timestamps: Float64Array.from(opts.timestamps) }),
  unparsed: { count: 0, samples: [] }
})
const templates: TemplatedLog = { templateIds: Int32Array.from(TEMPLATES), templates: [] }

const run = (raw: unknown, log: ParsedLog = parsed()) => groupStage.run(decode(raw), { parsed: log, templates }, ctx) as GroupedSequences

/** Sequences as plain data: id, rows and events per sequence. */
const plain = (s: Sequences) =>
  unpackStrings(s.ids).map((id, i) => {
    const rows = Array.from(s.rows.subarray(s.offsets[i]!, s.offsets[i + 1]!))
    return { id, rows, events: Array.from(s.events.subarray(s.offsets[i]!, s.offsets[i + 1]!)) }
  })

/** Group row indexes by key in first-appearance order (a row with the same key twice counts once). */
const groupsOf = (keysPerRow: ReadonlyArray<ReadonlyArray<string>>) => {
  const groups = new Map<string, Array<number>>()
  keysPerRow.forEach((keys, row) => {
    for (const k of keys) {
      const rows = groups.get(k) ?? []
      if (rows.at(-1) !== row) rows.push(row)
      groups.set(k, rows)
    }
  })
  return [...groups].map(([id, rows]) => ({ id, rows, events: rows.map((r) => TEMPLATES[r]!) }))
}

describe("group stage run: entity", () => {
  it("puts rows naming the same block into one sequence, in first-row order, rows in log order, unlabelled", () => {
    const out = run({ type: "entity", pattern: "blk_-?\\d+" })
    const expected = groupsOf(CONTENT.map((c) => c.match(/blk_-?\d+/g) ?? []))
    expect(expected.map((g) => g.id)).toEqual(["blk_1", "blk_-2", "blk_3"])
    expect(plain(out.sequences)).toEqual(expected)
    expect(Array.from(out.sequences.labels)).toEqual([LABEL_UNKNOWN, LABEL_UNKNOWN, LABEL_UNKNOWN])
    expect(out.untimed).toBeUndefined()
    expect(out.context).toBeUndefined()
  })

  it("groups by a header field's value when given field", () => {
    const out = run({ type: "entity", field: "Node" })
    expect(plain(out.sequences)).toEqual(groupsOf(NODE.map((n) => [n])))
    expect(unpackStrings(out.sequences.ids)).toEqual(["n2", "n1", "n3"])
  })

  it("fails naming the pattern when it matches no row (a config error naming grouping.pattern), and the field when the log has none", () => {
    expect(() => run({ type: "entity", pattern: "job_\\d+" })).toThrow(/pattern "job_\\\\d\+" matched no line/)
    expect(() => run({ type: "entity", pattern: "job_\\d+" })).toThrow(StageConfigError)
    // A capture group that takes part in no match finds no entity either.
    expect(() => run({ type: "entity", pattern: "(x)?blk_-?\\d+" })).toThrow(expect.objectContaining({ keys: ["grouping.pattern"] }))
    expect(() => run({ type: "entity", field: "Host" })).toThrow(/no field "Host" \(fields: Node\)/)
  })
})

describe("group stage: an entity pattern with a capture group", () => {
  it("takes the first group's text as the id", () => {
    const out = run({ type: "entity", pattern: "blk_(-?\\d+)" })
    expect(unpackStrings(out.sequences.ids)).toEqual(["1", "-2", "3"])
    expect(plain(out.sequences).map((g) => g.rows)).toEqual(groupsOf(CONTENT.map((c) => c.match(/blk_-?\d+/g) ?? [])).map((g) => g.rows))
  })

  it("keys such a node at version 4 and every other grouping at version 3, as before capture groups counted", () => {
    const inputs = { parsed: "p", templates: "t" }
    const keyOf = (raw: unknown) => {
      const params = decode(raw)
      const upstream = { stage: eraseStage(groupStage), params: {}, inputs: {} }
      const n = node(groupStage, params, { parsed: { ...upstream, key: "p" }, templates: { ...upstream, key: "t" } })
      return { key: n.key, version: stageVersion(n), params }
    }
    for (const raw of [
      { type: "entity", pattern: "blk_-?\\d+" },
      { type: "entity", pattern: "(?:blk_)-?\\d+" },
      { type: "entity", pattern: "\\[instance: [0-9a-f-]{36}\\]" },
      { type: "entity", pattern: "(" },
      { type: "entity", field: "Node" },
      { type: "fixed_window", window_size: 2, step: 2 }
    ]) {
      const k = keyOf(raw)
      expect(k.version).toBe("3")
      expect(k.key).toBe(stageKey({ stage: "group", version: "3", params: k.params, inputs }))
    }
    const grouped = keyOf({ type: "entity", pattern: "\\[instance: ([0-9a-f-]{36})\\]" })
    expect(grouped.version).toBe("4")
    expect(grouped.key).toBe(stageKey({ stage: "group", version: "4", params: grouped.params, inputs }))
  })
})

describe("group stage run: windows and chunks", () => {
  it("cuts tumbling and sliding windows over parsed rows, keeping the partial last window", () => {
    expect(plain(run({ type: "fixed_window", window_size: 2, step: 2 }).sequences).map((s) => [s.id, s.rows])).toEqual([
      ["w0", [0, 1]], ["w2", [2, 3]], ["w4", [4, 5]]
    ])
    expect(plain(run({ type: "fixed_window", window_size: 4, step: 2 }).sequences).map((s) => [s.id, s.rows])).toEqual([
      ["w0", [0, 1, 2, 3]], ["w2", [2, 3, 4, 5]], ["w4", [4, 5]]
    ])
    expect(plain(run({ type: "fixed_window", window_size: 2, step: 2, window_alignment_offset: 1 }).sequences).map((s) => [s.id, s.rows])).toEqual([
      ["w1", [1, 2]], ["w3", [3, 4]], ["w5", [5]]
    ])
  })

  it("counts raw line positions under basis raw, so unparsed lines leave holes", () => {
    // Raw lines 3 and 7 did not parse: rows sit at raw positions 0, 1, 3, 4, 5, 7 of 8.
    const log = parsed({ lineNo: [1, 2, 4, 5, 6, 8], rawLines: 8 })
    const out = run({ type: "fixed_window", window_size: 3, step: 3, basis: "raw" }, log)
    expect(plain(out.sequences).map((s) => [s.id, s.rows])).toEqual([["w0", [0, 1]], ["w3", [2, 3, 4]], ["w6", [5]]])
  })

  it("cuts time windows from the earliest timestamp, drops empty ones and counts untimed rows", () => {
    const log = parsed({ timestamps: [0, 1000, Number.NaN, 2500, 7000, 7100] })
    const params = decode({ type: "time_window", time_span_ms: 3000, step_ms: 3000 })
    const out = groupStage.run(params, { parsed: log, templates }, ctx) as GroupedSequences
    expect(plain(out.sequences).map((s) => [s.id, s.rows])).toEqual([["t0", [0, 1, 3]], ["t6000", [4, 5]]])
    expect(out.untimed).toBe(1)
    expect(groupStage.summarize!(out, params)).toEqual({ grouping: params, sequences: 2, events: 5, untimed_rows: 1 })
  })

  it("cuts stream chunks and prefixes each later chunk with continuous_context rows of context", () => {
    const plainChunks = run({ type: "stream_chunks", chunk_size: 4 })
    expect(plain(plainChunks.sequences).map((s) => [s.id, s.rows])).toEqual([["c0", [0, 1, 2, 3]], ["c4", [4, 5]]])
    expect(Array.from(plainChunks.context!)).toEqual([0, 0])
    const withContext = run({ type: "stream_chunks", chunk_size: 4, continuous_context: 2 })
    expect(plain(withContext.sequences).map((s) => [s.id, s.rows])).toEqual([["c0", [0, 1, 2, 3]], ["c4", [2, 3, 4, 5]]])
    expect(Array.from(withContext.context!)).toEqual([0, 2])
  })
})

describe("group stage summarize", () => {
  it("reports the grouping, the number of sequences and of events (rows counted once per sequence)", () => {
    const params = decode({ type: "entity", pattern: "blk_-?\\d+" })
    const out = groupStage.run(params, { parsed: parsed(), templates }, ctx) as GroupedSequences
    // blk_1: rows 0, 2, 5; blk_-2: rows 1, 3; blk_3: row 3.
    expect(groupStage.summarize!(out, params)).toEqual({ grouping: { type: "entity", pattern: "blk_-?\\d+" }, sequences: 3, events: 6 })
  })
})

describe("group stage params", () => {
  it("applies the defaults of fixed windows and stream chunks", () => {
    expect(decode({ type: "fixed_window", window_size: 3, step: 1 })).toEqual({
      type: "fixed_window", window_size: 3, step: 1, basis: "parsed", window_alignment_offset: 0
    })
    expect(decode({ type: "stream_chunks", chunk_size: 10 })).toEqual({ type: "stream_chunks", chunk_size: 10, continuous_context: false })
    expect(decode({ type: "entity", pattern: "blk_\\d+" })).toEqual({ type: "entity", pattern: "blk_\\d+" })
  })

  it("rejects an unknown key, naming it", () => {
    expect(() => decode({ type: "fixed_window", window_size: 3, step: 1, stride: 2 })).toThrow(/unknown key "stride"/)
  })

  it("rejects bad values naming their key", () => {
    expect(() => decode({ type: "entity", pattern: "blk_\\d+", field: "Node" })).toThrow(/give exactly one of pattern or field[\s\S]*\["pattern"\]/)
    expect(() => decode({ type: "entity" })).toThrow(/give exactly one of pattern or field[\s\S]*\["pattern"\]/)
    expect(() => decode({ type: "fixed_window", window_size: 0, step: 1 })).toThrow(/\["window_size"\]/)
    expect(() => decode({ type: "fixed_window", window_size: 2, step: 1, basis: "lines" })).toThrow(/\["basis"\]/)
    expect(() => decode({ type: "time_window", time_span_ms: 1.5, step_ms: 1 })).toThrow(/\["time_span_ms"\]/)
    expect(() => decode({ type: "stream_chunks", chunk_size: 4, continuous_context: -1 })).toThrow(/\["continuous_context"\]/)
    // An unknown type matches no member of the union: the message lists the types there are.
    expect(() => decode({ type: "sessions" })).toThrow(/"type": "entity"[\s\S]*"type": "fixed_window"[\s\S]*"type": "time_window"[\s\S]*"type": "stream_chunks"/)
  })
})
