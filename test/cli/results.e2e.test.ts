// End to end: a result folder whose files no longer match its manifest. `flow status` calls it
// incomplete and says why; `flow run` rewrites exactly that folder from the cache.
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { dataRoot, flow, resultFolders, stageLines, tmpDir } from "./helpers.ts"

const RUNS = ["bgl-freq.template_frequency", "bgl-nb.naive_bayes", "hdfs-freq.template_frequency", "hdfs-nb.naive_bayes"]
const TAMPERED = "hdfs-nb.naive_bayes"

describe("a tampered result folder", () => {
  it("status reports it incomplete with the reason; run rewrites exactly it, back to the original bytes", () => {
    const cache = tmpDir()
    const results = tmpDir()
    const dirs = ["--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", results]
    const first = flow(["run", "configs/registry.toml", "--group", "baselines", ...dirs])
    expect(first.code, first.stderr).toBe(0)
    const folders = resultFolders(results)
    expect([...folders.keys()].sort()).toEqual(RUNS)
    for (const dir of folders.values()) {
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8"))
      expect(manifest.format).toBe("logflow-results/1")
      expect(Object.keys(manifest.files)).toEqual(expect.arrayContaining(["metrics.json", "predictions.jsonl", "run_config.json", "dataset_manifest.json"]))
    }

    // Someone improves an F1 by hand.
    const dir = folders.get(TAMPERED)!
    const metricsFile = path.join(dir, "metrics.json")
    const original = fs.readFileSync(metricsFile)
    const edited = original.toString("utf8").replace(/"f1": [^,\n]+/, '"f1": 0.99')
    expect(edited).not.toBe(original.toString("utf8"))
    fs.writeFileSync(metricsFile, edited)
    const mtimes = new Map([...folders].map(([run, d]) => [run, fs.statSync(path.join(d, "run.log")).mtimeMs]))

    const st = flow(["status", "configs/registry.toml", "--group", "baselines", ...dirs])
    expect(st.code, st.stderr).toBe(0)
    expect(st.stdout).toMatch(new RegExp(`^incomplete\\s+${TAMPERED.replace(".", "\\.")}\\s+[0-9a-f]{16}\\s+metrics\\.json does not match its digest`, "m"))
    for (const run of RUNS.filter((r) => r !== TAMPERED)) expect(st.stdout).toMatch(new RegExp(`^complete\\s+${run.replace(".", "\\.")}\\s`, "m"))
    expect(st.stdout).toContain("4 runs: 3 complete, 0 missing, 0 failed, 1 incomplete")
    expect(st.stdout).toContain(`rerun: flow run configs/registry.toml --run ${TAMPERED} --cache-dir ${cache} --results-dir ${results} --data-root ${dataRoot()}`)
    const json = JSON.parse(flow(["status", "configs/registry.toml", "--group", "baselines", "--json", ...dirs]).stdout) as {
      runs: Array<{ run: string; status: string; reason?: string }>
    }
    expect(json.runs.find((r) => r.run === TAMPERED)).toMatchObject({ status: "incomplete", reason: expect.stringMatching(/^metrics\.json does not match its digest/) })
    expect(json.runs.filter((r) => r.status === "complete").map((r) => r.run).sort()).toEqual(RUNS.filter((r) => r !== TAMPERED))

    const again = flow(["run", "configs/registry.toml", "--group", "baselines", ...dirs])
    expect(again.code, again.stderr).toBe(0)
    expect(stageLines(again.stdout, "done")).toEqual([])
    const runLines = again.stdout.split("\n").filter((l) => l.startsWith("run "))
    expect(runLines.filter((l) => l.includes(" -> "))).toEqual([expect.stringMatching(new RegExp(`^run\\s+${TAMPERED.replace(".", "\\.")} -> `))])
    expect(runLines.filter((l) => l.endsWith("already complete")).length).toBe(3)
    expect(fs.readFileSync(metricsFile)).toEqual(original)
    expect(fs.readFileSync(path.join(dir, "run.log"), "utf8")).toMatch(/result folder incomplete \(metrics\.json does not match its digest.*\): rewriting it/)
    // The other folders were left alone.
    for (const [run, d] of resultFolders(results)) {
      if (run !== TAMPERED) expect(fs.statSync(path.join(d, "run.log")).mtimeMs, run).toBe(mtimes.get(run))
    }
    for (const run of RUNS) expect(fs.readdirSync(path.join(results, run)), run).toHaveLength(1)

    const after = JSON.parse(flow(["status", "configs/registry.toml", "--group", "baselines", "--json", ...dirs]).stdout) as { runs: Array<{ status: string }>; rerun: string | null }
    expect(after.runs.map((r) => r.status)).toEqual(["complete", "complete", "complete", "complete"])
    expect(after.rerun).toBeNull()
  })
})
