// The classic detectors through the engine on deep-loglizer's HDFS_100k split (group loglizer-hdfs).
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { copyConfigs, dataRoot, flow, resultFolders, tmpDir } from "./helpers.ts"

describe("group loglizer-hdfs", () => {
  it("runs the eight detectors; every run has valid metrics with AUROC and AUPRC, parsed once", () => {
    const results = tmpDir()
    const r = flow(["run", "configs/registry.toml", "--group", "loglizer-hdfs", "--data-root", dataRoot(), "--cache-dir", tmpDir(), "--results-dir", results])
    expect(r.code).toBe(0)
    expect(r.stdout.split("\n").filter((l) => l.startsWith("done     sessions ")).length).toBe(1)
    const folders = resultFolders(results)
    expect([...folders.keys()].map((k) => k.split(".")[1]).sort()).toEqual([
      "decision_tree", "invariants_mining", "isolation_forest", "log_clustering", "logistic_regression", "markov", "pca", "svm"
    ])
    for (const [run, dir] of folders) {
      const h = JSON.parse(fs.readFileSync(path.join(dir, "metrics.json"), "utf8")).headline
      expect(h.status, run).toBe("valid")
      expect(h.evaluated).toBe(1588)
      expect(h.tp + h.fn).toBe(57)
      expect(h.auroc).toBeGreaterThan(0.5)
      expect(h.auroc).toBeLessThanOrEqual(1)
      expect(h.auprc).toBeGreaterThan(0)
    }
  })

  it("contamination outside (0, 0.5] is rejected naming the model file and key", () => {
    const dir = copyConfigs()
    fs.appendFileSync(path.join(dir, "models/isolation_forest.toml"), "contamination = 0.6\n")
    const r = flow(["run", path.join(dir, "registry.toml"), "--group", "loglizer-hdfs", "--data-root", dataRoot(), "--cache-dir", tmpDir()])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/models\/isolation_forest\.toml: contamination: /)
  })

  it("a supervised detector without anomalies in training gives an invalid metric block, not a crash", () => {
    const dir = copyConfigs()
    fs.appendFileSync(path.join(dir, "registry.toml"), `
[experiments.lr-normal-only]
dataset = "hdfs-100k-sessions"
models = ["logistic_regression"]
overrides = { "dataset.split.train_on_normal_entities_only" = true }
`)
    const results = tmpDir()
    const r = flow(["run", path.join(dir, "registry.toml"), "--experiment", "lr-normal-only", "--data-root", dataRoot(), "--cache-dir", tmpDir(), "--results-dir", results])
    expect(r.code).toBe(0)
    const m = JSON.parse(fs.readFileSync(path.join(resultFolders(results).get("lr-normal-only.logistic_regression")!, "metrics.json"), "utf8"))
    expect(m.headline.status).toBe("invalid")
    expect(m.headline.reason).toMatch(/supervised/)
    expect(JSON.stringify(m)).not.toMatch(/NaN|null,"precision"/)
  })
})
