// Stage `parse`: a raw log to columnar rows, counting (never dropping silently) the lines that do not parse.
import { Schema } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { dictValueAt, unpackStrings } from "../../src/artifacts/Columns.ts"
import type { ParsedLog } from "../../src/artifacts/Log.ts"
import type { SourceFile } from "../../src/artifacts/Source.ts"
import type { ParseOutput } from "../../src/parsing/LogFormat.ts"
import { hasTimestamps, parseSettings, parseStage } from "../../src/tasks/ParseStage.ts"
import type { StageContext } from "../../src/tasks/Task.ts"
import { dataRoot } from "../cli/helpers.ts"

const decode = (raw: unknown) => Schema.decodeUnknownSync(parseStage.params)(raw)

const made: Array<string> = []
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })))

/** Write `bytes` as `name` in a fresh data root; the SourceFile is built here, its digest computed here. */
const sourceOf = (bytes: Buffer, name = "app.log"): { ctx: StageContext; source: SourceFile; file: string } => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "logflow-parse-stage-"))
  made.push(root)
  const file = path.join(root, name)
  fs.writeFileSync(file, bytes)
  return {
    ctx: { dataRoot: root, sourcesDir: path.join(root, ".sources"), progress: () => {} },
    source: { path: name, root: "data", sha256: createHash("sha256").update(bytes).digest("hex"), bytes: bytes.length },
    file
  }
}

const FORMAT = "<Date> <Time> <Level> <Component>: <Content>"
const LINES = [
  "2024-01-02 03:04:05 INFO app: started worker 7",
  "2024-01-02 03:04:06 WARN db: slow query 120 ms",
  "this line has no header",
  "2024-01-02 03:04:08 INFO app: stopped worker 7",
  "2024-01-02 03:04:09 ERROR net: timeout"
]
const TEXT = Buffer.from(LINES.join("\n") + "\n", "utf8")

const field = (out: ParsedLog, name: string): Array<string> => {
  const f = out.fields.find((x) => x.name === name)
  if (f === undefined) throw new Error(`no field ${name}`)
  return Array.from(f.column.codes, (_, row) => dictValueAt(f.column, row))
}

describe("parse stage run on a 5-line log with one malformed line", () => {
  const { ctx, source } = sourceOf(TEXT)
  const params = decode({ format: FORMAT })
  const out = parseStage.run(params, { source }, ctx) as ParsedLog

  it("counts raw, parsed and unparsed lines and keeps each row's raw line number", () => {
    expect(out.rawLines).toBe(5)
    expect(Array.from(out.lineNo)).toEqual([1, 2, 4, 5])
    expect(out.unparsed.count).toBe(1)
    expect(out.unparsed.samples).toEqual([{ line: 3, reason: "no_match", text: "this line has no header" }])
  })

  it("splits each parsed line into its header fields and content", () => {
    expect(unpackStrings(out.content)).toEqual(["started worker 7", "slow query 120 ms", "stopped worker 7", "timeout"])
    expect(out.fields.map((f) => f.name)).toEqual(["Date", "Time", "Level", "Component"])
    expect(field(out, "Level")).toEqual(["INFO", "WARN", "INFO", "ERROR"])
    expect(field(out, "Component")).toEqual(["app", "db", "app", "net"])
    expect(field(out, "Time")).toEqual(["03:04:05", "03:04:06", "03:04:08", "03:04:09"])
    expect(out.timestamps).toBeUndefined()
  })

  it("summarizes the counts, the reasons, the fields and the format", () => {
    expect(parseStage.summarize!(out, params)).toEqual({
      parser: { format: FORMAT },
      format: FORMAT,
      raw_lines: 5,
      parsed_lines: 4,
      unparsed_lines: 1,
      unparsed_by_reason: { no_match: 1, invalid_utf8: 0, nul_byte: 0, too_long: 0 },
      unparsed_samples: [{ line: 3, reason: "no_match", text: "this line has no header" }],
      fields: ["Date", "Time", "Level", "Component"],
      timestamped_rows: null
    })
  })

  it("builds UTC timestamps from the header fields a timestamp rule names", () => {
    const timed = decode({
      format: FORMAT,
      timestamp: { parts: [{ field: "Date", pattern: "yyyy-MM-dd" }, { field: "Time", pattern: "HH:mm:ss" }] }
    })
    const t = parseStage.run(timed, { source }, ctx) as ParsedLog
    expect(Array.from(t.timestamps!)).toEqual([5, 6, 8, 9].map((s) => Date.UTC(2024, 0, 2, 3, 4, s)))
    expect(parseStage.summarize!(t, timed)).toMatchObject({ timestamped_rows: 4, parsed_lines: 4 })
  })
})

