/**
 * Test fixtures for the sequence builders: read raw logs from the data root and build minimal
 * ParsedLog / TemplatedLog values with plain string code (no real parser), plus a tiny
 * synthetic log.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { DictColumn } from "../../src/artifacts/Columns.ts"
import type { ParsedLog, TemplatedLog } from "../../src/artifacts/Log.ts"
import { packStrings } from "../../src/artifacts/Columns.ts"

/** Absolute path of a file under FLOW_DATA_ROOT. */
export const dataPath = (rel: string): string => {
  const root = process.env.FLOW_DATA_ROOT
  if (root === undefined) throw new Error("FLOW_DATA_ROOT is not set (run the tests through vitest)")
  return path.join(root, rel)
}

/** Lines of a data file, CR stripped, no trailing empty line. */
export const readLines = (rel: string): Array<string> => {
  const lines = fs.readFileSync(dataPath(rel), "utf8").split("\n").map((l) => l.replace(/\r$/, ""))
  if (lines[lines.length - 1] === "") lines.pop()
  return lines
}

/** Dictionary-encode a list of values in first-appearance order. */
export const dict = (values: ReadonlyArray<string>): DictColumn => {
  const index = new Map<string, number>()
  const codes = new Int32Array(values.length)
  values.forEach((v, i) => {
    let c = index.get(v)
    if (c === undefined) {
      c = index.size
      index.set(v, c)
    }
    codes[i] = c
  })
  return { values: packStrings([...index.keys()]), codes }
}

/** A ParsedLog with one row per given content string, the given header fields and optional timestamps (ms). */
export const parsedLog = (
  content: ReadonlyArray<string>,
  fields: Record<string, ReadonlyArray<string>> = {},
  timestamps?: ArrayLike<number>
): ParsedLog => ({
  rawLines: content.length,
  lineNo: Int32Array.from(content, (_, i) => i + 1),
  content: packStrings(content),
  fields: Object.entries(fields).map(([name, values]) => ({ name, column: dict(values) })),
  ...(timestamps === undefined ? {} : { timestamps: Float64Array.from(timestamps) }),
  unparsed: { count: 0, samples: [] }
})

/** A TemplatedLog whose template id per row is `ids`. */
export const templatedLog = (ids: ArrayLike<number>): TemplatedLog => ({
  templateIds: Int32Array.from(ids),
  templates: []
})

/** HDFS raw lines -> ParsedLog (content = text after the first ": ") with template id = row % 7. */
export const hdfsLog = (rel: string): { lines: Array<string>; parsed: ParsedLog; templated: TemplatedLog } => {
  const lines = readLines(rel)
  const content = lines.map((l) => {
    const at = l.indexOf(": ")
    if (at < 0) throw new Error(`no ": " in ${l}`)
    return l.slice(at + 2)
  })
  return { lines, parsed: parsedLog(content), templated: templatedLog(content.map((_, i) => i % 7)) }
}

/**
 * BGL raw lines -> ParsedLog with field Label = first token, content = rest, timestamps = the
 * second token (epoch seconds) · 1000; template id = row % 5.
 */
export const bglLog = (): { lines: Array<string>; parsed: ParsedLog; templated: TemplatedLog } => {
  const lines = readLines("loghub-2k/BGL/BGL_2k.log")
  const label = lines.map((l) => l.slice(0, l.indexOf(" ")))
  const content = lines.map((l) => l.slice(l.indexOf(" ") + 1))
  const timestamps = lines.map((l) => Number(l.split(" ")[1]) * 1000)
  return { lines, parsed: parsedLog(content, { Label: label }, timestamps), templated: templatedLog(content.map((_, i) => i % 5)) }
}

/** Rows of sequence i. */
export const seqRows = (s: { offsets: Int32Array; rows: Int32Array }, i: number): Array<number> =>
  Array.from(s.rows.subarray(s.offsets[i]!, s.offsets[i + 1]!))
