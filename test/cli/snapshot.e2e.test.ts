// The `flow` command started from its V8 start-up snapshot (bin/flow + scripts/build.ts) must
// behave exactly like the CLI from source: same results, stages in worker threads, clear errors;
// and a stale snapshot must never be used.
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { dataRoot, expectSameResults, flow, repoRoot, resultFolders, tmpDir } from "./helpers.ts"

let snapshotDir = ""

/** `bin/flow` with the snapshot built for this test, each command in its own process. */
const flowBin = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  flow(args, { FLOW_SNAPSHOT_DIR: snapshotDir, FLOW_NO_DAEMON: "1", ...env }, "launcher") // the daemon has its own tests
/** The CLI from source, whatever FLOW_E2E_BIN says. */
const flowSource = (args: ReadonlyArray<string>) => flow(args, {}, "source")
const environmentOf = (folder: string) => JSON.parse(fs.readFileSync(path.join(folder, "environment.json"), "utf8")) as { cli_start: string }

describe("start-up snapshot", () => {
  beforeAll(() => {
    snapshotDir = tmpDir("logflow-snapshot-")
    const r = spawnSync(process.execPath, [path.join(repoRoot, "scripts/build.ts"), "--out", snapshotDir], { cwd: repoRoot, encoding: "utf8", timeout: 120_000 })
    expect(r.status, r.stderr).toBe(0)
    for (const f of ["flow.blob", "flow.cjs", "flow.json", "node-path", "stamp"]) expect(fs.existsSync(path.join(snapshotDir, f)), f).toBe(true)
  }, 150_000)

  it("runs a sweep with stages in worker threads and gives the same results as the CLI from source", () => {
    const args = (cache: string, results: string) => [
      "run", "configs/registry.toml", "--group", "baselines", "--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", results, "--max-workers", "2"
    ]
    const [c1, r1, c2, r2] = [tmpDir(), tmpDir(), tmpDir(), tmpDir()]
    const fromSnapshot = flowBin(args(c1, r1))
    expect(fromSnapshot.code, fromSnapshot.stderr).toBe(0)
    expect(fromSnapshot.stdout).toMatch(/27 stages: 0 cached, 27 run, 0 failed/)
    const fromSource = flowSource(args(c2, r2))
    expect(fromSource.code, fromSource.stderr).toBe(0)
    expectSameResults(r1, r2)
    for (const folder of resultFolders(r1).values()) expect(environmentOf(folder).cli_start).toBe("snapshot")
    for (const folder of resultFolders(r2).values()) expect(environmentOf(folder).cli_start).toBe("source")
    // The cache written from the snapshot serves the CLI from source, and the other way round.
    expect(flowSource(args(c1, tmpDir())).stdout).toMatch(/27 cached, 0 run/)
    expect(flowBin(args(c2, tmpDir())).stdout).toMatch(/27 cached, 0 run/)
  }, 240_000)

  it("reports bad input the same way (exit 2, file and key named)", () => {
    const r = flowBin(["run", "configs/no-such-registry.toml"])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/no-such-registry\.toml.*file not found/)
  })

  it("is not used when stale, built by another Node, or turned off", () => {
    const results = (env: Record<string, string>) => {
      const dir = tmpDir()
      const r = flowBin(["run", "configs/registry.toml", "--experiment", "bgl-freq", "--data-root", dataRoot(), "--cache-dir", tmpDir(), "--results-dir", dir], env)
      expect(r.code, r.stderr).toBe(0)
      return environmentOf([...resultFolders(dir).values()][0]!).cli_start
    }
    expect(results({})).toBe("snapshot")
    expect(results({ FLOW_NO_SNAPSHOT: "1" })).toBe("source")
    const stamp = path.join(snapshotDir, "stamp")
    const nodePath = path.join(snapshotDir, "node-path")
    const built = fs.statSync(stamp).mtime
    const node = fs.readFileSync(nodePath, "utf8")
    try {
      // Built before the sources last changed: stale.
      fs.utimesSync(stamp, new Date(0), new Date(0))
      expect(results({})).toBe("source")
      fs.utimesSync(stamp, built, built)
      // Built by another Node binary.
      fs.writeFileSync(nodePath, "/elsewhere/node")
      expect(results({})).toBe("source")
    } finally {
      fs.utimesSync(stamp, built, built)
      fs.writeFileSync(nodePath, node)
    }
    expect(results({})).toBe("snapshot")
  }, 120_000)
})
