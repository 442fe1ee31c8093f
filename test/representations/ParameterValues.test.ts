import { describe, expect, it } from "vitest"
import { parameterMatrices, positionValues } from "../../src/representations/ParameterValues.ts"
import type { TemplatedLog } from "../../src/artifacts/Log.ts"
import { packStrings, stringAt } from "../../src/artifacts/Columns.ts"

// Rows (template: parameters): 0 A: 10 x; 1 B: 7; 2 A: -2.5 y; 3 A: 3 (mismatched); 4 B: 08; 5 C: (none)
const templated: TemplatedLog = {
  templateIds: Int32Array.from([0, 1, 0, 0, 1, 2]),
  templates: [
    { id: 0, text: "open <*> as <*>", count: 3 },
    { id: 1, text: "wrote <*> bytes", count: 2 },
    { id: 2, text: "done", count: 1 }
  ]
}
const perRow = [["10", "x"], ["7"], ["-2.5", "y"], ["3"], ["08"], []]
const params = {
  offsets: Int32Array.from(perRow.reduce<Array<number>>((acc, r) => [...acc, acc[acc.length - 1]! + r.length], [0])),
  values: packStrings(perRow.flat())
}

describe("parameterMatrices", () => {
  it("lays out values per template and position, row-major, rows in log order", () => {
    const m = parameterMatrices(templated, params)
    expect(Array.from(m.templateIds)).toEqual([0, 1, 2])
    expect(Array.from(m.arity)).toEqual([2, 1, 0])
    expect(Array.from(m.rowOffsets)).toEqual([0, 2, 4, 5])
    expect(Array.from(m.rows)).toEqual([0, 2, 1, 4, 5])
    expect(Array.from(m.valueOffsets)).toEqual([0, 4, 6, 6])
    expect(Array.from(m.valueIndex, (v) => stringAt(params.values, v))).toEqual(["10", "x", "-2.5", "y", "7", "08"])
    expect(Array.from(m.numeric)).toEqual([10, Number.NaN, -2.5, Number.NaN, 7, 8])
    expect(m.mismatched).toBe(1)
  })

  it("reads one position as a numeric series, and restricts to chosen rows", () => {
    const m = parameterMatrices(templated, params)
    const first = positionValues(m, 0, 0)
    expect(Array.from(first.rows)).toEqual([0, 2])
    expect(Array.from(first.numeric)).toEqual([10, -2.5])
    expect(Array.from(positionValues(m, 1, 0).numeric)).toEqual([7, 8])
    expect(positionValues(m, 9, 0).rows.length).toBe(0)
    expect(() => positionValues(m, 0, 2)).toThrow(/2 parameter positions/)
    const some = parameterMatrices(templated, params, { rows: Int32Array.from([2, 4]) })
    expect(Array.from(some.templateIds)).toEqual([0, 1])
    expect(Array.from(some.rows)).toEqual([2, 4])
    expect(Array.from(some.numeric)).toEqual([-2.5, Number.NaN, 8])
  })

  it("takes the first row's count for templates missing from the table; rejects a length mismatch", () => {
    const bare: TemplatedLog = { templateIds: templated.templateIds, templates: [] }
    const m = parameterMatrices(bare, params)
    expect(Array.from(m.arity)).toEqual([2, 1, 0])
    expect(m.mismatched).toBe(1)
    expect(() => parameterMatrices(templated, { offsets: new Int32Array(3), values: params.values })).toThrow(/parameters cover 2 rows/)
    expect(() => parameterMatrices(templated, params, { rows: Int32Array.from([6]) })).toThrow(/outside the log/)
  })
})
