// Fault: a request for unbounded parallelism. `--max-workers 10000` used to start a worker thread
// per ready stage (7.6x the memory of the default); now the count is capped by cores and memory,
// the cap is stated on stderr, and the run completes as it would with the default.
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { workerCap } from "../../src/flows/Flow.ts"
import { dataRoot, flow, repoRoot, tmpDir } from "../cli/helpers.ts"

describe("bounded parallelism", () => {
  it("caps workers at two per core and one per 256 MiB, never below one", () => {
    expect(workerCap(4, 64 * 2 ** 30)).toBe(8)
    expect(workerCap(64, 2 ** 30)).toBe(4)
    expect(workerCap(1, 2 ** 20)).toBe(1)
  })

  it("--max-workers 10000 runs with the cap and says so once", () => {
    const cap = workerCap()
    const results = tmpDir()
    const r = flow([
      "run", path.join(repoRoot, "configs/registry.toml"), "--experiment", "hdfs-nb", "--max-workers", "10000",
      "--data-root", dataRoot(), "--cache-dir", tmpDir(), "--results-dir", results
    ])
    expect(r.code, r.stderr).toBe(0)
    const notes = r.stderr.split("\n").filter((l) => l.startsWith("note: "))
    expect(notes).toEqual([`note: 10000 workers asked for, ${cap} used: at most two per core and one per 256 MiB (${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB)`])
    expect(r.stdout).toMatch(/hdfs-nb/)
  })
})
