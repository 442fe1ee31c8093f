// The guard that checks an LMDB file before it is mapped, on the case a fault test found: a
// cache another process is creating at this instant (its data.mdb exists but has no meta pages
// yet) must not be judged damaged and moved from under its maker.
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { open } from "lmdb"
import { describe, expect, it } from "vitest"
import { guard, readHeader } from "../../src/cache/LmdbCheck.ts"

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "logflow-lmdbcheck-"))

/** A small intact LMDB file, made the way the cache makes one. */
const intactFile = async (): Promise<string> => {
  const dir = tmp()
  const db = open({ path: dir, noSubdir: false, maxDbs: 8, compression: false })
  await db.put("k", "v")
  await db.close()
  return path.join(dir, "data.mdb")
}

describe("guard", () => {
  it("waits for a cache file being created (no meta pages yet) instead of moving it aside", async () => {
    const source = await intactFile()
    const dir = tmp()
    const data = path.join(dir, "data.mdb")
    fs.writeFileSync(data, "")
    expect(typeof readHeader(data)).toBe("string") // as found mid-creation
    // Another process finishes writing it 300 ms from now.
    const maker = spawn("sh", ["-c", `sleep 0.3 && cp '${source}' '${data}.tmp' && mv '${data}.tmp' '${data}'`])
    const t0 = Date.now()
    const g = guard(dir)
    await new Promise((r) => maker.once("exit", r))
    expect(g).toEqual({ status: "intact" })
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250)
    expect(fs.readdirSync(dir).filter((f) => f.startsWith("damaged-"))).toEqual([])
  })

  it("moves a file that stays without meta pages aside, after the wait", () => {
    const dir = tmp()
    fs.writeFileSync(path.join(dir, "data.mdb"), Buffer.alloc(8192))
    const g = guard(dir)
    expect(g.status).toBe("damaged")
    expect(fs.readdirSync(dir).filter((f) => f.startsWith("damaged-"))).toHaveLength(1)
  })
})
