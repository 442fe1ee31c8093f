import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import type { SourceArchive } from "../../src/sources/catalog.ts"
import { ChecksumError, type DownloadProgress } from "../../src/sources/Download.ts"
import { ExtractError } from "../../src/sources/Extract.ts"
import { fetchSource } from "../../src/sources/Fetch.ts"
import { hdfsLines, makeTarGz, makeZip, type Server, sendBody, sendTruncated, startServer, removeTempDirs, tempDir } from "./fixtures.ts"

afterAll(removeTempDirs)

const log = hdfsLines(0, 2000)
const zip = makeZip([{ name: "HDFS_v1/HDFS.log", data: log }])
const tgz = makeTarGz([{ name: "Apache", type: "dir" }, { name: "Apache/Apache.log", data: log }])
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex")
const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex")

let server: Server | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

/** A server with one archive per path; `/cut/...` drops its first transfer half-way. */
const serveArchives = () =>
  startServer((req, res, i) => {
    const file = new URL(req.url ?? "/", "http://127.0.0.1").pathname
    const body = file.endsWith(".tar.gz") ? tgz : file.endsWith(".log") ? log : zip
    if (file.startsWith("/cut/") && i === 0) sendTruncated(res, body, 5000)
    else sendBody(req, res, body)
  })

const entry = (base: string, name: string, fields: Partial<SourceArchive> = {}): SourceArchive => ({
  name,
  url: `${base}/files/${name}?download=1`,
  sha256: undefined,
  md5: undefined,
  ...fields
})

