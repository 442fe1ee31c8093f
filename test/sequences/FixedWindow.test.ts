import { describe, expect, it } from "vitest"
import { fixedWindows } from "../../src/sequences/FixedWindow.ts"
import { applyLineLabels, labelHistogram } from "../../src/sequences/Labels.ts"
import { LABEL_ANOMALY, LABEL_UNKNOWN } from "../../src/artifacts/Sequences.ts"
import { stringAt, stringCount, unpackStrings } from "../../src/artifacts/Columns.ts"
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

  it("validates window_size, step, basis and window_alignment_offset by their config names", () => {
    expect(() => fixedWindows(parsed, templated, { size: 0, step: 1 })).toThrow(/window_size must be an integer >= 1, got 0/)
    expect(() => fixedWindows(parsed, templated, { size: -3, step: 1 })).toThrow(/window_size/)
    expect(() => fixedWindows(parsed, templated, { size: 2.5, step: 1 })).toThrow(/window_size/)
    expect(() => fixedWindows(parsed, templated, { size: 3, step: 0 })).toThrow(/step must be an integer >= 1, got 0/)
    expect(() => fixedWindows(parsed, templated, { size: 3, step: -1 })).toThrow(/step/)
    expect(() => fixedWindows(parsed, templated, { size: 3, step: Number.NaN })).toThrow(/step/)
    expect(() => fixedWindows(parsed, templated, { size: 3, step: 3, alignmentOffset: -1 })).toThrow(/window_alignment_offset/)
    expect(() => fixedWindows(parsed, templated, { size: 3, step: 3, alignmentOffset: 7 })).toThrow(/window_alignment_offset 7 is at or past the end/)
    expect(() => fixedWindows(parsed, templated, { size: 3, step: 3, basis: "lines" as "raw" })).toThrow(/basis/)
  })

  it("starts the first window at window_alignment_offset; earlier rows are in no window", () => {
    const seqs = fixedWindows(parsed, templated, { size: 3, step: 3, alignmentOffset: 2 })
    expect(unpackStrings(seqs.ids)).toEqual(["w2", "w5"])
    expect(Array.from(seqs.rows)).toEqual([2, 3, 4, 5, 6])
    expect(Array.from(seqs.offsets)).toEqual([0, 3, 5])
  })
})

describe("fixedWindows on BGL_2k: the issue's 100-line windows", () => {
  const { lines, parsed, templated } = bglLog()

  it("window_size 100, step 100: 20 windows, anomalous exactly those holding an alert line", () => {
    const alertLines = lines.flatMap((l, i) => (l.split(" ")[0] !== "-" ? [i] : []))
    expect(alertLines.length).toBe(143)
    for (const basis of ["parsed", "raw"] as const) {
      const seqs = applyLineLabels(fixedWindows(parsed, templated, { size: 100, step: 100, basis }), parsed, { field: "Label", normalValue: "-" })
      expect(stringCount(seqs.ids)).toBe(20)
      const expected = Array.from({ length: 20 }, (_, w) => alertLines.some((i) => i >= w * 100 && i < w * 100 + 100))
      expect(Array.from(seqs.labels, (l) => l === LABEL_ANOMALY)).toEqual(expected)
      expect(labelHistogram(seqs.labels).anomaly).toBe(expected.filter(Boolean).length)
    }
  })
})

describe("fixedWindows with basis raw (raw line positions from lineNo)", () => {
  // Raw lines 1..10; lines 3, 4 and 8 did not parse, so parsed rows are raw lines 1 2 5 6 7 9 10.
  const parsed = { ...parsedLog(["a", "b", "e", "f", "g", "i", "j"]), rawLines: 10, lineNo: Int32Array.from([1, 2, 5, 6, 7, 9, 10]) }
  const templated = templatedLog([0, 1, 4, 5, 6, 8, 9])

  it("windows cover raw positions, so unparsed lines leave them short; empty windows are dropped", () => {
    const seqs = fixedWindows(parsed, templated, { size: 3, step: 3, basis: "raw" })
    // raw positions [0,3) -> rows 0 1; [3,6) -> rows 2 3 (raw 5, 6); [6,9) -> row 4 5 (raw 7, 9); [9,12) -> row 6 (raw 10)
    expect(unpackStrings(seqs.ids)).toEqual(["w0", "w3", "w6", "w9"])
    expect(Array.from(seqs.offsets)).toEqual([0, 2, 4, 6, 7])
    expect(Array.from(seqs.rows)).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect(Array.from(seqs.events)).toEqual([0, 1, 4, 5, 6, 8, 9])
    const gap = fixedWindows(parsed, templated, { size: 2, step: 2, basis: "raw" })
    // [2,4) holds raw lines 3 and 4, which did not parse: no window w2
    expect(unpackStrings(gap.ids)).toEqual(["w0", "w4", "w6", "w8"])
    const parsedBasis = fixedWindows(parsed, templated, { size: 3, step: 3 })
    expect(Array.from(parsedBasis.offsets)).toEqual([0, 3, 6, 7])
  })

  it("aligns raw windows with window_alignment_offset and slides", () => {
    const seqs = fixedWindows(parsed, templated, { size: 4, step: 2, basis: "raw", alignmentOffset: 1 })
    // row positions 0 1 4 5 6 8 9; starts 1 3 5 7 9: [1,5) -> 1 4; [3,7) -> 4 5 6; [5,9) -> 5 6 8; [7,11) -> 8 9; [9,13) -> 9
    expect(unpackStrings(seqs.ids)).toEqual(["w1", "w3", "w5", "w7", "w9"])
    expect(seqRows(seqs, 0)).toEqual([1, 2])
    expect(seqRows(seqs, 1)).toEqual([2, 3, 4])
    expect(seqRows(seqs, 2)).toEqual([3, 4, 5])
    expect(seqRows(seqs, 3)).toEqual([5, 6])
    expect(seqRows(seqs, 4)).toEqual([6])
    expect(() => fixedWindows(parsed, templated, { size: 4, step: 2, basis: "raw", alignmentOffset: 10 })).toThrow(/window_alignment_offset/)
  })
})
