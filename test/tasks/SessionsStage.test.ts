// Stage `sessions`: pre-sequenced session files to labelled sequences, with the file's split when it has one.
import { Schema } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { unpackStrings } from "../../src/artifacts/Columns.ts"
import { LABEL_ANOMALY, LABEL_NORMAL, LABEL_UNKNOWN, SPLIT_TEST, SPLIT_TRAIN, type Sessions } from "../../src/artifacts/Sequences.ts"
import type { SourceFile } from "../../src/artifacts/Source.ts"
import { sessionSources, sessionsStage } from "../../src/tasks/SessionsStage.ts"
import type { StageContext } from "../../src/tasks/Task.ts"
import { dataRoot } from "../cli/helpers.ts"

const decode = (raw: unknown) => Schema.decodeUnknownSync(sessionsStage.params)(raw)

const made: Array<string> = []
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })))

/** A data root holding `files`, their SourceFiles (digests computed here) in the given order, and a context. */
const filesIn = (files: Record<string, string>): { ctx: StageContext; sources: Array<SourceFile> } => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "logflow-sessions-stage-"))
  made.push(root)
  const sources = Object.entries(files).map(([name, text]): SourceFile => {
    fs.writeFileSync(path.join(root, name), text)
    return { path: name, root: "data", sha256: createHash("sha256").update(text).digest("hex"), bytes: Buffer.byteLength(text) }
  })
  return { ctx: { dataRoot: root, sourcesDir: path.join(root, ".sources"), progress: () => {} }, sources }
}

const perSequence = (out: Sessions) =>
  Array.from(out.sequences.labels, (_, i) => Array.from(out.sequences.events.subarray(out.sequences.offsets[i]!, out.sequences.offsets[i + 1]!)))

describe("sessions stage run: deeploglizer_csv", () => {
  const CSV = "BlockId,Label,Split,EventSequence\nb1,Normal,train,T1 T2 T2\nb2,Anomaly,test,T3\nb3,Normal,test,T1 T7\n"

  it("reads one session per row: id, label, split and the T<n> events as template ids", () => {
    const { ctx, sources } = filesIn({ "s.csv": CSV })
    const params = decode({ format: "deeploglizer_csv", source: { path: "s.csv" } })
    const out = sessionsStage.run(params, { files: sources }, ctx) as Sessions
    expect(unpackStrings(out.sequences.ids)).toEqual(["b1", "b2", "b3"])
    expect(perSequence(out)).toEqual([[1, 2, 2], [3], [1, 7]])
    expect(Array.from(out.sequences.labels)).toEqual([LABEL_NORMAL, LABEL_ANOMALY, LABEL_NORMAL])
    expect(Array.from(out.split!)).toEqual([SPLIT_TRAIN, SPLIT_TEST, SPLIT_TEST])
    expect(Array.from(out.vocabulary)).toEqual([1, 2, 3, 7])
    expect(out.unlabeled).toBe(0)
    expect(sessionsStage.summarize!(out, params)).toEqual({
      sessions: params,
      sequences: 3,
      events: 6,
      templates: 4,
      unlabeled: 0,
      histogram: { normal: 2, anomaly: 1, unknown: 0 },
      file_split: true
    })
  })

  it("reads the columns the config names", () => {
    const { ctx, sources } = filesIn({ "s.csv": "id,y,events\nx,1,5 6\ny,0,6\n" })
    const params = decode({ format: "deeploglizer_csv", source: { path: "s.csv" }, id_column: "id", label_column: "y", events_column: "events" })
    const out = sessionsStage.run(params, { files: sources }, ctx) as Sessions
    expect(unpackStrings(out.sequences.ids)).toEqual(["x", "y"])
    expect(Array.from(out.sequences.labels)).toEqual([LABEL_ANOMALY, LABEL_NORMAL])
    expect(out.split).toBeUndefined()
    expect(sessionsStage.summarize!(out, params)).toMatchObject({ file_split: false, templates: 2 })
  })

  it("fails naming the column the file lacks", () => {
    const { ctx, sources } = filesIn({ "s.csv": CSV })
    const params = decode({ format: "deeploglizer_csv", source: { path: "s.csv" }, events_column: "Events" })
    expect(() => sessionsStage.run(params, { files: sources }, ctx)).toThrow(/events_column "Events" is not a column/)
  })

  it("reads deep-loglizer's HDFS_100k sessions: one per data row, labels and split as the file gives them", () => {
    const root = dataRoot()
    const rel = "hdfs/sessions/deep-loglizer-HDFS_100k/HDFS_100k_sessions.csv"
    const bytes = fs.readFileSync(path.join(root, rel))
    const source: SourceFile = { path: rel, root: "data", sha256: createHash("sha256").update(bytes).digest("hex"), bytes: bytes.length }
    const params = decode({ format: "deeploglizer_csv", source: { path: rel } })
    const out = sessionsStage.run(params, { files: [source] }, { dataRoot: root, sourcesDir: os.tmpdir(), progress: () => {} }) as Sessions
    const rows = bytes.toString("utf8").split("\n").slice(1).filter((l) => l.trim() !== "").map((l) => l.replace(/\r$/, "").split(","))
    const count = (f: (r: Array<string>) => boolean) => rows.filter(f).length
    expect(out.sequences.labels.length).toBe(rows.length)
    expect(sessionsStage.summarize!(out, params)).toMatchObject({
      sequences: rows.length,
      events: rows.reduce((a, r) => a + r[3]!.trim().split(/\s+/).length, 0),
      unlabeled: 0,
      histogram: { normal: count((r) => r[1] === "Normal"), anomaly: count((r) => r[1] === "Anomaly"), unknown: 0 },
      file_split: true
    })
    expect(Array.from(out.split!).filter((s) => s === SPLIT_TRAIN).length).toBe(count((r) => r[2] === "train"))
  })
})

