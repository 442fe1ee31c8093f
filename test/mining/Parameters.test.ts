import { describe, expect, it } from "vitest"
import { mineTemplates, mineTemplatesWithState } from "../../src/mining/Drain.ts"
import { extractParameterColumn, extractParameters, ParameterExtractor } from "../../src/mining/Parameters.ts"
import { minerPreset } from "../../src/presets/miners.ts"
import { stringAt, unpackStrings } from "../../src/artifacts/Columns.ts"
import { loadLoghub, SYSTEMS } from "./loghub.ts"

const values = (template: string, content: string, system: string): Array<string> | undefined =>
  extractParameters(template, content, minerPreset(system))?.map((p) => p.value)

describe("extractParameters on real lines", () => {
  it("HDFS: masked block ids, IP:port and numbers", () => {
    expect(values("PacketResponder <*> for block <*> terminating", "PacketResponder 1 for block blk_38865049064139660 terminating", "HDFS")).toEqual([
      "1",
      "blk_38865049064139660"
    ])
    expect(
      values(
        "BLOCK* NameSystem.addStoredBlock: blockMap updated: <*> is added to <*> size <*>",
        "BLOCK* NameSystem.addStoredBlock: blockMap updated: 10.251.73.220:50010 is added to blk_7128370237687728475 size 67108864",
        "HDFS"
      )
    ).toEqual(["10.251.73.220:50010", "blk_7128370237687728475", "67108864"])
  })

  it("HDFS: a collapsed <*> takes the whole variable-length list", () => {
    const line = "BLOCK* ask 10.250.17.177:50010 to delete  blk_-8570780307468499817 blk_-9122557405432088649 blk_-4393063808227796056"
    expect(values("BLOCK* ask <*> to delete <*>", line, "HDFS")).toEqual([
      "10.250.17.177:50010",
      "blk_-8570780307468499817 blk_-9122557405432088649 blk_-4393063808227796056"
    ])
  })

  it("Linux: Brain splits glue back (uid=0) and a named mask reports its name", () => {
    const template = "authentication failure; logname= uid= <*> euid= <*> tty= NODEVssh ruser= rhost= <*>"
    expect(values(template, "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 ", "Linux")).toEqual(["0", "0", "218.188.2.4"])
    expect(extractParameters("connection from <*> at <:DATE:>", "connection from 210.223.97.117 () at Wed Jun 29 14:44:35 2005 ", minerPreset("Linux"))).toEqual([
      { value: "210.223.97.117 ()", mask: "*" },
      { value: "Wed Jun 29 14:44:35 2005", mask: "DATE" }
    ])
  })

  it("Proxifier: a deleting mask is applied to the line first", () => {
    const template = "<*> close, <*> bytes sent, <*> bytes received, lifetime <*>"
    const line = "proxy.cse.cuhk.edu.hk:5070 close, 451 bytes sent, 18846 bytes (18.4 KB) received, lifetime <1 sec"
    expect(values(template, line, "Proxifier")).toEqual(["proxy.cse.cuhk.edu.hk:5070", "451", "18846", "<1 sec"])
  })

  it("exact named masks only match their own pattern; a non-matching template gives undefined", () => {
    const opts = { masks: [{ name: "NUM", pattern: "\\d+" }] }
    expect(extractParameters("took <:NUM:> ms", "took 12 ms", opts)).toEqual([{ value: "12", mask: "NUM" }])
    expect(extractParameters("took <:NUM:> ms", "took many ms", opts)).toBeUndefined()
    expect(new ParameterExtractor(opts, false).extract("took <:NUM:> ms", "took many ms")).toEqual([{ value: "many", mask: "NUM" }])
    expect(extractParameters("user <*> logged in", "user bob logged out")).toBeUndefined()
    expect(extractParameters("no params here", "no  params here")).toEqual([])
  })
})

describe("extractParameterColumn", () => {
  it("extracts every line of all 16 samples with the templates mined from them", () => {
    for (const system of SYSTEMS) {
      const sample = loadLoghub(system)
      const opts = minerPreset(system)
      const log = mineTemplates(sample.content, opts)
      const params = extractParameterColumn(sample.content, log, opts)
      expect({ system, unmatched: params.unmatched }).toEqual({ system, unmatched: 0 })
      expect(params.offsets.length).toBe(2001)
      const all = unpackStrings(params.values)
      expect(all.length).toBe(params.offsets[2000])
      // Spot check against the one-line API.
      for (const i of [0, 999, 1999]) {
        const one = extractParameters(log.templates[log.templateIds[i]!]!.text, stringAt(sample.content, i), opts)!.map((p) => p.value)
        expect(all.slice(params.offsets[i]!, params.offsets[i + 1]!)).toEqual(one)
      }
    }
  })
})

describe("ParameterExtractor.split", () => {
  it("cuts a line into literals and values; the token-aligned shortcut agrees with the regex on the 16 samples", () => {
    const x = new ParameterExtractor()
    expect(x.split("took <*> ms from <*>", "took  12 ms from a b")).toEqual({ literals: ["took  ", " ms from ", ""], values: ["12", "a b"] })
    expect(x.split("took <*> ms", "something else")).toBeUndefined()
    expect(new ParameterExtractor({ splitAfter: ["="] }).split("a= <*> b", "a=1 b")).toEqual({ literals: ["a=", " b"], values: ["1"] })
    const differ: Array<string> = []
    for (const system of SYSTEMS) {
      const sample = loadLoghub(system)
      const options = minerPreset(system)
      const { log } = mineTemplatesWithState(sample.content, options)
      const shortcut = new ParameterExtractor(options)
      // An extra delimiter that never occurs turns the shortcut off: every line takes the regex.
      const regex = new ParameterExtractor({ ...options, extraDelimiters: ["\u0001"] })
      const rewrites = (options.masks ?? []).filter((m) => m.replacement !== undefined)
      unpackStrings(sample.content).forEach((line, i) => {
        const t = log.templates[log.templateIds[i]!]!.text
        const a = shortcut.split(t, line)
        const b = regex.split(t, line)
        // Either cut gives back the line (as the miner saw it, after masks that rewrite it).
        let seen = line
        for (const m of rewrites) seen = seen.replace(new RegExp(m.pattern, "g"), m.replacement!)
        expect(a === undefined ? undefined : a.literals.map((l, k) => l + (a.values[k] ?? "")).join(""), `${system} line ${i + 1}`).toBe(b === undefined ? undefined : seen)
        if (JSON.stringify(a) !== JSON.stringify(b)) differ.push(`${system} ${i + 1}`)
      })
    }
    // One line cuts otherwise: BGL's "L3.........0", which the shortcut cuts where the miner split
    // it (after each ".."), the lazy regex at the shortest value.
    expect(differ).toEqual(["BGL 1951"])
  })
})
