import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { compileFormat, parseLog } from "../../src/parsing/LogFormat.ts"
import type { ParsedLog } from "../../src/tasks/Artifacts.ts"
import { stringAt, stringCount, unpackStrings } from "../../src/tasks/StringColumn.ts"

const dataRoot = process.env.FLOW_DATA_ROOT ?? ""
const readData = (rel: string): string => fs.readFileSync(path.join(dataRoot, rel), "utf8")

const HDFS_FORMAT = "<Date> <Time> <Pid> <Level> <Component>: <Content>"
const BGL_FORMAT = "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>"

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines. */
const parseCsv = (text: string): Array<Array<string>> => {
  const rows: Array<Array<string>> = []
  let row: Array<string> = []
  let cell = ""
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c !== "\"") cell += c
      else if (text[i + 1] === "\"") {
        cell += "\""
        i++
      } else quoted = false
    } else if (c === "\"") quoted = true
    else if (c === ",") {
      row.push(cell)
      cell = ""
    } else if (c === "\n") {
      row.push(cell.endsWith("\r") ? cell.slice(0, -1) : cell)
      rows.push(row)
      row = []
      cell = ""
    } else cell += c
  }
  if (cell !== "" || row.length > 0) rows.push([...row, cell])
  return rows
}

const field = (log: ParsedLog, name: string, row: number): string => {
  const f = log.fields.find((x) => x.name === name)
  if (f === undefined) throw new Error(`no field ${name}`)
  return f.column.values[f.column.codes[row]!]!
}

describe("compileFormat", () => {
  it("lists fields in order and finds Content", () => {
    const f = compileFormat(HDFS_FORMAT)
    expect(f.fieldNames).toEqual(["Date", "Time", "Pid", "Level", "Component", "Content"])
    expect(f.contentIndex).toBe(5)
    expect(f.regex.source).toBe("^(?<Date>.*?)\\s+(?<Time>.*?)\\s+(?<Pid>.*?)\\s+(?<Level>.*?)\\s+(?<Component>.*?):\\s+(?<Content>.*?)$")
  })

  it("rejects a format without <Content>", () => {
    expect(() => compileFormat("<Date> <Time> <Message>")).toThrow(/no <Content> field/)
  })

  it("rejects duplicate, ill-formed, unterminated and adjacent fields", () => {
    expect(() => compileFormat("<Date> <Date> <Content>")).toThrow(/duplicate field <Date>/)
    expect(() => compileFormat("<> <Content>")).toThrow(/ill-formed field <>/)
    expect(() => compileFormat("<Da te> <Content>")).toThrow(/ill-formed field <Da te>/)
    expect(() => compileFormat("<Date <Content>")).toThrow(/unterminated field/)
    expect(() => compileFormat("<Date><Content>")).toThrow(/no separator/)
  })
})

