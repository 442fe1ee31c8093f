import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import type { ParsedLog, TemplatedLog } from "../../src/artifacts/Log.ts"
import type { Sequences } from "../../src/artifacts/Sequences.ts"
import type { GroupParams } from "../../src/tasks/GroupStage.ts"
import { unpackStrings } from "../../src/artifacts/Columns.ts"
import { compileFormat, parseLog } from "../../src/parsing/LogFormat.ts"
import type { ParseOptions } from "../../src/parsing/LogFormat.ts"
import { formatPresets } from "../../src/presets/formats.ts"
import { fixedWindows } from "../../src/sequences/FixedWindow.ts"
import { groupByEntity } from "../../src/sequences/GroupByEntity.ts"
import { groupByField } from "../../src/sequences/GroupByField.ts"
import { streamChunks } from "../../src/sequences/StreamChunks.ts"
import { timeWindows } from "../../src/sequences/TimeWindow.ts"
import { StreamGrouper } from "../../src/sequences/StreamGroup.ts"
import type { ClosedSequences, StreamGrouping } from "../../src/sequences/StreamGroup.ts"

// The group stage's decoded params are a StreamGrouping (a compile-time check).
const asStreamGrouping = (p: GroupParams): StreamGrouping => p
void asStreamGrouping

const dataRoot = process.env.FLOW_DATA_ROOT ?? "/work/shared/data"
const readLines = (rel: string): Array<string> => {
  const lines = fs.readFileSync(path.join(dataRoot, rel), "utf8").split("\n")
  if (lines[lines.length - 1] === "") lines.pop()
  return lines
}

/** A deterministic "template id" per content (grouping never looks at it). */
const templateOf = (content: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < content.length; i++) h = Math.imul(h ^ content.charCodeAt(i), 0x01000193)
  return (h >>> 0) % 997
}

/** Seeded generator for cut points and injected lines. */
const lcg = (seed: number) => () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0
  return seed / 2 ** 32
}

interface Log {
  readonly parsed: ParsedLog
  readonly templated: TemplatedLog
}

interface Source {
  readonly lines: ReadonlyArray<string>
  readonly format: string
  readonly opts: ParseOptions
}

const parsePiece = (src: Source, from: number, to: number): Log => {
  const text = src.lines.slice(from, to).map((l) => `${l}\n`).join("")
  const out = parseLog(text, compileFormat(src.format), src.opts)
  // Global line numbers: add the raw lines before the piece.
  const parsed: ParsedLog = { ...out, lineNo: out.lineNo.map((l) => l + from) }
  return { parsed, templated: { templateIds: Int32Array.from(unpackStrings(out.content), templateOf), templates: [] } }
}

/** The log cut into chunks before each index of `cuts` (ascending, inside the log). */
const chunksAt = (src: Source, cuts: ReadonlyArray<number>): Array<Log> => {
  const bounds = [0, ...cuts, src.lines.length]
  return bounds.slice(1).map((to, i) => parsePiece(src, bounds[i]!, to))
}

const everyN = (src: Source, n: number): Array<number> => {
  const cuts: Array<number> = []
  for (let c = n; c < src.lines.length; c += n) cuts.push(c)
  return cuts
}

const randomCuts = (src: Source, seed: number, count: number): Array<number> => {
  const next = lcg(seed)
  const set = new Set<number>()
  while (set.size < count) set.add(1 + Math.floor(next() * (src.lines.length - 1)))
  return [...set].sort((a, b) => a - b)
}

/** The chunkings each equivalence test runs: 1 raw line (parsed rows 0 or 1), 7 lines, random cuts, the whole log. */
const chunkings = (src: Source, oneLineUpTo: number): Record<string, () => Array<Log>> => ({
  "1 line": () => chunksAt({ ...src, lines: src.lines.slice(0, oneLineUpTo) }, everyN({ ...src, lines: src.lines.slice(0, oneLineUpTo) }, 1)),
  "7 lines": () => chunksAt(src, everyN(src, 7)),
  "random cuts": () => chunksAt(src, randomCuts(src, 42, 40)),
  "whole log": () => chunksAt(src, [])
})

