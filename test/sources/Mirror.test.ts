import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { ChecksumError } from "../../src/sources/Download.ts"
import { findInMirror, resolveMirror } from "../../src/sources/Mirror.ts"
import { hdfsLines, makeZip, removeTempDirs, tempDir } from "./fixtures.ts"

afterAll(removeTempDirs)

const archive = makeZip([{ name: "HDFS.log", data: hdfsLines(0, 500) }])
const sha256 = createHash("sha256").update(archive).digest("hex")
const md5 = createHash("md5").update(archive).digest("hex")

const put = (dir: string, rel: string, bytes: Buffer): string => {
  const p = path.join(dir, rel)
  fs.mkdirSync(path.dirname(p), { recursive: true })
  fs.writeFileSync(p, bytes)
  return p
}

describe("mirror", () => {
  it("finds a file at the top and verifies it", async () => {
    const mirror = tempDir()
    const p = put(mirror, "HDFS_v1.zip", archive)
    const hit = await findInMirror(mirror, "HDFS_v1.zip", { kind: "sha256", hex: sha256 })
    expect(hit).toMatchObject({ status: "hit", path: p, check: "verified" })
    expect(await findInMirror(mirror, "HDFS_v1.zip", { kind: "md5", hex: md5.toUpperCase() })).toMatchObject({ status: "hit", path: p })
  })

  it("finds a file in a subfolder; without a checksum it is used unchecked", async () => {
    const mirror = tempDir()
    const p = put(mirror, "loghub/zenodo/HDFS_v1.zip", archive)
    expect(await findInMirror(mirror, "HDFS_v1.zip", { kind: "md5", hex: md5 })).toMatchObject({ status: "hit", path: p, check: "verified" })
    const unchecked = await findInMirror(mirror, "HDFS_v1.zip")
    expect(unchecked).toMatchObject({ status: "hit", path: p, check: "unchecked" })
    if (unchecked.status === "hit") expect(unchecked.digests).toEqual({ sha256, md5, bytes: archive.length })
  })

  it("misses when no file has the name", async () => {
    const mirror = tempDir()
    put(mirror, "BGL.zip", archive)
    expect(await findInMirror(mirror, "HDFS_v1.zip", { kind: "sha256", hex: sha256 })).toEqual({ status: "miss", looked: mirror })
    expect(await findInMirror(path.join(mirror, "does-not-exist"), "HDFS_v1.zip")).toMatchObject({ status: "miss" })
  })

  it("refuses a copy with the wrong checksum, naming the file and both digests", async () => {
    const mirror = tempDir()
    const bad = Buffer.concat([archive, Buffer.from("x")])
    const badSha = createHash("sha256").update(bad).digest("hex")
    const p = put(mirror, "HDFS_v1.zip", bad)
    const err = await findInMirror(mirror, "HDFS_v1.zip", { kind: "sha256", hex: sha256 }).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(ChecksumError)
    expect(err).toMatchObject({ file: p, expected: sha256, actual: badSha })
    expect((err as ChecksumError).message).toContain(sha256)
    expect((err as ChecksumError).message).toContain(badSha)
    expect((err as ChecksumError).message).toContain(p)
  })

  it("uses a verified copy when another copy of the name is wrong", async () => {
    const mirror = tempDir()
    put(mirror, "HDFS_v1.zip", Buffer.from("corrupt"))
    const good = put(mirror, "backup/HDFS_v1.zip", archive)
    expect(await findInMirror(mirror, "HDFS_v1.zip", { kind: "sha256", hex: sha256 })).toMatchObject({ status: "hit", path: good })
  })

  it("takes the folder from the flag, else FLOW_MIRROR", () => {
    expect(resolveMirror("/m/flag", { FLOW_MIRROR: "/m/env" })).toBe("/m/flag")
    expect(resolveMirror(undefined, { FLOW_MIRROR: "/m/env" })).toBe("/m/env")
    expect(resolveMirror(undefined, { FLOW_MIRROR: "" })).toBeUndefined()
    expect(resolveMirror(undefined, {})).toBeUndefined()
  })
})