describe("fetchSource", () => {
  it("downloads and extracts, then reuses the result without the network", { timeout: 20_000 }, async () => {
    server = await serveArchives()
    const cacheDir = tempDir()
    const e = entry(server.base, "HDFS_v1.zip", { sha256: sha256(zip) })
    const events: Array<DownloadProgress> = []
    const first = await fetchSource(e, { cacheDir, onProgress: (p) => events.push(p) })
    expect(first).toMatchObject({ via: "download", check: "verified", sha256: sha256(zip), md5: md5(zip) })
    expect(first.path).toBe(path.join(cacheDir, "extracted", "HDFS_v1"))
    expect(fs.readFileSync(path.join(first.path, "HDFS_v1/HDFS.log")).equals(log)).toBe(true)
    expect(first.files).toEqual([{ path: "HDFS_v1/HDFS.log", bytes: log.length }])
    expect(events.at(-1)).toMatchObject({ received: zip.length, total: zip.length })

    const again = await fetchSource(e, { cacheDir })
    expect(again).toMatchObject({ via: "cache", path: first.path, check: "verified" })
    expect(server.requests).toHaveLength(1)

    // A damaged result is extracted again from the kept archive, still without the network.
    fs.writeFileSync(path.join(first.path, "HDFS_v1/HDFS.log"), "truncated")
    const repaired = await fetchSource(e, { cacheDir })
    expect(repaired.via).not.toBe("cache")
    expect(fs.readFileSync(path.join(first.path, "HDFS_v1/HDFS.log")).equals(log)).toBe(true)
    expect(server.requests).toHaveLength(1)
  })

  it("extracts a tar.gz verified by md5", { timeout: 20_000 }, async () => {
    server = await serveArchives()
    const got = await fetchSource(entry(server.base, "Apache.tar.gz", { md5: md5(tgz) }), { cacheDir: tempDir() })
    expect(got).toMatchObject({ via: "download", check: "verified" })
    expect(fs.readFileSync(path.join(got.path, "Apache/Apache.log")).equals(log)).toBe(true)
  })

  it("resumes a truncated transfer on its next attempt", { timeout: 20_000 }, async () => {
    server = await serveArchives()
    const e = { ...entry(server.base, "HDFS_v1.zip", { sha256: sha256(zip) }), url: `${server.base}/cut/HDFS_v1.zip` }
    const got = await fetchSource(e, { cacheDir: tempDir(), attempts: 3, retryDelayMs: 10 })
    expect(got.via).toBe("download")
    expect(server.requests.map((r) => r.range)).toEqual([undefined, "bytes=5000-"])
    expect(fs.readFileSync(path.join(got.path, "HDFS_v1/HDFS.log")).equals(log)).toBe(true)
  })

  it("takes a verified archive from the mirror without the network", { timeout: 20_000 }, async () => {
    server = await serveArchives()
    const mirror = tempDir()
    fs.writeFileSync(path.join(mirror, "HDFS_v1.zip"), zip)
    const got = await fetchSource(entry(server.base, "HDFS_v1.zip", { md5: md5(zip) }), { cacheDir: tempDir(), mirror })
    expect(got).toMatchObject({ via: "mirror", check: "verified" })
    expect(fs.readFileSync(path.join(got.path, "HDFS_v1/HDFS.log")).equals(log)).toBe(true)
    expect(server.requests).toHaveLength(0)
  })

  it("downloads when the mirror does not have the file", { timeout: 20_000 }, async () => {
    server = await serveArchives()
    const got = await fetchSource(entry(server.base, "HDFS_v1.zip", { sha256: sha256(zip) }), { cacheDir: tempDir(), mirror: tempDir() })
    expect(got.via).toBe("download")
    expect(server.requests).toHaveLength(1)
  })

  it("fails on a mirror copy with the wrong checksum instead of falling back", { timeout: 20_000 }, async () => {
    server = await serveArchives()
    const mirror = tempDir()
    const bad = Buffer.concat([zip, Buffer.from("\n")])
    fs.writeFileSync(path.join(mirror, "HDFS_v1.zip"), bad)
    const err = await fetchSource(entry(server.base, "HDFS_v1.zip", { sha256: sha256(zip) }), { cacheDir: tempDir(), mirror })
      .then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(ChecksumError)
    expect((err as ChecksumError).message).toContain(sha256(zip))
    expect((err as ChecksumError).message).toContain(sha256(bad))
    expect(server.requests).toHaveLength(0)
  })

  it("shares one fetch between concurrent callers that share their fetches in progress", { timeout: 20_000 }, async () => {
    server = await serveArchives()
    const cacheDir = tempDir()
    const e = entry(server.base, "HDFS_v1.zip", { sha256: sha256(zip) })
    const inflight = new Map()
    const [x, y] = await Promise.all([fetchSource(e, { cacheDir, inflight }), fetchSource(e, { cacheDir, inflight })])
    expect(x).toBe(y)
    expect(server.requests).toHaveLength(1)
  })

  it("passes extraction limits down and keeps nothing of a refused extraction", { timeout: 20_000 }, async () => {
    server = await serveArchives()
    const mirror = tempDir()
    fs.writeFileSync(path.join(mirror, "HDFS_v1.zip"), zip)
    const cacheDir = tempDir()
    const e = entry(server.base, "HDFS_v1.zip", { md5: md5(zip) })
    const err = await fetchSource(e, { cacheDir, mirror, limits: { maxTotalBytes: 1000 } }).then(() => undefined, (x: unknown) => x)
    expect(err).toBeInstanceOf(ExtractError)
    expect(err).toMatchObject({ limit: "maxTotalBytes", value: 1000, entry: "HDFS_v1/HDFS.log" })
    expect((err as ExtractError).message).toContain("raise it with --extract-limits max_total_bytes=")
    // No result, no temporary sibling, no marker: the next fetch extracts again.
    expect(fs.readdirSync(path.join(cacheDir, "extracted"))).toEqual([])
    const got = await fetchSource(e, { cacheDir, mirror, limits: { maxTotalBytes: log.length } })
    expect(got.via).toBe("mirror")
    expect(fs.readFileSync(path.join(got.path, "HDFS_v1/HDFS.log")).equals(log)).toBe(true)
    expect(server.requests).toHaveLength(0)
  })

  it("brings a plain file to disk without extracting it", { timeout: 20_000 }, async () => {
    server = await serveArchives()
    const cacheDir = tempDir()
    const e = entry(server.base, "HDFS_2k.log")
    const got = await fetchSource(e, { cacheDir })
    expect(got).toMatchObject({ via: "download", check: "unchecked", sha256: sha256(log), path: path.join(cacheDir, "downloads", "HDFS_2k.log") })
    expect(fs.readFileSync(got.path).equals(log)).toBe(true)
    expect(await fetchSource(e, { cacheDir })).toMatchObject({ via: "cache", path: got.path })
    expect(server.requests).toHaveLength(1)
  })
})