interface Seq {
  readonly events: Array<number>
  readonly lineNo: Array<number>
  readonly times: Array<number>
  readonly context?: number
}

/** id → sequence, in emission order; fails on an id emitted twice. */
const collect = (parts: ReadonlyArray<ClosedSequences>): Map<string, Seq> => {
  const out = new Map<string, Seq>()
  for (const p of parts) {
    p.ids.forEach((id, i) => {
      expect(out.has(id), `id ${id} emitted twice`).toBe(false)
      const a = p.offsets[i]!
      const b = p.offsets[i + 1]!
      out.set(id, {
        events: Array.from(p.events.subarray(a, b)),
        lineNo: Array.from(p.lineNo.subarray(a, b)),
        times: Array.from(p.times.subarray(a, b)),
        ...(p.context === undefined ? {} : { context: p.context[i]! })
      })
    })
  }
  return out
}

/** The batch function's sequences as id → sequence, in its order. */
const batchMap = (whole: Log, seqs: Sequences, context?: Int32Array): Map<string, Seq> => {
  const ids = unpackStrings(seqs.ids)
  const ts = whole.parsed.timestamps
  return new Map(ids.map((id, i) => {
    const rows = Array.from(seqs.rows.subarray(seqs.offsets[i]!, seqs.offsets[i + 1]!))
    return [id, {
      events: Array.from(seqs.events.subarray(seqs.offsets[i]!, seqs.offsets[i + 1]!)),
      lineNo: rows.map((r) => whole.parsed.lineNo[r]!),
      times: rows.map((r) => (ts === undefined ? Number.NaN : ts[r]!)),
      ...(context === undefined ? {} : { context: context[i]! })
    }]
  }))
}

const batch = (g: StreamGrouping, whole: Log): Map<string, Seq> => {
  const { parsed, templated } = whole
  switch (g.type) {
    case "entity":
      return batchMap(whole, g.field !== undefined ? groupByField(parsed, templated, g.field) : groupByEntity(parsed, templated, { pattern: g.pattern! }))
    case "fixed_window":
      return batchMap(whole, fixedWindows(parsed, templated, { size: g.window_size, step: g.step, basis: g.basis, alignmentOffset: g.window_alignment_offset }))
    case "time_window":
      return batchMap(whole, timeWindows(parsed, templated, { spanMs: g.time_span_ms, stepMs: g.step_ms }).sequences)
    case "stream_chunks": {
      const c = streamChunks(parsed, templated, { chunkSize: g.chunk_size, continuousContext: g.continuous_context })
      return batchMap(whole, c.sequences, c.context)
    }
  }
}

const stream = (g: StreamGrouping, chunks: ReadonlyArray<Log>): { seqs: Map<string, Seq>; grouper: StreamGrouper; parts: Array<ClosedSequences> } => {
  const grouper = new StreamGrouper(g)
  const parts = chunks.map((c) => grouper.push(c.parsed, c.templated))
  parts.push(grouper.finish())
  return { seqs: collect(parts), grouper, parts }
}

// HDFS_20000 (one block per line) with unparsed lines spread through it (and at both ends), a few rows whose
// time does not parse, and rows naming no block or two blocks (the earlier block id, as a delete request would).
const hdfs: Source = (() => {
  const next = lcg(7)
  const lines: Array<string> = ["### not a log line"]
  let lastBlock = "blk_1"
  for (const line of readLines("hdfs/raw/HDFS_20000.log")) {
    const r = next()
    if (r < 0.02) lines.push("### not a log line")
    const head = line.split(" ").slice(0, 2).join(" ")
    if (r >= 0.02 && r < 0.03) lines.push(`${head} 19 INFO dfs.DataNode: heartbeat without a block`)
    const block = /blk_-?\d+/.exec(line)?.[0] ?? lastBlock
    if (r >= 0.03 && r < 0.04) lines.push(`${head} 19 INFO dfs.FSNamesystem: BLOCK* ask 10.251.1.1:50010 to delete ${lastBlock} ${block}`)
    lastBlock = block
    if (r > 0.998) lines.push(line.replace(/^(\S+) (\S+)/, "$1 99xx99")) // parses, time NaN
    else lines.push(line)
  }
  lines.push("### trailing", "### trailing")
  const preset = formatPresets.HDFS
  return { lines, format: preset.format, opts: { ...preset.line, timestamp: preset.timestamp! } }
})()

