import { describe, expect, it } from "vitest"
import { mineTemplatesWithState } from "../../src/mining/Drain.ts"
import { matchTemplates, TemplateMatcher } from "../../src/mining/Match.ts"
import { minerPreset } from "../../src/presets/miners.ts"
import { packStrings, unpackStrings } from "../../src/artifacts/Columns.ts"
import { compileFormat, parseLog } from "../../src/parsing/LogFormat.ts"
import { LOGHUB_FORMATS, loadLoghub, readData, SYSTEMS } from "./loghub.ts"

const deepFreeze = <T>(v: T): T => {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v)
    for (const x of Object.values(v)) deepFreeze(x)
  }
  return v
}

describe("matchTemplates", () => {
  it("never changes the model and reports lines no template covers as unseen", () => {
    const hdfs = loadLoghub("HDFS")
    const { state } = mineTemplatesWithState(hdfs.content, minerPreset("HDFS"))
    const snapshot = JSON.stringify(state)
    deepFreeze(state) // any write into the state would throw
    const foreign = unpackStrings(loadLoghub("BGL").content).slice(0, 50)
    const lines = [...unpackStrings(hdfs.content).slice(0, 100), ...foreign]
    const result = matchTemplates(packStrings(lines), state)
    expect(JSON.stringify(state)).toBe(snapshot)
    expect(result.unseen).toBe(50)
    expect(Array.from(result.templateIds.slice(100))).toEqual(new Array(50).fill(-1))
    expect(result.templateIds.slice(0, 100).every((t) => t >= 0)).toBe(true)
  })

  it("matches the real 20k-line HDFS sample against the 2k model: only new message types are unseen", () => {
    const { state } = mineTemplatesWithState(loadLoghub("HDFS").content, minerPreset("HDFS"))
    const log = parseLog(readData("hdfs/raw/HDFS_20000.log"), compileFormat(LOGHUB_FORMATS.HDFS))
    const result = matchTemplates(log.content, state)
    const contents = unpackStrings(log.content)
    const unseen = contents.filter((_, i) => result.templateIds[i] === -1)
    expect(unseen.length).toBe(result.unseen)
    // Read from the file: 4 "...:Transmitted block" lines, one writeBlock exception, one PacketResponder exception.
    expect(unseen.length).toBe(6)
    expect(unseen.filter((c) => c.includes(":Transmitted block ")).length).toBe(4)
    // Lists longer than any seen in training still match: <*> stands for a run under "param-runs".
    const i = contents.findIndex((c) => c.startsWith("BLOCK* ask ") && c.includes("to replicate") && c.trim().split(/\s+/).length > 8)
    expect(i).toBeGreaterThanOrEqual(0)
    expect(state.templates[result.templateIds[i]!]!.text).toBe("BLOCK* ask <*> to replicate <*> to datanode(s) <*>")
  })

  it("keyed by shape (digit-uniform masks), the cache gives every line the template the content-keyed cache gives, on all 16 LogHub samples and the HDFS 20k", () => {
    let shaped = 0
    for (const system of SYSTEMS) {
      const log = loadLoghub(system)
      const { state } = mineTemplatesWithState(log.content, minerPreset(system))
      // Numbers redrawn: the same shapes with other digits, and lines the 2k model never saw.
      const redrawn = unpackStrings(log.content).map((c, i) => c.replace(/\d/g, (d) => String((Number(d) + i) % 10)))
      const column = packStrings([...unpackStrings(log.content), ...redrawn])
      const byShape = new TemplateMatcher(state)
      const byContent = new TemplateMatcher(state, { shapes: false })
      const a = matchTemplates(column, state, byShape)
      const b = matchTemplates(column, state, byContent)
      expect(Array.from(a.templateIds), system).toEqual(Array.from(b.templateIds))
      if ((byShape as unknown as { byShape: boolean }).byShape) shaped++
    }
    expect(shaped).toBeGreaterThan(8) // most presets are digit-uniform
    const { state } = mineTemplatesWithState(loadLoghub("HDFS").content, minerPreset("HDFS"))
    const hdfs = parseLog(readData("hdfs/raw/HDFS_20000.log"), compileFormat(LOGHUB_FORMATS.HDFS)).content
    expect(Array.from(matchTemplates(hdfs, state).templateIds)).toEqual(Array.from(matchTemplates(hdfs, state, new TemplateMatcher(state, { shapes: false })).templateIds))
  })

  it("prefers the most specific covering template", () => {
    // "a x y" founds its own branch; the digit lines share the <*> branch and merge to "<*> x y".
    const { state } = mineTemplatesWithState(packStrings(["a x y", "1 x y", "2 x y"]), {})
    expect(state.templates.map((t) => t.text)).toEqual(["a x y", "<*> x y"])
    const matcher = new TemplateMatcher(state)
    expect(matcher.match("a x y")).toBe(0) // both cover it; "a x y" has more constant tokens
    expect(matcher.match("b x y")).toBe(1)
    expect(matcher.match("b x z")).toBe(-1)
  })
})
