import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { compileFormat, LineParser, multilineProblem, parseLog } from "../../src/parsing/LogFormat.ts"
import type { ParsedLog } from "../../src/artifacts/Log.ts"
import { dictValueAt, stringAt, stringCount, unpackStrings } from "../../src/artifacts/Columns.ts"
import { readCsv, TRACEBACK_FORMAT, TRACEBACK_LINES } from "../presets/helpers.ts"

const dataRoot = process.env.FLOW_DATA_ROOT ?? ""
const readData = (rel: string): string => fs.readFileSync(path.join(dataRoot, rel), "utf8")

const HDFS_FORMAT = "<Date> <Time> <Pid> <Level> <Component>: <Content>"
const BGL_FORMAT = "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>"

/** The tests' own CSV reader (independent of src/presets/Csv.ts). */
const parseCsv = readCsv

const field = (log: ParsedLog, name: string, row: number): string => {
  const f = log.fields.find((x) => x.name === name)
  if (f === undefined) throw new Error(`no field ${name}`)
  return dictValueAt(f.column, row)
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
    // A ">" that closes no field is as unbalanced as a "<" that opens none; "\\>" is a literal.
    expect(() => compileFormat("<Date> Level> <Content>")).toThrow(/">" at position 12 closes no field/)
    // After anything but a name it is literal text, as in an arrow.
    expect(compileFormat("<Date> -> <Content>").fieldNames).toEqual(["Date", "Content"])
    expect(compileFormat("<Date> \\> <Content>").regex.source).toBe("^(?<Date>.*?)\\s+>\\s+(?<Content>.*?)$")
  })
})