// BGL_2k with a few rows whose epoch seconds do not parse, and unparsed lines.
const bgl: Source = (() => {
  const next = lcg(11)
  const lines: Array<string> = []
  for (const line of readLines("loghub-2k/BGL/BGL_2k.log")) {
    const r = next()
    if (r < 0.01) lines.push("short")
    lines.push(r > 0.99 ? line.replace(/^(\S+) (\S+)/, "$1 notatime") : line)
  }
  const preset = formatPresets.BGL
  return { lines, format: preset.format, opts: { ...preset.line, timestamp: preset.timestamp! } }
})()

const hdfsWhole = parsePiece(hdfs, 0, hdfs.lines.length)
const bglWhole = parsePiece(bgl, 0, bgl.lines.length)
const hdfsChunkings = chunkings(hdfs, 4000)
const bglChunkings = chunkings(bgl, bgl.lines.length)
// The first 4000 lines as their own whole log, for the one-line chunking.
const hdfsHead = parsePiece(hdfs, 0, 4000)

const cases: ReadonlyArray<{ readonly name: string; readonly g: StreamGrouping; readonly log: "hdfs" | "bgl" }> = [
  { name: "entity pattern blk_-?\\d+ (byte scanner)", g: { type: "entity", pattern: "blk_-?\\d+" }, log: "hdfs" },
  { name: "entity pattern with a capturing group", g: { type: "entity", pattern: "blk_(-?\\d+)" }, log: "hdfs" },
  { name: "entity pattern by RegExp (source address)", g: { type: "entity", pattern: "src: /([\\d.]+):" }, log: "hdfs" },
  { name: "entity field Pid", g: { type: "entity", field: "Pid" }, log: "hdfs" },
  { name: "entity field Node", g: { type: "entity", field: "Node" }, log: "bgl" },
  { name: "fixed parsed tumbling", g: { type: "fixed_window", window_size: 50, step: 50, basis: "parsed", window_alignment_offset: 0 }, log: "hdfs" },
  { name: "fixed parsed step > size, offset", g: { type: "fixed_window", window_size: 30, step: 70, basis: "parsed", window_alignment_offset: 13 }, log: "hdfs" },
  { name: "fixed raw step < size, offset", g: { type: "fixed_window", window_size: 100, step: 25, basis: "raw", window_alignment_offset: 7 }, log: "hdfs" },
  { name: "fixed raw step > size, offset", g: { type: "fixed_window", window_size: 40, step: 90, basis: "raw", window_alignment_offset: 3 }, log: "hdfs" },
  { name: "time sliding 6 h every 1 h", g: { type: "time_window", time_span_ms: 6 * 3600_000, step_ms: 3600_000 }, log: "bgl" },
  { name: "time tumbling 1 h", g: { type: "time_window", time_span_ms: 3600_000, step_ms: 3600_000 }, log: "bgl" },
  { name: "time sliding 10 s every 3 s", g: { type: "time_window", time_span_ms: 10_000, step_ms: 3_000 }, log: "hdfs" },
  { name: "time 2 s every 5 s (gaps)", g: { type: "time_window", time_span_ms: 2_000, step_ms: 5_000 }, log: "hdfs" },
  { name: "stream chunks, no context", g: { type: "stream_chunks", chunk_size: 100, continuous_context: false }, log: "hdfs" },
  { name: "stream chunks, 10 context rows", g: { type: "stream_chunks", chunk_size: 64, continuous_context: 10 }, log: "hdfs" },
  { name: "stream chunks, context true", g: { type: "stream_chunks", chunk_size: 50, continuous_context: true }, log: "hdfs" },
  { name: "stream chunks, context longer than a chunk", g: { type: "stream_chunks", chunk_size: 30, continuous_context: 75 }, log: "bgl" }
]

