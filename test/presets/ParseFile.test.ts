import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { groupF1, groupingAccuracy, templateAccuracy, templateF1 } from "../../src/mining/Accuracy.ts"
import { parseFile, ParseFileInputError } from "../../src/presets/ParseFile.ts"
import { getPreset, PRESET_NAMES } from "../../src/presets/Presets.ts"
import { mineTemplatesWithState } from "../../src/mining/Drain.ts"
import { compileFormat, parseLog } from "../../src/parsing/LogFormat.ts"
import { minerPreset } from "../../src/presets/miners.ts"
import { dataPath, loghubLog, loghubStructured, readCsv, TRACEBACK_FORMAT, TRACEBACK_LINES } from "./helpers.ts"

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

      // EventTemplate is the parameter-exact text, the same the mine stage writes from the log in
      // memory (same sampled rows), with no named mask left.
      const { log } = mineTemplatesWithState(parseLog(fs.readFileSync(loghubLog(system)), compileFormat(getPreset(system).format), getPreset(system).line).content, minerPreset(system))
      ours.rows.forEach((r, i) => expect(r[eventAt + 1]).toBe(log.templates[log.templateIds[i]!]!.exact))
      expect(ours.rows.some((r) => /<:[A-Z]+:>/.test(r[eventAt + 1]!))).toBe(false)
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