describe("parseLog", () => {
  it("reads a log with CR-only (classic Mac) line endings as its lines, not as one line", () => {
    const lines = readData("loghub-2k/HDFS/HDFS_2k.log").split("\n").filter((l) => l !== "").map((l) => l.replace(/\r$/, ""))
    const lf = parseLog(lines.join("\n") + "\n", compileFormat(HDFS_FORMAT))
    const cr = parseLog(lines.join("\r") + "\r", compileFormat(HDFS_FORMAT))
    expect(cr.rawLines).toBe(2000)
    expect(cr.unparsed.count).toBe(0)
    expect(unpackStrings(cr.content)).toEqual(unpackStrings(lf.content))
    // A file with \n anywhere keeps \n as its line break (a stray \r stays in its line).
    expect(parseLog("a\rb\nc\n", compileFormat("<Content>")).rawLines).toBe(2)
  })

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
    expect(new Set(unpackStrings(levels.values)).size).toBe(stringCount(levels.values))
    expect(unpackStrings(levels.values)).toContain("INFO")
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
    expect(unpackStrings(log.fields[0]!.column.values)).toEqual(["a", "c", "e"])
    expect(log.unparsed.count).toBe(6)
    expect(log.unparsed.samples).toEqual([{ line: 2, reason: "no_match", text: "broken" }, { line: 4, reason: "no_match", text: "" }, { line: 5, reason: "no_match", text: "x" }])
    expect(log.unparsed.byReason).toEqual({ no_match: 6, invalid_utf8: 0, nul_byte: 0, too_long: 0 })
  })

  it("encodes non-ASCII content as UTF-8 and supports escaped literals", () => {
    const log = parseLog("[12:00] héllo wörld ✓\n[12:01] plain", compileFormat("\\[<Time>\\] <Content>"))
    expect(unpackStrings(log.content)).toEqual(["héllo wörld ✓", "plain"])
    expect(unpackStrings(log.fields[0]!.column.values)).toEqual(["12:00", "12:01"])
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
        for (const f of log.fields) expect(dictValueAt(f.column, row)).toBe(m.groups![f.name])
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
        for (const f of log.fields) expect(dictValueAt(f.column, row)).toBe(m.groups![f.name])
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

describe("optional parts `(...)?`", () => {
  const LINUX = "<Month> <Date> <Time> <Level> <Component>(\\[<PID>\\])?: <Content>"
  const MAC = "<Month>  <Date> <Time> <User> <Component>\\[<PID>\\]( \\(<Address>\\))?: <Content>"

  it("compiles to a non-capturing optional group and lists the optional fields", () => {
    const f = compileFormat(LINUX)
    expect(f.regex.source).toBe(
      "^(?<Month>.*?)\\s+(?<Date>.*?)\\s+(?<Time>.*?)\\s+(?<Level>.*?)\\s+(?<Component>.*?)(?:\\[(?<PID>.*?)\\])?:\\s+(?<Content>.*?)$"
    )
    expect(f.optionalFields).toEqual(["PID"])
    expect(compileFormat(MAC).optionalFields).toEqual(["Address"])
    // A "(" without a closing ")?" stays literal, as before.
    expect(compileFormat("<A> (<B>) <Content>").optionalFields).toEqual([])
    expect(compileFormat("<A> (<B>) <Content>").regex.source).toBe("^(?<A>.*?)\\s+\\((?<B>.*?)\\)\\s+(?<Content>.*?)$")
  })

  it("rejects nested and empty parts, and fields that meet through a skipped part", () => {
    expect(() => compileFormat("<A>( x( y)?)? <Content>")).toThrow(/nested optional part/)
    expect(() => compileFormat("<A> ()? <Content>")).toThrow(/empty optional part/)
    expect(() => compileFormat("<A>( x)?<Content>")).toThrow(/fields <A> and <Content> have no separator/)
    expect(() => compileFormat("<A>(<B>:)? <Content>")).toThrow(/fields <A> and <B> have no separator/)
  })

  it("fills the part's fields when present and leaves them empty when absent", () => {
    const log = parseLog(
      "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure\nJul 27 14:42:00 combo kernel: Linux agpgart\n",
      compileFormat(LINUX)
    )
    expect(log.unparsed.count).toBe(0)
    expect(unpackStrings(log.fields.find((f) => f.name === "Component")!.column.values)).toEqual(["sshd(pam_unix)", "kernel"])
    expect([field(log, "PID", 0), field(log, "PID", 1)]).toEqual(["19939", ""])
    expect(unpackStrings(log.content)).toEqual(["authentication failure", "Linux agpgart"])
  })

  it("agrees with the equivalent regex on random lines", () => {
    let seed = 777
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    }
    const alphabet = [" ", " ", "a", "b", ":", "[", "]", "(", ")", "x"]
    const formats = ["<A>(\\[<B>\\])?: <Content>", "<A> <B>( \\(<C>\\))?: <Content>", "<A>( x)? <Content>", "<A> <Content>(:<B>)?", "(\\[<A>\\])? <B> <Content>"]
    for (const format of formats) {
      const compiled = compileFormat(format)
      const lines = Array.from({ length: 4000 }, () => Array.from({ length: random(14) }, () => alphabet[random(alphabet.length)]).join(""))
      const log = parseLog(lines.join("\n"), compiled)
      let row = 0
      lines.forEach((line, i) => {
        const m = compiled.regex.exec(line)
        if (m === null) return
        expect(log.lineNo[row], `${format} on ${JSON.stringify(line)}`).toBe(i + 1)
        expect(stringAt(log.content, row)).toBe(m.groups!["Content"] ?? "")
        for (const f of log.fields) expect(dictValueAt(f.column, row), `${format} ${f.name} on ${JSON.stringify(line)}`).toBe(m.groups![f.name] ?? "")
        row++
      })
      expect(row).toBe(log.lineNo.length)
    }
  })
})

describe("parseLog on bytes and Unicode", () => {
  it("gives the same columns for a Buffer as for its text", () => {
    const raw = fs.readFileSync(path.join(dataRoot, "loghub-2k/Mac/Mac_2k.log"))
    const f = compileFormat("<Month>  <Date> <Time> <User> <Component>\\[<PID>\\]( \\(<Address>\\))?: <Content>")
    const a = parseLog(raw, f, { trim: true })
    const b = parseLog(raw.toString("utf8"), f, { trim: true })
    expect(a.lineNo).toEqual(b.lineNo)
    expect(unpackStrings(a.content)).toEqual(unpackStrings(b.content))
    expect(a.fields).toEqual(b.fields)
  })

  it("treats Unicode whitespace as JavaScript's \\s does, like the regex", () => {
    const spaces = ["\u00a0", "\u1680", "\u2000", "\u200a", "\u2028", "\u202f", "\u205f", "\u3000", "\ufeff", "\u0085", "\u200b"]
    const compiled = compileFormat("<A> <B>: <Content>")
    const lines: Array<string> = []
    for (const s of spaces) lines.push(`a${s}b: c`, `a ${s} b:${s}ü${s}`, `é${s}${s}ñ:${s}x`, `${s}a b: c${s}`)
    const log = parseLog(lines.join("\n"), compiled)
    let row = 0
    lines.forEach((line, i) => {
      const m = compiled.regex.exec(line)
      if (m === null) return
      expect(log.lineNo[row], JSON.stringify(line)).toBe(i + 1)
      expect(stringAt(log.content, row)).toBe(m.groups!["Content"])
      for (const f of log.fields) expect(dictValueAt(f.column, row)).toBe(m.groups![f.name])
      row++
    })
    expect(row).toBe(log.lineNo.length)
    expect(row).toBeGreaterThan(0)
  })

  it("trim strips leading and trailing whitespace before matching (logparser's line.strip())", () => {
    const f = compileFormat("<A> <B>: <Content>")
    const text = "  a b: one  \r\n\ta b: two\u3000\n"
    expect(unpackStrings(parseLog(text, f, { trim: true }).content)).toEqual(["one", "two"])
    // Without trim the regex still matches, but with an empty first field and the spaces kept.
    const untrimmed = parseLog(text, f)
    expect(unpackStrings(untrimmed.content)).toEqual(["one  ", "two\u3000"])
    expect(unpackStrings(untrimmed.fields[0]!.column.values)).toEqual([""])
  })

  it("adds per-row timestamps only when asked", () => {
    const f = compileFormat("<Date> <Time> <Content>")
    const text = "081109 203615 a\n081109 2036xx b\n"
    expect(parseLog(text, f).timestamps).toBeUndefined()
    const ts = parseLog(text, f, { timestamp: { parts: [{ field: "Date", pattern: "yyMMdd" }, { field: "Time", pattern: "HHmmss" }] } }).timestamps!
    expect(ts[0]).toBe(Date.UTC(2008, 10, 9, 20, 36, 15))
    expect(ts[1]).toBeNaN()
  })
})

describe("bad input: counted and sampled by reason, never a crash, never in the columns", () => {
  const f = compileFormat("<A> <B>: <Content>")
  const bytes = (...parts: Array<string | Array<number>>): Buffer =>
    Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : Buffer.from(p))))

  it("an empty input has no lines", () => {
    for (const input of ["", Buffer.alloc(0), new Uint8Array(0)]) {
      const log = parseLog(input, f)
      expect(log.rawLines).toBe(0)
      expect(log.lineNo.length).toBe(0)
      expect(log.content.offsets).toEqual(new Int32Array([0]))
      expect(log.fields.map((x) => x.column.codes.length)).toEqual([0, 0])
      expect(log.unparsed).toEqual({ count: 0, byReason: { no_match: 0, invalid_utf8: 0, nul_byte: 0, too_long: 0 }, samples: [] })
    }
    // One empty line is a line that does not match.
    expect(parseLog("\n", f).unparsed.byReason.no_match).toBe(1)
  })

  it("a line that is not valid UTF-8 is unparsed (invalid_utf8) with a U+FFFD sample; the others parse", () => {
    const input = bytes("a b: ok\n", "a b: caf", [0xe9], " latin1\n", "a b: cut ", [0xe2, 0x82], "\n", "a b: ", [0xff, 0xfe], "\n", "a b: fine ✓\n")
    const log = parseLog(input, f)
    expect(log.rawLines).toBe(5)
    expect(Array.from(log.lineNo)).toEqual([1, 5])
    expect(unpackStrings(log.content)).toEqual(["ok", "fine ✓"])
    expect(log.unparsed.byReason).toEqual({ no_match: 0, invalid_utf8: 3, nul_byte: 0, too_long: 0 })
    expect(log.unparsed.samples[0]).toEqual({ line: 2, reason: "invalid_utf8", text: "a b: caf\ufffd latin1" })
  })

  it("with encoding latin1 every byte is a character, as logparser reads logs", () => {
    const input = bytes("a b: caf", [0xe9], "\n", "x", [0xa0], "y: nbsp\n", [0xe9], "t b: z\n")
    const log = parseLog(input, f, { encoding: "latin1" })
    expect(log.unparsed.count).toBe(0)
    expect(unpackStrings(log.content)).toEqual(["café", "nbsp", "z"])
    // U+00A0 is whitespace for \s: "x" and "y" are two fields. Header values are UTF-8 too.
    expect(unpackStrings(log.fields[0]!.column.values)).toEqual(["a", "x", "ét"])
    expect(unpackStrings(log.fields[1]!.column.values)).toEqual(["b", "y"])
    expect(() => parseLog("a", compileFormat("<A> é <Content>"), { encoding: "latin1" })).toThrow(/non-ASCII literals/)
  })

  it("a line holding a NUL byte is unparsed (nul_byte), wherever the NUL is", () => {
    const input = bytes([0, 0, 0], "\n", "a b: x", [0], "y\n", "a b: ok\n", [0], "a b: z\n")
    const log = parseLog(input, f)
    expect(Array.from(log.lineNo)).toEqual([3])
    expect(log.unparsed.byReason).toEqual({ no_match: 0, invalid_utf8: 0, nul_byte: 3, too_long: 0 })
    expect(log.unparsed.samples.map((s) => [s.line, s.reason, s.text])).toEqual([
      [1, "nul_byte", "\0\0\0"],
      [2, "nul_byte", "a b: x\0y"],
      [4, "nul_byte", "\0a b: z"]
    ])
  })

  it("a line over 1 MiB is unparsed (too_long) with a cut sample; maxLineBytes moves the limit", () => {
    const long = `a b: ${"x".repeat(1 << 20)}`
    const log = parseLog(`a b: first\n${long}\na b: last`, f)
    expect(Array.from(log.lineNo)).toEqual([1, 3])
    expect(unpackStrings(log.content)).toEqual(["first", "last"])
    expect(log.unparsed.byReason.too_long).toBe(1)
    const sample = log.unparsed.samples[0]!
    expect(sample.line).toBe(2)
    expect(sample.text.length).toBe(501)
    expect(sample.text.endsWith("…")).toBe(true)
    // Exactly at the limit still parses; a CR does not count.
    const atLimit = parseLog(`${"a b: ".padEnd(1 << 20, "y")}\r\n`, f)
    expect(atLimit.unparsed.count).toBe(0)
    const unlimited = parseLog(long, f, { maxLineBytes: Infinity })
    expect(unlimited.unparsed.count).toBe(0)
    expect(stringAt(unlimited.content, 0).length).toBe(1 << 20)
  })

  it("keeps samples short and counts every reason together", () => {
    const log = parseLog(`${"z".repeat(2000)}\nnope\n`, f, { maxUnparsedSamples: 1 })
    expect(log.unparsed.count).toBe(2)
    expect(log.unparsed.samples).toEqual([{ line: 1, reason: "no_match", text: `${"z".repeat(500)}…` }])
  })
})