describe("StreamGrouper equals the batch groupings on real logs, at any chunking", () => {
  const cache = new Map<string, Array<Log>>()
  const chunksOf = (log: "hdfs" | "bgl", how: string): Array<Log> => {
    const key = `${log}/${how}`
    let c = cache.get(key)
    if (c === undefined) {
      c = (log === "hdfs" ? hdfsChunkings : bglChunkings)[how]!()
      cache.set(key, c)
    }
    return c
  }

  it("the fixtures have what the rules need: unparsed lines, untimed rows, several entities per row", () => {
    expect(hdfsWhole.parsed.unparsed.count).toBeGreaterThan(300)
    expect(hdfsWhole.parsed.rawLines - hdfsWhole.parsed.lineNo[hdfsWhole.parsed.lineNo.length - 1]!).toBe(2)
    expect(hdfsWhole.parsed.timestamps!.filter(Number.isNaN).length).toBeGreaterThan(10)
    expect(bglWhole.parsed.timestamps!.filter(Number.isNaN).length).toBeGreaterThan(5)
    expect(bglWhole.parsed.unparsed.count).toBeGreaterThan(5)
    const blocks = unpackStrings(hdfsWhole.parsed.content).map((c) => new Set(c.match(/blk_-?\d+/g) ?? []).size)
    expect(blocks.filter((b) => b === 0).length).toBeGreaterThan(100)
    expect(blocks.filter((b) => b === 2).length).toBeGreaterThan(100)
  })

  for (const { name, g, log } of cases) {
    for (const how of ["1 line", "7 lines", "random cuts", "whole log"]) {
      it(`${name}, ${how} chunks`, () => {
        const chunks = chunksOf(log, how)
        const whole = how === "1 line" && log === "hdfs" ? hdfsHead : log === "hdfs" ? hdfsWhole : bglWhole
        const expected = batch(g, whole)
        const { seqs, grouper } = stream(g, chunks)
        expect(seqs.size).toBeGreaterThan(0)
        // Same ids in the same order (windows and chunks by start, entities by first row), same events, lines and times.
        expect([...seqs.keys()]).toEqual([...expected.keys()])
        expect(seqs).toEqual(expected)
        expect(grouper.openEvents).toBe(0)
        if (g.type === "time_window") {
          expect(grouper.untimed).toBe(timeWindows(whole.parsed, whole.templated, { spanMs: g.time_span_ms, stepMs: g.step_ms }).untimed)
          expect(grouper.untimed).toBeGreaterThan(0)
          expect(grouper.late).toBe(0)
        }
      })
    }
  }

  it("rowsWithEntity counts the rows that name an entity (not the pairs, not all rows)", () => {
    const re = /blk_-?\d+/
    const contents = unpackStrings(hdfsWhole.parsed.content)
    const named = contents.filter((c) => re.test(c)).length
    const noBlock = contents.length - named
    expect(noBlock).toBeGreaterThan(0)
    const { grouper } = stream({ type: "entity", pattern: "blk_-?\\d+" }, chunksOf("hdfs", "7 lines"))
    expect(grouper.rowsWithEntity).toBe(named)
    // A pattern that matches nothing: no sequence, no error (the caller reports it).
    const none = stream({ type: "entity", pattern: "inode_\\d+" }, chunksOf("hdfs", "random cuts"))
    expect(none.seqs.size).toBe(0)
    expect(none.grouper.rowsWithEntity).toBe(0)
    // A field names an entity in every row.
    expect(stream({ type: "entity", field: "Pid" }, chunksOf("hdfs", "random cuts")).grouper.rowsWithEntity).toBe(contents.length)
  })
})

