// Fuzzing log parsing (fast-check, fixed seed): real LogHub lines, cut, joined with LF, CRLF or
// CR, with bytes inserted (NUL, CR, LF, lone UTF-8 lead bytes, 0xFF) and lines over the length
// limit, parsed with each system's preset. The whole-buffer parser never throws; every raw line
// is either a row or counted unparsed; rows keep their line order; the parse stage's streamed
// read (`parseLogFile`, in chunks of 1 to 97 bytes here) gives the same output; and the streaming
// reader of `flow parse` (which also mines) counts the same lines, rows and unparsed lines.
// FLOW_FUZZ_RUNS / FLOW_FUZZ_SEED change the budget and seed (docs/RELIABILITY.md has a long run).
import fc from "fast-check"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { stringCount } from "../../src/artifacts/Columns.ts"
import { compileFormat, lineBreakOf, parseLog } from "../../src/parsing/LogFormat.ts"
import { parseLogFile } from "../../src/parsing/ParseFileStream.ts"
import { parseFile } from "../../src/presets/ParseFile.ts"
import { getPreset, SYSTEMS } from "../../src/presets/Presets.ts"
import { dataRoot } from "../cli/helpers.ts"

const SEED = Number(process.env.FLOW_FUZZ_SEED ?? 20261203)
const RUNS = Number(process.env.FLOW_FUZZ_RUNS ?? 100)

/** 40 real lines of each LogHub 2k sample, by system. */
const samples = new Map(SYSTEMS.map((s) => {
  const lines = fs.readFileSync(path.join(dataRoot(), `loghub-2k/${s}/${s}_2k.log`), "latin1").split("\n").map((l) => l.replace(/\r$/, ""))
  return [s, lines.filter((_, i) => i % 50 === 0).slice(0, 40)] as const
}))

const junk = fc.oneof(
  fc.constantFrom([0], [13], [10], [0xff], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [32, 32], [9]),
  fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 4 })
)
/** One line: a real one, maybe cut, maybe with junk inserted, maybe made too long. */
const line = (system: string) =>
  fc.record({
    pick: fc.nat(),
    cut: fc.option(fc.nat(), { freq: 4 }),
    insert: fc.option(fc.tuple(fc.nat(), junk), { freq: 3 })
  }).map(({ pick, cut, insert }) => {
    const all = samples.get(system as (typeof SYSTEMS)[number])!
    let bytes = Buffer.from(all[pick % all.length]!, "latin1")
    if (cut !== null) bytes = bytes.subarray(0, cut % (bytes.length + 1))
    if (insert !== null) {
      const at = insert[0] % (bytes.length + 1)
      bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(insert[1]), bytes.subarray(at)])
    }
    return bytes
  })

const logCase = fc.constantFrom(...SYSTEMS).chain((system) =>
  fc.record({
    system: fc.constant(system),
    lines: fc.array(fc.oneof({ weight: 9, arbitrary: line(system) }, { weight: 1, arbitrary: fc.constant(Buffer.alloc(700, 0x61)) }), { maxLength: 30 }),
    eol: fc.constantFrom("\n", "\r\n", "\r"),
    finalEol: fc.boolean()
  })
)

/** Raw lines as the parser must count them: pieces between line breaks, none after a final one. */
const expectedLines = (buf: Buffer): number => {
  if (buf.length === 0) return 0
  const sep = lineBreakOf(buf)
  let n = 0
  for (const b of buf) if (b === sep) n++
  return buf[buf.length - 1] === sep ? n : n + 1
}

describe("log parsing, fuzzed", () => {
  it(`counts every raw line once, as a row or unparsed, like the streaming reader (${RUNS} cases, seed ${SEED})`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "logflow-fuzz-logs-"))
    const file = path.join(dir, "fuzz.log")
    let rows = 0
    let unparsed = 0
    await fc.assert(
      fc.asyncProperty(logCase, async ({ system, lines, eol, finalEol }) => {
        const joined = Buffer.concat(lines.flatMap((l, i) => (i < lines.length - 1 || finalEol ? [l, Buffer.from(eol)] : [l])))
        const preset = { ...getPreset(system), line: { ...getPreset(system).line, maxLineBytes: 512 } }
        const log = parseLog(joined, compileFormat(preset.format), preset.line)
        expect(log.rawLines).toBe(expectedLines(joined))
        expect(log.lineNo.length + log.unparsed.count).toBe(log.rawLines)
        expect(stringCount(log.content)).toBe(log.lineNo.length)
        for (let i = 0; i < log.lineNo.length; i++) {
          expect(log.lineNo[i]).toBeGreaterThanOrEqual(i === 0 ? 1 : log.lineNo[i - 1]! + 1)
          expect(log.lineNo[i]).toBeLessThanOrEqual(log.rawLines)
        }
        for (const s of log.unparsed.samples) expect(s.line).toBeLessThanOrEqual(log.rawLines)
        fs.writeFileSync(file, joined)
        // The parse stage's streamed read gives the very same output, whatever the chunk size.
        expect(parseLogFile(file, compileFormat(preset.format), preset.line, { chunkBytes: 1 + (joined.length % 97) })).toEqual(log)
        const streamed = await parseFile(file, { preset, write: false })
        expect({ lines: streamed.lines, rows: streamed.parsedLines, unparsed: streamed.unparsed.count })
          .toEqual({ lines: log.rawLines, rows: log.lineNo.length, unparsed: log.unparsed.count })
        rows += log.lineNo.length
        unparsed += log.unparsed.count
      }),
      { seed: SEED, numRuns: RUNS }
    )
    // Both outcomes are reached.
    expect(rows).toBeGreaterThan(0)
    expect(unparsed).toBeGreaterThan(0)
    if (process.env.FLOW_FUZZ_REPORT !== undefined) fs.writeFileSync(process.env.FLOW_FUZZ_REPORT, JSON.stringify({ runs: RUNS, seed: SEED, rows, unparsed }))
  })
})
