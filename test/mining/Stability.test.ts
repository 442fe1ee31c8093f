import { describe, expect, it } from "vitest"
import { groupingAccuracy, groupingF1, mineTemplates } from "../../src/mining/Drain.ts"
import { drainBaseline, minerPreset } from "../../src/presets/miners.ts"
import type { StringColumn } from "../../src/artifacts/Columns.ts"
import { loadLoghub } from "./loghub.ts"

/** The column repeated `times` times, without building one string per line. */
const replicate = (col: StringColumn, times: number): StringColumn => {
  const n = col.offsets.length - 1
  const bytes = col.offsets[n]!
  const blob = new Uint8Array(bytes * times)
  const offsets = new Int32Array(n * times + 1)
  for (let r = 0; r < times; r++) {
    blob.set(col.blob.subarray(0, bytes), r * bytes)
    for (let i = 0; i < n; i++) offsets[r * n + i] = r * bytes + col.offsets[i]!
  }
  offsets[n * times] = bytes * times
  return { blob, offsets }
}

describe("no cluster explosion on long streams", () => {
  for (const system of ["HDFS", "BGL"] as const) {
    it(`${system}_2k replicated to 150,000 lines: same templates, same grouping, same GA and FGA`, () => {
      const sample = loadLoghub(system)
      const small = mineTemplates(sample.content, minerPreset(system))
      const times = 75
      const stream = mineTemplates(replicate(sample.content, times), minerPreset(system))
      expect(stream.templateIds.length).toBe(150_000)
      expect(stream.templates.map((t) => t.text)).toEqual(small.templates.map((t) => t.text))
      expect(stream.templates.map((t) => t.count)).toEqual(small.templates.map((t) => t.count * times))
      // The original lines are grouped exactly as in the 2k run, and every replica like its original.
      expect(Array.from(stream.templateIds.subarray(0, 2000))).toEqual(Array.from(small.templateIds))
      let moved = 0
      for (let i = 2000; i < stream.templateIds.length; i++) if (stream.templateIds[i] !== stream.templateIds[i % 2000]) moved++
      expect(moved).toBe(0)
      const truth = Array.from({ length: 150_000 }, (_, i) => sample.eventIds[i % 2000]!)
      expect(groupingAccuracy(stream.templateIds, truth)).toBe(groupingAccuracy(small.templateIds, sample.eventIds))
      expect(groupingF1(stream.templateIds, truth)).toBe(groupingF1(small.templateIds, sample.eventIds))
    })
  }

  it("numbers that vary along the stream (synthetic: digits changed per copy) keep every 2k template", () => {
    // Copy c changes the last three digits of every run of 3+ digits (length kept, so dates and
    // IPs keep their shape): messages with numbers are new in every copy and miss the cache.
    const vary = (text: string, c: number) =>
      text.replace(/\d{3,}/g, (d) => d.slice(0, -3) + String((Number(d.slice(-3)) + c) % 1000).padStart(3, "0"))
    const encoder = new TextEncoder()
    const decoder = new TextDecoder()
    for (const system of ["HDFS", "BGL"] as const) {
      const sample = loadLoghub(system)
      const n = sample.content.offsets.length - 1
      const texts: Array<string> = []
      for (let i = 0; i < n; i++) texts.push(decoder.decode(sample.content.blob.subarray(sample.content.offsets[i]!, sample.content.offsets[i + 1]!)))
      const parts: Array<Uint8Array> = []
      const offsets = [0]
      for (let c = 0; c < 20; c++) {
        for (const t of texts) {
          const b = encoder.encode(c === 0 ? t : vary(t, c))
          parts.push(b)
          offsets.push(offsets.at(-1)! + b.length)
        }
      }
      const blob = new Uint8Array(offsets.at(-1)!)
      parts.forEach((b, i) => blob.set(b, offsets[i]!))
      const small = mineTemplates(sample.content, minerPreset(system))
      const stream = mineTemplates({ blob, offsets: Int32Array.from(offsets) }, minerPreset(system))
      const live = (ts: ReadonlyArray<{ text: string; count: number }>) => ts.filter((t) => t.count > 0).map((t) => t.text).sort()
      expect({ system, templates: live(stream.templates) }).toEqual({ system, templates: live(small.templates) })
    }
  })

  it("the same stream without the cache still keeps the 2k template count (the similarity fix alone)", () => {
    for (const system of ["HDFS", "BGL"] as const) {
      const sample = loadLoghub(system)
      const opts = { ...minerPreset(system), cacheCapacity: 0 }
      const small = mineTemplates(sample.content, opts)
      const stream = mineTemplates(replicate(sample.content, 25), opts)
      expect({ system, templates: stream.templates.length }).toEqual({ system, templates: small.templates.length })
    }
  })

  it("contrast: Drain with logparser's HDFS settings keeps opening clusters on the same stream", () => {
    const sample = loadLoghub("HDFS")
    const small = mineTemplates(sample.content, drainBaseline("HDFS"))
    const stream = mineTemplates(replicate(sample.content, 25), drainBaseline("HDFS"))
    expect(small.templates.length).toBe(17)
    expect(stream.templates.length).toBeGreaterThan(2 * small.templates.length) // measured 89 (17 on the 2k sample)
  })
})
