import * as fs from "node:fs"
import { describe, expect, it } from "vitest"
import { captureGroupCount, groupByEntity, literalDigitsPattern } from "../../src/sequences/GroupByEntity.ts"
import { applyEntityLabels, labelHistogram, parseEntityLabelCsv } from "../../src/sequences/Labels.ts"
import { LABEL_UNKNOWN } from "../../src/artifacts/Sequences.ts"
import { stringCount, unpackStrings } from "../../src/artifacts/Columns.ts"
import { dataPath, hdfsLog, parsedLog, seqRows, templatedLog } from "./fixtures.ts"

const BLOCK = "blk_-?\\d+"

/** Independent grouping: block -> raw line indices, in first-appearance order, with plain regex code. */
const expectedGroups = (lines: ReadonlyArray<string>): Map<string, Array<number>> => {
  const groups = new Map<string, Array<number>>()
  lines.forEach((line, i) => {
    for (const m of line.match(/blk_-?\d+/g) ?? []) {
      const rows = groups.get(m) ?? []
      if (rows[rows.length - 1] !== i) rows.push(i)
      groups.set(m, rows)
    }
  })
  return groups
}

const labelOpts = { entityColumn: "BlockId", labelColumn: "Label", anomalyValues: ["Anomaly"], normalValues: ["Normal"] }

describe("groupByEntity on HDFS_20000", () => {
  const { lines, parsed, templated } = hdfsLog("hdfs/raw/HDFS_20000.log")
  const seqs = groupByEntity(parsed, templated, { pattern: BLOCK })
  const expected = expectedGroups(lines)

  it("finds every distinct block, in first-appearance order, with its rows in log order", () => {
    expect(lines.length).toBe(20_000)
    expect(expected.size).toBe(1782)
    expect(stringCount(seqs.ids)).toBe(1782)
    expect(unpackStrings(seqs.ids)).toEqual([...expected.keys()])
    const ids = unpackStrings(seqs.ids)
    ids.forEach((id, i) => expect(seqRows(seqs, i)).toEqual(expected.get(id)))
    expect(seqs.rows.length).toBe([...expected.values()].reduce((a, r) => a + r.length, 0))
    for (let i = 1; i < ids.length; i++) expect(seqs.rows[seqs.offsets[i]!]!).toBeGreaterThanOrEqual(seqs.rows[seqs.offsets[i - 1]!]!)
    for (let p = 0; p < seqs.rows.length; p++) expect(seqs.events[p]).toBe(seqs.rows[p]! % 7)
    expect(Array.from(seqs.labels).every((l) => l === LABEL_UNKNOWN)).toBe(true)
  })

  it("matches the label CSV order and gives 43 anomalous blocks, 0 unlabeled", () => {
    const text = fs.readFileSync(dataPath("hdfs/labels/HDFS_20000.block_labels.csv"), "utf8")
    const csvRows = text.trim().split("\n").slice(1).map((l) => l.replace(/\r$/, "").split(","))
    expect(unpackStrings(seqs.ids)).toEqual(csvRows.map((r) => r[0]))
    const expectedAnomalies = csvRows.filter((r) => r[1] === "Anomaly").length
    expect(expectedAnomalies).toBe(43)

    const labels = parseEntityLabelCsv(text, labelOpts)
    expect(labels.size).toBe(1782)
    const { sequences, unlabeled } = applyEntityLabels(seqs, labels)
    expect(unlabeled).toBe(0)
    expect(labelHistogram(sequences.labels)).toEqual({ normal: 1782 - expectedAnomalies, anomaly: expectedAnomalies, unknown: 0 })
    expect(seqs.labels.every((l) => l === LABEL_UNKNOWN)).toBe(true)
  })
})

