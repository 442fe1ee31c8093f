// Sweep bookkeeping through the real CLI: plan after a full run, status after an interrupted
// run, cache why after an edit, --force and --force-stage.
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { copyConfigs, dataRoot, flow, flowKilledAt, resultFolders, stageLines, tmpDir } from "./helpers.ts"

describe("sweep bookkeeping", () => {
  it("plan shows every node cached after a full run, and run executes nothing", () => {
    const dirs = ["--data-root", dataRoot(), "--cache-dir", tmpDir(), "--results-dir", tmpDir()]
    const before = JSON.parse(flow(["plan", "configs/registry.toml", "--group", "baselines", "--json", ...dirs]).stdout)
    expect(before.totals).toEqual({ runs: 4, nodes: 27, cached: 0, uncached: 0, unresolved: 0, to_run: 27 })
    expect(before.nodes.filter((n: { stage: string }) => n.stage === "parse").length).toBe(2)
    expect(flow(["run", "configs/registry.toml", "--group", "baselines", ...dirs]).code).toBe(0)
    const after = JSON.parse(flow(["plan", "configs/registry.toml", "--group", "baselines", "--json", ...dirs]).stdout)
    expect(after.totals).toEqual({ runs: 4, nodes: 27, cached: 27, uncached: 0, unresolved: 0, to_run: 0 })
    const again = flow(["run", "configs/registry.toml", "--group", "baselines", ...dirs])
    expect(stageLines(again.stdout, "done")).toEqual([])
    const dot = flow(["plan", "configs/registry.toml", "--group", "baselines", "--dot", ...dirs]).stdout
    expect(dot.startsWith("digraph plan {")).toBe(true)
    expect(dot.match(/ -> /g)?.length).toBe(after.nodes.reduce((n: number, x: { inputs: Array<string> }) => n + x.inputs.length, 0))
  })

  it("after an interrupted sweep, status lists exactly the unfinished runs and the rerun command finishes them", async () => {
    const cache = tmpDir()
    const results = tmpDir()
    const dirs = ["--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", results]
    // Killed right after the first run's results are written: the others are unfinished.
    await flowKilledAt(["run", "configs/registry.toml", "--group", "baselines", "--max-workers", "1", ...dirs], /^run\s+\S+ -> /)
    const written = [...resultFolders(results).keys()]
    expect(written.length).toBeGreaterThanOrEqual(1)
    expect(written.length).toBeLessThan(4)
    const st = flow(["status", "configs/registry.toml", "--group", "baselines", "--json", ...dirs])
    const status = JSON.parse(st.stdout) as { runs: Array<{ run: string; status: string }>; rerun: string }
    const unfinished = status.runs.filter((r) => r.status !== "complete").map((r) => r.run).sort()
    const all = ["bgl-freq.template_frequency", "bgl-nb.naive_bayes", "hdfs-freq.template_frequency", "hdfs-nb.naive_bayes"]
    expect(unfinished).toEqual(all.filter((r) => !written.includes(r)))
    expect(status.runs.filter((r) => r.status === "complete").map((r) => r.run).sort()).toEqual(written.sort())
    // The printed rerun command, run as is, completes the sweep.
    const args = status.rerun.split(" ").slice(1)
    expect(flow(args).code).toBe(0)
    const final = JSON.parse(flow(["status", "configs/registry.toml", "--group", "baselines", "--json", ...dirs]).stdout)
    expect(final.rerun).toBeNull()
  })

  it("cache why names the changed hyperparameter; --force and --force-stage recompute what they say", () => {
    const dir = copyConfigs()
    const reg = path.join(dir, "registry.toml")
    const dirs = ["--data-root", dataRoot(), "--cache-dir", tmpDir(), "--results-dir", tmpDir()]
    expect(flow(["run", reg, "--experiment", "bgl-nb", ...dirs]).code).toBe(0)
    fs.writeFileSync(path.join(dir, "models/naive_bayes.toml"), fs.readFileSync(path.join(dir, "models/naive_bayes.toml"), "utf8").replace("smoothing = 1.0", "smoothing = 0.25"))
    const why = flow(["cache", "why", reg, "--run", "bgl-nb.naive_bayes", ...dirs])
    expect(why.code).toBe(0)
    expect(why.stdout).toMatch(/^hit\s+parse /m)
    expect(why.stdout).toMatch(/^miss\s+fit\s+[0-9a-f]{12}\s+nearest [0-9a-f]{12}:\n\s+param config\.smoothing: 1 -> 0\.25$/m)
    expect(why.stdout).toMatch(/upstream fit: [0-9a-f]{12} -> [0-9a-f]{12}/)

    const force = flow(["run", reg, "--experiment", "bgl-nb", "--force", ...dirs])
    expect(stageLines(force.stdout, "done").map((l) => l.split(" ")[0]).sort()).toEqual(["evaluate", "fit", "score"])
    const forceStage = flow(["run", reg, "--experiment", "bgl-nb", "--force-stage", "group", ...dirs])
    expect(stageLines(forceStage.stdout, "done").map((l) => l.split(" ")[0]).sort()).toEqual(["evaluate", "fit", "group", "label", "score", "split"])
    expect(stageLines(forceStage.stdout, "cached").map((l) => l.split(" ")[0]).sort()).toEqual(["mine", "parse", "source"])
    const bad = flow(["run", reg, "--experiment", "bgl-nb", "--force-stage", "grop", ...dirs])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("--force-stage grop: no such stage in the plan")
  })

  it("list shows experiments, groups and the 36 runs of the demo sweep", () => {
    const out = JSON.parse(flow(["list", "configs/registry.toml", "--group", "sweep-demo", "--json", "--data-root", dataRoot()]).stdout)
    expect(out.runs.length).toBe(36)
    expect(Object.keys(out.experiments).sort()).toEqual(["sweep-demo.bgl", "sweep-demo.hdfs"])
    expect(out.groups["sweep-demo"].length).toBe(36)
  })
})
