import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { parseFile } from "../../src/presets/ParseFile.ts"
import { PRESET_NAMES } from "../../src/presets/Presets.ts"
import { loghubLog, loghubStructured, readCsv } from "./helpers.ts"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "parsefile-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const readBack = (file: string) => {
  const rows = readCsv(fs.readFileSync(file, "utf8"))
  return { header: rows[0]!, rows: rows.slice(1) }
}

describe("parseFile", () => {
  for (const system of PRESET_NAMES) {
    it(`${system}: writes LogHub's layout; re-read, it has LogHub's rows and columns and consistent templates`, async () => {
      const out = path.join(dir, system)
      const summary = await parseFile(loghubLog(system), { preset: system, outDir: out })
      expect(summary).toMatchObject({ preset: system, lines: 2000, parsedLines: 2000 })
      expect(summary.unparsed.count).toBe(0)
      expect(summary.structuredCsv).toBe(path.join(out, `${system}_2k.log_structured.csv`))
      expect(summary.templatesCsv).toBe(path.join(out, `${system}_2k.log_templates.csv`))
      expect(fs.readdirSync(out).sort()).toEqual([`${system}_2k.log_structured.csv`, `${system}_2k.log_templates.csv`])

      const ours = readBack(summary.structuredCsv!)
      const truth = loghubStructured(system)
      expect(ours.header).toEqual(truth.header)
      expect(ours.rows.length).toBe(truth.rows.length)
      const eventAt = ours.header.indexOf("EventId")
      ours.rows.forEach((r, i) => {
        expect(r.length).toBe(truth.header.length)
        // LineId, the header fields and Content are LogHub's; EventId/EventTemplate are ours.
        expect(r.slice(0, eventAt)).toEqual(truth.rows[i]!.slice(0, eventAt))
      })

      const templates = readBack(summary.templatesCsv!)
      expect(templates.header).toEqual(["EventId", "EventTemplate", "Occurrences"])
      expect(templates.rows.length).toBe(summary.templates)
      const byId = new Map(templates.rows.map((r) => [r[0]!, { text: r[1]!, count: Number(r[2]) }]))
      const seen = new Map<string, number>()
      for (const r of ours.rows) {
        const t = byId.get(r[eventAt]!)
        expect(t?.text).toBe(r[eventAt + 1])
        seen.set(r[eventAt]!, (seen.get(r[eventAt]!) ?? 0) + 1)
      }
      for (const [id, t] of byId) expect(seen.get(id)).toBe(t.count)
      expect(templates.rows.every((r) => /^E\d+$/.test(r[0]!))).toBe(true)
    })
  }

  it("quotes cells with commas and quotes so they read back intact", async () => {
    const file = path.join(dir, "quotes.log")
    fs.writeFileSync(file, "[10.30 16:49:06] a.exe - say \"hi\", then, \"\"bye\"\"\n[10.30 16:49:07] b.exe - plain\n")
    const s = await parseFile(file, { preset: "proxifier", outDir: path.join(dir, "quotes") })
    const text = fs.readFileSync(s.structuredCsv!, "utf8")
    expect(text.split("\n")[1]).toContain("\"say \"\"hi\"\", then, \"\"\"\"bye\"\"\"\"\"")
    const back = readBack(s.structuredCsv!)
    expect(back.rows.map((r) => r[back.header.indexOf("Content")])).toEqual(["say \"hi\", then, \"\"bye\"\"", "plain"])
  })

  it("an empty file gives two header-only CSVs and 0 lines", async () => {
    const file = path.join(dir, "empty.log")
    fs.writeFileSync(file, "")
    const s = await parseFile(file, { preset: "HDFS", outDir: path.join(dir, "empty") })
    expect(s).toMatchObject({ lines: 0, parsedLines: 0, templates: 0 })
    expect(s.unparsed.count).toBe(0)
    expect(fs.readFileSync(s.structuredCsv!, "utf8")).toBe("LineId,Date,Time,Pid,Level,Component,Content,EventId,EventTemplate\n")
    expect(fs.readFileSync(s.templatesCsv!, "utf8")).toBe("EventId,EventTemplate,Occurrences\n")
  })

  it("counts invalid UTF-8, NUL and over-long lines by reason and keeps them out of the CSVs", async () => {
    const good = (n: number, msg: string) => Buffer.from(`081109 2036${String(n).padStart(2, "0")} 148 INFO dfs.DataNode: ${msg}\n`)
    const file = path.join(dir, "bad.log")
    fs.writeFileSync(file, Buffer.concat([
      good(1, "Receiving block blk_1 src: /10.0.0.1:1 dest: /10.0.0.2:2"),
      Buffer.from("081109 203602 148 INFO dfs.DataNode: caf"), Buffer.from([0xe9, 0x0a]),
      Buffer.from("081109 203603 148 INFO dfs.DataNode: nul\0byte\n"),
      Buffer.from(`081109 203604 148 INFO dfs.DataNode: ${"x".repeat(1_200_000)}\n`),
      Buffer.from("not a log line\n"),
      good(6, "Receiving block blk_2 src: /10.0.0.3:1 dest: /10.0.0.4:2")
    ]))
    const s = await parseFile(file, { preset: "HDFS", outDir: path.join(dir, "bad") })
    expect(s).toMatchObject({ lines: 6, parsedLines: 2, templates: 1 })
    expect(s.unparsed.byReason).toEqual({ no_match: 1, invalid_utf8: 1, nul_byte: 1, too_long: 1 })
    expect(s.unparsed.samples.map((x) => [x.line, x.reason])).toEqual([[2, "invalid_utf8"], [3, "nul_byte"], [4, "too_long"], [5, "no_match"]])
    expect(s.unparsed.samples[0]!.text).toBe("081109 203602 148 INFO dfs.DataNode: caf\ufffd")
    expect(s.unparsed.samples[2]!.text.length).toBe(501)
    const back = readBack(s.structuredCsv!)
    expect(back.rows.map((r) => r[0])).toEqual(["1", "6"])
    const all = fs.readFileSync(s.structuredCsv!, "utf8") + fs.readFileSync(s.templatesCsv!, "utf8")
    expect(/[\ufffd\0]/.test(all)).toBe(false)
    expect(all.includes("xxxxxxxx")).toBe(false)
  })

  it("with encoding latin1 a legacy 8-bit log parses whole, written out as UTF-8", async () => {
    const file = path.join(dir, "latin1.log")
    fs.writeFileSync(file, Buffer.concat([Buffer.from("[10.30 16:49:06] caf"), Buffer.from([0xe9]), Buffer.from(".exe - open through proxy\n")]))
    const strict = await parseFile(file, { preset: "Proxifier", outDir: path.join(dir, "strict") })
    expect(strict.unparsed.byReason.invalid_utf8).toBe(1)
    const s = await parseFile(file, { preset: "Proxifier", outDir: path.join(dir, "latin1"), encoding: "latin1" })
    expect(s.unparsed.count).toBe(0)
    const back = readBack(s.structuredCsv!)
    expect(back.rows[0]![back.header.indexOf("Program")]).toBe("café.exe")
  })

  it("an unknown preset or a missing file is a clear error and writes nothing", async () => {
    const out = path.join(dir, "nothing")
    await expect(parseFile(loghubLog("HDFS"), { preset: "hdfs3", outDir: out })).rejects.toThrow(/Unknown preset "hdfs3"; the presets are: HDFS, Hadoop/)
    await expect(parseFile(path.join(dir, "missing.log"), { preset: "HDFS", outDir: out })).rejects.toThrow(/parse: cannot read .*missing\.log/)
    expect(fs.existsSync(out)).toBe(false)
  })

  it("stops at its signal, between chunks, and writes nothing", async () => {
    const out = path.join(dir, "aborted")
    const controller = new AbortController()
    controller.abort(new Error("stop"))
    await expect(parseFile(loghubLog("HDFS"), { preset: "HDFS", outDir: out, signal: controller.signal })).rejects.toThrow("stop")
    expect(fs.existsSync(out) ? fs.readdirSync(out) : []).toEqual([])
  })

  it("replaces earlier outputs whole and leaves no temporary files", async () => {
    const out = path.join(dir, "again")
    await parseFile(loghubLog("Apache"), { preset: "Apache", outDir: out })
    const s = await parseFile(loghubLog("Apache"), { preset: "Apache", outDir: out, name: "x" })
    await parseFile(loghubLog("Apache"), { preset: "Apache", outDir: out })
    expect(fs.readdirSync(out).sort()).toEqual(["Apache_2k.log_structured.csv", "Apache_2k.log_templates.csv", "x_structured.csv", "x_templates.csv"])
    expect(fs.readFileSync(s.structuredCsv!, "utf8")).toBe(fs.readFileSync(path.join(out, "Apache_2k.log_structured.csv"), "utf8"))
  })
})

describe("parseFile without writing", () => {
  it("returns the summary and writes nothing", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "logflow-nowrite-"))
    const before = fs.readdirSync(out)
    const s = await parseFile(path.join(process.env.FLOW_DATA_ROOT!, "loghub-2k/HDFS/HDFS_2k.log"), { preset: "HDFS", outDir: out, write: false })
    expect(s.structuredCsv).toBeNull()
    expect(s.lines).toBe(2000)
    expect(s.templates).toBeGreaterThan(0)
    expect(fs.readdirSync(out)).toEqual(before)
  })
})