describe("parseFile with a format, multi-line events and a ground truth", () => {
  const HDFS_FORMAT = "<Date> <Time> <Pid> <Level> <Component>: <Content>"
  const TRACEBACK = TRACEBACK_LINES.join("\n") + "\n"
  const APP_FORMAT = TRACEBACK_FORMAT

  it("a format instead of a preset: the same rows and fields as the preset with that format, mined by the generic miner", async () => {
    const byFormat = await parseFile(loghubLog("HDFS"), { format: HDFS_FORMAT, outDir: path.join(dir, "format") })
    expect(byFormat).toMatchObject({ preset: null, format: HDFS_FORMAT, multiline: "none", lines: 2000, parsedLines: 2000, continuationLines: 0, accuracy: null })
    const ours = readBack(byFormat.structuredCsv!)
    const truth = loghubStructured("HDFS")
    expect(ours.header).toEqual(truth.header)
    const eventAt = ours.header.indexOf("EventId")
    ours.rows.forEach((r, i) => expect(r.slice(0, eventAt)).toEqual(truth.rows[i]!.slice(0, eventAt)))
  })

  it("multiline continuation: a traceback is one event whose first line is its content; its lines are counted, not unparsed", async () => {
    const file = path.join(dir, "traceback.log")
    fs.writeFileSync(file, TRACEBACK)
    const plain = await parseFile(file, { format: APP_FORMAT, write: false })
    expect(plain).toMatchObject({ lines: 7, parsedLines: 3, continuationLines: 0 })
    expect(plain.unparsed.count).toBe(4)
    const s = await parseFile(file, { format: APP_FORMAT, multiline: "continuation", outDir: path.join(dir, "traceback") })
    expect(s).toMatchObject({ multiline: "continuation", lines: 7, parsedLines: 3, continuationLines: 4 })
    expect(s.unparsed.count).toBe(0)
    const back = readBack(s.structuredCsv!)
    expect(back.rows.map((r) => [r[0], r[back.header.indexOf("Content")]])).toEqual([
      ["1", "started worker 7"],
      ["2", "Unhandled exception in worker 7"],
      ["7", "started worker 8"]
    ])
  })

  it("--truth: GA, FGA, PA and FTA equal the Accuracy functions on the written CSV against LogHub's", async () => {
    const truthCsv = dataPath("loghub-2k/HDFS/HDFS_2k.log_structured.csv")
    const s = await parseFile(loghubLog("HDFS"), { preset: "HDFS", truth: truthCsv, outDir: path.join(dir, "truth") })
    const ours = readBack(s.structuredCsv!)
    const truth = loghubStructured("HDFS")
    const ids = ours.rows.map((r) => r[ours.header.indexOf("EventId")]!)
    const texts = ours.rows.map((r) => r[ours.header.indexOf("EventTemplate")]!)
    const trueTemplates = truth.rows.map((r) => r[truth.header.indexOf("EventTemplate")]!)
    const a = s.accuracy!
    expect(a).toMatchObject({ truth: truthCsv, lines: 2000, unmatched: 0 })
    expect(a.ga).toBe(groupingAccuracy(ids, trueTemplates))
    expect(a.fga).toEqual(groupF1(ids, trueTemplates))
    expect(a.pa).toBe(templateAccuracy(texts, trueTemplates))
    expect(a.fta).toEqual(templateF1(ids, texts, trueTemplates))
    expect(a.ga).toBeGreaterThan(0.9)
    expect(a.fga.f1).toBeGreaterThan(0.8)
  })

  it("--truth: a truth line that did not parse here is wrong, even where the unparsed lines are exactly one true event", async () => {
    const file = path.join(dir, "partial.log")
    fs.writeFileSync(file, "2024-01-02 03:04:05,1 INFO app: open 1\n2024-01-02 03:04:06,1 INFO app: open 2\nnot a header line\nnot a header line either\n")
    const truth = path.join(dir, "partial_structured.csv")
    fs.writeFileSync(truth, "LineId,Content,EventId,EventTemplate\n1,open a,E1,open <*>\n2,open b,E1,open <*>\n3,x,E2,not a header <*>\n4,y,E2,not a header <*>\n")
    const s = await parseFile(file, { format: APP_FORMAT, truth, write: false })
    const a = s.accuracy!
    expect(a).toMatchObject({ lines: 4, unmatched: 2, ga: 0.5, pa: 0.5 })
    // Predicted: {1,2} "open <*>" (correct) and the unparsed {3,4} (wrong): 1 of 2 predicted, 1 of 2 true.
    expect(a.fga).toMatchObject({ correct: 1, predictedGroups: 2, trueGroups: 2, f1: 0.5 })
    expect(a.fta).toMatchObject({ correct: 1, predictedTemplates: 2, trueTemplates: 2, f1: 0.5 })
  })

  it("bad input names its option, and nothing is written", async () => {
    const out = path.join(dir, "bad-input")
    const rejects = async (opts: Parameters<typeof parseFile>[1], option: string, message: RegExp) => {
      const e = await parseFile(loghubLog("HDFS"), { ...opts, outDir: out }).then(() => undefined, (x: unknown) => x)
      expect(e).toBeInstanceOf(ParseFileInputError)
      expect((e as ParseFileInputError).option).toBe(option)
      expect((e as Error).message).toMatch(message)
    }
    await rejects({ preset: "nope" }, "preset", /Unknown preset "nope"/)
    await rejects({}, "format", /give exactly one of a preset and a format/)
    await rejects({ preset: "HDFS", format: HDFS_FORMAT }, "preset", /give exactly one/)
    await rejects({ format: "<Date> <Date> <Content>" }, "format", /duplicate field <Date>/)
    await rejects({ format: "<Date> Time> <Content>" }, "format", /closes no field/)
    await rejects({ format: "<Date> <Time>" }, "format", /no <Content> field/)
    await rejects({ format: "<Content>", multiline: "continuation" }, "multiline", /needs a format with a header field/)
    const noTemplate = path.join(dir, "no_template.csv")
    fs.writeFileSync(noTemplate, "LineId,EventId\n1,E1\n")
    await rejects({ preset: "HDFS", truth: noTemplate }, "truth", new RegExp(`${noTemplate.replace(/[.]/g, "\\.")} has no column "EventTemplate" \\(columns: LineId, EventId\\)`))
    await rejects({ preset: "HDFS", truth: dataPath("loghub-2k/HDFS/HDFS_2k.log_templates.csv") }, "truth", /HDFS_2k\.log_templates\.csv has no column "LineId"/)
    await rejects({ preset: "HDFS", truth: path.join(dir, "nowhere.csv") }, "truth", /cannot read .*nowhere\.csv/)
    const badId = path.join(dir, "bad_id.csv")
    fs.writeFileSync(badId, "LineId,EventTemplate\n1,a\n1,b\n")
    await rejects({ preset: "HDFS", truth: badId }, "truth", /row 3: LineId 1 appears twice/)
    expect(fs.existsSync(out)).toBe(false)
  })

  it("when no line of a non-empty file parses, nothing is written", async () => {
    const file = path.join(dir, "foreign.log")
    fs.writeFileSync(file, TRACEBACK)
    const out = path.join(dir, "foreign")
    const s = await parseFile(file, { preset: "HDFS", outDir: out })
    expect(s).toMatchObject({ lines: 7, parsedLines: 0, structuredCsv: null, templatesCsv: null })
    expect(s.unparsed.samples[0]).toMatchObject({ line: 1, reason: "no_match" })
    expect(fs.existsSync(out)).toBe(false)
  })
})

