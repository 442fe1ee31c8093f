// Stage `source`: a local file under the data root, resolved to its path, root, size and sha256.
import { Schema } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { sourceStage } from "../../src/tasks/SourceStage.ts"
import type { StageContext } from "../../src/tasks/Task.ts"

const decode = (raw: unknown) => Schema.decodeUnknownSync(sourceStage.params)(raw)

const made: Array<string> = []
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })))

/** A fresh data root holding `files` (relative path -> text). */
const dataRootWith = (files: Record<string, string>): string => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "logflow-source-stage-"))
  made.push(root)
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true })
    fs.writeFileSync(path.join(root, rel), text)
  }
  return root
}

const ctxFor = (dataRoot: string, extra: Partial<StageContext> = {}): StageContext => ({
  dataRoot,
  sourcesDir: path.join(dataRoot, ".sources"),
  progress: () => {},
  ...extra
})

const TEXT = "line one\nline two\n"
const TEXT_SHA = createHash("sha256").update(Buffer.from(TEXT, "utf8")).digest("hex")

describe("source stage run", () => {
  it("resolves a path under the data root to its root, size and content digest", async () => {
    const root = dataRootWith({ "logs/a.log": TEXT })
    const out = await sourceStage.run(decode({ path: "logs/a.log" }), {}, ctxFor(root))
    expect(out).toEqual({ path: "logs/a.log", root: "data", sha256: TEXT_SHA, bytes: Buffer.byteLength(TEXT) })
  })

  it("accepts the sha256 the config expects and rejects a different one, naming both digests", async () => {
    const root = dataRootWith({ "a.log": TEXT })
    const ok = await sourceStage.run(decode({ path: "a.log", sha256: TEXT_SHA }), {}, ctxFor(root))
    expect(ok.sha256).toBe(TEXT_SHA)
    const wrong = "0".repeat(64)
    await expect(sourceStage.run(decode({ path: "a.log", sha256: wrong }), {}, ctxFor(root))).rejects.toMatchObject({
      message: expect.stringMatching(new RegExp(`sha256 mismatch for a\\.log: config expects ${wrong}, file has ${TEXT_SHA}`))
    })
  })

  it("fails naming the file and pointing at the data root when the file is missing", async () => {
    const root = dataRootWith({})
    await expect(sourceStage.run(decode({ path: "missing.log" }), {}, ctxFor(root))).rejects.toMatchObject({
      path: "missing.log",
      message: expect.stringMatching(/cannot read source .*missing\.log.*data root/)
    })
  })

  it("remembers the digest in ctx.digestFile, keyed by the absolute path", async () => {
    const root = dataRootWith({ "a.log": TEXT })
    const digestFile = path.join(root, "cache", "digests.json")
    await sourceStage.run(decode({ path: "a.log" }), {}, ctxFor(root, { digestFile }))
    const memo = JSON.parse(fs.readFileSync(digestFile, "utf8")) as Record<string, { sha256: string; size: number }>
    expect(memo[path.join(root, "a.log")]).toMatchObject({ sha256: TEXT_SHA, size: Buffer.byteLength(TEXT) })
  })
})

describe("source stage params", () => {
  it("decodes a path source as given (no defaults are added)", () => {
    expect(decode({ path: "hdfs/raw/HDFS_20000.log" })).toEqual({ path: "hdfs/raw/HDFS_20000.log" })
    expect(decode({ archive: "HDFS", file: "HDFS.log" })).toEqual({ archive: "HDFS", file: "HDFS.log" })
  })

  it("rejects an unknown key, naming it", () => {
    expect(() => decode({ pth: "a.log" })).toThrow(/unknown key "pth"/)
  })

  it("rejects none or several of path / archive / url, and file beside path", () => {
    expect(() => decode({})).toThrow(/give exactly one of path, archive or url \(got none\)/)
    expect(() => decode({ path: "a.log", url: "https://example.org/a.zip" })).toThrow(/got path, url/)
    expect(() => decode({ path: "a.log", file: "x" })).toThrow(/file, url_sha256 and url_md5 go with archive or url/)
  })

  it("rejects a bad value naming its key", () => {
    expect(() => decode({ path: "a.log", sha256: "ABC" })).toThrow(/64 lowercase hex digits[\s\S]*\["sha256"\]/)
    expect(() => decode({ archive: "NoSuchSystem", file: "x.log" })).toThrow(/unknown archive "NoSuchSystem"[\s\S]*\["archive"\]/)
    expect(() => decode({ archive: "HDFS" })).toThrow(/archive sources need the file inside the archive[\s\S]*\["file"\]/)
    expect(() => decode({ url: "ftp://example.org/a.zip" })).toThrow(/http\(s\) URL[\s\S]*\["url"\]/)
  })
})

describe("source stage summarize and describe", () => {
  it("summarizes the resolved file plus the source's short name", () => {
    const out = { path: "a.log", root: "data" as const, sha256: TEXT_SHA, bytes: 18 }
    expect(sourceStage.summarize!(out, decode({ path: "dir/a.log" }))).toEqual({ ...out, source: "dir/a.log" })
  })

  it("describes a path source by its base name and an archive source as archive:file", () => {
    expect(sourceStage.describe!(decode({ path: "hdfs/labels/x.csv" }))).toBe("x.csv")
    expect(sourceStage.describe!(decode({ archive: "HDFS", file: "HDFS.log" }))).toBe("HDFS:HDFS.log")
  })
})
