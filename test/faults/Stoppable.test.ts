// Fault: inputs that would keep a command busy forever. A grouping pattern that backtracks
// catastrophically, a miner mask that does, an output folder that cannot be made: every command
// stops within 2 s of Ctrl-C or SIGTERM, or fails at once naming what is wrong.
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { copyConfigs, dataRoot, flow, flowStarted, tmpDir } from "../cli/helpers.ts"

const edit = (dir: string, file: string, f: (s: string) => string) => {
  const p = path.join(dir, file)
  fs.writeFileSync(p, f(fs.readFileSync(p, "utf8")))
}
const run = (dir: string) => ["run", path.join(dir, "registry.toml"), "--experiment", "hdfs-nb", "--data-root", dataRoot(), "--cache-dir", tmpDir(), "--results-dir", tmpDir()]

/** Start `flow`, send `signal` once `ready` is seen (or after `afterMs`), and time how long it takes to end. */
const stopTime = async (args: ReadonlyArray<string>, signal: NodeJS.Signals, ready: RegExp | number) => {
  const started = flowStarted(args)
  if (typeof ready === "number") await new Promise((r) => setTimeout(r, ready))
  else await started.untilLine(ready)
  const t0 = Date.now()
  started.child.kill(signal)
  const r = await started.done
  return { ms: Date.now() - t0, ...r }
}

describe("commands that could run forever", () => {
  it("a grouping pattern that backtracks catastrophically: Ctrl-C and SIGTERM stop the run within 2 s while the pattern is searched", async () => {
    const dir = copyConfigs()
    edit(dir, "datasets/hdfs.toml", (s) => s.replace("pattern = 'blk_-?\\d+'", "pattern = '(\\d+)+x'"))
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const r = await stopTime(run(dir), signal, 1500)
      expect(r.ms, `${signal}: ${r.stderr}`).toBeLessThan(2000)
      expect(r.code).not.toBe(0)
    }
  })

  it("a miner mask that backtracks catastrophically: Ctrl-C stops the run within 2 s while the mask is tried", async () => {
    const dir = copyConfigs()
    edit(dir, "datasets/hdfs.toml", (s) => s.replace('[miner]\npreset = "HDFS"', '[miner]\npreset = "HDFS"\nmasks = [{ pattern = "(\\\\w+\\\\s?)+$" }]'))
    const r = await stopTime(run(dir), "SIGINT", 1500)
    expect(r.ms, r.stderr).toBeLessThan(2000)
    expect(r.code).not.toBe(0)
  })

  it("an output folder that cannot be made fails at once, naming it (exit 2)", () => {
    const t0 = Date.now()
    const r = flow(["parse", path.join(dataRoot(), "loghub-2k/HDFS/HDFS_2k.log"), "--preset", "HDFS", "--out", "/proc/nonexistent/out"])
    expect(Date.now() - t0).toBeLessThan(10_000)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("cannot create folder /proc/nonexistent/out")
  })

  it("flow parse of a large log (synthetic: HDFS_20000 repeated to 230 MB): Ctrl-C stops it within 2 s and writes nothing", async () => {
    const dir = tmpDir()
    const big = path.join(dir, "synthetic-hdfs.log")
    const lines = fs.readFileSync(path.join(dataRoot(), "hdfs/raw/HDFS_20000.log"))
    const fd = fs.openSync(big, "w")
    for (let i = 0; i < 80; i++) fs.writeSync(fd, lines)
    fs.closeSync(fd)
    const out = path.join(dir, "out")
    const r = await stopTime(["parse", big, "--preset", "HDFS", "--out", out], "SIGINT", 1500)
    expect(r.ms, r.stderr).toBeLessThan(2000)
    expect(r.code, r.stdout).toBe(130)
    expect(fs.existsSync(out) ? fs.readdirSync(out) : []).toEqual([])
  })
})