describe("parseFile on two threads (issue 21)", () => {
  /** Both CSVs and the summary without its time. */
  const outputs = async (file: string, opts: Parameters<typeof parseFile>[1]) => {
    const { seconds, structuredCsv, templatesCsv, ...summary } = await parseFile(file, opts)
    expect(seconds).toBeGreaterThan(0)
    return { summary, structured: fs.readFileSync(structuredCsv!, "utf8"), templates: fs.readFileSync(templatesCsv!, "utf8") }
  }

  it("real HDFS (20,000 lines, batches of many rows): the same CSVs and summary as one thread", async () => {
    const file = dataPath("hdfs/raw/HDFS_20000.log")
    const one = await outputs(file, { preset: "HDFS", outDir: path.join(dir, "t1"), threads: 1 })
    const two = await outputs(file, { preset: "HDFS", outDir: path.join(dir, "t2"), threads: 2 })
    expect(two).toEqual(one)
    expect(one.summary.parsedLines).toBe(20_000)
  })

  it("bad lines, a latin1 log, multi-line events and a truth: the same as one thread", async () => {
    const bad = path.join(dir, "bad-2t.log")
    fs.writeFileSync(bad, Buffer.concat([
      Buffer.from("081109 203601 148 INFO dfs.DataNode: Receiving block blk_1 src: /10.0.0.1:1 dest: /10.0.0.2:2\n"),
      Buffer.from("081109 203602 148 INFO dfs.DataNode: caf"), Buffer.from([0xe9, 0x0a]),
      Buffer.from("not a log line\n081109 203603 148 INFO dfs.DataNode: nul\0byte\n"),
      Buffer.from("081109 203604 148 INFO dfs.DataNode: Receiving block blk_2 src: /10.0.0.3:1 dest: /10.0.0.4:2\n")
    ]))
    const latin1 = path.join(dir, "latin1-2t.log")
    fs.writeFileSync(latin1, Buffer.concat([
      Buffer.from("[10.30 16:49:06] caf"), Buffer.from([0xe9]), Buffer.from(".exe - open through caf"), Buffer.from([0xe9]), Buffer.from(" proxy\n"),
      Buffer.from("[10.30 16:49:07] na"), Buffer.from([0xef]), Buffer.from("ve.exe - open through caf"), Buffer.from([0xe9]), Buffer.from(" proxy\n")
    ]))
    const cases: Array<[string, Parameters<typeof parseFile>[1]]> = [
      [bad, { preset: "HDFS" }],
      [latin1, { preset: "Proxifier", encoding: "latin1" }],
      [loghubLog("OpenStack"), { preset: "OpenStack", truth: path.join(dataPath("loghub-2k/OpenStack"), "OpenStack_2k.log_structured.csv") }]
    ]
    const traceback = path.join(dir, "traceback-2t.log")
    fs.writeFileSync(traceback, TRACEBACK_LINES.join("\n") + "\n")
    cases.push([traceback, { format: TRACEBACK_FORMAT, multiline: "continuation" }])
    for (const [k, [file, opts]] of cases.entries()) {
      const one = await outputs(file, { ...opts, outDir: path.join(dir, `c${k}-1`), threads: 1 })
      const two = await outputs(file, { ...opts, outDir: path.join(dir, `c${k}-2`), threads: 2 })
      expect(two, file).toEqual(one)
    }
  })

  it("a file of many batches with one line of nearly a batch's bytes, and stopping at a signal", async () => {
    const file = path.join(dir, "huge-line.log")
    const line = (n: number, msg: string) => `081109 2036${String(n % 60).padStart(2, "0")} 148 INFO dfs.DataNode: ${msg}\n`
    const lines: Array<string> = []
    for (let i = 0; i < 30_000; i++) lines.push(line(i, `Receiving block blk_${i * 7919} src: /10.0.${i % 250}.1:${i} dest: /10.0.0.2:50010`))
    lines.splice(12_345, 0, line(1, `big ${"y".repeat(1_000_000)}`))
    fs.writeFileSync(file, lines.join(""))
    const one = await outputs(file, { preset: "HDFS", outDir: path.join(dir, "h1"), threads: 1 })
    const two = await outputs(file, { preset: "HDFS", outDir: path.join(dir, "h2"), threads: 2 })
    expect(two).toEqual(one)
    expect(one.summary).toMatchObject({ lines: 30_001, parsedLines: 30_001 })

    const out = path.join(dir, "aborted-2t")
    const controller = new AbortController()
    const parsing = parseFile(file, { preset: "HDFS", outDir: out, threads: 2, signal: controller.signal })
    controller.abort(new Error("stop"))
    await expect(parsing).rejects.toThrow("stop")
    expect(fs.existsSync(out) ? fs.readdirSync(out) : []).toEqual([])
  })
})
