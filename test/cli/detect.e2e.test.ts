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
    // The predictive detector also reports top-k next-event accuracy over the normal test sessions.
    const markov = JSON.parse(fs.readFileSync(path.join(folders.get("loglizer-hdfs.markov")!, "metrics.json"), "utf8"))
    expect(markov.scopes.next_event.status).toBe("valid")
    const acc = markov.scopes.next_event.top_k_accuracy
    expect(acc.top_1).toBeLessThanOrEqual(acc.top_3)
    expect(acc.top_3).toBeLessThanOrEqual(acc.top_9)
    expect(acc.top_9).toBeLessThanOrEqual(1)
    // Independent: events of the normal test sessions in the CSV (each session's events + nothing for END).
    const rows = fs.readFileSync(path.join(dataRoot(), "hdfs/sessions/deep-loglizer-HDFS_100k/HDFS_100k_sessions.csv"), "utf8").trim().split("\n").slice(1).map((l) => l.split(","))
    const events = rows.filter((r) => r[2] === "test" && (r[1] === "Normal" || r[1] === "0")).reduce((n, r) => n + r[3]!.trim().split(/\s+/).length, 0)
    expect(markov.scopes.next_event.evaluated_events).toBe(events)
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

describe("thresholds chosen on a validation part of the training split", () => {
  it("percentile and best_f1 thresholds are learnt on held-out training sequences and recorded with their basis", () => {
    const dir = copyConfigs()
    fs.writeFileSync(path.join(dir, "models/iforest_p99.toml"), 'detector = "isolation_forest"\nthreshold = { kind = "percentile", percentile = 99.0 }\n')
    fs.writeFileSync(path.join(dir, "models/lr_bestf1.toml"), 'detector = "logistic_regression"\nthreshold = { kind = "best_f1", validation_fraction = 0.25 }\n')
    fs.appendFileSync(path.join(dir, "registry.toml"), `
[experiments.thr]
dataset = "hdfs-100k-sessions"
models = ["iforest_p99", "lr_bestf1", "isolation_forest"]
`)
    const results = tmpDir()
    const r = flow(["run", path.join(dir, "registry.toml"), "--experiment", "thr", "--data-root", dataRoot(), "--cache-dir", tmpDir(), "--results-dir", results])
    expect(r.code).toBe(0)
    const headline = (run: string) => JSON.parse(fs.readFileSync(path.join(resultFolders(results).get(run)!, "metrics.json"), "utf8")).headline
    const p99 = headline("thr.iforest_p99")
    expect(p99.status).toBe("valid")
    expect(p99.threshold_basis).toMatch(/99.*percentile|percentile.*99/i)
    expect(p99.threshold_basis).toMatch(/validation/)
    const own = headline("thr.isolation_forest")
    expect(own.threshold_basis).toBeUndefined()
    expect(own.auroc).not.toBe(p99.auroc) // fitted on less data: a different forest
    const lr = headline("thr.lr_bestf1")
    expect(lr.status).toBe("valid")
    expect(lr.threshold_basis).toMatch(/validation/)
    // Predictions follow the recorded threshold.
    const preds = fs.readFileSync(path.join(resultFolders(results).get("thr.iforest_p99")!, "predictions.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l))
    for (const p of preds) expect(p.prediction).toBe(p.score > p99.threshold ? 1 : 0)
  })

  it("a bad threshold config is rejected naming the model file and key", () => {
    const dir = copyConfigs()
    fs.appendFileSync(path.join(dir, "models/pca.toml"), 'threshold = { kind = "percentile", percentile = 150 }\n')
    const r = flow(["run", path.join(dir, "registry.toml"), "--group", "loglizer-hdfs", "--data-root", dataRoot(), "--cache-dir", tmpDir()])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/models\/pca\.toml: threshold\.percentile: /)
  })
})
