import { describe, expect, it } from "vitest"
import { groupF1, groupingAccuracy, normalizeTemplate, templateAccuracy } from "../../src/mining/Accuracy.ts"
import { csvCell, csvColumn, parseCsv } from "../../src/presets/Csv.ts"

describe("groupingAccuracy (GA)", () => {
  it("counts the lines of predicted groups that equal a true group", () => {
    // True groups {0,1,2} {3,4} {5}; predicted {0,1,2} {3} {4,5}: only the first is exact.
    expect(groupingAccuracy([7, 7, 7, 8, 9, 9], ["a", "a", "a", "b", "b", "c"])).toBe(3 / 6)
    // Labels are compared as values: renaming groups changes nothing.
    expect(groupingAccuracy(["x", "x", "y"], [1, 1, 2])).toBe(1)
    // One predicted group for everything is right only for lines whose true group is everything.
    expect(groupingAccuracy([0, 0, 0, 0], ["a", "a", "b", "b"])).toBe(0)
    expect(groupingAccuracy([], [])).toBeNaN()
    expect(() => groupingAccuracy([1], [])).toThrow(/1 predicted groups but 0/)
  })
})

describe("groupF1 (FGA)", () => {
  it("is F1 over groups: correct groups / predicted and / true", () => {
    // True 3 groups, predicted 3 groups, 1 exact: P = R = 1/3.
    const r = groupF1([7, 7, 7, 8, 9, 9], ["a", "a", "a", "b", "b", "c"])
    expect(r).toMatchObject({ correct: 1, predictedGroups: 3, trueGroups: 3 })
    expect(r.f1).toBeCloseTo(1 / 3, 12)
    // Over-splitting: true {0,1,2,3} {4}, predicted {0} {1} {2} {3} {4}: 1 correct of 5 predicted, of 2 true.
    const s = groupF1([0, 1, 2, 3, 4], ["a", "a", "a", "a", "b"])
    expect([s.precision, s.recall]).toEqual([1 / 5, 1 / 2])
    expect(s.f1).toBeCloseTo((2 * (1 / 5) * (1 / 2)) / (1 / 5 + 1 / 2), 12)
    expect(groupF1([0, 0], ["a", "b"]).f1).toBe(0)
    expect(groupF1([1, 2], ["a", "b"]).f1).toBe(1)
  })
})

describe("templateAccuracy (PA)", () => {
  it("compares templates per line after normalising runs of <*> and whitespace", () => {
    expect(normalizeTemplate("Took <*> <*> seconds")).toBe("Took <*> seconds")
    expect(normalizeTemplate("  a <*><*>  b\t<*> ")).toBe("a <*> b <*>")
    expect(normalizeTemplate("<*>:<*> open")).toBe("<*>:<*> open")
    expect(normalizeTemplate("blk_<*>")).toBe("blk_<*>")
    expect(templateAccuracy(
      ["Took <*> <*> seconds", "x <*>", "blk_<*> done", "a  b"],
      ["Took <*> seconds", "x <*>:<*>", "<*> done", "a b"]
    )).toBe(2 / 4)
    expect(templateAccuracy([], [])).toBeNaN()
    expect(() => templateAccuracy(["a"], [])).toThrow(/1 predicted templates but 0/)
  })
})

describe("Csv", () => {
  it("quotes only cells that need it and reads them back", () => {
    const cells = ["plain", "with,comma", "say \"hi\"", "", "line\nbreak", "cr\rhere", "<*>"]
    expect(cells.map(csvCell)).toEqual(["plain", "\"with,comma\"", "\"say \"\"hi\"\"\"", "", "\"line\nbreak\"", "\"cr\rhere\"", "<*>"])
    const text = `${cells.map(csvCell).join(",")}\r\n${cells.map(csvCell).join(",")}\n`
    expect(parseCsv(text)).toEqual([cells, cells])
    expect(parseCsv("\ufeffa,b\n1,\"2\"")).toEqual([["a", "b"], ["1", "2"]])
    expect(() => parseCsv("a,\"b")).toThrow(/unterminated/)
    expect(csvColumn([["a", "b"], ["1", "2"]], "b")).toEqual(["2"])
    expect(() => csvColumn([["a"], ["1", "2"]], "a")).toThrow(/row 2 has 2 cells/)
    expect(() => csvColumn([["a"]], "z")).toThrow(/no column "z"/)
  })
})
