import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { type DigestMemo, digestMemo, fileDigest, fileDigestAsync, MAX_DIGESTS } from "../../src/sources/Source.ts"

const sha = (s: string) => createHash("sha256").update(s).digest("hex")
/**
 * A file, a memo file, and a process's view of the memo: `digest` hashes through it, `restart`
 * starts a new process (the memo is read from its file again).
 */
const setup = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "logflow-digest-"))
  const file = path.join(dir, "a.log")
  const memo = path.join(dir, "cache", "digests.json")
  let current: DigestMemo = digestMemo(memo)
  return {
    dir,
    file,
    memo,
    digest: (f: string) => fileDigest(f, current),
    restart: () => void (current = digestMemo(memo))
  }
}
/** Write `text` and date the file `agoMs` in the past. */
const writeAged = (file: string, text: string, agoMs: number) => {
  fs.writeFileSync(file, text)
  const t = (Date.now() - agoMs) / 1000
  fs.utimesSync(file, t, t)
}
const FAKE = "f".repeat(64)
/**
 * Replace the remembered digest of `file` in the memo with FAKE and forget this process's state,
 * as a new process would start: a FAKE digest back shows the memo was trusted, the real one that
 * the file was hashed again.
 */
const plantFakeInMemo = (t: ReturnType<typeof setup>, opts: { hashedLater?: boolean } = {}) => {
  const m = JSON.parse(fs.readFileSync(t.memo, "utf8")) as Record<string, { sha256: string; hashedAt: number }>
  m[t.file]!.sha256 = FAKE
  // A file's ctime cannot be set back, so a file written by a test changed "just now": moving the
  // hashing time 3 s later stands for a digest taken well after the last change.
  if (opts.hashedLater === true) m[t.file]!.hashedAt += 3_000
  fs.writeFileSync(t.memo, JSON.stringify(m))
  t.restart()
}

describe("fileDigest with a memo file", () => {
  it("hashes the content and remembers it for the next process", () => {
    const t = setup()
    const { file, memo } = t
    writeAged(file, "line one\nline two\n", 60_000)
    expect(t.digest(file)).toEqual({ sha256: sha("line one\nline two\n"), bytes: 18 })
    expect(fs.existsSync(memo)).toBe(true)
    // A new process (forgotten in-memory state) reads the memo instead of the file: shown by
    // planting a different digest in the memo, which is then what comes back.
    plantFakeInMemo(t, { hashedLater: true })
    expect(t.digest(file).sha256).toBe(FAKE)
  })

  it("hashes again when size, mtime or inode change", () => {
    const t = setup()
    const { file } = t
    writeAged(file, "aaaa\n", 60_000)
    t.digest(file)
    plantFakeInMemo(t, { hashedLater: true })
    // Same size, new content, new mtime (still old enough to be trusted once hashed).
    writeAged(file, "bbbb\n", 30_000)
    expect(t.digest(file).sha256).toBe(sha("bbbb\n"))
    // Replaced by another file (new inode) with the same size and mtime as before.
    const other = `${file}.new`
    writeAged(other, "cccc\n", 30_000)
    const st = fs.statSync(file)
    fs.utimesSync(other, st.atime, st.mtime)
    fs.renameSync(other, file)
    t.restart()
    expect(t.digest(file).sha256).toBe(sha("cccc\n"))
  })

  it("hashes again after an in-place edit that restored size and mtime (the ctime moved)", async () => {
    const t = setup()
    const { file } = t
    writeAged(file, "aaaa\n", 60_000)
    t.digest(file)
    plantFakeInMemo(t, { hashedLater: true })
    expect(t.digest(file).sha256).toBe(FAKE)
    const before = fs.statSync(file)
    await new Promise((r) => setTimeout(r, 50)) // past the kernel's coarse ctime tick
    fs.writeFileSync(file, "bbbb\n")
    fs.utimesSync(file, before.atime, before.mtime)
    const after = fs.statSync(file)
    expect([after.size, after.mtimeMs, after.ino]).toEqual([before.size, before.mtimeMs, before.ino])
    expect(t.digest(file).sha256).toBe(sha("bbbb\n"))
  })

  it("does not trust a digest taken within 2 s of the file's last change", () => {
    const t = setup()
    const { file } = t
    writeAged(file, "fresh\n", 0)
    t.digest(file)
    plantFakeInMemo(t)
    expect(t.digest(file).sha256).toBe(sha("fresh\n"))
  })

  it("ignores a corrupt memo and works without one", () => {
    const t = setup()
    const { file, memo } = t
    writeAged(file, "x\n", 60_000)
    fs.mkdirSync(path.dirname(memo), { recursive: true })
    fs.writeFileSync(memo, "{ not json")
    t.restart()
    expect(t.digest(file).sha256).toBe(sha("x\n"))
    expect(JSON.parse(fs.readFileSync(memo, "utf8"))[file].sha256).toBe(sha("x\n"))
    expect(fileDigest(file).sha256).toBe(sha("x\n"))
  })

  it("keeps at most MAX_DIGESTS digests, forgetting those hashed longest ago", () => {
    const t = setup()
    const memo = digestMemo()
    for (let i = 0; i < MAX_DIGESTS; i++) memo.known.set(`/old/${i}`, { size: 1, mtimeMs: 0, ctimeMs: 0, ino: i, sha256: FAKE, hashedAt: i })
    writeAged(t.file, "new\n", 60_000)
    expect(fileDigest(t.file, memo).sha256).toBe(sha("new\n"))
    expect(memo.known.size).toBe(MAX_DIGESTS)
    expect(memo.known.has("/old/0")).toBe(false)
    expect(memo.known.has("/old/1")).toBe(true)
    expect(memo.known.has(t.file)).toBe(true)
  })

  it("hashes asynchronously to the same digest, remembered alike, and stops at its signal", async () => {
    const t = setup()
    writeAged(t.file, "y".repeat(10 << 20), 60_000) // 10 MiB: more than one 4 MiB read
    const memo = digestMemo()
    expect(await fileDigestAsync(t.file, memo)).toEqual(fileDigest(t.file))
    expect(memo.known.has(t.file)).toBe(true)
    const controller = new AbortController()
    controller.abort(new Error("stop"))
    await expect(fileDigestAsync(t.file, digestMemo(), controller.signal)).rejects.toThrow("stop")
  })
})