describe("multi-line events (multiline: continuation)", () => {
  const f = compileFormat(TRACEBACK_FORMAT)
  // The traceback, then a blank line (which continues it too), then the next event.
  const TRACEBACK = [...TRACEBACK_LINES.slice(0, 6), "", TRACEBACK_LINES[6]].join("\n") + "\n"

  it("appends lines that do not match to the event before them: its content stays the first line", () => {
    const log = parseLog(TRACEBACK, f, { multiline: "continuation" })
    expect(log.rawLines).toBe(8)
    expect(Array.from(log.lineNo)).toEqual([1, 2, 8])
    expect(unpackStrings(log.content)).toEqual(["started worker 7", "Unhandled exception in worker 7", "started worker 8"])
    expect(log.continuationLines).toBe(5)
    expect(log.unparsed.count).toBe(0)
  })

  it("without it (the default, or none) the same lines are unparsed, and the output has no continuation count", () => {
    for (const opts of [{}, { multiline: "none" as const }]) {
      const log = parseLog(TRACEBACK, f, opts)
      expect(Array.from(log.lineNo)).toEqual([1, 2, 8])
      expect(log.unparsed.byReason.no_match).toBe(5)
      expect("continuationLines" in log).toBe(false)
    }
  })

  it("a line before the first event stays unparsed, and so does a line bad for another reason", () => {
    const text = Buffer.concat([
      Buffer.from("leading garbage\n2024-01-02 03:04:05,123 INFO app: x\n  at Foo.bar(Foo.java:1)\n"),
      Buffer.from("  at caf"), Buffer.from([0xe9, 0x0a]),
      Buffer.from("  at nul\0\n"),
      Buffer.from(`  at ${"y".repeat(100)}\n`),
      Buffer.from("  at Main.main(Main.java:9)\n")
    ])
    const log = parseLog(text, f, { multiline: "continuation", maxLineBytes: 50 })
    expect(Array.from(log.lineNo)).toEqual([2])
    expect(log.continuationLines).toBe(2)
    expect(log.unparsed.count).toBe(4)
    expect(log.unparsed.byReason).toEqual({ no_match: 1, invalid_utf8: 1, nul_byte: 1, too_long: 1 })
    expect(log.unparsed.samples.map((x) => x.line)).toEqual([1, 4, 5, 6])
  })

  it("needs a header field besides <Content>", () => {
    expect(multilineProblem(compileFormat("<Content>"), "continuation")).toMatch(/needs a format with a header field besides <Content>/)
    expect(multilineProblem(compileFormat("\\[<Content>\\]"), "continuation")).toMatch(/has none/)
    expect(multilineProblem(compileFormat("<Content>"), "none")).toBeUndefined()
    expect(multilineProblem(f, "continuation")).toBeUndefined()
    expect(() => parseLog("a", compileFormat("<Content>"), { multiline: "continuation" })).toThrow(/multiline "continuation" needs a format/)
    expect(new LineParser(f, { multiline: "continuation" }).continuation).toBe(true)
    expect(new LineParser(f).continuation).toBe(false)
  })
})
