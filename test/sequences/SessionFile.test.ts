import * as fs from "node:fs"
import { describe, expect, it } from "vitest"
import { concatSessionFiles, readSessionFile } from "../../src/sequences/SessionFile.ts"
import { LABEL_ANOMALY, LABEL_NORMAL, LABEL_UNKNOWN, SPLIT_TEST, SPLIT_TRAIN } from "../../src/artifacts/Sequences.ts"
import { stringAt, stringCount, unpackStrings } from "../../src/artifacts/Columns.ts"
import { dataPath, readLines } from "./fixtures.ts"

const seqEvents = (s: { offsets: Int32Array; events: Int32Array }, i: number) => Array.from(s.events.subarray(s.offsets[i]!, s.offsets[i + 1]!))

describe("readSessionFile deeploglizer_csv on deep-loglizer HDFS_100k", () => {
  const rel = "hdfs/sessions/deep-loglizer-HDFS_100k/HDFS_100k_sessions.csv"
  const file = readSessionFile(fs.readFileSync(dataPath(rel), "utf8"), { format: "deeploglizer_csv" })
  const rows = readLines(rel).slice(1).map((l) => l.split(","))

  it("has 7,940 sessions: train 6,096 normal + 256 anomalous, test 1,531 + 57", () => {
    const count = (split: string, label: string) => rows.filter((r) => r[2] === split && r[1] === label).length
    expect(rows.length).toBe(7940)
    expect([count("train", "Normal"), count("train", "Anomaly"), count("test", "Normal"), count("test", "Anomaly")]).toEqual([6096, 256, 1531, 57])

    const { sequences, split } = file
    expect(stringCount(sequences.ids)).toBe(7940)
    expect(split).toBeDefined()
    const got = (tag: number, label: number) => Array.from(sequences.labels).filter((l, i) => split![i] === tag && l === label).length
    expect([got(SPLIT_TRAIN, LABEL_NORMAL), got(SPLIT_TRAIN, LABEL_ANOMALY), got(SPLIT_TEST, LABEL_NORMAL), got(SPLIT_TEST, LABEL_ANOMALY)]).toEqual([6096, 256, 1531, 57])
  })

  it("keeps ids and T<n> event ids per session, and the vocabulary of ids used", () => {
    expect(unpackStrings(file.sequences.ids)).toEqual(rows.map((r) => r[0]))
    for (const i of [0, 1, 4000, 7939]) expect(seqEvents(file.sequences, i)).toEqual(rows[i]![3]!.split(" ").map((t) => Number(t.slice(1))))
    const used = [...new Set(rows.flatMap((r) => r[3]!.split(" ").map((t) => Number(t.slice(1)))))].sort((a, b) => a - b)
    expect(Array.from(file.vocabulary)).toEqual(used)
    const templates = readLines("hdfs/sessions/deep-loglizer-HDFS_100k/HDFS_100k_templates.csv").slice(1).map((l) => Number(l.split(",")[0]!.slice(1)))
    expect(templates.length).toBe(19)
    expect(used.every((t) => templates.includes(t))).toBe(true)
    expect(file.sequences.events.length).toBe(rows.reduce((s, r) => s + r[3]!.split(" ").length, 0))
    expect(Array.from(file.sequences.rows.subarray(0, 3))).toEqual([0, 1, 2])
  })
})