describe("sequences are emitted as soon as they are complete", () => {
  const chunks = chunksAt(hdfs, everyN(hdfs, 500))

  it("entity grouping without idle close emits only at finish", () => {
    const { parts } = stream({ type: "entity", pattern: "blk_-?\\d+" }, chunks)
    expect(parts.slice(0, -1).every((p) => p.ids.length === 0)).toBe(true)
    expect(parts[parts.length - 1]!.ids.length).toBe(batch({ type: "entity", pattern: "blk_-?\\d+" }, hdfsWhole).size)
    expect(parts[parts.length - 1]!.ids.length).toBeGreaterThan(1700)
  })

  it("fixed windows (parsed and raw): after each push, exactly the non-empty windows with start + size <= positions seen", () => {
    for (const g of [
      { type: "fixed_window", window_size: 120, step: 45, basis: "parsed", window_alignment_offset: 5 },
      { type: "fixed_window", window_size: 120, step: 45, basis: "raw", window_alignment_offset: 5 }
    ] as const) {
      const expected = batch(g, hdfsWhole)
      const grouper = new StreamGrouper(g)
      const seen: Array<string> = []
      let rows = 0
      let raw = 0
      for (const c of chunks) {
        seen.push(...grouper.push(c.parsed, c.templated).ids)
        rows += c.parsed.lineNo.length
        raw += c.parsed.rawLines
        const end = g.basis === "parsed" ? rows : raw
        expect(seen).toEqual([...expected.keys()].filter((id) => Number(id.slice(1)) + g.window_size <= end))
      }
      seen.push(...grouper.finish().ids)
      expect(seen).toEqual([...expected.keys()])
    }
  })

  it("time windows: after each push, exactly the non-empty windows that end at or before the latest time", () => {
    const g = { type: "time_window", time_span_ms: 6 * 3600_000, step_ms: 3600_000 } as const
    const bglChunks = chunksAt(bgl, everyN(bgl, 100))
    const expected = batch(g, bglWhole)
    const grouper = new StreamGrouper(g)
    const seen: Array<string> = []
    let latest = Number.NEGATIVE_INFINITY
    for (const c of bglChunks) {
      seen.push(...grouper.push(c.parsed, c.templated).ids)
      for (const t of c.parsed.timestamps!) if (t > latest) latest = t
      expect(seen).toEqual([...expected.keys()].filter((id) => Number(id.slice(1)) + g.time_span_ms <= latest))
    }
    expect(seen.length).toBeGreaterThan(10)
  })

  it("stream chunks: after each push, exactly the chunks whose last row has arrived", () => {
    const g = { type: "stream_chunks", chunk_size: 300, continuous_context: 20 } as const
    const grouper = new StreamGrouper(g)
    const seen: Array<string> = []
    let rows = 0
    for (const c of chunks) {
      const closed = grouper.push(c.parsed, c.templated)
      seen.push(...closed.ids)
      rows += c.parsed.lineNo.length
      const complete = Math.floor(rows / 300)
      expect(seen).toEqual(Array.from({ length: complete }, (_, i) => `c${i * 300}`))
      expect(Array.from(closed.context!)).toEqual(closed.ids.map((id) => (id === "c0" ? 0 : 20)))
    }
  })
})

