// Reading a log in chunks of whole lines, once or followed like tail -F (rotation, truncation, a late file, an unfinished line).
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { type LogChunk, type ReadEnd, readLog } from "../../src/flows/LogReader.ts"

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "logflow-reader-"))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Lines read, as "generation:line:text". */
const linesOf = (chunks: ReadonlyArray<LogChunk>): Array<string> =>
  chunks.flatMap((c) => c.bytes.toString("utf8").split("\n").filter((l, i, all) => i < all.length - 1 || l !== "").map((l, i) => `${c.generation}:${c.lineBase + i + 1}:${l}`))

describe("readLog, once", () => {
  it("gives every line once, in whole lines, whatever the chunk size; the last line may lack a line break", async () => {
    const dir = tmp()
    const file = path.join(dir, "a.log")
    const text = Array.from({ length: 500 }, (_, i) => `line ${i + 1} ${"x".repeat(i % 37)}`).join("\n")
    fs.writeFileSync(file, text)
    for (const chunkBytes of [7, 64, 1000, 1 << 20]) {
      const chunks: Array<LogChunk> = []
      for await (const c of readLog(file, { chunkBytes })) chunks.push(c)
      // Every chunk but the last ends in a line break.
      expect(chunks.slice(0, -1).every((c) => c.bytes.at(-1) === 10)).toBe(true)
      expect(linesOf(chunks)).toEqual(text.split("\n").map((l, i) => `0:${i + 1}:${l}`))
    }
  })

  it("names the file it cannot read", async () => {
    await expect(async () => {
      for await (const _ of readLog("/nonexistent/x.log")) void _
    }).rejects.toThrow(/cannot read \/nonexistent\/x\.log: ENOENT/)
  })
})

describe("readLog, followed", () => {
  it("waits for a late file, reads what is appended, starts over after truncation in place, and holds back an unfinished line", async () => {
    const dir = tmp()
    const file = path.join(dir, "live.log")
    const stop = new AbortController()
    const chunks: Array<LogChunk> = []
    const end: { value?: ReadEnd } = {}
    const reading = (async () => {
      for await (const c of readLog(file, { follow: true, signal: stop.signal, pollMs: 20 }, end)) chunks.push(c)
    })()
    await sleep(100)
    fs.writeFileSync(file, "a\nb\n")
    await sleep(150)
    fs.appendFileSync(file, "c\nunfin")
    await sleep(150)
    fs.appendFileSync(file, "ished\n")
    await sleep(150)
    // copytruncate: the same file emptied and written again
    fs.truncateSync(file, 0)
    fs.appendFileSync(file, "new 1\nnew 2\npart")
    await sleep(200)
    stop.abort()
    await reading
    expect(linesOf(chunks)).toEqual(["0:1:a", "0:2:b", "0:3:c", "0:4:unfinished", "1:1:new 1", "1:2:new 2"])
    expect(end.value).toEqual({ rotations: 1, incomplete: { generation: 1, line: 3, bytes: 4 } })
  })

  it("after a rename rotation reads the rest of the old file, then the new one from its start", async () => {
    const dir = tmp()
    const file = path.join(dir, "live.log")
    fs.writeFileSync(file, "1\n2\n")
    const stop = new AbortController()
    const chunks: Array<LogChunk> = []
    const reading = (async () => {
      for await (const c of readLog(file, { follow: true, signal: stop.signal, pollMs: 20 })) chunks.push(c)
    })()
    await sleep(100)
    // Written to the old file just before it is renamed away: still read.
    fs.appendFileSync(file, "3\n")
    fs.renameSync(file, `${file}.1`)
    fs.writeFileSync(file, "one\n")
    await sleep(200)
    stop.abort()
    await reading
    expect(linesOf(chunks)).toEqual(["0:1:1", "0:2:2", "0:3:3", "1:1:one"])
  })
})