describe("parseLog", () => {
  it("parses HDFS_20000 completely; line 1 fields agree with the raw text", () => {
    const raw = readData("hdfs/raw/HDFS_20000.log")
    const log = parseLog(raw, compileFormat(HDFS_FORMAT))
    expect(log.rawLines).toBe(20000)
    expect(log.unparsed.count).toBe(0)
    expect(log.lineNo.length).toBe(20000)
    expect(stringCount(log.content)).toBe(20000)
    expect(log.fields.map((f) => f.name)).toEqual(["Date", "Time", "Pid", "Level", "Component"])

    const rawLines = raw.split("\n")
    for (const i of [0, 1, 9999, 19999]) {
      const line = rawLines[i]!
      const words = line.split(" ")
      const colon = line.indexOf(": ")
      expect(log.lineNo[i]).toBe(i + 1)
      expect(field(log, "Date", i)).toBe(words[0])
      expect(field(log, "Time", i)).toBe(words[1])
      expect(field(log, "Pid", i)).toBe(words[2])
      expect(field(log, "Level", i)).toBe(words[3])
      expect(field(log, "Component", i)).toBe(line.slice(line.indexOf(words[4]!, words.slice(0, 4).join(" ").length), colon))
      expect(stringAt(log.content, i)).toBe(line.slice(colon + 2))
    }
    expect(field(log, "Component", 0)).toBe("dfs.DataNode$DataXceiver")
    expect(stringAt(log.content, 0)).toBe("Receiving block blk_-1608999687919862906 src: /10.250.19.102:54106 dest: /10.250.19.102:50010")
    // Dictionary columns hold each distinct value once.
    const levels = log.fields.find((f) => f.name === "Level")!.column
    expect(new Set(levels.values).size).toBe(levels.values.length)
    expect(levels.values).toContain("INFO")
  })

  it("parses BGL_2k (CRLF): 2000 rows, Label '-' on the normal lines, no CR left", () => {
    const raw = readData("loghub-2k/BGL/BGL_2k.log")
    const lines = raw.split("\n")
    if (lines[lines.length - 1] === "") lines.pop()
    const clean = lines.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l))
    const expectedLabels = clean.map((l) => l.split(" ")[0])
    const expectedNormal = expectedLabels.filter((l) => l === "-").length
    // The README's counts, as a guard that the independent reading above is right.
    expect(clean.length).toBe(2000)
    expect(expectedNormal).toBe(1857)

    const log = parseLog(raw, compileFormat(BGL_FORMAT))
    expect(log.rawLines).toBe(2000)
    expect(log.unparsed.count).toBe(0)
    expect(stringCount(log.content)).toBe(2000)
    const labels = Array.from({ length: 2000 }, (_, i) => field(log, "Label", i))
    expect(labels).toEqual(expectedLabels)
    expect(labels.filter((l) => l === "-").length).toBe(1857)

    const contents = unpackStrings(log.content)
    expect(contents.some((c) => c.includes("\r"))).toBe(false)
    for (const i of [0, 500, 1999]) {
      const words = clean[i]!.split(" ")
      expect(field(log, "Node", i)).toBe(words[3])
      expect(field(log, "Level", i)).toBe(words[8])
      expect(contents[i]).toBe(words.slice(9).join(" "))
    }
  })

  it("agrees with every field of the Loghub structured CSVs (HDFS_2k, BGL_2k)", () => {
    for (const [system, format] of [["HDFS", HDFS_FORMAT], ["BGL", BGL_FORMAT]] as const) {
      const log = parseLog(readData(`loghub-2k/${system}/${system}_2k.log`), compileFormat(format))
      const rows = parseCsv(readData(`loghub-2k/${system}/${system}_2k.log_structured.csv`))
      const header = rows[0]!
      expect(rows.length - 1).toBe(2000)
      expect(log.lineNo.length).toBe(2000)
      const contents = unpackStrings(log.content)
      rows.slice(1).forEach((r, i) => {
        expect(r.length).toBe(header.length)
        expect(log.lineNo[i]).toBe(Number(r[header.indexOf("LineId")]))
        expect(contents[i]).toBe(r[header.indexOf("Content")])
        for (const f of log.fields) expect(field(log, f.name, i)).toBe(r[header.indexOf(f.name)])
      })
    }
  })

  it("counts unmatched lines, keeps the first samples, ignores the piece after a final newline", () => {
    const text = "a b: one\r\nbroken\nc d:   two words \n\nx\ny\nz\nw\ne f: three\n"
    const log = parseLog(text, compileFormat("<A> <B>: <Content>"), { maxUnparsedSamples: 3 })
    expect(log.rawLines).toBe(9)
    expect(Array.from(log.lineNo)).toEqual([1, 3, 9])
    expect(unpackStrings(log.content)).toEqual(["one", "two words ", "three"])
    expect(log.fields[0]!.column.values).toEqual(["a", "c", "e"])
    expect(log.unparsed.count).toBe(6)
    expect(log.unparsed.samples).toEqual([{ line: 2, text: "broken" }, { line: 4, text: "" }, { line: 5, text: "x" }])
  })

  it("encodes non-ASCII content as UTF-8 and supports escaped literals", () => {
    const log = parseLog("[12:00] héllo wörld ✓\n[12:01] plain", compileFormat("\\[<Time>\\] <Content>"))
    expect(unpackStrings(log.content)).toEqual(["héllo wörld ✓", "plain"])
    expect(log.fields[0]!.column.values).toEqual(["12:00", "12:01"])
  })

  it("agrees with the equivalent regex, backtracking cases included", () => {
    const cases: Array<[string, Array<string>]> = [
      ["<A> <B> <Content>", ["a  c", "a b c d", " a b", "a\tb  c", "ab"]],
      ["<A>: <B> x<Content>", ["k: v x y", "k:v: w  xz", "k: a x", "p: q  x"]],
      ["<A> [<B>] <Content>", ["a [b] c", "a [b] [c] d", "a [b]c] d", "a [b"]],
      [HDFS_FORMAT, readData("hdfs/raw/HDFS_20000.log").split("\n").slice(0, 300)]
    ]
    for (const [format, lines] of cases) {
      const compiled = compileFormat(format)
      const log = parseLog(lines.join("\n"), compiled)
      let row = 0
      let unmatched = 0
      lines.forEach((line, i) => {
        const m = compiled.regex.exec(line)
        if (m === null) {
          unmatched++
          return
        }
        expect(log.lineNo[row]).toBe(i + 1)
        expect(stringAt(log.content, row)).toBe(m.groups!["Content"])
        for (const f of log.fields) expect(f.column.values[f.column.codes[row]!]).toBe(m.groups![f.name])
        row++
      })
      expect(row).toBe(log.lineNo.length)
      expect(log.unparsed.count).toBe(unmatched)
    }
  })

  it("agrees with the equivalent regex on random lines", () => {
    let seed = 12345
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    }
    const alphabet = [" ", " ", "a", "b", ":", "[", "]", "\t", "x"]
    const formats = ["<A> <B> <Content>", "<A>: <B> x<Content>", "<A> [<B>] <Content>", "<A>  :<Content>] <B>", "[<A>\t<Content>]"]
    for (const format of formats) {
      const compiled = compileFormat(format)
      const lines = Array.from({ length: 3000 }, () => Array.from({ length: random(14) }, () => alphabet[random(alphabet.length)]).join(""))
      const log = parseLog(lines.join("\n"), compiled)
      let row = 0
      lines.forEach((line, i) => {
        const m = compiled.regex.exec(line)
        if (m === null) return
        expect(log.lineNo[row]).toBe(i + 1)
        expect(stringAt(log.content, row)).toBe(m.groups!["Content"])
        for (const f of log.fields) expect(f.column.values[f.column.codes[row]!]).toBe(m.groups![f.name])
        row++
      })
      expect(row).toBe(log.lineNo.length)
    }
  })

  it("stays fast on long lines that do not match", () => {
    const line = "w ".repeat(3000)
    const log = parseLog(`${line}\n${line}`, compileFormat(HDFS_FORMAT))
    expect(log.unparsed.count).toBe(2)
  })
})
