import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { compileFormat, parseLog } from "../../src/parsing/LogFormat.ts"
import { groupByField } from "../../src/sequences/GroupByField.ts"
import { stringAt } from "../../src/artifacts/Columns.ts"

const BGL = "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>"

describe("groupByField", () => {
  it("BGL_2k by Node: one sequence per node in first-appearance order, rows in log order", () => {
    const text = fs.readFileSync(path.join(process.env.FLOW_DATA_ROOT!, "loghub-2k/BGL/BGL_2k.log"), "utf8")
    // Independent: the 4th whitespace-separated token of each line is the node.
    const nodes = text.split("\n").filter((l) => l.trim() !== "").map((l) => l.trim().split(/\s+/)[3]!)
    const expected = new Map<string, Array<number>>()
    nodes.forEach((n, i) => expected.set(n, [...(expected.get(n) ?? []), i]))
    const parsed = parseLog(text, compileFormat(BGL), { trim: true })
    const templated = { templateIds: Int32Array.from(nodes, (_, i) => i % 7), templates: [] }
    const seqs = groupByField(parsed, templated, "Node")
    expect(seqs.labels.length).toBe(expected.size)
    const ids = [...expected.keys()]
    for (let s = 0; s < ids.length; s++) {
      expect(stringAt(seqs.ids, s)).toBe(ids[s])
      expect(Array.from(seqs.rows.subarray(seqs.offsets[s]!, seqs.offsets[s + 1]!))).toEqual(expected.get(ids[s]!))
      expect(Array.from(seqs.events.subarray(seqs.offsets[s]!, seqs.offsets[s + 1]!))).toEqual(expected.get(ids[s]!)!.map((i) => i % 7))
    }
  })
  it("names the field when the format has none", () => {
    const parsed = parseLog("a b\n", compileFormat("<X> <Content>"))
    expect(() => groupByField(parsed, { templateIds: new Int32Array(1), templates: [] }, "Node")).toThrow(/field: the log format has no field "Node" \(fields: X\)/)
  })
})