describe("groupByEntity on HDFS_2k (multi-block lines)", () => {
  // HDFS_20000 has no line naming two blocks; the 2k sample has 3 naming distinct blocks
  // ("ask ... to delete blk_a blk_b") and many naming the same block twice ("Deleting block blk_x file .../blk_x").
  const { lines, parsed, templated } = hdfsLog("loghub-2k/HDFS/HDFS_2k.log")
  const seqs = groupByEntity(parsed, templated, { pattern: BLOCK })
  const expected = expectedGroups(lines)
  const ids = unpackStrings(seqs.ids)

  it("puts a multi-block line in each of its blocks, and a repeated block once", () => {
    expect(ids).toEqual([...expected.keys()])
    ids.forEach((id, i) => expect(seqRows(seqs, i)).toEqual(expected.get(id)))

    const multi = lines.flatMap((l, i) => (new Set(l.match(/blk_-?\d+/g) ?? []).size > 1 ? [i] : []))
    expect(multi.length).toBe(3)
    for (const row of multi) {
      const blocks = new Set(lines[row]!.match(/blk_-?\d+/g))
      for (const b of blocks) expect(seqRows(seqs, ids.indexOf(b))).toContain(row)
    }
    const repeated = lines.findIndex((l) => (l.match(/blk_-?\d+/g) ?? []).length === 2 && new Set(l.match(/blk_-?\d+/g)).size === 1)
    expect(repeated).toBeGreaterThanOrEqual(0)
    const rows = seqRows(seqs, ids.indexOf(lines[repeated]!.match(/blk_-?\d+/)![0]))
    expect(rows.filter((r) => r === repeated).length).toBe(1)
  })

  it("labels 2,200 blocks with 69 anomalous", () => {
    const labels = parseEntityLabelCsv(fs.readFileSync(dataPath("hdfs/labels/HDFS_2k.block_labels.csv"), "utf8"), labelOpts)
    const { sequences, unlabeled } = applyEntityLabels(seqs, labels)
    expect(stringCount(seqs.ids)).toBe(2200)
    expect(unlabeled).toBe(0)
    expect(labelHistogram(sequences.labels)).toEqual({ normal: 2131, anomaly: 69, unknown: 0 })
  })
})

describe("groupByEntity on synthetic rows", () => {
  it("orders entities by first row, then by position within that row", () => {
    const parsed = parsedLog(["x", "b2 a1 b2", "a1", "c3 a1"])
    const seqs = groupByEntity(parsed, templatedLog([10, 11, 12, 13]), { pattern: "[a-c]\\d" })
    expect(unpackStrings(seqs.ids)).toEqual(["b2", "a1", "c3"])
    expect(Array.from(seqs.offsets)).toEqual([0, 1, 4, 5])
    expect(Array.from(seqs.rows)).toEqual([1, 1, 2, 3, 3])
    expect(Array.from(seqs.events)).toEqual([11, 11, 12, 13, 13])
  })

  it("rejects a pattern that matches no line, and bad patterns, naming pattern", () => {
    expect(() => groupByEntity(parsedLog(["none here"]), templatedLog([0]), { pattern: "blk_\\d+" })).toThrow(/pattern "blk_\\\\d\+" matched no line/)
    expect(() => groupByEntity(parsedLog(["none here"]), templatedLog([0]), { pattern: "(?:blk_)\\d+" })).toThrow(/pattern .* matched no line/)
    const empty = groupByEntity(parsedLog([]), templatedLog([]), { pattern: "blk_\\d+" })
    expect(stringCount(empty.ids)).toBe(0)
    expect(Array.from(empty.offsets)).toEqual([0])
    expect(() => groupByEntity(parsedLog(["a"]), templatedLog([0]), { pattern: "" })).toThrow(/pattern/)
    expect(() => groupByEntity(parsedLog(["a"]), templatedLog([0]), { pattern: "(" })).toThrow(/pattern/)
    expect(() => groupByEntity(parsedLog(["a"]), templatedLog([0]), { pattern: "x*" })).toThrow(/empty string/)
    expect(() => groupByEntity(parsedLog(["a"]), templatedLog([0, 1]), { pattern: "a" })).toThrow(/templateIds/)
  })
})

