import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { ChecksumError, download, DownloadError, type DownloadProgress, formatProgress } from "../../src/sources/Download.ts"
import { hdfsLines, makeZip, type Server, sendBody, sendTruncated, startServer, removeTempDirs, tempDir } from "./fixtures.ts"

afterAll(removeTempDirs)

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex")
const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex")

// Big enough that the truncated transfer is visibly partial.
const archive = makeZip([
  { name: "HDFS/part1.log", data: hdfsLines(0, 1000), method: 0 },
  { name: "HDFS/part2.log", data: hdfsLines(1000, 1000), method: 8 }
])

let server: Server | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

describe("download", () => {
  it("downloads, reports progress and verifies the sha256", { timeout: 20_000 }, async () => {
    server = await startServer((req, res) => sendBody(req, res, archive))
    const dest = path.join(tempDir(), "sub", "HDFS.zip")
    const events: Array<DownloadProgress> = []
    const got = await download({
      url: `${server.base}/HDFS.zip`,
      dest,
      checksum: { kind: "sha256", hex: sha256(archive) },
      onProgress: (p) => events.push(p)
    })
    expect(got).toMatchObject({ path: dest, status: "downloaded", check: "verified", bytes: archive.length })
    expect(got.sha256).toBe(sha256(archive))
    expect(got.md5).toBe(md5(archive))
    expect(fs.readFileSync(dest).equals(archive)).toBe(true)
    expect(fs.existsSync(dest + ".part")).toBe(false)
    expect(events.length).toBeGreaterThanOrEqual(2)
    expect(events[0]!.received).toBe(0)
    expect(events.at(-1)).toMatchObject({ received: archive.length, total: archive.length, resumedFrom: 0 })
    for (let i = 1; i < events.length; i++) expect(events[i]!.received).toBeGreaterThanOrEqual(events[i - 1]!.received)
    expect(formatProgress(events.at(-1)!, 10)).toMatch(/^HDFS\.zip \[#{10}\] 100%/)
    expect(server.requests).toHaveLength(1)
    expect(server.requests[0]!.range).toBeUndefined()
  })

  it("keeps the .part of a truncated transfer and resumes it with a Range request", { timeout: 20_000 }, async () => {
    const cut = Math.floor(archive.length / 2)
    server = await startServer((req, res, i) => (i === 0 ? sendTruncated(res, archive, cut) : sendBody(req, res, archive)))
    const dest = path.join(tempDir(), "HDFS.zip")
    const opts = { url: `${server.base}/HDFS.zip`, dest, checksum: { kind: "md5", hex: md5(archive) } } as const

    const first = await download(opts).then(() => undefined, (e: unknown) => e)
    expect(first).toBeInstanceOf(DownloadError)
    expect((first as DownloadError).reason).toBe("truncated")
    expect((first as DownloadError).partial).toBe(dest + ".part")
    expect(fs.existsSync(dest)).toBe(false)
    const kept = fs.statSync(dest + ".part").size
    expect(kept).toBeGreaterThan(0)
    expect(kept).toBeLessThan(archive.length)

    const events: Array<DownloadProgress> = []
    const second = await download({ ...opts, onProgress: (p) => events.push(p) })
    expect(second).toMatchObject({ status: "resumed", check: "verified", bytes: archive.length })
    expect(server.requests).toHaveLength(2)
    expect(server.requests[0]!.range).toBeUndefined()
    expect(server.requests[1]!.range).toBe(`bytes=${kept}-`)
    expect(events[0]).toMatchObject({ received: kept, resumedFrom: kept, total: archive.length })
    expect(fs.readFileSync(dest).equals(archive)).toBe(true)
    expect(fs.existsSync(dest + ".part")).toBe(false)
  })

  it("restarts from byte 0 when the server ignores Range", { timeout: 20_000 }, async () => {
    server = await startServer((req, res) => sendBody(req, res, archive, false))
    const dest = path.join(tempDir(), "HDFS.zip")
    fs.writeFileSync(dest + ".part", Buffer.from("stale bytes that are not the archive"))
    const got = await download({ url: `${server.base}/HDFS.zip`, dest, checksum: { kind: "sha256", hex: sha256(archive) } })
    expect(server.requests[0]!.range).toBe("bytes=36-")
    expect(got.status).toBe("downloaded")
    expect(fs.readFileSync(dest).equals(archive)).toBe(true)
  })

  it("finishes a .part that is already complete (416 from the server)", { timeout: 20_000 }, async () => {
    server = await startServer((req, res) => sendBody(req, res, archive))
    const dest = path.join(tempDir(), "HDFS.zip")
    fs.writeFileSync(dest + ".part", archive)
    const got = await download({ url: `${server.base}/HDFS.zip`, dest, checksum: { kind: "sha256", hex: sha256(archive) } })
    expect(got.status).toBe("resumed")
    expect(server.requests[0]!.range).toBe(`bytes=${archive.length}-`)
    expect(fs.readFileSync(dest).equals(archive)).toBe(true)
  })

  it("rejects a wrong checksum naming the file and both digests, leaving nothing", { timeout: 20_000 }, async () => {
    server = await startServer((req, res) => sendBody(req, res, archive))
    const dest = path.join(tempDir(), "HDFS.zip")
    const wrong = "0".repeat(64)
    const err = await download({ url: `${server.base}/HDFS.zip`, dest, checksum: { kind: "sha256", hex: wrong } })
      .then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(ChecksumError)
    const e = err as ChecksumError
    expect(e).toMatchObject({ file: dest, kind: "sha256", expected: wrong, actual: sha256(archive) })
    expect(e.message).toContain("HDFS.zip")
    expect(e.message).toContain(wrong)
    expect(e.message).toContain(sha256(archive))
    expect(fs.existsSync(dest)).toBe(false)
    expect(fs.existsSync(dest + ".part")).toBe(false)
  })

  it("refuses a download over maxBytes: a declared length before writing, an undeclared stream as it passes; keeps no .part", { timeout: 20_000 }, async () => {
    // Declared: refused from the header.
    server = await startServer((req, res) => sendBody(req, res, archive))
    const dest = path.join(tempDir(), "HDFS.zip")
    const declared = await download({ url: `${server.base}/HDFS.zip`, dest, maxBytes: 1000, maxBytesName: "max_total_bytes" }).then(() => undefined, (e: unknown) => e)
    expect(declared).toBeInstanceOf(DownloadError)
    expect((declared as DownloadError).reason).toBe("too_large")
    expect((declared as DownloadError).message).toMatch(/the server declares \d+ bytes, over the limit max_total_bytes = 1000 bytes/)
    await server.close()
    // Undeclared (chunked, no content-length), endless: stopped once past the limit.
    let sent = 0
    server = await startServer((_req, res) => {
      res.writeHead(200)
      const chunk = Buffer.alloc(64 * 1024)
      const more = () => {
        while (sent < 64 << 20 && res.write(chunk)) sent += chunk.length
        if (sent < 64 << 20) res.once("drain", more)
        else res.end()
      }
      res.on("close", () => res.removeAllListeners("drain"))
      more()
    })
    const streamed = await download({ url: `${server.base}/HDFS.zip`, dest, maxBytes: 1 << 20 }).then(() => undefined, (e: unknown) => e)
    expect((streamed as DownloadError).reason).toBe("too_large")
    expect((streamed as DownloadError).message).toMatch(/the transfer passed 1048576 bytes, over the limit maxBytes/)
    expect(sent).toBeLessThan(32 << 20)
    expect(fs.existsSync(dest)).toBe(false)
    expect(fs.existsSync(`${dest}.part`)).toBe(false)
  })

  it("fails clearly on HTTP 404", { timeout: 20_000 }, async () => {
    server = await startServer((_req, res) => {
      res.writeHead(404, { "content-type": "text/plain" })
      res.end("no such file")
    })
    const dest = path.join(tempDir(), "missing.zip")
    const err = await download({ url: `${server.base}/missing.zip`, dest }).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(DownloadError)
    expect(err).toMatchObject({ reason: "http", status: 404 })
    expect((err as DownloadError).message).toContain("HTTP 404")
    expect((err as DownloadError).message).toContain(`${server.base}/missing.zip`)
    expect(fs.existsSync(dest)).toBe(false)
  })

  it("reports an unreachable host as a network error with the mirror hint", { timeout: 20_000 }, async () => {
    const closed = await startServer(() => {})
    await closed.close()
    const err = await download({ url: `${closed.base}/HDFS.zip`, dest: path.join(tempDir(), "HDFS.zip") })
      .then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(DownloadError)
    expect(err).toMatchObject({ reason: "network" })
    expect((err as DownloadError).message).toMatch(/FLOW_MIRROR/)
  })

  it("follows redirects, and gives up on a redirect loop", { timeout: 20_000 }, async () => {
    server = await startServer((req, res) => {
      if (req.url === "/old/HDFS.zip") {
        res.writeHead(302, { location: "../new/HDFS.zip?download=1" })
        res.end()
      } else if (req.url === "/new/HDFS.zip?download=1") sendBody(req, res, archive)
      else {
        res.writeHead(301, { location: "/loop" })
        res.end()
      }
    })
    const dir = tempDir()
    const got = await download({ url: `${server.base}/old/HDFS.zip`, dest: path.join(dir, "a.zip"), checksum: { kind: "sha256", hex: sha256(archive) } })
    expect(got.status).toBe("downloaded")
    expect(server.requests.map((r) => r.url)).toEqual(["/old/HDFS.zip", "/new/HDFS.zip?download=1"])

    const err = await download({ url: `${server.base}/loop`, dest: path.join(dir, "b.zip"), maxRedirects: 3 })
      .then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(DownloadError)
    expect(err).toMatchObject({ reason: "redirects" })
    expect(server.requests).toHaveLength(2 + 4)
  })

  it("times out a stalled transfer and keeps the .part", { timeout: 20_000 }, async () => {
    server = await startServer((_req, res) => {
      res.writeHead(200, { "content-length": archive.length })
      res.write(archive.subarray(0, 1000)) // then nothing: the client's idle timeout ends it
    })
    const dest = path.join(tempDir(), "HDFS.zip")
    const err = await download({ url: `${server.base}/HDFS.zip`, dest, idleTimeoutMs: 300 }).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(DownloadError)
    expect((err as DownloadError).reason).toBe("timeout")
    expect(fs.statSync(dest + ".part").size).toBe(1000)
  })

  it("is cancelled by its signal", { timeout: 20_000 }, async () => {
    server = await startServer((_req, res) => {
      res.writeHead(200, { "content-length": archive.length })
      res.write(archive.subarray(0, 1000))
    })
    const dest = path.join(tempDir(), "HDFS.zip")
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 300)
    const err = await download({ url: `${server.base}/HDFS.zip`, dest, signal: ac.signal, idleTimeoutMs: 5_000 })
      .then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(DownloadError)
    expect((err as DownloadError).reason).toBe("aborted")
    expect(fs.statSync(dest + ".part").size).toBe(1000)
  })
})