describe("raw-basis windows count raw lines, unparsed ones included", () => {
  it("a chunk that ends in unparsed lines completes the window they fill", () => {
    const src: Source = { lines: ["1 a", "###", "###", "4 d", "###", "6 f", "7 g"], format: "<Time> <Content>", opts: {} }
    const chunks = chunksAt(src, [3, 5])
    expect(chunks.map((c) => c.parsed.rawLines)).toEqual([3, 2, 2])
    const grouper = new StreamGrouper({ type: "fixed_window", window_size: 3, step: 3, basis: "raw", window_alignment_offset: 0 })
    const pushed = chunks.map((c) => idsAndLines(grouper.push(c.parsed, c.templated)))
    expect(pushed).toEqual([[["w0", [1]]], [], [["w3", [4, 6]]]])
    expect(idsAndLines(grouper.finish())).toEqual([["w6", [7]]])
  })
})

describe("memory stays flat", () => {
  const chunks = chunksAt(hdfs, everyN(hdfs, 100))
  const maxOpen = (g: StreamGrouping, cs: ReadonlyArray<Log>): number => {
    const grouper = new StreamGrouper(g)
    let most = 0
    for (const c of cs) {
      grouper.push(c.parsed, c.templated)
      most = Math.max(most, grouper.openEvents)
    }
    return most
  }

  it("fixed windows hold at most one window's rows between pushes", () => {
    for (const basis of ["parsed", "raw"] as const) {
      const most = maxOpen({ type: "fixed_window", window_size: 200, step: 50, basis, window_alignment_offset: 0 }, chunks)
      expect(most).toBeLessThanOrEqual(200)
      expect(most).toBeGreaterThan(100)
    }
  })

  it("stream chunks hold at most the context plus one chunk", () => {
    const most = maxOpen({ type: "stream_chunks", chunk_size: 150, continuous_context: 40 }, chunks)
    expect(most).toBeLessThanOrEqual(190)
    expect(most).toBeGreaterThanOrEqual(140)
  })

  it("time windows hold at most the rows of one window", () => {
    const g = { type: "time_window", time_span_ms: 10_000, step_ms: 3_000 } as const
    const biggest = Math.max(...[...batch(g, hdfsWhole).values()].map((s) => s.events.length))
    const most = maxOpen(g, chunks)
    expect(most).toBeLessThanOrEqual(biggest)
    expect(most).toBeLessThan(hdfsWhole.parsed.lineNo.length / 5)
  })
})

/** A hand-made log "<epoch seconds> <content>" (a time of "-" does not parse), cut into chunks of the given line counts. */
const handLog = (rows: ReadonlyArray<readonly [string, string]>, sizes: ReadonlyArray<number>): Array<Log> => {
  const src: Source = {
    lines: rows.map(([t, c]) => `${t} ${c}`),
    format: "<Time> <Content>",
    opts: { timestamp: { parts: [{ field: "Time", pattern: "epoch" }] } }
  }
  const cuts: Array<number> = []
  let at = 0
  for (const s of sizes.slice(0, -1)) cuts.push((at += s))
  return chunksAt(src, cuts)
}

const idsAndLines = (c: ClosedSequences): Array<[string, Array<number>]> =>
  c.ids.map((id, i) => [id, Array.from(c.lineNo.subarray(c.offsets[i]!, c.offsets[i + 1]!))])

