// Fault: a cache entry whose value no longer matches its checksum (a flipped byte in a chunk, a
// lost chunk). The next run recomputes it (once, saying so) and ends with the same results;
// `cache ls` and `flow status` show it as corrupt until then; `cache verify --repair` removes it.
import { open } from "lmdb"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { dataRoot, flow, resultFolders, stageLines, tmpDir } from "../cli/helpers.ts"

const baselines = (cache: string, results: string, extra: ReadonlyArray<string> = []) =>
  ["run", "configs/registry.toml", "--group", "baselines", "--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", results, ...extra]

const entries = (cache: string): Array<{ key: string; stage: string; corrupt?: { reason: string } }> =>
  JSON.parse(flow(["cache", "ls", "--cache-dir", cache, "--json"]).stdout)

/** Change the first chunk of `key` behind the store's back (`drop`: delete it instead). */
const damage = async (cache: string, key: string, how: "flip" | "drop") => {
  const root = open({ path: cache, maxDbs: 8, compression: false })
  const chunks = root.openDB<Buffer, string>({ name: "chunks", encoding: "binary" })
  const first = `${key}/000000`
  if (how === "drop") await chunks.remove(first)
  else {
    const bytes = Buffer.from(chunks.getBinary(first)!)
    bytes[bytes.length >> 1]! ^= 0x40
    await chunks.put(first, bytes)
  }
  await root.close()
}

const metrics = (results: string) => new Map([...resultFolders(results)].map(([run, dir]) => [run, fs.readFileSync(path.join(dir, "metrics.json"), "utf8")]))

describe("a cache entry that fails its checksum", () => {
  it("is recomputed by the next run, once, with a warning, and the results are those of a clean run", async () => {
    const cache = tmpDir()
    const results = tmpDir()
    expect(flow(baselines(cache, results)).code).toBe(0)
    const before = metrics(results)
    const label = entries(cache).find((e) => e.stage === "label")!
    const split = entries(cache).find((e) => e.stage === "split")!
    await damage(cache, label.key, "flip")
    await damage(cache, split.key, "drop")
    fs.rmSync(results, { recursive: true }) // results must be rewritten from the cache
    const rerun = flow(baselines(cache, results))
    expect(rerun.code, rerun.stderr).toBe(0)
    const warnings = rerun.stdout.split("\n").filter((l) => l.startsWith("WARNING"))
    expect(warnings.filter((l) => l.includes(label.key.slice(0, 12)))).toHaveLength(1)
    expect(warnings.filter((l) => l.includes(split.key.slice(0, 12)))).toHaveLength(1)
    expect(warnings[0]).toMatch(/did not read back .*recomputing it/)
    expect(stageLines(rerun.stdout, "done").filter((l) => l.startsWith("label") || l.startsWith("split")).length).toBeGreaterThanOrEqual(2)
    expect(metrics(results)).toEqual(before)
    // Healed: a third run is all cache hits, nothing corrupt is left.
    const third = flow(baselines(cache, results))
    expect(stageLines(third.stdout, "done")).toEqual([])
    expect(entries(cache).filter((e) => e.corrupt !== undefined)).toEqual([])
  })

  it("is shown as corrupt by cache ls, flow status and cache verify, recomputed by --force-stage, and removed by verify --repair", async () => {
    const cache = tmpDir()
    const results = tmpDir()
    expect(flow(baselines(cache, results)).code).toBe(0)
    const mine = entries(cache).filter((e) => e.stage === "mine")
    await damage(cache, mine[0]!.key, "flip")
    const verify = flow(["cache", "verify", "--cache-dir", cache])
    expect(verify.code).toBe(1)
    expect(verify.stdout).toContain(`CORRUPT  ${mine[0]!.key.slice(0, 12)}  mine: its value fails its checksum`)
    expect(verify.stdout).toMatch(/(\d+) entries checked: \1?\d* ok, 1 corrupt/)
    expect(flow(["cache", "ls", "--cache-dir", cache]).stdout).toContain("mine (CORRUPT)")
    const status = flow(["status", "configs/registry.toml", "--group", "baselines", "--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", results])
    expect(status.stdout).toContain(`corrupt cache entry ${mine[0]!.key.slice(0, 12)} (mine): its value fails its checksum`)
    // A forced stage downstream of it reads it, so it is recomputed first.
    const forced = flow(baselines(cache, results, ["--force-stage", "group"]))
    expect(forced.code, forced.stderr).toBe(0)
    expect(entries(cache).filter((e) => e.corrupt !== undefined)).toEqual([])
    // verify --repair removes what is corrupt; the next run recomputes it.
    await damage(cache, mine[1]!.key, "drop")
    const repair = flow(["cache", "verify", "--repair", "--cache-dir", cache])
    expect(repair.code).toBe(0)
    expect(repair.stdout).toContain(`removed  ${mine[1]!.key.slice(0, 12)}`)
    expect(entries(cache).some((e) => e.key === mine[1]!.key)).toBe(false)
    const again = flow(baselines(cache, results))
    expect(again.code).toBe(0)
    expect(entries(cache).some((e) => e.key === mine[1]!.key)).toBe(true)
  })
})