describe("parse stage with multi-line events", () => {
  const TRACE = [
    "2024-01-02 03:04:05 ERROR app: Unhandled exception",
    "Traceback (most recent call last):",
    "  File \"/srv/app.py\", line 3, in <module>",
    "KeyError: 'x'",
    "2024-01-02 03:04:06 INFO app: stopped"
  ].join("\n") + "\n"
  const { ctx, source } = sourceOf(Buffer.from(TRACE))

  it("multiline = continuation: continuation lines are counted in the output and the summary, not unparsed", () => {
    const params = decode({ format: FORMAT, multiline: "continuation" })
    expect(parseSettings(params).options).toEqual({ multiline: "continuation" })
    const out = parseStage.run(params, { source }, ctx) as ParsedLog
    expect(Array.from(out.lineNo)).toEqual([1, 5])
    expect(unpackStrings(out.content)).toEqual(["Unhandled exception", "stopped"])
    expect(out.continuationLines).toBe(3)
    expect(parseStage.summarize!(out, params)).toMatchObject({ raw_lines: 5, parsed_lines: 2, unparsed_lines: 0, continuation_lines: 3 })
  })

  it("without the key, params, output and summary are as before (the cache key does not change)", () => {
    const params = decode({ format: FORMAT })
    expect(params).toEqual({ format: FORMAT })
    const out = parseStage.run(params, { source }, ctx) as ParsedLog
    expect("continuationLines" in out).toBe(false)
    expect(out.unparsed.count).toBe(3)
    expect(parseStage.summarize!(out, params)).not.toHaveProperty("continuation_lines")
  })

  it("a format without header fields is an error at multiline; an unknown mode is rejected", () => {
    expect(() => decode({ format: "<Content>", multiline: "continuation" })).toThrow(/needs a format with a header field besides <Content>[\s\S]*\["multiline"\]/)
    expect(() => decode({ format: FORMAT, multiline: "lines" })).toThrow(/\["multiline"\]/)
    expect(decode({ format: "<Content>", multiline: "none" })).toEqual({ format: "<Content>", multiline: "none" })
    expect(decode({ preset: "HDFS", multiline: "continuation" })).toEqual({ preset: "HDFS", multiline: "continuation" })
  })
})

describe("parse stage run on bad bytes", () => {
  const good = "2024-01-02 03:04:05 INFO app: fine"
  const bytes = Buffer.concat([
    Buffer.from(good + "\n"),
    Buffer.from("2024-01-02 03:04:06 INFO app: bad "), Buffer.from([0xff, 0xfe]), Buffer.from("\n"),
    Buffer.from("2024-01-02 03:04:07 INFO app: nul\0byte\n"),
    Buffer.from(`2024-01-02 03:04:08 INFO app: ${"x".repeat(60)}\n`)
  ])
  const { ctx, source } = sourceOf(bytes)

  it("counts invalid UTF-8, NUL bytes and over-long lines by reason", () => {
    const params = decode({ format: FORMAT, max_line_bytes: 50 })
    const out = parseStage.run(params, { source }, ctx) as ParseOutput
    expect(out.rawLines).toBe(4)
    expect(Array.from(out.lineNo)).toEqual([1])
    expect(unpackStrings(out.content)).toEqual(["fine"])
    expect(parseStage.summarize!(out, params)).toMatchObject({
      parsed_lines: 1,
      unparsed_lines: 3,
      unparsed_by_reason: { no_match: 0, invalid_utf8: 1, nul_byte: 1, too_long: 1 }
    })
    expect(out.unparsed.samples.map((s) => [s.line, s.reason])).toEqual([
      [2, "invalid_utf8"],
      [3, "nul_byte"],
      [4, "too_long"]
    ])
  })

  it("reads every byte as a character under encoding latin1", () => {
    const out = parseStage.run(decode({ format: FORMAT, encoding: "latin1" }), { source }, ctx) as ParsedLog
    expect(Array.from(out.lineNo)).toEqual([1, 2, 4])
    expect(unpackStrings(out.content)[1]).toBe("bad \u00ff\u00fe")
  })
})

describe("parse stage source checks", () => {
  it("refuses a source whose bytes changed since the plan digested it", () => {
    const { ctx, source, file } = sourceOf(TEXT)
    fs.appendFileSync(file, "2024-01-02 03:04:10 INFO app: appended\n")
    expect(() => parseStage.run(decode({ format: FORMAT }), { source }, ctx)).toThrow(/changed while the flow ran: expected sha256 [0-9a-f]{64}/)
  })
})

