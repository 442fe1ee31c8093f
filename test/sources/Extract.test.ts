import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { archiveKind, extract, ExtractError } from "../../src/sources/Extract.ts"
import { hdfsLines, makeTarGz, makeZip, removeTempDirs, tempDir } from "./fixtures.ts"

afterAll(removeTempDirs)

const a = hdfsLines(0, 300)
const b = hdfsLines(300, 200)

/** Write `bytes` as an archive in a fresh folder; return it and the target beside it. */
const setup = (name: string, bytes: Buffer) => {
  const dir = tempDir()
  const archive = path.join(dir, name)
  fs.writeFileSync(archive, bytes)
  return { dir, archive, target: path.join(dir, "out") }
}

/** The error, asserting extraction left neither the target nor a temp sibling. */
const refused = async (name: string, bytes: Buffer): Promise<ExtractError> => {
  const { dir, archive, target } = setup(name, bytes)
  const err = await extract(archive, target).then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(ExtractError)
  expect(fs.readdirSync(dir)).toEqual([name])
  return err as ExtractError
}

describe("extract", () => {
  it("names archive kinds", () => {
    expect(archiveKind("HDFS_v1.zip")).toBe("zip")
    expect(archiveKind("Apache.tar.gz")).toBe("tar.gz")
    expect(archiveKind("x.TGZ")).toBe("tar.gz")
    expect(archiveKind("HDFS_2k.log")).toBeUndefined()
  })

  it("extracts a zip (stored and deflated entries, folders)", async () => {
    const { archive, target } = setup("HDFS.zip", makeZip([
      { name: "HDFS/" },
      { name: "HDFS/a.log", data: a, method: 0 },
      { name: "HDFS/deep/b.log", data: b, method: 8 },
      { name: "empty.txt" }
    ]))
    const out = await extract(archive, target)
    expect(out.dir).toBe(target)
    expect(fs.readFileSync(path.join(target, "HDFS/a.log")).equals(a)).toBe(true)
    expect(fs.readFileSync(path.join(target, "HDFS/deep/b.log")).equals(b)).toBe(true)
    expect(fs.readFileSync(path.join(target, "empty.txt")).length).toBe(0)
    expect(out.files).toEqual([
      { path: "HDFS/a.log", bytes: a.length },
      { path: "HDFS/deep/b.log", bytes: b.length },
      { path: "empty.txt", bytes: 0 }
    ])
  })

  it("extracts a tar.gz (pax long name, base-256 size, symlink and hard link inside)", async () => {
    const longName = `logs/${"x".repeat(120)}.log`
    const { archive, target } = setup("HDFS.tar.gz", makeTarGz([
      { name: "logs", type: "dir" },
      { name: "logs/a.log", data: a },
      { name: longName, data: b, base256: true },
      { name: "logs/latest.log", type: "symlink", linkname: "a.log" },
      { name: "copy/a.log", type: "hardlink", linkname: "logs/a.log" }
    ]))
    const out = await extract(archive, target)
    expect(fs.readFileSync(path.join(target, "logs/a.log")).equals(a)).toBe(true)
    expect(fs.readFileSync(path.join(target, longName)).equals(b)).toBe(true)
    expect(fs.readlinkSync(path.join(target, "logs/latest.log"))).toBe("a.log")
    expect(fs.readFileSync(path.join(target, "logs/latest.log")).equals(a)).toBe(true)
    expect(fs.readFileSync(path.join(target, "copy/a.log")).equals(a)).toBe(true)
    expect(out.files.map((f) => f.path).sort()).toEqual(["copy/a.log", "logs/a.log", longName].sort())
  })

  it("reads the kind from the bytes, not the name", async () => {
    const { archive, target } = setup("misnamed.zip", makeTarGz([{ name: "a.log", data: a }]))
    await extract(archive, target)
    expect(fs.readFileSync(path.join(target, "a.log")).equals(a)).toBe(true)
  })

  it("refuses zip entries escaping the target (zip slip)", async () => {
    const outside = path.join(tempDir(), "evil.txt")
    for (const name of ["../evil.txt", "ok/../../evil.txt", "..\\evil.txt", "/tmp/evil-abs.txt", "C:/evil.txt"]) {
      const err = await refused("slip.zip", makeZip([{ name: "fine.log", data: a }, { name, data: Buffer.from("pwned") }]))
      expect(err.entry).toBe(name)
      expect(err.message).toContain(`"${name}"`)
    }
    expect(fs.existsSync(outside)).toBe(false)
    expect(fs.existsSync("/tmp/evil-abs.txt")).toBe(false)
  })

  it("refuses a zip symlink pointing outside", async () => {
    const err = await refused("link.zip", makeZip([{ name: "up", symlink: "../../etc" }]))
    expect(err.entry).toBe("up")
    expect(err.message).toMatch(/points outside/)
  })

  it("refuses tar entries escaping the target, directly or through symlinks", async () => {
    const cases: Array<[string, Parameters<typeof makeTarGz>[0], string]> = [
      ["../../evil.log", [{ name: "../../evil.log", data: a }], "escapes"],
      ["/etc/evil.log", [{ name: "/etc/evil.log", data: a }], "absolute"],
      ["link", [{ name: "link", type: "symlink", linkname: "../outside" }], "outside"],
      ["abs", [{ name: "abs", type: "symlink", linkname: "/etc/passwd" }], "absolute"],
      // A link that is inside on its own, then a file written through it.
      ["via/evil.log", [{ name: "sub", type: "dir" }, { name: "via", type: "symlink", linkname: "sub" }, { name: "via/evil.log", data: a }], "through the symlink"],
      // Each link looks inside alone; together sub/m resolves to the target's parent.
      ["sub/m", [
        { name: "sub/m", type: "symlink", linkname: "l/.." },
        { name: "sub/l", type: "symlink", linkname: ".." }
      ], "resolves outside"],
      ["h", [{ name: "h", type: "hardlink", linkname: "../../etc/passwd" }], "outside the target folder"]
    ]
    for (const [entry, items, why] of cases) {
      const err = await refused("bad.tar.gz", makeTarGz(items))
      expect(err.entry, entry).toBe(entry)
      expect(err.message, entry).toContain(why)
    }
  })

  it("fails on corrupt data and leaves nothing", async () => {
    const zip = makeZip([{ name: "a.log", data: a, method: 0 }])
    zip[40] = zip[40]! ^ 0xff // inside the stored data: the crc32 no longer matches
    const err = await refused("bad.zip", zip)
    expect(err.message).toMatch(/crc32/)

    const tgz = makeTarGz([{ name: "a.log", data: a }])
    const err2 = await refused("cut.tar.gz", tgz.subarray(0, Math.floor(tgz.length / 2)))
    expect(err2.message).toMatch(/end of file|truncated/i)

    const err3 = await refused("plain.zip", Buffer.from("not an archive at all"))
    expect(err3.message).toMatch(/neither a zip nor/)
  })

  it("does not overwrite an existing target", async () => {
    const { archive, target } = setup("a.zip", makeZip([{ name: "a.log", data: a }]))
    fs.mkdirSync(target)
    await expect(extract(archive, target)).rejects.toThrow(/already exists/)
  })
})
