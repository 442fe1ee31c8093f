import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { readLines } from "../../src/parsing/LineReader.ts"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "linereader-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const write = (name: string, content: string | Buffer): string => {
  const file = path.join(dir, name)
  fs.writeFileSync(file, content)
  return file
}

const collect = (file: string, opts: { chunkBytes?: number; maxLineBytes?: number } = {}) => {
  const lines: Array<[number, string]> = []
  const tooLong: Array<[number, number, string]> = []
  let chunks = 0
  const r = readLines(file, {
    chunk: () => void chunks++,
    line: (buf, s, e, n) => lines.push([n, Buffer.from(buf.subarray(s, e)).toString("utf8")]),
    tooLong: (n, head, bytes) => tooLong.push([n, bytes, Buffer.from(head).toString("utf8")])
  }, opts)
  return { ...r, lines, tooLong, chunks }
}

describe("readLines", () => {
  it("splits like String#split on \\n, across chunk boundaries of any size", () => {
    const text = "first\r\nsecond line\n\nfourth ü ✓\nno newline at the end"
    const file = write("a.log", text)
    const expected = text.split("\n").map((l, i) => [i + 1, l] as [number, string])
    for (const chunkBytes of [1, 2, 3, 7, 16, 1 << 20]) {
      const r = collect(file, { chunkBytes })
      expect(r.lines).toEqual(expected)
      expect(r.bytes).toBe(Buffer.byteLength(text))
      expect(r.tooLong).toEqual([])
    }
  })

  it("does not count the piece after a final newline; an empty file has no lines", () => {
    expect(collect(write("b.log", "x\ny\n")).lines).toEqual([[1, "x"], [2, "y"]])
    const empty = collect(write("empty.log", ""))
    expect(empty).toMatchObject({ lines: [], bytes: 0, tooLong: [], chunks: 0 })
  })

  it("skips a line longer than maxLineBytes with its head and length, and goes on", () => {
    const long = "L".repeat(100)
    const file = write("c.log", `short\n${long}\nafter\n${long}`)
    for (const chunkBytes of [4, 64, 1000]) {
      const r = collect(file, { chunkBytes, maxLineBytes: 10 })
      expect(r.lines).toEqual([[1, "short"], [3, "after"]])
      expect(r.tooLong.map(([n, bytes]) => [n, bytes])).toEqual([[2, 100], [4, 100]])
      expect(r.tooLong[0]![2].startsWith("LLLLLLLLLL")).toBe(true)
    }
    // A line of exactly maxLineBytes (+ a CR) is delivered.
    expect(collect(write("d.log", "0123456789\r\nx"), { chunkBytes: 3, maxLineBytes: 10 }).lines).toEqual([[1, "0123456789\r"], [2, "x"]])
  })

  it("splits a file with CR-only line endings on \\r (told from the file's first 64 KiB)", () => {
    const file = write("mac.log", "one\rtwo\rthree\r")
    const crlf = write("crlf.log", "one\r\ntwo\r\n")
    for (const chunkBytes of [1, 4, 1 << 20]) {
      expect(collect(file, { chunkBytes }).lines).toEqual([[1, "one"], [2, "two"], [3, "three"]])
      expect(collect(crlf, { chunkBytes }).lines).toEqual([[1, "one\r"], [2, "two\r"]])
    }
  })

  it("fails clearly on a missing file", () => {
    expect(() => collect(path.join(dir, "missing.log"))).toThrow(/ENOENT/)
  })
})