describe("parse stage with the HDFS preset on loghub-2k/HDFS/HDFS_2k.log", () => {
  const root = dataRoot()
  const rel = "loghub-2k/HDFS/HDFS_2k.log"
  const bytes = fs.readFileSync(path.join(root, rel))
  const source: SourceFile = { path: rel, root: "data", sha256: createHash("sha256").update(bytes).digest("hex"), bytes: bytes.length }
  const ctx: StageContext = { dataRoot: root, sourcesDir: os.tmpdir(), progress: () => {} }
  const lines = bytes.toString("utf8").split("\n").map((l) => l.replace(/\r$/, ""))
  if (lines[lines.length - 1] === "") lines.pop()
  const header = /^(\d{6}) (\d{6}) \d+ \w+ [^ ]+?: (.*)$/

  it("parses every line into rows with the content after the component and a UTC time from Date + Time", () => {
    const params = decode({ preset: "HDFS" })
    const out = parseStage.run(params, { source }, ctx) as ParsedLog
    const expected = lines.map((l) => header.exec(l.trim()))
    expect(lines.length).toBe(2000)
    expect(expected.every((m) => m !== null)).toBe(true)
    expect(out.rawLines).toBe(2000)
    expect(out.lineNo.length).toBe(2000)
    expect(unpackStrings(out.content)).toEqual(expected.map((m) => m![3]!.trim()))
    const utc = (d: string, t: string) =>
      Date.UTC(2000 + Number(d.slice(0, 2)), Number(d.slice(2, 4)) - 1, Number(d.slice(4, 6)), Number(t.slice(0, 2)), Number(t.slice(2, 4)), Number(t.slice(4, 6)))
    expect(Array.from(out.timestamps!)).toEqual(expected.map((m) => utc(m![1]!, m![2]!)))
    expect(out.timestamps![0]).toBe(Date.UTC(2008, 10, 9, 20, 36, 15))
    expect(parseStage.summarize!(out, params)).toMatchObject({
      raw_lines: 2000,
      parsed_lines: 2000,
      unparsed_lines: 0,
      fields: ["Date", "Time", "Pid", "Level", "Component"],
      timestamped_rows: 2000,
      format: "<Date> <Time> <Pid> <Level> <Component>: <Content>"
    })
  })

  it("turns the preset's timestamp rule off with timestamp = false", () => {
    const params = decode({ preset: "HDFS", timestamp: false })
    expect(hasTimestamps(params)).toBe(false)
    const out = parseStage.run(params, { source }, ctx) as ParsedLog
    expect(out.timestamps).toBeUndefined()
    expect(parseStage.summarize!(out, params)).toMatchObject({ parsed_lines: 2000, timestamped_rows: null })
  })
})

describe("parse stage params", () => {
  it("adds no keys of its own; a preset supplies format, trim and timestamp, and keys beside it override them", () => {
    expect(decode({ preset: "HDFS" })).toEqual({ preset: "HDFS" })
    const preset = parseSettings(decode({ preset: "HDFS" }))
    expect(preset.format).toBe("<Date> <Time> <Pid> <Level> <Component>: <Content>")
    expect(preset.options.trim).toBe(true)
    expect(preset.options.timestamp?.parts).toEqual([{ field: "Date", pattern: "yyMMdd" }, { field: "Time", pattern: "HHmmss" }])
    const overridden = parseSettings(decode({ preset: "HDFS", trim: false, format: "<Date> <Content>", timestamp: false }))
    expect(overridden).toEqual({ format: "<Date> <Content>", options: { trim: false } })
    expect(parseSettings(decode({ format: "<Content>" }))).toEqual({ format: "<Content>", options: {} })
  })

  it("rejects an unknown key, naming it", () => {
    expect(() => decode({ fromat: FORMAT })).toThrow(/unknown key "fromat"/)
  })

  it("needs a format or a preset, reported at format", () => {
    expect(() => decode({})).toThrow(/give a format or a preset[\s\S]*\["format"\]/)
  })

  it("rejects bad values naming their key", () => {
    expect(() => decode({ format: "<Date> <Level>" })).toThrow(/Invalid log format[\s\S]*\["format"\]/)
    expect(() => decode({ preset: "NoSuchSystem" })).toThrow(/\["preset"\]/)
    expect(() => decode({ format: FORMAT, encoding: "ascii" })).toThrow(/\["encoding"\]/)
    expect(() => decode({ format: FORMAT, max_line_bytes: 0 })).toThrow(/\["max_line_bytes"\]/)
    expect(() => decode({ format: FORMAT, timestamp: { parts: [{ field: "Stamp", pattern: "yyyy-MM-dd" }] } })).toThrow(
      /field "Stamp" is not in the format \(fields: Date, Time, Level, Component, Content\)[\s\S]*\["timestamp"\]/
    )
    expect(() => decode({ format: FORMAT, timestamp: { parts: [{ field: "Time", pattern: "HH:mm:ss" }] } })).toThrow(
      /no part gives the month[\s\S]*\["timestamp"\]/
    )
  })
})
