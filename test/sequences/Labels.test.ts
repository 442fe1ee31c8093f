import { describe, expect, it } from "vitest"
import { applyEntityLabels, applyLineLabels, labelHistogram, lineLabels, parseEntityLabelCsv, rowLabelsFromSequences } from "../../src/sequences/Labels.ts"
import type { Sequences } from "../../src/artifacts/Sequences.ts"
import { LABEL_ANOMALY, LABEL_NORMAL, LABEL_UNKNOWN } from "../../src/artifacts/Sequences.ts"
import { packStrings } from "../../src/artifacts/Columns.ts"
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

  it("names a missing column by its config key", () => {
    expect(() => parseEntityLabelCsv("Block,Label\nblk_1,Normal\n", opts)).toThrow(/entity_column "BlockId" is not a column of the label CSV \(line 1 header: Block, Label\)/)
    expect(() => parseEntityLabelCsv("BlockId,Lbl\nblk_1,Normal\n", opts)).toThrow(/label_column "Label" is not a column/)
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

describe("window label rules and per-row labels", () => {
  // rows:       0  1  2  3  4  5  6  7  8  9
  const marks = ["-", "X", "-", "-", "X", "X", "-", "-", "-", "Y"]
  const parsed = parsedLog(marks.map((_, i) => `r${i}`), { Label: marks })
  const seqs = sequences(["w0", "w1", "w2", "w3"], [[0, 1, 2, 3], [4, 5, 6], [6, 7, 8], [7, 8, 9]])

  it("lineLabels marks every value but the normal one", () => {
    expect(Array.from(lineLabels(parsed, { field: "Label", normalValue: "-" }))).toEqual([0, 1, 0, 0, 1, 1, 0, 0, 0, 1])
    expect(() => lineLabels(parsed, { field: "Level", normalValue: "-" })).toThrow(/field "Level" is not a field of the parsed log \(fields: Label\)/)
  })

  it('"any" (default) vs a fraction of anomalous lines', () => {
    const base = { field: "Label", normalValue: "-" }
    expect(Array.from(applyLineLabels(seqs, parsed, base).labels)).toEqual([1, 1, 0, 1])
    expect(Array.from(applyLineLabels(seqs, parsed, { ...base, rule: "any" }).labels)).toEqual([1, 1, 0, 1])
    // anomalous fractions: 1/4, 2/3, 0/3, 1/3
    expect(Array.from(applyLineLabels(seqs, parsed, { ...base, rule: { fraction: 0.25 } }).labels)).toEqual([1, 1, 0, 1])
    expect(Array.from(applyLineLabels(seqs, parsed, { ...base, rule: { fraction: 0.3 } }).labels)).toEqual([0, 1, 0, 1])
    expect(Array.from(applyLineLabels(seqs, parsed, { ...base, rule: { fraction: 0.5 } }).labels)).toEqual([0, 1, 0, 0])
    expect(Array.from(applyLineLabels(seqs, parsed, { ...base, rule: { fraction: 1 } }).labels)).toEqual([0, 0, 0, 0])
    for (const fraction of [0, -0.5, 1.5, Number.NaN]) {
      expect(() => applyLineLabels(seqs, parsed, { ...base, rule: { fraction } })).toThrow(/window_label fraction must be in \(0, 1\]/)
    }
  })

  it("7 of 100 anomalous lines meet fraction 0.07 despite 0.07 · 100 > 7 in floating point", () => {
    expect(0.07 * 100).toBeGreaterThan(7)
    const marks100 = Array.from({ length: 100 }, (_, i) => (i < 7 ? "X" : "-"))
    const hundred = parsedLog(marks100.map((_, i) => `r${i}`), { Label: marks100 })
    const one = sequences(["w"], [Array.from({ length: 100 }, (_, i) => i)])
    expect(Array.from(applyLineLabels(one, hundred, { field: "Label", normalValue: "-", rule: { fraction: 0.07 } }).labels)).toEqual([1])
    expect(Array.from(applyLineLabels(one, hundred, { field: "Label", normalValue: "-", rule: { fraction: 0.08 } }).labels)).toEqual([0])
  })

  it("rowLabelsFromSequences: anomaly wins, then unknown, rows in no sequence are unknown", () => {
    const s = { ...sequences(["a", "b", "c"], [[0, 1], [1, 2], [3]]), labels: Int8Array.from([LABEL_NORMAL, LABEL_ANOMALY, LABEL_UNKNOWN]) }
    expect(Array.from(rowLabelsFromSequences(s, 5))).toEqual([LABEL_NORMAL, LABEL_ANOMALY, LABEL_ANOMALY, LABEL_UNKNOWN, LABEL_UNKNOWN])
  })
})