describe("groupByEntity fast path (literal prefix + digits, scanned as bytes)", () => {
  it("recognises exactly the literal-prefix-plus-digits patterns", () => {
    expect(literalDigitsPattern("blk_-?\\d+")).toEqual({ prefix: "blk_", optionalMinus: true })
    expect(literalDigitsPattern("job_[0-9]+")).toEqual({ prefix: "job_", optionalMinus: false })
    expect(literalDigitsPattern("id\\.\\d+")).toEqual({ prefix: "id.", optionalMinus: false })
    expect(literalDigitsPattern("req-\\d+")).toEqual({ prefix: "req-", optionalMinus: false })
    for (const p of ["\\d+", "-?\\d+", "blk_.\\d+", "(?:blk_)-?\\d+", "blk_\\d*", "blk_\\w+", "a|b\\d+", "blk_-?\\d+$", "[a-c]\\d"]) {
      expect(literalDigitsPattern(p)).toBeUndefined()
    }
  })

  it("agrees with the RegExp path on HDFS_20000 and HDFS_2k", () => {
    for (const file of ["hdfs/raw/HDFS_20000.log", "loghub-2k/HDFS/HDFS_2k.log"]) {
      const { parsed, templated } = hdfsLog(file)
      const fast = groupByEntity(parsed, templated, { pattern: BLOCK })
      const slow = groupByEntity(parsed, templated, { pattern: "(?:blk_)-?\\d+" })
      expect(unpackStrings(fast.ids)).toEqual(unpackStrings(slow.ids))
      expect(Array.from(fast.offsets)).toEqual(Array.from(slow.offsets))
      expect(Array.from(fast.rows)).toEqual(Array.from(slow.rows))
      expect(Array.from(fast.events)).toEqual(Array.from(slow.events))
    }
  })

  it("matches like the RegExp at row edges, on a dangling minus, overlapping prefixes and non-ASCII text", () => {
    const content = ["x blk_", "12 blk_-3", "blk_-x blk_blk_7 blk_--8", "é blk_9é blk_9", "blk_-", "5", "ü", "blk_10"]
    const parsed = parsedLog(content)
    const templated = templatedLog(content.map((_, i) => i))
    const expected = expectedGroups(content)
    const fast = groupByEntity(parsed, templated, { pattern: BLOCK })
    expect(unpackStrings(fast.ids)).toEqual([...expected.keys()])
    expect(unpackStrings(fast.ids)).toEqual(["blk_-3", "blk_7", "blk_9", "blk_10"])
    unpackStrings(fast.ids).forEach((id, i) => expect(seqRows(fast, i)).toEqual(expected.get(id)))
    const noMinus = groupByEntity(parsed, templated, { pattern: "blk_\\d+" })
    expect(unpackStrings(noMinus.ids)).toEqual(["blk_7", "blk_9", "blk_10"])
  })

  it("interns many distinct ids (hash table growth)", () => {
    const content = Array.from({ length: 5000 }, (_, i) => `a blk_${i % 3000} b blk_${(i * 7) % 3000}`)
    const seqs = groupByEntity(parsedLog(content), templatedLog(new Int32Array(5000)), { pattern: "blk_\\d+" })
    const expected = expectedGroups(content)
    expect(unpackStrings(seqs.ids)).toEqual([...expected.keys()])
    unpackStrings(seqs.ids).forEach((id, i) => expect(seqRows(seqs, i)).toEqual(expected.get(id)))
  })
})