describe("entity idle close", () => {
  const g = { type: "entity", pattern: "ent_(\\w)" } as const
  const fiveMinutes = 5 * 60_000

  it("closes an entity quiet for longer than idleCloseMs at the push that passes it; a later row opens a new sequence with the same id", () => {
    const chunks = handLog([
      ["0", "ent_A start"], ["1", "ent_A step"], // push 1
      ["60", "ent_B one"], ["300", "ent_B two"], // push 2: clock 300 s, A last at 1 s: 301 s is not < 300 s
      ["600", "ent_C x"], // push 3: clock 600 s passes A (1 s + 5 min); B (300 s + 5 min = 600 s) is not passed
      ["660", "ent_A again"], ["700", "ent_C y"] // push 4: clock 700 s passes B
    ], [2, 2, 1, 2])
    const grouper = new StreamGrouper(g, { idleCloseMs: fiveMinutes })
    const pushed = chunks.map((c) => idsAndLines(grouper.push(c.parsed, c.templated)))
    expect(pushed).toEqual([[], [], [["A", [1, 2]]], [["B", [3, 4]]]])
    expect(grouper.openEvents).toBe(3)
    expect(idsAndLines(grouper.finish())).toEqual([["C", [5, 7]], ["A", [6]]])
    expect(grouper.openEvents).toBe(0)
    // Without idle close the same pushes give one sequence per entity, at finish.
    const plain = new StreamGrouper(g)
    expect(chunks.map((c) => plain.push(c.parsed, c.templated).ids.length)).toEqual([0, 0, 0, 0])
    expect(idsAndLines(plain.finish())).toEqual([["A", [1, 2, 6]], ["B", [3, 4]], ["C", [5, 7]]])
  })

  it("events of a closed part keep their template ids and times", () => {
    const chunks = handLog([["0", "ent_A start"], ["1", "ent_A step"], ["1000", "ent_B late"]], [2, 1])
    const grouper = new StreamGrouper(g, { idleCloseMs: fiveMinutes })
    grouper.push(chunks[0]!.parsed, chunks[0]!.templated)
    const closed = grouper.push(chunks[1]!.parsed, chunks[1]!.templated)
    expect(closed.ids).toEqual(["A"])
    expect(Array.from(closed.times)).toEqual([0, 1000])
    expect(Array.from(closed.events)).toEqual([templateOf("ent_A start"), templateOf("ent_A step")])
  })

  it("rows without a timestamp do not move the clock; an untimed entity is as old as the clock when it was seen", () => {
    const chunks = handLog([["0", "ent_A"], ["-", "ent_B"], ["-", "ent_A"], ["300", "ent_C"], ["550", "ent_D"]], [1, 2, 1, 1])
    const grouper = new StreamGrouper(g, { idleCloseMs: fiveMinutes })
    const pushed = chunks.map((c) => idsAndLines(grouper.push(c.parsed, c.templated)))
    // Push 2's untimed rows leave the clock at 0 s; A and B (seen at clock 0 s) close when 550 s arrives, C (300 s) does not.
    expect(pushed).toEqual([[], [], [], [["A", [1, 3]], ["B", [2]]]])
    expect(idsAndLines(grouper.finish())).toEqual([["C", [4]], ["D", [5]]])
  })

  it("an entity seen only before the log's first timestamp counts from that timestamp", () => {
    const chunks = handLog([["-", "ent_E"], ["100", "ent_F"], ["350", "ent_G"], ["500", "ent_H"]], [1, 1, 1, 1])
    const grouper = new StreamGrouper(g, { idleCloseMs: fiveMinutes })
    const pushed = chunks.map((c) => idsAndLines(grouper.push(c.parsed, c.templated)))
    // E is not closed when the clock starts (100 s) nor at 350 s (100 s + 5 min = 400 s), but at 500 s, with F.
    expect(pushed).toEqual([[], [], [], [["E", [1]], ["F", [2]]]])
  })

  it("rows of one push are never split (idleness is checked after each push)", () => {
    const chunks = handLog([["0", "ent_A"], ["1000", "ent_B"], ["1001", "ent_A"]], [3])
    const grouper = new StreamGrouper(g, { idleCloseMs: fiveMinutes })
    expect(grouper.push(chunks[0]!.parsed, chunks[0]!.templated).ids).toEqual([])
    expect(idsAndLines(grouper.finish())).toEqual([["A", [1, 3]], ["B", [2]]])
  })
})

