import * as fs from "node:fs"
import { describe, expect, it } from "vitest"
import { compileFormat, parseLog } from "../../src/parsing/LogFormat.ts"
import { compileTimestamp } from "../../src/parsing/Timestamp.ts"
import { getPreset, PRESET_NAMES, presets } from "../../src/presets/Presets.ts"
import { dictValueAt, unpackStrings } from "../../src/artifacts/Columns.ts"
import { fieldOf, loghubLog, loghubStructured } from "./helpers.ts"

const SIXTEEN = [
  "Android", "Apache", "BGL", "HDFS", "HPC", "Hadoop", "HealthApp", "Linux",
  "Mac", "OpenSSH", "OpenStack", "Proxifier", "Spark", "Thunderbird", "Windows", "Zookeeper"
]

const parsePreset = (system: string) => {
  const p = getPreset(system)
  return parseLog(fs.readFileSync(loghubLog(system)), compileFormat(p.format), { ...p.line, ...(p.timestamp === undefined ? {} : { timestamp: p.timestamp }) })
}

describe("presets", () => {
  it("has exactly the 16 LogHub systems, each with a valid format, timestamp and miner", () => {
    expect([...PRESET_NAMES].sort()).toEqual(SIXTEEN)
    expect(Object.keys(presets).sort()).toEqual(SIXTEEN)
    for (const name of PRESET_NAMES) {
      const p = presets[name]
      expect(p.name).toBe(name)
      expect(() => compileFormat(p.format)).not.toThrow()
      if (p.timestamp !== undefined) expect(() => compileTimestamp(p.timestamp!)).not.toThrow()
      expect(p.miner.simTh).toBeGreaterThan(0)
      expect(p.miner.depth).toBeGreaterThanOrEqual(3)
    }
  })

  it("getPreset matches names case-insensitively and lists the known names for an unknown one", () => {
    expect(getPreset("hdfs").name).toBe("HDFS")
    expect(getPreset(" OpenStack ").name).toBe("OpenStack")
    expect(getPreset("THUNDERBIRD").name).toBe("Thunderbird")
    expect(() => getPreset("hdfs2")).toThrow(/Unknown preset "hdfs2"; the presets are: HDFS, Hadoop, .*Mac/)
    expect(() => getPreset("")).toThrow(/Unknown preset ""/)
  })

  for (const system of SIXTEEN) {
    it(`${system}: parses its loghub-2k file with 0 unparsed lines and every field equal to the structured CSV`, () => {
      const log = parsePreset(system)
      const { header, rows } = loghubStructured(system)
      expect(rows.length).toBe(2000)
      expect(log.rawLines).toBe(2000)
      expect(log.unparsed.count).toBe(0)
      // The CSV's columns between LineId and EventId are the format's fields, in order.
      expect(header.slice(1, -2)).toEqual(compileFormat(getPreset(system).format).fieldNames)
      const contents = unpackStrings(log.content)
      rows.forEach((r, i) => {
        expect(log.lineNo[i]).toBe(Number(r[0]))
        expect(contents[i]).toBe(r[header.indexOf("Content")])
        for (const f of log.fields) expect(fieldOf(log, f.name, i)).toBe(r[header.indexOf(f.name)])
      })
      // Every line has a time.
      expect(log.timestamps).toBeDefined()
      expect(log.timestamps!.length).toBe(2000)
      expect(Array.from(log.timestamps!).filter(Number.isNaN).length).toBe(0)
    })
  }

  it("builds timestamps matching hand-read values of lines 1 and 1000 (UTC)", () => {
    // [line 1, line 1000], read off the raw files by hand.
    const expected: Record<string, [number, number]> = {
      HDFS: [Date.UTC(2008, 10, 9, 20, 36, 15), Date.UTC(2008, 10, 10, 22, 6, 56)],
      Hadoop: [Date.UTC(2015, 9, 18, 18, 1, 47, 978), Date.UTC(2015, 9, 18, 18, 6, 21, 76)],
      Spark: [Date.UTC(2017, 5, 9, 20, 10, 40), Date.UTC(2017, 5, 9, 20, 10, 58)],
      Zookeeper: [Date.UTC(2015, 6, 29, 17, 41, 44, 747), Date.UTC(2015, 6, 29, 19, 29, 27, 298)],
      BGL: [1117838570_000, 1121598278_000],
      HPC: [1077804742_000, 1105776193_000],
      Thunderbird: [1131566461_000, 1131566948_000],
      Windows: [Date.UTC(2016, 8, 28, 4, 30, 30), Date.UTC(2016, 8, 29, 0, 1, 46)],
      Linux: [Date.UTC(2005, 5, 14, 15, 16, 1), Date.UTC(2005, 6, 9, 12, 16, 51)],
      Android: [Date.UTC(2000, 2, 17, 16, 13, 38, 811), Date.UTC(2000, 2, 17, 16, 15, 18, 834)],
      HealthApp: [Date.UTC(2017, 11, 23, 22, 15, 29, 606), Date.UTC(2017, 11, 23, 22, 31, 59, 725)],
      Apache: [Date.UTC(2005, 11, 4, 4, 47, 44), Date.UTC(2005, 11, 4, 20, 34, 20)],
      // The sample runs from 10.30 to 07.26: July is read as the next year.
      Proxifier: [Date.UTC(2000, 9, 30, 16, 49, 6), Date.UTC(2001, 6, 26, 13, 31, 9)],
      OpenSSH: [Date.UTC(2000, 11, 10, 6, 55, 46), Date.UTC(2000, 11, 10, 10, 14, 13)],
      OpenStack: [Date.UTC(2017, 4, 16, 0, 0, 0, 8), Date.UTC(2017, 4, 16, 0, 7, 25, 394)],
      Mac: [Date.UTC(2017, 6, 1, 9, 0, 55), Date.UTC(2017, 6, 4, 19, 42, 58)]
    }
    expect(Object.keys(expected).sort()).toEqual(SIXTEEN)
    for (const system of SIXTEEN) {
      const ts = parsePreset(system).timestamps!
      expect([ts[0], ts[999]], system).toEqual(expected[system])
    }
  })

  it("HealthApp's unpadded seconds and milliseconds are read as numbers, not fractions", () => {
    const log = parsePreset("HealthApp")
    const times = log.fields.find((f) => f.name === "Time")!.column
    const row = Array.from(log.lineNo.keys()).find((i) => dictValueAt(times, i) === "20171223-22:32:0:95")
    expect(row).toBeDefined()
    expect(log.timestamps![row!]).toBe(Date.UTC(2017, 11, 23, 22, 32, 0, 95))
  })

  it("extracts HDFS block ids and OpenStack instance ids from real lines; BGL, HPC and Thunderbird name a node field", () => {
    const hdfs = getPreset("HDFS").entity!
    expect(hdfs.kind).toBe("pattern")
    const blockIds = (text: string) => hdfs.kind === "pattern" ? [...text.matchAll(new RegExp(hdfs.pattern, "g"))].map((m) => m[0]) : []
    expect(blockIds("PacketResponder 1 for block blk_38865049064139660 terminating")).toEqual(["blk_38865049064139660"])
    expect(blockIds("BLOCK* NameSystem.delete: blk_-8353423262983821010 is added to invalidSet of 10.251.67.211:50010"))
      .toEqual(["blk_-8353423262983821010"])

    const os = getPreset("OpenStack").entity!
    const instances = (text: string) => os.kind === "pattern" ? [...text.matchAll(new RegExp(os.pattern, "g"))].map((m) => m[0]) : []
    const { header, rows } = loghubStructured("OpenStack")
    const content = rows.map((r) => r[header.indexOf("Content")]!)
    const claim = content.find((c) => c.startsWith("[instance: ") && c.includes("Attempting claim"))!
    expect(instances(claim)).toEqual([claim.slice("[instance: ".length, "[instance: ".length + 36)])
    const get = content.find((c) => /"GET \/v2\/\w+\/servers\/[0-9a-f-]{36} /.test(c))!
    expect(instances(get)).toEqual([/\/servers\/([0-9a-f-]{36})/.exec(get)![1]])
    // Request ids live in the ADDR field, never in Content; a server list call names no instance.
    expect(instances("10.11.10.1 \"GET /v2/54fadb412c4e40cdbaed9335e4c35a9e/servers/detail HTTP/1.1\" status: 200 len: 1893 time: 0.2477829")).toEqual([])
    // Every [instance: ...] line of the sample yields exactly its instance.
    const tagged = content.filter((c) => c.startsWith("[instance: "))
    expect(tagged.length).toBeGreaterThan(300)
    for (const c of tagged) expect(instances(c)[0]).toBe(c.slice(11, 47))

    expect(getPreset("BGL").entity).toMatchObject({ kind: "field", field: "Node" })
    expect(getPreset("HPC").entity).toMatchObject({ kind: "field", field: "Node" })
    expect(getPreset("Thunderbird").entity).toMatchObject({ kind: "field", field: "User" })
    const bgl = parsePreset("BGL")
    expect(fieldOf(bgl, "Node", 0)).toBe("R02-M1-N0-C:J12-U11")
  })

  it("BGL and Thunderbird read per-line labels from Label, '-' normal (143 BGL alerts, 0 Thunderbird)", () => {
    for (const [system, alerts] of [["BGL", 143], ["Thunderbird", 0]] as const) {
      const rule = getPreset(system).labels!
      expect(rule).toEqual({ field: "Label", normalValue: "-" })
      const log = parsePreset(system)
      const labels = Array.from({ length: log.lineNo.length }, (_, i) => fieldOf(log, rule.field, i))
      expect(labels.filter((l) => l !== rule.normalValue).length).toBe(alerts)
    }
    const withLabels = PRESET_NAMES.filter((n) => presets[n].labels !== undefined)
    expect(withLabels).toEqual(["BGL", "Thunderbird"])
  })
})
