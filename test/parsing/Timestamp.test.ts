import { describe, expect, it } from "vitest"
import { packStrings } from "../../src/artifacts/Columns.ts"
import { compileTimestamp, daysFromCivil, timestampColumn, timestampOf, type TimestampSpec } from "../../src/parsing/Timestamp.ts"

/** Dictionary columns from plain per-row values. */
const columns = (rows: Record<string, ReadonlyArray<string>>) =>
  Object.entries(rows).map(([name, values]) => {
    const distinct = [...new Set(values)]
    return { name, column: { values: packStrings(distinct), codes: Int32Array.from(values.map((v) => distinct.indexOf(v))) } }
  })

describe("daysFromCivil", () => {
  it("agrees with Date.UTC every day from 1899 to 2101", () => {
    for (let t = Date.UTC(1899, 0, 1); t <= Date.UTC(2101, 0, 1); t += 86_400_000) {
      const d = new Date(t)
      expect(daysFromCivil(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()) * 86_400_000).toBe(t)
    }
  })
})

describe("timestamp patterns", () => {
  const one = (pattern: string, value: string, assumeYear?: number): number =>
    timestampOf({ parts: [{ field: "T", pattern }], ...(assumeYear === undefined ? {} : { assumeYear }) }, { T: value })

  it("reads the LogHub shapes (hand-computed expectations)", () => {
    expect(one("yyyy-MM-dd HH:mm:ss,SSS", "2015-10-18 18:01:47,978")).toBe(Date.UTC(2015, 9, 18, 18, 1, 47, 978))
    expect(one("yyMMdd HHmmss", "081109 203615")).toBe(Date.UTC(2008, 10, 9, 20, 36, 15))
    expect(one("yy/MM/dd HH:mm:ss", "17/06/09 20:10:40")).toBe(Date.UTC(2017, 5, 9, 20, 10, 40))
    expect(one("EEE MMM dd HH:mm:ss yyyy", "Sun Dec 04 04:47:44 2005")).toBe(Date.UTC(2005, 11, 4, 4, 47, 44))
    expect(one("yyyyMMdd-H:m:s:S", "20171223-22:32:0:95")).toBe(Date.UTC(2017, 11, 23, 22, 32, 0, 95))
    expect(one("yyyyMMdd-H:m:s:S", "20171223-22:15:29:606")).toBe(Date.UTC(2017, 11, 23, 22, 15, 29, 606))
    expect(one("yyyy-MM-dd-HH.mm.ss.SSSSSS", "2005-06-03-15.42.50.675872")).toBe(Date.UTC(2005, 5, 3, 15, 42, 50) + 675.872)
    expect(one("MMM d HH:mm:ss", "Jul  1 09:00:55", 2017)).toBe(Date.UTC(2017, 6, 1, 9, 0, 55))
    expect(one("MM.dd HH:mm:ss", "10.30 16:49:06", 2000)).toBe(Date.UTC(2000, 9, 30, 16, 49, 6))
    expect(one("epoch", "1117838570")).toBe(1117838570_000)
    expect(one("epoch", "1117838570.25")).toBe(1117838570_250)
    expect(one("epoch_ms", "1117838570123")).toBe(1117838570123)
  })

  it("gives NaN for values that do not fit or dates that do not exist", () => {
    expect(one("yyMMdd", "081309")).toBeNaN() // month 13
    expect(one("yyMMdd", "08110")).toBeNaN() // too short
    expect(one("yyMMdd", "0811099")).toBeNaN() // trailing text
    expect(one("HH:mm:ss MM-dd", "24:00:00 01-01", 2001)).toBeNaN()
    expect(one("MM-dd", "02-29", 2001)).toBeNaN()
    expect(one("MM-dd", "02-29", 2000)).toBe(Date.UTC(2000, 1, 29))
    expect(one("MM-dd", "04-31", 2000)).toBeNaN()
    expect(one("MMM d", "Foo 3", 2000)).toBeNaN()
    expect(one("epoch", "12ab")).toBeNaN()
    expect(one("epoch", "")).toBeNaN()
  })

  it("validates specs early, naming the problem", () => {
    const spec = (parts: TimestampSpec["parts"], assumeYear?: number): TimestampSpec => ({ parts, ...(assumeYear === undefined ? {} : { assumeYear }) })
    expect(() => compileTimestamp(spec([]))).toThrow(/no parts/)
    expect(() => compileTimestamp(spec([{ field: "T", pattern: "MMMM d" }]))).toThrow(/"MMMM" is not a pattern letter run/)
    expect(() => compileTimestamp(spec([{ field: "T", pattern: "HH:mm:ss" }]))).toThrow(/no part gives the month/)
    expect(() => compileTimestamp(spec([{ field: "T", pattern: "MM-dd" }]))).toThrow(/set assumeYear/)
    expect(() => compileTimestamp(spec([{ field: "T", pattern: "yyyy-MM-dd" }], 2000))).toThrow(/assumeYear is set but a part gives the year/)
    expect(() => compileTimestamp(spec([{ field: "T", pattern: "epoch" }, { field: "U", pattern: "HH" }]))).toThrow(/only part/)
    expect(() => compileTimestamp(spec([{ field: "D", pattern: "yyyy-MM-dd" }, { field: "T", pattern: "dd HH" }]))).toThrow(/more than one part gives the day/)
    expect(() => timestampColumn(columns({ Date: ["x"] }), spec([{ field: "Time", pattern: "epoch" }]))).toThrow(/no field "Time" \(fields: Date\)/)
  })
})