describe("sessions stage run: deeplog_lines", () => {
  it("joins the files in order, each file giving the label and split of all its sessions", () => {
    const { ctx, sources } = filesIn({ train: "1 2 3\n4 5\n", abnormal: "7 7\n" })
    const params = decode({
      format: "deeplog_lines",
      files: [{ source: { path: "train" }, label: "normal", split: "train" }, { source: { path: "abnormal" }, label: "anomaly", split: "test" }]
    })
    const out = sessionsStage.run(params, { files: sources }, ctx) as Sessions
    expect(perSequence(out)).toEqual([[1, 2, 3], [4, 5], [7, 7]])
    expect(unpackStrings(out.sequences.ids)).toEqual(["train_normal_1", "train_normal_2", "test_anomaly_1"])
    expect(Array.from(out.sequences.labels)).toEqual([LABEL_NORMAL, LABEL_NORMAL, LABEL_ANOMALY])
    expect(Array.from(out.split!)).toEqual([SPLIT_TRAIN, SPLIT_TRAIN, SPLIT_TEST])
    expect(Array.from(out.vocabulary)).toEqual([1, 2, 3, 4, 5, 7])
    expect(sessionsStage.summarize!(out, params)).toMatchObject({ sequences: 3, events: 7, templates: 6, unlabeled: 0, file_split: true })
  })

  it("counts the sessions of an unknown-label file as unlabelled", () => {
    const { ctx, sources } = filesIn({ a: "1 2\n", b: "3\n2 2\n" })
    const params = decode({ format: "deeplog_lines", files: [{ source: { path: "a" }, label: "normal" }, { source: { path: "b" }, label: "unknown" }] })
    const out = sessionsStage.run(params, { files: sources }, ctx) as Sessions
    expect(Array.from(out.sequences.labels)).toEqual([LABEL_NORMAL, LABEL_UNKNOWN, LABEL_UNKNOWN])
    expect(out.unlabeled).toBe(2)
    expect(out.split).toBeUndefined()
    expect(sessionsStage.summarize!(out, params)).toMatchObject({ unlabeled: 2, histogram: { normal: 1, anomaly: 0, unknown: 2 }, file_split: false })
  })
})

describe("sessions stage params", () => {
  it("decodes both formats as given, and lists their sources in order", () => {
    const csv = decode({ format: "deeploglizer_csv", source: { path: "s.csv" } })
    expect(csv).toEqual({ format: "deeploglizer_csv", source: { path: "s.csv" } })
    const lines = decode({ format: "deeplog_lines", files: [{ source: { path: "a" }, label: "normal" }, { source: { path: "b" }, label: "anomaly" }] })
    expect(sessionSources(csv)).toEqual([{ path: "s.csv" }])
    expect(sessionSources(lines)).toEqual([{ path: "a" }, { path: "b" }])
  })

  it("rejects an unknown key, naming it", () => {
    expect(() => decode({ format: "deeploglizer_csv", source: { path: "s.csv" }, label_col: "y" })).toThrow(/unknown key "label_col"/)
  })

  it("rejects bad values naming their key", () => {
    expect(() => decode({ format: "deeplog_lines", files: [] })).toThrow(/\["files"\]/)
    expect(() => decode({ format: "deeplog_lines", files: [{ source: { path: "a" }, label: "bad" }] })).toThrow(/\["files"\]\[0\]\["label"\]/)
    expect(() => decode({ format: "deeplog_lines", files: [{ source: { path: "a" }, label: "normal", split: "validation" }] })).toThrow(/\["files"\]\[0\]\["split"\]/)
    expect(() => decode({ format: "deeploglizer_csv", source: { path: "s.csv" }, id_column: "" })).toThrow(/\["id_column"\]/)
  })
})
