import { describe, expect, it } from "vitest"
import { decodeValue, encodeValue } from "../../src/cache/Codec.ts"
import { Drain, fromState, mineTemplates, mineTemplatesWithState, toState } from "../../src/mining/Drain.ts"
import { matchTemplates } from "../../src/mining/Match.ts"
import { checkState } from "../../src/mining/MinerState.ts"
import { minerPreset } from "../../src/presets/miners.ts"
import { packStrings, unpackStrings } from "../../src/artifacts/Columns.ts"
import { loadLoghub, SYSTEMS } from "./loghub.ts"

describe("MinerState", () => {
  it("survives the artifact Codec and gives identical matches on all 16 systems", () => {
    for (const system of SYSTEMS) {
      const sample = loadLoghub(system)
      const { log, state } = mineTemplatesWithState(sample.content, minerPreset(system))
      const decoded = decodeValue(encodeValue(state))
      expect(decoded).toEqual(state)
      const before = matchTemplates(sample.content, state)
      const after = matchTemplates(sample.content, checkState(decoded))
      expect(Array.from(after.templateIds)).toEqual(Array.from(before.templateIds))
      // Every training line is covered by its own template: matching reproduces the mined ids.
      expect({ system, unseen: before.unseen }).toEqual({ system, unseen: 0 })
      expect(Array.from(before.templateIds)).toEqual(Array.from(log.templateIds))
      // The state holds the miner's texts; the stage's table adds each template's exact text.
      expect(state.templates).toEqual(log.templates.map(({ id, text, count }) => ({ id, text, count })))
      expect(log.templates.every((t) => typeof t.exact === "string")).toBe(true)
    }
  })

  it("resumes mining exactly where it stopped (JSON round trip mid-stream)", () => {
    for (const system of ["HDFS", "BGL", "Linux", "Mac"] as const) {
      const sample = loadLoghub(system)
      const lines = unpackStrings(sample.content)
      const opts = minerPreset(system)
      const whole = mineTemplates(sample.content, opts)
      const first = new Drain(opts)
      const rows1 = first.addColumn(packStrings(lines.slice(0, 1000)))
      const resumed = fromState(JSON.parse(JSON.stringify(toState(first))))
      const rows2 = resumed.addColumn(packStrings(lines.slice(1000)))
      const log = resumed.templatedLog(Int32Array.from([...rows1, ...rows2]))
      expect(log.templates).toEqual(whole.templates)
      expect(Array.from(log.templateIds)).toEqual(Array.from(whole.templateIds))
    }
  })

  it("keeps LRU order and evicted clusters across a round trip", () => {
    const drain = new Drain({ maxClusters: 2 })
    for (const l of ["alpha one two", "beta three four", "alpha one two", "gamma five six"]) drain.addLogMessage(l)
    const copy = fromState(JSON.parse(JSON.stringify(toState(drain))))
    expect(copy.clusters()).toEqual(drain.clusters())
    // Both evict cluster 0 next (the least recently used) and create cluster 3.
    expect(copy.addLogMessage("beta three four")).toEqual(drain.addLogMessage("beta three four"))
    expect(copy.clusters()).toEqual(drain.clusters())
    expect(toState(copy)).toEqual(toState(drain))
  })

  it("rejects what is not a miner state", () => {
    expect(() => fromState(null)).toThrow(/not a logflow miner state/)
    expect(() => fromState({ kind: "logflow.miner", version: 2 })).toThrow(/unsupported version 2/)
    const state = toState(new Drain())
    expect(() => fromState({ ...state, tree: undefined })).toThrow(/missing tree/)
    expect(() => fromState({ ...state, tree: { keys: ["", "3"], children: [1, 0], clusterIds: [[], [7]] } })).toThrow(/unknown cluster 7/)
    expect(() => fromState({ ...state, options: { ...state.options, depth: 1 } })).toThrow(/depth must be an integer >= 3/)
  })
})
