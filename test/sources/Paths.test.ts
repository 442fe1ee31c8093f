// Every path a source config gives stays under its root: `path` under the data root (unless the
// source says outside_data_root = true), an archive's `file` under its extraction folder; and a
// download is verified unless the source says unchecked_download = true.
import { Effect, Exit } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { resolveSourceList } from "../../src/config/Sources.ts"
import { decode } from "../../src/config/Toml.ts"
import { escapesRoot, readSourceText, resolveLocalSource, resolveSource, resolveUnder, type SourceContext, SourceParams } from "../../src/sources/Source.ts"
import { hdfsLines, makeZip, removeTempDirs, tempDir } from "./fixtures.ts"

afterAll(removeTempDirs)

const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex")
/** Decode a source table as a dataset file's `[source]`: errors name `d.toml: source.KEY`. */
const decoded = (raw: Record<string, unknown>) => Effect.runSyncExit(decode(SourceParams, raw, "d.toml", "source"))
const decodeError = (raw: Record<string, unknown>): string => {
  const exit = decoded(raw)
  if (Exit.isSuccess(exit)) throw new Error(`expected ${JSON.stringify(raw)} to be refused`)
  return String(exit.cause)
}
const accepts = (raw: Record<string, unknown>) => expect(Exit.isSuccess(decoded(raw)), JSON.stringify(raw)).toBe(true)

/** A data root holding in.log, with outside.log beside it (outside the root). */
const layout = () => {
  const top = tempDir()
  const dataRoot = path.join(top, "data")
  fs.mkdirSync(dataRoot)
  fs.writeFileSync(path.join(dataRoot, "in.log"), "inside\n")
  fs.writeFileSync(path.join(top, "outside.log"), "outside\n")
  const ctx: SourceContext = { dataRoot, sourcesDir: path.join(top, "cache", "sources") }
  return { top, dataRoot, ctx, outside: path.join(top, "outside.log") }
}

describe("source paths at decode time", () => {
  it("refuses an absolute path or a .. segment in source.path, naming the key", () => {
    expect(decodeError({ path: "/etc/passwd" })).toContain('d.toml: source.path: "/etc/passwd" is an absolute path')
    expect(decodeError({ path: "../../x" })).toContain('d.toml: source.path: "../../x" has a .. segment')
    expect(decodeError({ path: "hdfs/../../x" })).toContain("has a .. segment")
    expect(decodeError({ path: "hdfs\\..\\..\\x" })).toContain("has a .. segment")
    expect(decodeError({ path: "C:\\logs\\x.log" })).toContain("is an absolute path")
    expect(decodeError({ path: "/etc/passwd" })).toContain("outside_data_root = true")
    accepts({ path: "hdfs/raw/HDFS_20000.log" })
    accepts({ path: "./a..b/x.log" })
  })

  it("outside_data_root = true allows them, and goes with path only", () => {
    accepts({ path: "/etc/passwd", outside_data_root: true })
    accepts({ path: "../../x", outside_data_root: true })
    expect(decodeError({ path: "/etc/passwd", outside_data_root: false })).toContain("source.path")
    expect(decodeError({ url: "https://example.org/a.zip", url_sha256: "a".repeat(64), outside_data_root: true })).toContain(
      "d.toml: source.outside_data_root: outside_data_root goes with path"
    )
  })

  it("refuses an archive's file leaving the archive, whatever else the source says", () => {
    expect(decodeError({ archive: "HDFS", file: "../../../../etc/passwd" })).toContain('d.toml: source.file: "../../../../etc/passwd" has a .. segment')
    expect(decodeError({ url: "https://example.org/a.zip", url_sha256: "a".repeat(64), file: "/etc/passwd" })).toContain(
      'd.toml: source.file: "/etc/passwd" is an absolute path'
    )
    accepts({ archive: "HDFS", file: "HDFS.log" })
    accepts({ url: "https://example.org/a.zip", url_sha256: "a".repeat(64), file: "logs/x.log" })
  })

  it("a url without url_sha256 or url_md5 needs unchecked_download = true", () => {
    expect(decodeError({ url: "https://example.org/a.zip", file: "x.log" })).toContain(
      "d.toml: source.url: a url source needs url_sha256 or url_md5 to verify the download (or unchecked_download = true"
    )
    accepts({ url: "https://example.org/a.zip", file: "x.log", unchecked_download: true })
    accepts({ url: "https://example.org/a.zip", file: "x.log", url_md5: "b".repeat(32) })
    expect(decodeError({ url: "https://example.org/a.zip", file: "x.log", unchecked_download: false })).toContain("source.url: a url source needs")
    expect(decodeError({ path: "a.log", unchecked_download: true })).toContain("d.toml: source.unchecked_download: unchecked_download goes with archive or url")
  })

  it("a catalog archive with a checksum is exempt; one without needs a checksum or unchecked_download", () => {
    accepts({ archive: "HDFS", file: "HDFS.log" }) // the catalog has its md5
    expect(decodeError({ archive: "Hadoop", file: "x.log" })).toContain("d.toml: source.archive: the catalog has no checksum for the Hadoop archive")
    accepts({ archive: "Hadoop", file: "x.log", unchecked_download: true })
    accepts({ archive: "Hadoop", file: "x.log", url_sha256: "a".repeat(64) })
  })

  it("escapesRoot and resolveUnder", () => {
    expect(escapesRoot("a/b.log")).toBeUndefined()
    expect(escapesRoot("..x/b")).toBeUndefined()
    expect(escapesRoot("a/../b")).toBe("has a .. segment")
    expect(escapesRoot("\\\\server\\share")).toBe("is an absolute path")
    expect(escapesRoot("a\0b")).toBe("has a NUL byte")
    expect(resolveUnder("/r", "a/../b")).toBe("/r/b")
    expect(resolveUnder("/r", "..x")).toBe("/r/..x")
    expect(resolveUnder("/r", "a/../../b")).toBeUndefined()
    expect(resolveUnder("/r", "/etc/passwd")).toBeUndefined()
    expect(resolveUnder("/r/", "/r/x")).toBe("/r/x")
  })
})

