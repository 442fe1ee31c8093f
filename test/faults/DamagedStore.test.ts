// Fault: a damaged cache file. A truncated data.mdb, bytes flipped at random offsets (meta pages,
// B-tree pages, values), a deleted lock.mdb: every run ends with the results of a clean run or a
// clear error, never a native crash or a wrong number. A damaged store is moved aside (named on
// stderr) and a new one started.
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { mulberry32 } from "../../src/artifacts/Random.ts"
import { dataRoot, flow, flowStarted, resultFolders, tmpDir } from "../cli/helpers.ts"

const baselines = (cache: string, results: string) =>
  ["run", "configs/registry.toml", "--group", "baselines", "--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", results]
const metrics = (results: string) => new Map([...resultFolders(results)].map(([run, dir]) => [run, fs.readFileSync(path.join(dir, "metrics.json"), "utf8")]))

// One clean cache and its results, copied for each fault.
const pristine = tmpDir()
const referenceResults = tmpDir()
const reference = (() => {
  const r = flow(baselines(pristine, referenceResults))
  if (r.code !== 0) throw new Error(r.stderr)
  return metrics(referenceResults)
})()
const copyCache = (): string => {
  const dir = tmpDir()
  fs.cpSync(pristine, dir, { recursive: true })
  return dir
}

/** A run on a damaged cache: the reference results, or a clear error; never a crash. */
const expectHealthyEnding = (cache: string, what: string) => {
  const results = tmpDir()
  const r = flow(baselines(cache, results))
  expect(r.code, `${what}: ${r.stderr}`).not.toBeNull() // null: killed by a signal (a native crash)
  if (r.code === 0) expect(metrics(results), what).toEqual(reference)
  else expect(r.stderr, what).toMatch(/^error: .*cache/m)
  return r
}

describe("a damaged cache file", () => {
  it("truncated: the run says the cache was damaged and moved aside, starts a new one and ends with the same results", () => {
    const cache = copyCache()
    const data = path.join(cache, "data.mdb")
    fs.truncateSync(data, Math.floor(fs.statSync(data).size / 2))
    const r = expectHealthyEnding(cache, "truncated")
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/the cache at .* was damaged \(the file is truncated: \d+ bytes, its header needs \d+\); it was moved to .*damaged-/)
    const aside = fs.readdirSync(cache).filter((f) => f.startsWith("damaged-"))
    expect(aside).toHaveLength(1)
    expect(fs.readdirSync(path.join(cache, aside[0]!))).toContain("data.mdb")
    // The next run finds the new cache intact: every stage a hit, nothing moved again.
    const again = flow(baselines(cache, tmpDir()))
    expect(again.stdout).toMatch(/27 cached, 0 run/)
    expect(fs.readdirSync(cache).filter((f) => f.startsWith("damaged-"))).toHaveLength(1)
  })

  it("with a byte flipped at random offsets (fixed seed): each run ends with the same results or a clear error", () => {
    const random = mulberry32(20261203)
    const size = fs.statSync(path.join(pristine, "data.mdb")).size
    // Both meta pages, then offsets anywhere in the file.
    const offsets = [16 + 3, 4096 + 16 + 100, ...Array.from({ length: 10 }, () => Math.floor(random() * size))]
    for (const at of offsets) {
      const cache = copyCache()
      const fd = fs.openSync(path.join(cache, "data.mdb"), "r+")
      const b = Buffer.alloc(1)
      fs.readSync(fd, b, 0, 1, at)
      b[0] = b[0]! ^ (1 << Math.floor(random() * 8))
      fs.writeSync(fd, b, 0, 1, at)
      fs.closeSync(fd)
      expectHealthyEnding(cache, `byte ${at} flipped`)
    }
  })

  it("with lock.mdb deleted: runs as if nothing happened", () => {
    const cache = copyCache()
    fs.rmSync(path.join(cache, "lock.mdb"))
    const r = expectHealthyEnding(cache, "lock.mdb deleted")
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/27 cached, 0 run/)
  })

  it("with lock.mdb deleted under a live run: the run stops with an error naming the lock file, no stack trace; the next run heals", async () => {
    const cache = tmpDir()
    const started = flowStarted(baselines(cache, tmpDir()))
    await started.untilLine(/^done\s/)
    fs.rmSync(path.join(cache, "lock.mdb"))
    const r = await started.done
    expect(r.code, r.stderr).not.toBeNull()
    expect(r.stderr + r.stdout).not.toMatch(/^\s+at /m)
    if (r.code !== 0) expect(r.stdout + r.stderr).toMatch(/lock file .*lock\.mdb was deleted or replaced while this process had the cache open/)
    const results = tmpDir()
    const again = flow(baselines(cache, results))
    expect(again.code, again.stderr).toBe(0)
    expect(metrics(results)).toEqual(reference)
  })
})
