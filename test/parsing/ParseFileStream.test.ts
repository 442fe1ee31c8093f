import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { compileFormat, parseLog } from "../../src/parsing/LogFormat.ts"
import { parseLogFile } from "../../src/parsing/ParseFileStream.ts"
import { getPreset, SYSTEMS } from "../../src/presets/Presets.ts"
import { dataRoot } from "../cli/helpers.ts"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "parse-stream-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe("parseLogFile: parseLog's output, read in chunks", () => {
  it("on the 16 LogHub 2k samples and HDFS_20000 with their presets (timestamps too), in chunks of 4 KiB and of 4 MiB", () => {
    const files = [...SYSTEMS.map((s) => [s, `loghub-2k/${s}/${s}_2k.log`] as const), ["HDFS", "hdfs/raw/HDFS_20000.log"] as const]
    for (const [system, rel] of files) {
      const file = path.join(dataRoot(), rel)
      const preset = getPreset(system)
      const opts = { ...preset.line, ...(preset.timestamp === undefined ? {} : { timestamp: preset.timestamp }) }
      const whole = parseLog(fs.readFileSync(file), compileFormat(preset.format), opts)
      expect(parseLogFile(file, compileFormat(preset.format), opts, { chunkBytes: 4096 }), rel).toEqual(whole)
      expect(parseLogFile(file, compileFormat(preset.format), opts), rel).toEqual(whole)
    }
  })

  it("Latin-1 bytes in some chunks only, multi-line events, long and bad lines: the same output", () => {
    const format = compileFormat("<Level>: <Content>")
    const lines = [
      Buffer.from("INFO: plain ascii line"),
      Buffer.from("WARN: caf\xe9 au lait", "latin1"),
      Buffer.from("  at continuation line"),
      Buffer.from("ERROR: " + "x".repeat(5000)),
      Buffer.from([0x45, 0x3a, 0x20, 0x00, 0x41]),
      Buffer.from("INFO: last\r")
    ]
    const file = path.join(dir, "mixed.log")
    const bytes = Buffer.concat(lines.flatMap((l) => [l, Buffer.from("\n")]))
    fs.writeFileSync(file, bytes)
    for (const opts of [{ encoding: "latin1" as const }, { multiline: "continuation" as const, maxLineBytes: 100 }, { trim: true, maxLineBytes: 3000 }]) {
      const whole = parseLog(bytes, format, opts)
      for (const chunkBytes of [1, 7, 64, 1 << 20]) expect(parseLogFile(file, format, opts, { chunkBytes }), JSON.stringify({ opts, chunkBytes })).toEqual(whole)
    }
  })

  it("a log split on \\r only, or with no \\n in its first 64 KiB, is read whole: the same output", () => {
    const format = compileFormat("<Level>: <Content>")
    const cr = path.join(dir, "cr.log")
    fs.writeFileSync(cr, "INFO: a\rWARN: b\r")
    expect(parseLogFile(cr, format)).toEqual(parseLog(fs.readFileSync(cr), format))
    expect(parseLogFile(cr, format).rawLines).toBe(2)
    const long = path.join(dir, "long.log")
    fs.writeFileSync(long, `INFO: ${"y".repeat(70_000)}\nINFO: b\n`)
    expect(parseLogFile(long, format)).toEqual(parseLog(fs.readFileSync(long), format))
    const empty = path.join(dir, "empty.log")
    fs.writeFileSync(empty, "")
    expect(parseLogFile(empty, format)).toEqual(parseLog(Buffer.alloc(0), format))
  })
})
