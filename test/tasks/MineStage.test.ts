// Stage `mine`: a template id per parsed row (Drain, or identity), the template table and the miner state.
import { Schema } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { packStrings } from "../../src/artifacts/Columns.ts"
import type { ParsedLog } from "../../src/artifacts/Log.ts"
import type { MinedLog } from "../../src/mining/MinerState.ts"
import { minerPreset } from "../../src/presets/miners.ts"
import { drainOptions, mineStage } from "../../src/tasks/MineStage.ts"
import { parseStage } from "../../src/tasks/ParseStage.ts"
import type { StageContext } from "../../src/tasks/Task.ts"
import { dataRoot } from "../cli/helpers.ts"

const decode = (raw: unknown) => Schema.decodeUnknownSync(mineStage.params)(raw)
const ctx: StageContext = { dataRoot: os.tmpdir(), sourcesDir: os.tmpdir(), progress: () => {} }

/** A ParsedLog with one row per content string and no header fields. */
const parsedOf = (content: ReadonlyArray<string>): ParsedLog => ({
  rawLines: content.length,
  lineNo: Int32Array.from(content, (_, i) => i + 1),
  content: packStrings(content),
  fields: [],
  unparsed: { count: 0, samples: [] }
})

const mine = (raw: unknown, content: ReadonlyArray<string>) => mineStage.run(decode(raw), { parsed: parsedOf(content) }, ctx) as MinedLog

/** Whether two labelings of the same rows induce the same partition. */
const samePartition = (a: ArrayLike<unknown>, b: ArrayLike<unknown>): boolean => {
  for (let i = 0; i < a.length; i++) for (let j = 0; j < a.length; j++) if ((a[i] === a[j]) !== (b[i] === b[j])) return false
  return true
}

const CONTENT = [
  "Deleting block 101 file a",
  "Deleting block 202 file a",
  "Served block 7 to host",
  "Deleting block 303 file a",
  "Served block 8 to host"
]

describe("mine stage run (drain)", () => {
  const out = mine({}, CONTENT)

  it("gives equal template ids to lines differing only in a number, and different ids otherwise", () => {
    const shape = CONTENT.map((c) => c.replace(/\d+/g, "#"))
    expect(out.templateIds.length).toBe(5)
    expect(samePartition(out.templateIds, shape)).toBe(true)
    expect(out.templateIds[0]).toBe(out.templateIds[1])
    expect(out.templateIds[0]).toBe(out.templateIds[3])
    expect(out.templateIds[2]).toBe(out.templateIds[4])
    expect(out.templateIds[0]).not.toBe(out.templateIds[2])
  })

  it("lists each template once with the number as a wildcard and its row count", () => {
    expect(out.templates).toHaveLength(2)
    const byId = new Map(out.templates.map((t) => [t.id, t]))
    expect(byId.get(out.templateIds[0]!)).toMatchObject({ text: "Deleting block <*> file a", count: 3 })
    expect(byId.get(out.templateIds[2]!)).toMatchObject({ text: "Served block <*> to host", count: 2 })
    expect(out.state).toBeDefined()
  })

  it("summarizes the params, the number of templates and of lines", () => {
    const params = decode({ sim_th: 0.5 })
    expect(mineStage.summarize!(mine({ sim_th: 0.5 }, CONTENT), params)).toEqual({ miner: { algorithm: "drain", sim_th: 0.5 }, templates: 2, lines: 5 })
  })
})

describe("mine stage run (identity)", () => {
  it("makes every distinct content its own template and keeps no miner state", () => {
    const content = ["open a", "open b", "open a", "close a"]
    const out = mine({ algorithm: "identity" }, content)
    expect(samePartition(out.templateIds, content)).toBe(true)
    expect(out.templates).toHaveLength(3)
    for (const t of out.templates) {
      expect(t.count).toBe(content.filter((c) => c === t.text).length)
      expect(content[out.templateIds.indexOf(t.id)]).toBe(t.text)
    }
    expect(out.state).toBeUndefined()
    expect(mineStage.summarize!(out, decode({ algorithm: "identity" }))).toEqual({ miner: { algorithm: "identity" }, templates: 3, lines: 4 })
  })
})

describe("mine stage on loghub-2k/HDFS/HDFS_2k.log with the HDFS preset", () => {
  it("groups the 2,000 lines exactly as LogHub's ground-truth event ids do (14 events)", () => {
    const root = dataRoot()
    const rel = "loghub-2k/HDFS/HDFS_2k.log"
    const bytes = fs.readFileSync(path.join(root, rel))
    const source = { path: rel, root: "data" as const, sha256: createHash("sha256").update(bytes).digest("hex"), bytes: bytes.length }
    const parsed = parseStage.run(Schema.decodeUnknownSync(parseStage.params)({ preset: "HDFS" }), { source }, { ...ctx, dataRoot: root }) as ParsedLog
    const out = mineStage.run(decode({ preset: "HDFS" }), { parsed }, ctx) as MinedLog
    // The structured CSV: one row per line; the event id is the last `,E<n>,` cell before the template.
    const truth = fs.readFileSync(path.join(root, "loghub-2k/HDFS/HDFS_2k.log_structured.csv"), "utf8")
      .split("\n").slice(1).filter((l) => l.trim() !== "")
      .map((l) => [...l.matchAll(/,(E\d+),/g)].at(-1)![1]!)
    expect(truth).toHaveLength(2000)
    expect(new Set(truth).size).toBe(14)
    expect(out.templates).toHaveLength(14)
    expect(samePartition(out.templateIds, truth)).toBe(true)
    expect(out.templates.reduce((a, t) => a + t.count, 0)).toBe(2000)
  })
})

describe("mine stage params", () => {
  it("defaults algorithm to drain and adds nothing else", () => {
    expect(decode({})).toEqual({ algorithm: "drain" })
    expect(decode({ preset: "HDFS", sim_th: 0.7 })).toEqual({ algorithm: "drain", preset: "HDFS", sim_th: 0.7 })
  })

  it("starts from the preset's Drain options and lets keys given beside it override them", () => {
    const preset = minerPreset("HDFS")
    expect(drainOptions(decode({ preset: "HDFS" }))).toEqual(preset)
    expect(drainOptions(decode({ preset: "HDFS", sim_th: 0.9, depth: 6 }))).toEqual({ ...preset, simTh: 0.9, depth: 6 })
    expect(drainOptions(decode({ sim_th: 0.3 }))).toEqual({ simTh: 0.3 })
  })

  it("rejects an unknown key, naming it", () => {
    expect(() => decode({ sim_thx: 0.4 })).toThrow(/unknown key "sim_thx"/)
  })

  it("rejects bad values naming their key", () => {
    expect(() => decode({ sim_th: 1.5 })).toThrow(/\["sim_th"\]/)
    expect(() => decode({ depth: 2 })).toThrow(/\["depth"\]/)
    expect(() => decode({ algorithm: "spell" })).toThrow(/\["algorithm"\]/)
    expect(() => decode({ preset: "NoSuchSystem" })).toThrow(/unknown preset "NoSuchSystem"[\s\S]*\["preset"\]/)
    expect(() => decode({ masks: [{ pattern: "x*" }] })).toThrow(/matches the empty string[\s\S]*\["masks"\]\[0\]\["pattern"\]/)
    expect(() => decode({ masks: [{ pattern: "(" }] })).toThrow(/invalid regular expression[\s\S]*\["masks"\]\[0\]\["pattern"\]/)
  })
})
