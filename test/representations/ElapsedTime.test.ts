import { describe, expect, it } from "vitest"
import { elapsedTimes } from "../../src/representations/ElapsedTime.ts"
import { fixedWindows } from "../../src/sequences/FixedWindow.ts"
import { bglLog, parsedLog } from "../sequences/fixtures.ts"
import { eventSequences } from "./fixtures.ts"

describe("elapsedTimes", () => {
  it("differences within each sequence, 0 first, NaN where a time is missing", () => {
    const parsed = parsedLog(["a", "b", "c", "d", "e"], {}, [1000, 1500, Number.NaN, 1400, 3000])
    const seqs = eventSequences([[0, 0, 0], [0, 0], [0], [0]], [[0, 1, 3], [2, 4], [4], [2]])
    expect(Array.from(elapsedTimes(seqs, parsed))).toEqual([0, 500, -100, Number.NaN, Number.NaN, 0, Number.NaN])
  })

  it("matches the raw BGL_2k epoch seconds in 20-line windows", () => {
    const { lines, parsed, templated } = bglLog()
    const seqs = fixedWindows(parsed, templated, { size: 20, step: 20 })
    const out = elapsedTimes(seqs, parsed)
    const secs = lines.map((l) => Number(l.split(" ")[1]))
    for (let p = 0; p < 2000; p++) expect(out[p]).toBe(p % 20 === 0 ? 0 : (secs[p]! - secs[p - 1]!) * 1000)
  })

  it("needs timestamps", () => {
    expect(() => elapsedTimes(eventSequences([[0]]), parsedLog(["a"]))).toThrow(/elapsed_time .* needs per-row timestamps/)
  })
})
