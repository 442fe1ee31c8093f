// makeFolders: mkdir -p that always returns: a folder that cannot be made is an error naming it
// (Node's recursive mkdir retries forever under /proc).
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { makeFolders } from "../../src/runtime/Folders.ts"
import { tmpDir } from "../cli/helpers.ts"

describe("makeFolders", () => {
  it("creates missing parents, and is a no-op on an existing folder", () => {
    const dir = path.join(tmpDir(), "a", "b", "c")
    makeFolders(dir)
    expect(fs.statSync(dir).isDirectory()).toBe(true)
    makeFolders(dir)
  })

  it("fails at once, naming the path, where a parent is a file or the folder cannot be made", () => {
    const root = tmpDir()
    fs.writeFileSync(path.join(root, "file"), "x")
    expect(() => makeFolders(path.join(root, "file", "sub"))).toThrow(`cannot create folder ${path.join(root, "file", "sub")}: ${path.join(root, "file")} is not a folder`)
    const t0 = Date.now()
    expect(() => makeFolders("/proc/nonexistent/x")).toThrow(/cannot create folder \/proc\/nonexistent\/x: ENOENT at \/proc\/nonexistent/)
    expect(Date.now() - t0).toBeLessThan(1000)
  })
})
