// The shape cache (issue 21): contents that differ only in their digits reuse one tokenising,
// and mining gives exactly what tokenising every line gives.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { packStrings, unpackStrings } from "../../src/artifacts/Columns.ts"
import { Drain, type DrainOptions } from "../../src/mining/Drain.ts"
import { digitUniformPattern, LogMasker } from "../../src/mining/Masker.ts"
import { minerPreset } from "../../src/presets/miners.ts"
import { loadLoghub, SYSTEMS } from "./loghub.ts"

/** Mine every line with the content cache off (so every line is tokenised or found by shape). */
const mine = (lines: ReadonlyArray<string>, options: DrainOptions, shapeCache: boolean) => {
  const drain = new Drain({ ...options, cacheCapacity: 0 }, { shapeCache })
  const column = packStrings(lines)
  const rows = drain.addColumn(column)
  return { rows: [...drain.templatedLog(rows).templateIds], state: drain.toState() }
}

/** The line with every ASCII digit replaced by one drawn from `digits` (cycled). */
const redigit = (line: string, digits: ReadonlyArray<number>, offset: number): string => {
  let k = offset
  return line.replace(/[0-9]/g, () => String(digits[k++ % digits.length]))
}

describe("digitUniformPattern", () => {
  it("accepts patterns that treat every digit alike", () => {
    for (const p of ["blk_-?\\d+", "(\\d+\\.){3}\\d+(:\\d+)?", "\\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}\\b", "[^0-9]+", "(?<year>\\d{4})", "[+-:]x", "\\w+\\.\\s"]) {
      expect(digitUniformPattern(p), p).toBe(true)
    }
  })
  it("refuses digits as text, partial digit classes and escapes that can name a digit", () => {
    for (const p of ["0x.*?\\s", "[1-9]\\d*", "HTTP/1\\.1", "(\\d)\\1", "\\x30", "\\u0030", "[/-5]", "\\k<a>", "[00-9]"]) {
      expect(digitUniformPattern(p), p).toBe(false)
    }
  })
  it("a miner is digit-uniform only with numeric parametrisation and digit-free splits", () => {
    expect(new LogMasker({ numbersAsParams: true, masks: [{ pattern: "\\d+" }] }).digitUniform).toBe(true)
    expect(new LogMasker({ numbersAsParams: false }).digitUniform).toBe(false)
    expect(new LogMasker({ numbersAsParams: true, splitAfter: ["0"] }).digitUniform).toBe(false)
    expect(new LogMasker({ numbersAsParams: true, masks: [{ pattern: "0x\\w+" }] }).digitUniform).toBe(false)
  })
})

describe("mining through the shape cache", () => {
  it.each(SYSTEMS)("%s: the same templates, ids and state as tokenising every line, numbers redrawn", (system) => {
    const lines = unpackStrings(loadLoghub(system).content)
    const options = minerPreset(system)
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 7 }), (digits) => {
      // The sample, then the sample again with its numbers redrawn (same shapes, other digits).
      const stream = [...lines, ...lines.map((line, i) => redigit(line, digits, i))]
      const on = mine(stream, options, true)
      const off = mine(stream, options, false)
      expect(on.rows).toEqual(off.rows)
      expect(on.state).toEqual(off.state)
    }), { seed: 21, numRuns: 3 })
  })

  // The shape entries' memos (cluster found, template found) under evictions, Drain's own
  // one-template-per-cluster table and text merging.
  it.each([
    ["HDFS", { maxClusters: 4 }],
    ["BGL", { maxClusters: 16 }],
    ["OpenStack", { variableThreshold: 2, templateMerge: "none" }],
    ["Hadoop", { templateMerge: "equal", variableThreshold: 3 }],
    ["Zookeeper", { paramsAreSimilar: false, depth: 3 }]
  ] as const)("%s with %o: the same as tokenising every line", (system, extra) => {
    const lines = unpackStrings(loadLoghub(system).content)
    const options = { ...minerPreset(system), ...extra }
    const stream = [...lines, ...lines.map((line, i) => redigit(line, [3, 1, 4, 1, 5, 9, 2, 6], i)), ...lines.map((line, i) => redigit(line, [2, 7], i))]
    const on = mine(stream, options, true)
    const off = mine(stream, options, false)
    expect(on.rows).toEqual(off.rows)
    expect(on.state).toEqual(off.state)
  })

  it("a mask that names a digit would tokenise one shape two ways: such a miner does not use shapes", () => {
    const masker = new LogMasker({ numbersAsParams: true, masks: [{ pattern: "port 80\\b", replacement: "HTTP" }] })
    expect(masker.tokens("open port 80 now")).toEqual(["open", "HTTP", "now"])
    expect(masker.tokens("open port 81 now")).toEqual(["open", "port", "<*>", "now"])
    expect(masker.digitUniform).toBe(false)
  })
})
