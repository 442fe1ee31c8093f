import { describe, expect, it } from "vitest"
import { fixedWindows } from "../../src/sequences/FixedWindow.ts"
import { applyLineLabels, labelHistogram } from "../../src/sequences/Labels.ts"
import { LABEL_ANOMALY, LABEL_UNKNOWN } from "../../src/tasks/Artifacts.ts"
import { stringAt, stringCount, unpackStrings } from "../../src/tasks/StringColumn.ts"
import { bglLog, parsedLog, seqRows, templatedLog } from "./fixtures.ts"

/** Independent count of windows [s, s + size) holding a raw line whose first token is not "-". */
const countAnomalousWindows = (lines: ReadonlyArray<string>, size: number, step: number): number => {
  let count = 0
  for (let s = 0; s < lines.length; s += step) {
    if (lines.slice(s, s + size).some((l) => !l.startsWith("- "))) count++
  }
  return count
}

describe("fixedWindows on BGL_2k", () => {
  const { lines, parsed, templated } = bglLog()

  it("has 2,000 lines and 143 alert lines", () => {
    expect(lines.length).toBe(2000)
    expect(lines.filter((l) => l.split(" ")[0] !== "-").length).toBe(143)
  })

  it("size 20 step 20: 100 windows, anomalous count matches the raw file", () => {
    const seqs = fixedWindows(parsed, templated, { size: 20, step: 20 })
    expect(stringCount(seqs.ids)).toBe(100)
    expect(seqs.rows.length).toBe(2000)
    expect(stringAt(seqs.ids, 0)).toBe("w0")
    expect(stringAt(seqs.ids, 99)).toBe("w1980")
    expect(seqRows(seqs, 3)).toEqual(Array.from({ length: 20 }, (_, k) => 60 + k))
    for (let p = 0; p < seqs.rows.length; p++) expect(seqs.events[p]).toBe(seqs.rows[p]! % 5)
    expect(seqs.labels.every((l) => l === LABEL_UNKNOWN)).toBe(true)

    const labelled = applyLineLabels(seqs, parsed, { field: "Label", normalValue: "-" })
    const expected = countAnomalousWindows(lines, 20, 20)
    expect(labelHistogram(labelled.labels)).toEqual({ normal: 100 - expected, anomaly: expected, unknown: 0 })
    for (let w = 0; w < 100; w++) {
      const raw = lines.slice(w * 20, w * 20 + 20).some((l) => !l.startsWith("- "))
      expect(labelled.labels[w] === LABEL_ANOMALY).toBe(raw)
    }
  })

  it("size 20 step 10: 200 windows, the last two partial-or-overlapping windows kept", () => {
    const seqs = fixedWindows(parsed, templated, { size: 20, step: 10 })
    expect(stringCount(seqs.ids)).toBe(200)
    expect(stringAt(seqs.ids, 199)).toBe("w1990")
    expect(seqRows(seqs, 198)).toEqual(Array.from({ length: 20 }, (_, k) => 1980 + k))
    expect(seqRows(seqs, 199)).toEqual(Array.from({ length: 10 }, (_, k) => 1990 + k))
    expect(seqs.rows.length).toBe(199 * 20 + 10)
    const labelled = applyLineLabels(seqs, parsed, { field: "Label", normalValue: "-" })
    expect(labelHistogram(labelled.labels).anomaly).toBe(countAnomalousWindows(lines, 20, 10))
  })

  it("names the missing field", () => {
    const seqs = fixedWindows(parsed, templated, { size: 20, step: 20 })
    expect(() => applyLineLabels(seqs, parsed, { field: "Level", normalValue: "-" })).toThrow(/"Level"/)
  })
})

describe("fixedWindows on a tiny synthetic log", () => {
  const parsed = parsedLog(["a", "b", "c", "d", "e", "f", "g"])
  const templated = templatedLog([0, 1, 2, 3, 4, 5, 6])

  it("keeps the last partial window (7 rows, size 3, step 3)", () => {
    const seqs = fixedWindows(parsed, templated, { size: 3, step: 3 })
    expect(unpackStrings(seqs.ids)).toEqual(["w0", "w3", "w6"])
    expect(Array.from(seqs.offsets)).toEqual([0, 3, 6, 7])
    expect(Array.from(seqs.rows)).toEqual([0, 1, 2, 3, 4, 5, 6])
  })

  it("slides (size 5, step 2) and skips rows (size 1, step 3)", () => {
    const sliding = fixedWindows(parsed, templated, { size: 5, step: 2 })
    expect(unpackStrings(sliding.ids)).toEqual(["w0", "w2", "w4", "w6"])
    expect(Array.from(sliding.offsets)).toEqual([0, 5, 10, 13, 14])
    expect(seqRows(sliding, 2)).toEqual([4, 5, 6])
    const gappy = fixedWindows(parsed, templated, { size: 1, step: 3 })
    expect(Array.from(gappy.rows)).toEqual([0, 3, 6])
    expect(Array.from(gappy.events)).toEqual([0, 3, 6])
  })

  it("writes multi-digit ids and handles an empty log", () => {
    const big = parsedLog(Array.from({ length: 1234 }, () => "x"))
    const seqs = fixedWindows(big, templatedLog(new Int32Array(1234)), { size: 100, step: 100 })
    expect(unpackStrings(seqs.ids).slice(-3)).toEqual(["w1000", "w1100", "w1200"])
    const empty = fixedWindows(parsedLog([]), templatedLog([]), { size: 3, step: 3 })
    expect(stringCount(empty.ids)).toBe(0)
    expect(Array.from(empty.offsets)).toEqual([0])
  })

  it("validates size and step", () => {
    expect(() => fixedWindows(parsed, templated, { size: 0, step: 1 })).toThrow(/size/)
    expect(() => fixedWindows(parsed, templated, { size: 2.5, step: 1 })).toThrow(/size/)
    expect(() => fixedWindows(parsed, templated, { size: 3, step: 0 })).toThrow(/step/)
    expect(() => fixedWindows(parsed, templated, { size: 3, step: Number.NaN })).toThrow(/step/)
  })
})