describe("groupByEntity with capture groups: the first capturing group is the entity", () => {
  // Synthetic OpenStack-like rows (the shape of nova-compute's `[instance: UUID]`).
  const A = "b9000564-fe1a-409b-b8cc-1e88b294cd1d"
  const B = "96abccce-8d1f-4e07-b6d1-4b2ab87e23b4"
  const content = [`[instance: ${A}] VM Started`, "no instance here", `[instance: ${B}] Took 1.2 seconds`, `[instance: ${A}] VM Paused [instance: ${B}]`]
  const parsed = parsedLog(content)
  const templated = templatedLog([0, 1, 2, 3])

  it("counts capturing groups: numbered and named count, (?:...), lookarounds and escaped parentheses do not", () => {
    const counts: ReadonlyArray<readonly [string, number]> = [
      ["blk_-?\\d+", 0], ["(?:blk_)-?\\d+", 0], ["\\(x\\)(?=y)(?<=z)(?!w)", 0], ["[(]x[)]", 0],
      ["\\[instance: ([0-9a-f-]{36})\\]", 1], ["(?<id>a)(b)|(c)", 3], ["((a)b)", 2]
    ]
    for (const [pattern, n] of counts) expect(captureGroupCount(pattern), pattern).toBe(n)
  })

  it("uses the group's text as the id, and the rows of every match of it", () => {
    const seqs = groupByEntity(parsed, templated, { pattern: "\\[instance: ([0-9a-f-]{36})\\]" })
    expect(unpackStrings(seqs.ids)).toEqual([A, B])
    expect(seqRows(seqs, 0)).toEqual([0, 3])
    expect(seqRows(seqs, 1)).toEqual([2, 3])
    // Without the group the whole match is the id, as before.
    const whole = groupByEntity(parsed, templated, { pattern: "\\[instance: [0-9a-f-]{36}\\]" })
    expect(unpackStrings(whole.ids)).toEqual([`[instance: ${A}]`, `[instance: ${B}]`])
    expect(Array.from(whole.rows)).toEqual(Array.from(seqs.rows))
  })

  it("takes the first of several groups, a named group as a numbered one, and skips (?:...)", () => {
    const first = groupByEntity(parsed, templated, { pattern: "\\[(instance): ([0-9a-f-]{36})\\]" })
    expect(unpackStrings(first.ids)).toEqual(["instance"])
    expect(seqRows(first, 0)).toEqual([0, 2, 3])
    const named = groupByEntity(parsed, templated, { pattern: "\\[instance: (?<id>[0-9a-f]{8})-[0-9a-f-]{27}\\]" })
    expect(unpackStrings(named.ids)).toEqual(["b9000564", "96abccce"])
    const nonCapturing = groupByEntity(parsed, templated, { pattern: "(?:\\[instance: )([0-9a-f-]{36})(?:\\])" })
    expect(unpackStrings(nonCapturing.ids)).toEqual([A, B])
  })

  it("skips a match the first group took no part in, and refuses a group that captures an empty string", () => {
    const rows = parsedLog(["id=7 name=x", "name=y", "id=9"])
    const seqs = groupByEntity(rows, templatedLog([0, 1, 2]), { pattern: "id=(\\d+)|name=\\w" })
    expect(unpackStrings(seqs.ids)).toEqual(["7", "9"])
    expect(Array.from(seqs.offsets)).toEqual([0, 1, 2])
    // An empty match whose group took no part is skipped too (and the scan moves on).
    expect(unpackStrings(groupByEntity(rows, templatedLog([0, 1, 2]), { pattern: "(?:id=(\\d+))?" }).ids)).toEqual(["7", "9"])
    // A lookahead holding the group: an empty match with a non-empty id.
    expect(unpackStrings(groupByEntity(rows, templatedLog([0, 1, 2]), { pattern: "(?=id=(\\d+))" }).ids)).toEqual(["7", "9"])
    expect(() => groupByEntity(rows, templatedLog([0, 1, 2]), { pattern: "id=(\\d*)x?" })).not.toThrow()
    expect(() => groupByEntity(rows, templatedLog([0, 1, 2]), { pattern: "name=(\\d*)" })).toThrow(/first capturing group captured an empty string/)
    expect(() => groupByEntity(rows, templatedLog([0, 1, 2]), { pattern: "(x)?name" })).toThrow(/found no entity \(its first capturing group took part in no match\)/)
  })

  it("never takes the byte scanner for a pattern with a group, and agrees with it on HDFS through the RegExp", () => {
    expect(literalDigitsPattern("blk_(-?\\d+)")).toBeUndefined()
    expect(literalDigitsPattern("(blk_-?\\d+)")).toBeUndefined()
    const { parsed: hdfs, templated: hdfsTemplates } = hdfsLog("loghub-2k/HDFS/HDFS_2k.log")
    const fast = groupByEntity(hdfs, hdfsTemplates, { pattern: BLOCK })
    const grouped = groupByEntity(hdfs, hdfsTemplates, { pattern: "(blk_-?\\d+)" })
    expect(unpackStrings(grouped.ids)).toEqual(unpackStrings(fast.ids))
    expect(Array.from(grouped.rows)).toEqual(Array.from(fast.rows))
    // The group's text, not the whole match: the bare number.
    const numbers = groupByEntity(hdfs, hdfsTemplates, { pattern: "blk_(-?\\d+)" })
    expect(unpackStrings(numbers.ids)).toEqual(unpackStrings(fast.ids).map((id) => id.slice(4)))
  })
})
