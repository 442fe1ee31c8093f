import { describe, expect, it } from "vitest"
import { applyEntityLabels, applyLineLabels, labelHistogram, parseEntityLabelCsv } from "../../src/sequences/Labels.ts"
import type { Sequences } from "../../src/tasks/Artifacts.ts"
import { LABEL_ANOMALY, LABEL_NORMAL, LABEL_UNKNOWN } from "../../src/tasks/Artifacts.ts"
import { packStrings } from "../../src/tasks/StringColumn.ts"
import { parsedLog } from "./fixtures.ts"

const opts = { entityColumn: "BlockId", labelColumn: "Label", anomalyValues: ["Anomaly"], normalValues: ["Normal"] }

const sequences = (ids: Array<string>, groups: Array<Array<number>>): Sequences => {
  const offsets = new Int32Array(groups.length + 1)
  groups.forEach((g, i) => (offsets[i + 1] = offsets[i]! + g.length))
  const rows = Int32Array.from(groups.flat())
  return { ids: packStrings(ids), offsets, rows, events: new Int32Array(rows.length), labels: new Int8Array(ids.length).fill(LABEL_UNKNOWN) }
}

describe("parseEntityLabelCsv", () => {
  it("parses CRLF, a BOM, reordered columns, quotes and blank lines", () => {
    const text = "\uFEFFLabel,Extra,BlockId\r\nNormal,x,blk_1\r\n\r\n\"Anomaly\",\"a,b\",blk_-2\r\nNormal,,blk_1\r\n"
    expect([...parseEntityLabelCsv(text, opts)]).toEqual([["blk_1", 0], ["blk_-2", 1]])
  })

  it("names a missing column", () => {
    expect(() => parseEntityLabelCsv("Block,Label\nblk_1,Normal\n", opts)).toThrow(/"BlockId"/)
    expect(() => parseEntityLabelCsv("BlockId,Lbl\nblk_1,Normal\n", opts)).toThrow(/"Label"/)
    expect(() => parseEntityLabelCsv("BlockId,Label\nblk_1\n", opts)).toThrow(/line 2: column "Label"/)
    expect(() => parseEntityLabelCsv("", opts)).toThrow(/header/)
  })

  it("names the column and line of an unknown label value", () => {
    const text = "BlockId,Label\r\nblk_1,Normal\r\nblk_2,Anomaly\r\nblk_3,anomaly\r\n"
    expect(() => parseEntityLabelCsv(text, opts)).toThrow(/line 4: column "Label" has unknown value "anomaly"/)
  })

  it("rejects conflicting duplicates and overlapping value lists", () => {
    expect(() => parseEntityLabelCsv("BlockId,Label\nblk_1,Normal\nblk_1,Anomaly\n", opts)).toThrow(/line 3/)
    expect(() => parseEntityLabelCsv("BlockId,Label\n", { ...opts, anomalyValues: ["Normal"] })).toThrow(/both/)
  })
})

describe("applyEntityLabels / applyLineLabels / labelHistogram", () => {
  it("counts unlabeled entities and leaves the input untouched", () => {
    const seqs = sequences(["a", "b", "c"], [[0], [1], [2]])
    const { sequences: out, unlabeled } = applyEntityLabels(seqs, new Map<string, 0 | 1>([["a", 1], ["c", 0]]))
    expect(Array.from(out.labels)).toEqual([LABEL_ANOMALY, LABEL_UNKNOWN, LABEL_NORMAL])
    expect(unlabeled).toBe(1)
    expect(Array.from(seqs.labels)).toEqual([LABEL_UNKNOWN, LABEL_UNKNOWN, LABEL_UNKNOWN])
    expect(labelHistogram(out.labels)).toEqual({ normal: 1, anomaly: 1, unknown: 1 })
  })

  it("marks a sequence anomalous iff one of its rows is not normal", () => {
    const parsed = parsedLog(["r0", "r1", "r2", "r3"], { Label: ["-", "KERNDTLB", "-", "-"] })
    const seqs = sequences(["s0", "s1", "s2", "s3"], [[0, 2], [1], [2, 3, 1], []])
    expect(Array.from(applyLineLabels(seqs, parsed, { field: "Label", normalValue: "-" }).labels)).toEqual([0, 1, 1, 0])
    expect(() => applyLineLabels(seqs, parsed, { field: "Node", normalValue: "-" })).toThrow(/"Node"/)
  })

  it("restricts the histogram to one split tag", () => {
    const labels = Int8Array.from([0, 1, -1, 1])
    expect(labelHistogram(labels, { split: Uint8Array.from([0, 0, 1, 1]), tag: 1 })).toEqual({ normal: 0, anomaly: 1, unknown: 1 })
    expect(() => labelHistogram(Int8Array.from([3]))).toThrow(/invalid label/)
  })
})
