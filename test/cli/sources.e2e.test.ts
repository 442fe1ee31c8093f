// Fetched sources through the real CLI: an archive served by a loopback HTTP server, then the
// same archive from a mirror folder, and a mirror copy with the wrong checksum.
import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { copyConfigs, dataRoot, flow, flowAsync, resultFolders, tmpDir } from "./helpers.ts"

// An archive built from real lines: the HDFS 2k sample as HDFS.log inside hdfs-sample.tar.gz.
const work = tmpDir("logflow-archive-")
fs.mkdirSync(path.join(work, "in"))
fs.copyFileSync(path.join(dataRoot(), "loghub-2k/HDFS/HDFS_2k.log"), path.join(work, "in/HDFS.log"))
spawnSync("tar", ["czf", path.join(work, "hdfs-sample.tar.gz"), "-C", path.join(work, "in"), "HDFS.log"])
const archive = fs.readFileSync(path.join(work, "hdfs-sample.tar.gz"))
const archiveSha = createHash("sha256").update(archive).digest("hex")

let server: http.Server
let requests = 0
let port = 0
beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests++
    if (req.url === "/hdfs-sample.tar.gz") {
      res.writeHead(200, { "content-length": archive.length })
      res.end(archive)
    } else {
      res.writeHead(404).end()
    }
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  port = (server.address() as AddressInfo).port
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

const datasetWithUrl = (sha: string) => {
  const dir = copyConfigs()
  const p = path.join(dir, "datasets/hdfs.toml")
  const text = fs.readFileSync(p, "utf8").replace(
    /\[source\]\npath = .*\nsha256 = .*\n/,
    `[source]\nurl = "http://127.0.0.1:${port}/hdfs-sample.tar.gz"\nurl_sha256 = "${sha}"\nfile = "HDFS.log"\n`
  ).replace(/HDFS_20000\.block_labels\.csv", sha256 = "[0-9a-f]+"/, 'HDFS_2k.block_labels.csv"')
  fs.writeFileSync(p, text)
  return path.join(dir, "registry.toml")
}

describe("fetched sources", () => {
  it("downloads, verifies and extracts an archive, then runs the sweep on the file inside it", async () => {
    const reg = datasetWithUrl(archiveSha)
    const cache = tmpDir()
    const results = tmpDir()
    const r = await flowAsync(["run", reg, "--experiment", "hdfs-nb", "--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", results])
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(requests).toBe(1)
    const dir = resultFolders(results).get("hdfs-nb.naive_bayes")!
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "dataset_manifest.json"), "utf8"))
    expect(manifest.parser.raw_lines).toBe(2000)
    expect(manifest.labels.histogram.anomaly + manifest.labels.histogram.normal).toBe(2200) // HDFS_2k: 2,200 blocks
    expect(fs.existsSync(path.join(cache, "sources/extracted/hdfs-sample/HDFS.log"))).toBe(true)
    // A second run reuses the verified extraction: no request.
    const again = await flowAsync(["run", reg, "--experiment", "hdfs-nb", "--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", results])
    expect(again.code).toBe(0)
    expect(requests).toBe(1)
  })

  it("serves the archive from a mirror folder without contacting the server", () => {
    const mirror = tmpDir("logflow-mirror-")
    fs.copyFileSync(path.join(work, "hdfs-sample.tar.gz"), path.join(mirror, "hdfs-sample.tar.gz"))
    const before = requests
    const r = flow(["run", datasetWithUrl(archiveSha), "--experiment", "hdfs-nb", "--data-root", dataRoot(), "--cache-dir", tmpDir(), "--results-dir", tmpDir(), "--mirror", mirror])
    expect(r.code).toBe(0)
    expect(requests).toBe(before)
  })

  it("a mirror copy with the wrong checksum is an error naming both digests, before any stage runs", () => {
    const mirror = tmpDir("logflow-mirror-")
    fs.writeFileSync(path.join(mirror, "hdfs-sample.tar.gz"), Buffer.concat([archive, Buffer.from("x")]))
    const cache = tmpDir()
    const r = flow(["run", datasetWithUrl(archiveSha), "--experiment", "hdfs-nb", "--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", tmpDir(), "--mirror", mirror])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(archiveSha)
    expect(r.stderr).toMatch(/[0-9a-f]{64}[\s\S]*[0-9a-f]{64}/)
    expect(JSON.parse(flow(["cache", "ls", "--cache-dir", cache, "--json"]).stdout)).toEqual([])
  })

  it("an unknown archive name is a config error naming the key", () => {
    const dir = copyConfigs()
    const p = path.join(dir, "datasets/bgl.toml")
    fs.writeFileSync(p, fs.readFileSync(p, "utf8").replace(/\[source\]\npath = .*\nsha256 = .*\n/, `[source]\narchive = "BGLX"\nfile = "BGL.log"\n`))
    const r = flow(["run", path.join(dir, "registry.toml"), "--data-root", dataRoot(), "--cache-dir", tmpDir()])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('datasets/bgl.toml: source.archive: unknown archive "BGLX" (known: Android, Apache')
  })

  it("an archive over an extraction limit (--extract-limits or FLOW_EXTRACT_LIMITS) is refused naming the limit and the dataset key; nothing is kept", async () => {
    const reg = datasetWithUrl(archiveSha)
    const cache = tmpDir()
    const base = ["run", reg, "--experiment", "hdfs-nb", "--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", tmpDir()]
    for (const r of [await flowAsync([...base, "--extract-limits", "max_total_bytes=64KiB"]), await flowAsync(base, { FLOW_EXTRACT_LIMITS: "max_entry_bytes=64KiB" })]) {
      expect(r.code, r.stderr).toBe(2)
      expect(r.stderr).toMatch(/error: .*datasets\/hdfs\.toml: source: cannot fetch .*hdfs-sample\.tar\.gz: .*over the limit max_(total|entry)_bytes = 65536 bytes/)
      expect(r.stderr).toContain("raise it with --extract-limits max_")
      expect(fs.readdirSync(path.join(cache, "sources/extracted")).filter((f) => !f.startsWith("."))).toEqual([])
    }
    // Raised: the same archive extracts and the run completes.
    expect((await flowAsync([...base, "--extract-limits", "max_total_bytes=1GiB,max_ratio=off"])).code).toBe(0)
  })

  it("a malformed --extract-limits is one error line naming the flag, exit 2", () => {
    const r = flow(["run", datasetWithUrl(archiveSha), "--experiment", "hdfs-nb", "--data-root", dataRoot(), "--cache-dir", tmpDir(), "--extract-limits", "max_ratios=5"])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^error: --extract-limits \(FLOW_EXTRACT_LIMITS\): unknown extraction limit "max_ratios"/)])
  })
})
