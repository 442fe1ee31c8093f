// Fault: a source edited in place by a tool that restores its size and mtime (rsync --inplace,
// some editors, a test fixture generator). The digest memo used to trust size + mtime + inode and
// serve stale results; `--force-stage parse` then failed, blaming a change "while the flow ran".
// The memo now also compares the ctime, which no user can set back.
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { copyConfigs, dataRoot, flow, tmpDir } from "../cli/helpers.ts"

describe("a source edited in place with its size and mtime kept", () => {
  it("is hashed again: parse reruns and the run succeeds", async () => {
    const configs = copyConfigs()
    // No pinned checksums: a pinned one would refuse the edited file outright (also correct).
    const hdfs = path.join(configs, "datasets/hdfs.toml")
    fs.writeFileSync(hdfs, fs.readFileSync(hdfs, "utf8").replace(/^sha256 = .*\n/m, "").replace(/, sha256 = "[0-9a-f]+"/, ""))
    const data = tmpDir("logflow-data-")
    for (const rel of ["hdfs/raw/HDFS_20000.log", "hdfs/labels/HDFS_20000.block_labels.csv"]) {
      fs.mkdirSync(path.dirname(path.join(data, rel)), { recursive: true })
      fs.copyFileSync(path.join(dataRoot(), rel), path.join(data, rel))
    }
    const log = path.join(data, "hdfs/raw/HDFS_20000.log")
    const hourAgo = Math.floor(Date.now() / 1000) - 3600 // whole seconds: utimes restores them exactly
    fs.utimesSync(log, hourAgo, hourAgo)
    // Old enough (2 s past its last change) for its digest to be remembered.
    await new Promise((r) => setTimeout(r, 2100))
    const cache = tmpDir()
    const args = ["run", path.join(configs, "registry.toml"), "--experiment", "hdfs-nb", "--data-root", data, "--cache-dir", cache, "--results-dir", tmpDir()]
    const first = flow(args)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toMatch(/^running\s+parse /m)

    const before = fs.statSync(log)
    const text = fs.readFileSync(log, "utf8")
    const edited = text.replace(" INFO ", " WARN ")
    expect(edited).not.toBe(text)
    fs.writeFileSync(log, edited)
    fs.utimesSync(log, before.atime, before.mtime)
    const after = fs.statSync(log)
    expect([after.size, after.mtimeMs, after.ino]).toEqual([before.size, before.mtimeMs, before.ino])

    const second = flow(args)
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout).toMatch(/^running\s+parse /m)
    const forced = flow([...args, "--force-stage", "parse"])
    expect(forced.code, forced.stderr).toBe(0)
    expect(forced.stderr).not.toMatch(/changed while the flow ran/)
  })
})