describe("source paths when resolved", () => {
  it("a path leaving the data root is refused naming the source, unless outside_data_root = true", () => {
    const { dataRoot, ctx, outside } = layout()
    expect(resolveLocalSource(ctx, { path: "in.log" })).toMatchObject({ path: "in.log", root: "data", sha256: sha("inside\n") })
    for (const p of ["../outside.log", outside]) {
      expect(() => resolveLocalSource(ctx, { path: p })).toThrow(`source path "${p}" resolves outside the data root ${dataRoot}`)
      const file = resolveLocalSource(ctx, { path: p, outside_data_root: true })
      expect(file).toMatchObject({ path: p, root: "data", sha256: sha("outside\n") })
      expect(readSourceText(ctx, file)).toBe("outside\n")
    }
  })

  it("through the config: an absolute path with outside_data_root = true is digested as given", () => {
    const { dataRoot, outside } = layout()
    const params = Effect.runSync(decode(SourceParams, { path: outside, outside_data_root: true }, "d.toml", "source"))
    const digests = Effect.runSync(resolveSourceList(dataRoot, [params]))
    expect(digests.get(outside)).toMatchObject({ path: outside, root: "data", sha256: sha("outside\n") })
    const refused = Effect.runSyncExit(resolveSourceList(dataRoot, [{ path: outside }]))
    expect(String(Exit.isFailure(refused) ? refused.cause : "")).toContain("resolves outside the data root")
  })

  it("an archive's file leaving the extraction folder is refused naming the source", async () => {
    const { top, ctx } = layout()
    const zip = makeZip([{ name: "logs/HDFS.log", data: hdfsLines(0, 20) }])
    const mirror = path.join(top, "mirror")
    fs.mkdirSync(mirror)
    fs.writeFileSync(path.join(mirror, "pack.zip"), zip)
    // Three levels above cache/sources/extracted/pack: the cache folder itself.
    fs.mkdirSync(path.join(top, "cache"))
    fs.writeFileSync(path.join(top, "cache", "secret.txt"), "not from the archive\n")
    const withMirror = { ...ctx, mirror }
    const source = { url: "https://example.invalid/pack.zip", url_sha256: sha(zip) }
    const inside = await resolveSource(withMirror, { ...source, file: "logs/HDFS.log" })
    expect(inside).toMatchObject({ root: "sources", sha256: sha(hdfsLines(0, 20)) })
    await expect(resolveSource(withMirror, { ...source, file: "../../../secret.txt" })).rejects.toThrow(
      'source file "../../../secret.txt" is not inside the extracted pack.zip'
    )
    await expect(resolveSource(withMirror, { ...source, file: path.join(top, "cache", "secret.txt") })).rejects.toThrow("is not inside the extracted pack.zip")
  })

  it("a plain file download holds no other file", async () => {
    const { top, ctx } = layout()
    const mirror = path.join(top, "mirror")
    fs.mkdirSync(mirror)
    fs.writeFileSync(path.join(mirror, "a.log"), "a\n")
    fs.writeFileSync(path.join(mirror, "b.log"), "b\n")
    const source = { url: "https://example.invalid/a.log", url_sha256: sha("a\n") }
    expect(await resolveSource({ ...ctx, mirror }, source)).toMatchObject({ sha256: sha("a\n") })
    expect(await resolveSource({ ...ctx, mirror }, { ...source, file: "a.log" })).toMatchObject({ sha256: sha("a\n") })
    await expect(resolveSource({ ...ctx, mirror }, { ...source, file: "b.log" })).rejects.toThrow('a.log is a single file, not an archive; it holds no file "b.log"')
  })

  it("a catalog archive's url_sha256 is the checksum its download (or mirror copy) is verified against", async () => {
    const { top, ctx } = layout()
    const zip = makeZip([{ name: "Hadoop.log", data: hdfsLines(0, 10) }])
    const mirror = path.join(top, "mirror")
    fs.mkdirSync(mirror)
    fs.writeFileSync(path.join(mirror, "Hadoop.zip"), zip)
    await expect(resolveSource({ ...ctx, mirror }, { archive: "Hadoop", file: "Hadoop.log", url_sha256: "0".repeat(64) })).rejects.toThrow(
      /mirror copy of Hadoop\.zip has the wrong sha256/
    )
    expect(await resolveSource({ ...ctx, mirror }, { archive: "Hadoop", file: "Hadoop.log", url_sha256: sha(zip) })).toMatchObject({
      sha256: sha(hdfsLines(0, 10))
    })
  })
})