describe("timestampColumn", () => {
  it("reads values from their bytes, non-ASCII characters included (in a pattern's literals or where nothing fits)", () => {
    const cjk = timestampColumn(columns({ D: ["2017年05月03日", "2017-05-03"] }), { parts: [{ field: "D", pattern: "yyyy年MM月dd日" }] })
    expect(cjk[0]).toBe(Date.UTC(2017, 4, 3))
    expect(cjk[1]).toBeNaN()
    const ascii = timestampColumn(columns({ D: ["2017-05-03", "2017-05-0é", "2017–05-03", "Mär 3", "MAY 3"] }), { parts: [{ field: "D", pattern: "yyyy-MM-dd" }] })
    expect(ascii[0]).toBe(Date.UTC(2017, 4, 3))
    expect(Number.isNaN(ascii[1]!) && Number.isNaN(ascii[2]!)).toBe(true)
    const names = timestampColumn(columns({ D: ["Mär 3", "MAY 3", "may 3"] }), { parts: [{ field: "D", pattern: "MMM d" }], assumeYear: 2005 })
    expect(names[0]).toBeNaN()
    expect([names[1], names[2]]).toEqual([Date.UTC(2005, 4, 3), Date.UTC(2005, 4, 3)])
  })

  it("combines parts from several fields per row", () => {
    const ts = timestampColumn(
      columns({ Month: ["Jun", "Jun", "Jul"], Date: ["14", "14", "9"], Time: ["15:16:01", "23:59:59", "12:16:51"] }),
      { parts: [{ field: "Month", pattern: "MMM" }, { field: "Date", pattern: "d" }, { field: "Time", pattern: "HH:mm:ss" }], assumeYear: 2005 }
    )
    expect(Array.from(ts)).toEqual([Date.UTC(2005, 5, 14, 15, 16, 1), Date.UTC(2005, 5, 14, 23, 59, 59), Date.UTC(2005, 6, 9, 12, 16, 51)])
  })

  it("moves to the next year when a yearless time goes back more than 7 days, not for small disorder", () => {
    const spec: TimestampSpec = { parts: [{ field: "T", pattern: "MMM d HH:mm:ss" }], assumeYear: 2004 }
    const ts = timestampColumn(columns({ T: ["Dec 31 23:59:58", "Dec 31 23:59:50", "bad", "Jan  1 00:00:01", "Feb 29 12:00:00", "Dec 30 00:00:00"] }), spec)
    expect(ts[0]).toBe(Date.UTC(2004, 11, 31, 23, 59, 58))
    expect(ts[1]).toBe(Date.UTC(2004, 11, 31, 23, 59, 50))
    expect(ts[2]).toBeNaN()
    expect(ts[3]).toBe(Date.UTC(2005, 0, 1, 0, 0, 1))
    // 2005 is not a leap year.
    expect(ts[4]).toBeNaN()
    expect(ts[5]).toBe(Date.UTC(2005, 11, 30))
  })
})