describe("readSessionFile deeplog_lines on wuyifan18 DeepLog HDFS", () => {
  const dir = "hdfs/sessions/deeplog-wuyifan18"
  const trainText = fs.readFileSync(dataPath(`${dir}/hdfs_train`), "utf8")
  const abnormalText = fs.readFileSync(dataPath(`${dir}/hdfs_test_abnormal`), "utf8")

  it("reads 4,855 normal training sessions and 16,838 abnormal ones, keys 1..28", () => {
    const train = readSessionFile(trainText, { format: "deeplog_lines", label: "normal", split: "train" })
    const abnormal = readSessionFile(abnormalText, { format: "deeplog_lines", label: "anomaly", split: "test" })
    const trainLines = trainText.split("\n").filter((l) => l.trim() !== "")
    expect(trainLines.length).toBe(4855)
    expect(stringCount(train.sequences.ids)).toBe(4855)
    expect(stringCount(abnormal.sequences.ids)).toBe(16838)
    expect(stringAt(train.sequences.ids, 0)).toBe("train_normal_1")
    expect(seqEvents(train.sequences, 0)).toEqual(trainLines[0]!.trim().split(" ").map(Number))
    expect(seqEvents(train.sequences, 4854)).toEqual(trainLines[4854]!.trim().split(" ").map(Number))
    expect(train.sequences.labels.every((l) => l === LABEL_NORMAL)).toBe(true)
    expect(abnormal.sequences.labels.every((l) => l === LABEL_ANOMALY)).toBe(true)
    const keys = [...new Set(trainText.concat(" ", abnormalText).split(/\s+/).filter((t) => t !== "").map(Number))].sort((a, b) => a - b)
    expect(keys[0]).toBeGreaterThanOrEqual(1)
    expect(keys[keys.length - 1]).toBeLessThanOrEqual(28)

    const both = concatSessionFiles([train, abnormal])
    expect(stringCount(both.sequences.ids)).toBe(4855 + 16838)
    expect(Array.from(both.vocabulary)).toEqual(keys)
    expect(both.split!.filter((t) => t === SPLIT_TRAIN).length).toBe(4855)
    expect(both.split!.filter((t) => t === SPLIT_TEST).length).toBe(16838)
    expect(seqEvents(both.sequences, 4855)).toEqual(seqEvents(abnormal.sequences, 0))
    expect(both.sequences.rows[both.sequences.offsets[4855]!]).toBe(train.sequences.events.length)
  })
})

describe("readSessionFile on small hand-written files", () => {
  it("parses CRLF, 0/1 labels, bare ids, a file without split, and deeplog lines without split", () => {
    const csv = "BlockId,Label,EventSequence\r\nb1,0,T3 T1\r\n\r\nb2,1,7\r\n"
    const f = readSessionFile(csv, { format: "deeploglizer_csv" })
    expect(unpackStrings(f.sequences.ids)).toEqual(["b1", "b2"])
    expect(Array.from(f.sequences.labels)).toEqual([0, 1])
    expect(Array.from(f.sequences.events)).toEqual([3, 1, 7])
    expect(f.split).toBeUndefined()
    expect(Array.from(f.vocabulary)).toEqual([1, 3, 7])
    const lines = readSessionFile("1 2 3 \n\n4\n", { format: "deeplog_lines", label: "unknown", idPrefix: "s" })
    expect(unpackStrings(lines.sequences.ids)).toEqual(["s1", "s3"])
    expect(Array.from(lines.sequences.labels)).toEqual([LABEL_UNKNOWN, LABEL_UNKNOWN])
    expect(lines.split).toBeUndefined()
  })

  it("rejects malformed files, naming the option or the line", () => {
    const csv = (text: string, extra = {}) => () => readSessionFile(text, { format: "deeploglizer_csv", ...extra })
    expect(csv("Id,Label,EventSequence\nb1,Normal,T1\n")).toThrow(/id_column "BlockId" is not a column/)
    expect(csv("BlockId,Label,Events\nb1,Normal,T1\n")).toThrow(/events_column "EventSequence"/)
    expect(csv("BlockId,Label,EventSequence\nb1,Normal,T1\n", { splitColumn: "Split" })).toThrow(/split_column "Split"/)
    expect(csv("BlockId,Label,EventSequence\nb1,Weird,T1\n")).toThrow(/line 2: label "Weird"/)
    expect(csv("BlockId,Label,Split,EventSequence\nb1,Normal,valid,T1\n")).toThrow(/line 2: split "valid"/)
    expect(csv("BlockId,Label,EventSequence\nb1,Normal,T1 E2\n")).toThrow(/line 2: event "E2"/)
    expect(csv("BlockId,Label,EventSequence\nb1,Normal\n")).toThrow(/line 2: 2 cells/)
    expect(csv("")).toThrow(/empty/)
    expect(() => readSessionFile("1 x\n", { format: "deeplog_lines", label: "normal" })).toThrow(/line 1: event "x"/)
    expect(() => readSessionFile("1\n", { format: "deeplog_lines", label: "bad" as "normal" })).toThrow(/label must be/)
    expect(() => readSessionFile("1\n", { format: "other" } as unknown as Parameters<typeof readSessionFile>[1])).toThrow(/format must be/)
    const a = readSessionFile("1\n", { format: "deeplog_lines", label: "normal", split: "train" })
    const b = readSessionFile("2\n", { format: "deeplog_lines", label: "normal" })
    expect(() => concatSessionFiles([a, b])).toThrow(/split/)
  })
})
