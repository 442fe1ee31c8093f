// Fault: processes that die or collide. kill -9 at seeded random moments of a sweep (repeatedly,
// on one cache and results folder), then three processes running the same sweep on one cache and
// results folder at once: every run ends with the results of a clean run, `flow status` always
// answers, and no process fails because another wrote the same folder.
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { mulberry32 } from "../../src/artifacts/Random.ts"
import { dataRoot, flow, flowAsync, flowStarted, resultFolders, tmpDir } from "../cli/helpers.ts"

const folders = (cache: string, results: string) => ["--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", results]
const baselines = (cache: string, results: string) => ["run", "configs/registry.toml", "--group", "baselines", ...folders(cache, results)]
const status = (cache: string, results: string) => ["status", "configs/registry.toml", "--group", "baselines", "--json", ...folders(cache, results)]
/** Every file of every result folder, by run: what a clean run wrote must equal byte for byte. */
const contents = (results: string) =>
  new Map([...resultFolders(results)].map(([run, dir]) => [
    run,
    Object.fromEntries(["metrics.json", "predictions.jsonl", "run_config.json", "dataset_manifest.json"].map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]))
  ]))

const referenceResults = tmpDir()
const reference = (() => {
  const r = flow(baselines(tmpDir(), referenceResults))
  if (r.code !== 0) throw new Error(r.stderr)
  return contents(referenceResults)
})()

describe("processes that die or collide", () => {
  it("kill -9 at 8 random moments on one cache and results folder: status always answers, and the next run ends with a clean run's results", async () => {
    const random = mulberry32(14)
    const cache = tmpDir()
    const results = tmpDir()
    for (let i = 0; i < 8; i++) {
      const started = flowStarted(baselines(cache, results))
      // Past start-up (the plan is printed), then anywhere in the next 1.5 s: stages, results, the end.
      await started.untilLine(/^plan: /).catch(() => undefined)
      await new Promise((r) => setTimeout(r, Math.floor(random() * 1500)))
      started.child.kill("SIGKILL")
      const killed = await started.done
      expect(killed.stderr, `kill ${i}`).not.toMatch(/^\s+at /m)
      const s = flow(status(cache, results))
      expect(s.code, `status after kill ${i}: ${s.stderr}`).toBe(0)
      const runs = (JSON.parse(s.stdout) as { runs: Array<{ status: string }> }).runs
      for (const r of runs) expect(["complete", "missing", "incomplete"]).toContain(r.status)
    }
    const last = flow(baselines(cache, results))
    expect(last.code, last.stderr).toBe(0)
    expect(contents(results)).toEqual(reference)
    const s = JSON.parse(flow(status(cache, results)).stdout) as { runs: Array<{ status: string }> }
    expect(s.runs.map((r) => r.status)).toEqual(["complete", "complete", "complete", "complete"])
  })

  it("three processes running one sweep on one cache and results folder at once (2 rounds, then 2 forced): all succeed with a clean run's results", async () => {
    for (let round = 0; round < 4; round++) {
      // Forced rounds recompute every stage in each process and replace each other's folders.
      const cache = tmpDir()
      const results = tmpDir()
      const ends = await Promise.all([0, 1, 2].map(() => flowAsync([...baselines(cache, results), ...(round >= 2 ? ["--force"] : [])])))
      ends.forEach((r, i) => expect(r.code, `round ${round}, process ${i}: ${r.stdout}\n${r.stderr}`).toBe(0))
      expect(contents(results)).toEqual(reference)
      // Nothing left beside the folders: one fingerprint per run, no temporary or old copies.
      for (const run of fs.readdirSync(results)) expect(fs.readdirSync(path.join(results, run)), run).toHaveLength(1)
    }
  })
})