describe("time windows: late and untimed rows", () => {
  const rows: ReadonlyArray<readonly [string, string]> = [
    ["100", "a"], ["105", "b"], ["130", "c"], // 130 s closes every window ending by it
    ["90", "before t0"], ["112", "only in emitted windows"], ["125", "in an emitted and an open window"],
    ["-", "untimed"], ["131", "d"]
  ]
  const chunks = handLog(rows, [3, 3, 2])
  const run = (span: number, step: number) => {
    const grouper = new StreamGrouper({ type: "time_window", time_span_ms: span * 1000, step_ms: step * 1000 })
    const pushed = chunks.map((c) => idsAndLines(grouper.push(c.parsed, c.templated)))
    return { grouper, pushed, finished: idsAndLines(grouper.finish()) }
  }

  it("tumbling: a row before t0 and rows whose only window has ended (emitted, or passed empty) are late; a NaN row is untimed", () => {
    const { grouper, pushed, finished } = run(10, 10)
    // 130 s ends [100,110) (emitted), [110,120) and [120,130) (empty, passed): 112 s and 125 s come too late.
    expect(pushed).toEqual([[["t100000", [1, 2]]], [], []])
    expect(finished).toEqual([["t130000", [3, 8]]])
    expect(grouper.late).toBe(3)
    expect(grouper.untimed).toBe(1)
  })

  it("sliding: a row that is still in an open window is kept there, not late", () => {
    const { grouper, pushed, finished } = run(20, 10)
    // 130 s emits [100,120) and [110,130); 112 s is in those two only (late); 125 s is also in [120,140).
    expect(pushed).toEqual([[["t100000", [1, 2]]], [], []])
    expect(finished).toEqual([["t120000", [3, 6, 8]], ["t130000", [3, 8]]])
    expect(grouper.late).toBe(2)
    expect(grouper.untimed).toBe(1)
  })

  it("an out-of-order row in a window not yet emitted is kept in row order", () => {
    const c = handLog([["100", "a"], ["108", "b"], ["103", "c"], ["111", "d"]], [4])
    const grouper = new StreamGrouper({ type: "time_window", time_span_ms: 10_000, step_ms: 10_000 })
    expect(idsAndLines(grouper.push(c[0]!.parsed, c[0]!.templated))).toEqual([["t100000", [1, 2, 3]]])
    expect(grouper.late).toBe(0)
  })
})

describe("input checks", () => {
  it("rejects chunk-local line numbers, mismatched template ids and bad params", () => {
    const [a, b] = handLog([["1", "x"], ["2", "y"]], [1, 1])
    const grouper = new StreamGrouper({ type: "stream_chunks", chunk_size: 2, continuous_context: false })
    grouper.push(a!.parsed, a!.templated)
    expect(() => grouper.push({ ...b!.parsed, lineNo: Int32Array.of(1) }, b!.templated)).toThrow(/do not continue the log/)
    expect(() => grouper.push(b!.parsed, { templateIds: new Int32Array(0), templates: [] })).toThrow(/templateIds has 0 rows/)
    expect(() => new StreamGrouper({ type: "entity" })).toThrow(/exactly one of pattern or field/)
    expect(() => new StreamGrouper({ type: "entity", pattern: "(" })).toThrow(/not a valid regular expression/)
    expect(() => new StreamGrouper({ type: "fixed_window", window_size: 0, step: 1, basis: "parsed", window_alignment_offset: 0 })).toThrow(/window_size/)
    expect(() => new StreamGrouper({ type: "time_window", time_span_ms: 10, step_ms: 0.5 })).toThrow(/step_ms/)
  })

  it("like the batch: an alignment offset past the end of the log fails at finish; time windows need timestamps", () => {
    const [a] = handLog([["1", "x"], ["2", "y"]], [2])
    const fixed = new StreamGrouper({ type: "fixed_window", window_size: 5, step: 5, basis: "parsed", window_alignment_offset: 2 })
    expect(fixed.push(a!.parsed, a!.templated).ids).toEqual([])
    expect(() => fixed.finish()).toThrow(/window_alignment_offset 2 is at or past the end/)
    const time = new StreamGrouper({ type: "time_window", time_span_ms: 10, step_ms: 10 })
    const { timestamps: _, ...untimed } = a!.parsed
    expect(() => time.push(untimed, a!.templated)).toThrow(/needs per-row timestamps/)
  })
})
