import { describe, expect, it } from "vitest"
import { applyLineLabels } from "../../src/sequences/Labels.ts"
import { timeWindows } from "../../src/sequences/TimeWindow.ts"
import { LABEL_ANOMALY } from "../../src/artifacts/Sequences.ts"
import { unpackStrings } from "../../src/artifacts/Columns.ts"
import { bglLog, parsedLog, seqRows, templatedLog } from "./fixtures.ts"

const log = (ts: Array<number>) => ({
  parsed: parsedLog(ts.map((_, i) => `r${i}`), {}, ts),
  templated: templatedLog(ts.map((_, i) => 10 + i))
})

describe("timeWindows on hand-checked timestamps", () => {
  const { parsed, templated } = log([0, 10, 20, 35, 36, 100])

  it("tumbling: windows [0,20) [20,40) [100,120); empty windows are skipped", () => {
    const { sequences, untimed } = timeWindows(parsed, templated, { spanMs: 20, stepMs: 20 })
    expect(unpackStrings(sequences.ids)).toEqual(["t0", "t20", "t100"])
    expect(Array.from(sequences.offsets)).toEqual([0, 2, 5, 6])
    expect(Array.from(sequences.rows)).toEqual([0, 1, 2, 3, 4, 5])
    expect(Array.from(sequences.events)).toEqual([10, 11, 12, 13, 14, 15])
    expect(untimed).toBe(0)
  })

  it("sliding: span 30 every 10", () => {
    const { sequences } = timeWindows(parsed, templated, { spanMs: 30, stepMs: 10 })
    expect(unpackStrings(sequences.ids)).toEqual(["t0", "t10", "t20", "t30", "t80", "t90", "t100"])
    const rows = unpackStrings(sequences.ids).map((_, i) => seqRows(sequences, i))
    expect(rows).toEqual([[0, 1, 2], [1, 2, 3, 4], [2, 3, 4], [3, 4], [5], [5], [5]])
  })

  it("step > span leaves rows between windows out", () => {
    const { sequences } = timeWindows(parsed, templated, { spanMs: 5, stepMs: 20 })
    expect(unpackStrings(sequences.ids)).toEqual(["t0", "t20", "t100"])
    expect(Array.from(sequences.rows)).toEqual([0, 2, 5])
  })

  it("anchors at the earliest time, keeps row order inside a window, and counts untimed rows", () => {
    const { parsed: p, templated: t } = log([50, 10.5, Number.NaN, 30.5, 10.5])
    const { sequences, untimed } = timeWindows(p, t, { spanMs: 20, stepMs: 20 })
    expect(untimed).toBe(1)
    // t0 = 10.5: [10.5, 30.5) holds rows 1 4; [30.5, 50.5) holds rows 3 (30.5) and 0 (50), in row order
    expect(unpackStrings(sequences.ids)).toEqual(["t10", "t30"])
    expect(unpackStrings(sequences.ids).map((_, i) => seqRows(sequences, i))).toEqual([[1, 4], [0, 3]])
    expect(Array.from(sequences.events)).toEqual([11, 14, 10, 13])
  })

  it("rejects spans and steps <= 0 and logs without timestamps, naming the key", () => {
    expect(() => timeWindows(parsed, templated, { spanMs: 0, stepMs: 10 })).toThrow(/time_span_ms must be an integer >= 1/)
    expect(() => timeWindows(parsed, templated, { spanMs: -5, stepMs: 10 })).toThrow(/time_span_ms/)
    expect(() => timeWindows(parsed, templated, { spanMs: 10, stepMs: 0 })).toThrow(/step_ms must be an integer >= 1/)
    expect(() => timeWindows(parsed, templated, { spanMs: 10, stepMs: -1 })).toThrow(/step_ms/)
    const noTime = parsedLog(["a", "b"])
    expect(() => timeWindows(noTime, templatedLog([0, 0]), { spanMs: 10, stepMs: 10 })).toThrow(/time_span_ms needs per-row timestamps/)
    const allNaN = log([Number.NaN, Number.NaN])
    expect(() => timeWindows(allNaN.parsed, allNaN.templated, { spanMs: 10, stepMs: 10 })).toThrow(/time_span_ms needs timestamps/)
  })
})

describe("timeWindows on BGL_2k (epoch seconds of the second column)", () => {
  const { lines, parsed, templated } = bglLog()

  it("one-hour tumbling windows match a bucket count of the raw lines, labels included", () => {
    const secs = lines.map((l) => Number(l.split(" ")[1]))
    const t0 = Math.min(...secs)
    const buckets = new Map<number, Array<number>>()
    secs.forEach((s, i) => {
      const b = Math.floor((s - t0) / 3600)
      buckets.set(b, [...(buckets.get(b) ?? []), i])
    })
    const keys = [...buckets.keys()].sort((a, b) => a - b)
    const { sequences, untimed } = timeWindows(parsed, templated, { spanMs: 3_600_000, stepMs: 3_600_000 })
    expect(untimed).toBe(0)
    expect(unpackStrings(sequences.ids)).toEqual(keys.map((k) => `t${t0 * 1000 + k * 3_600_000}`))
    keys.forEach((k, i) => expect(seqRows(sequences, i)).toEqual(buckets.get(k)))
    const labelled = applyLineLabels(sequences, parsed, { field: "Label", normalValue: "-" })
    const expected = keys.map((k) => buckets.get(k)!.some((i) => !lines[i]!.startsWith("- ")))
    expect(Array.from(labelled.labels, (l) => l === LABEL_ANOMALY)).toEqual(expected)
  })
})
