// flow bundle and flow detect through the real CLI (issue 17): train once, detect on new logs.
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { copyConfigs, dataRoot, flow, resultFolders, tmpDir } from "./helpers.ts"

/** Detect's scores for the run's own test sequences equal the run's (same lines, match-only templates). */
const expectRunScores = (runDir: string, detectDir: string) => {
  const predictions = fs.readFileSync(path.join(runDir, "predictions.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { id: string; score: number; prediction: number })
  const scores = new Map(fs.readFileSync(path.join(detectDir, "scores.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { id: string; score: number; prediction: number }).map((s) => [s.id, s]))
  expect(predictions.length).toBeGreaterThan(100)
  for (const p of predictions) expect([scores.get(p.id)?.score, scores.get(p.id)?.prediction], p.id).toEqual([p.score, p.prediction])
}

describe("flow bundle, then flow detect with the cache gone", () => {
  const cache = tmpDir()
  const results = tmpDir()
  const work = tmpDir()
  const bundle = path.join(work, "bundle")
  const hdfs = () => path.join(dataRoot(), "hdfs/raw/HDFS_20000.log")

  it("bundles the HDFS template-frequency run; detect writes alerts, a summary with the lines read and a report; the scores equal the run's", () => {
    const run = flow(["run", "configs/registry.toml", "--group", "baselines", "--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", results])
    expect(run.code, run.stderr).toBe(0)
    const runDir = resultFolders(results).get("hdfs-freq.template_frequency")!
    const b = flow(["bundle", runDir, "--out", bundle, "--cache-dir", cache])
    expect(b.code, b.stderr).toBe(0)
    expect(fs.readdirSync(bundle).sort()).toEqual(["bundle.json", "manifest.json", "miner.json", "model.bin"])
    const spec = JSON.parse(fs.readFileSync(path.join(bundle, "bundle.json"), "utf8"))
    expect(spec).toMatchObject({ format: "logflow-bundle/1", run: "hdfs-freq.template_frequency", detector: { tag: "template_frequency" } })
    expect(spec.vocabulary.length).toBeGreaterThan(5)
    fs.rmSync(cache, { recursive: true, force: true })

    const out = path.join(work, "detect")
    const d = flow(["detect", bundle, hdfs(), "--out", out, "--json"])
    expect(d.code, d.stderr).toBe(0)
    expect(fs.readdirSync(out).sort()).toEqual(["alerts.jsonl", "novel.jsonl", "report.html", "report.md", "scores.jsonl", "summary.json"])
    const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"))
    expect(summary).toMatchObject({ lines: 20_000, parsed: 20_000, unparsed: 0, novel_lines: 0, sequences: 1782, predictions_of: "sequences" })
    expect(JSON.parse(d.stdout)).toEqual(summary)
    // A sequence detector's policy: each flagged block is a prediction that failed, 1 of 1 raises an alert for its block.
    const alerts = fs.readFileSync(path.join(out, "alerts.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l))
    expect(summary.flagged).toBeGreaterThan(0)
    expect(alerts.length).toBe(summary.alerts)
    expect(summary.alerts).toBe(summary.flagged)
    expect(alerts[0]).toMatchObject({ kind: "sequence", failures: 1, of: 1 })
    expect(alerts[0].entity).toBe(alerts[0].detail.sequence)
    const html = fs.readFileSync(path.join(out, "report.html"), "utf8")
    expect(html).toContain("Most anomalous sequences")
    // The most anomalous block's sample lines name it (read back from the log for the report).
    const best = fs.readFileSync(path.join(out, "scores.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((s) => s.prediction === 1).sort((a, b) => b.score - a.score)[0]
    expect(fs.readFileSync(path.join(out, "report.md"), "utf8")).toMatch(new RegExp(`> \\d+: .*${best.id}`))
    // The run scored its test blocks from the same lines: match-only inference with the bundle gives the same scores and predictions.
    expectRunScores(runDir, out)
  })

  it("a line no template covers is a novel event: listed, counted in its block, never dropped", () => {
    const log = path.join(work, "novel.log")
    const lines = fs.readFileSync(hdfs(), "utf8").split("\n").slice(0, 200)
    lines.splice(50, 0, "081109 203615 148 INFO dfs.DataNode: Disk quota exceeded on volume /data7 for block blk_-1608999687919862906")
    fs.writeFileSync(log, lines.join("\n") + "\n")
    const out = path.join(work, "detect-novel")
    expect(flow(["detect", bundle, log, "--out", out]).code).toBe(0)
    const novel = fs.readFileSync(path.join(out, "novel.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l))
    expect(novel).toHaveLength(1)
    expect(novel[0]).toMatchObject({ count: 1, first: "novel.log:51", last: "novel.log:51" })
    const block = fs.readFileSync(path.join(out, "scores.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l)).find((s) => s.id === "blk_-1608999687919862906")
    expect(block.first_line).toBeLessThanOrEqual(51)
    expect(block.last_line).toBeGreaterThanOrEqual(51)
  })

  it("bad input is one error line, exit 2, nothing written: a tampered bundle, another format version, a log it cannot read, a failed run", () => {
    const out = path.join(work, "bad-out")
    const copy = path.join(work, "tampered")
    fs.cpSync(bundle, copy, { recursive: true })
    fs.appendFileSync(path.join(copy, "model.bin"), Buffer.from([0]))
    const tampered = flow(["detect", copy, hdfs(), "--out", out])
    expect(tampered.code).toBe(2)
    expect(tampered.stderr).toMatch(/^error: .*model\.bin does not match the bundle's checksum manifest/m)

    const old = path.join(work, "old")
    fs.cpSync(bundle, old, { recursive: true })
    const manifest = JSON.parse(fs.readFileSync(path.join(old, "manifest.json"), "utf8"))
    fs.writeFileSync(path.join(old, "manifest.json"), JSON.stringify({ ...manifest, format: "logflow-bundle/0" }))
    const versioned = flow(["detect", old, hdfs(), "--out", out])
    expect(versioned.code).toBe(2)
    expect(versioned.stderr).toMatch(/bundle format "logflow-bundle\/0", this logflow reads logflow-bundle\/1/)

    const prose = path.join(work, "prose.log")
    fs.writeFileSync(prose, "this is not a log\nnor is this\n")
    const unreadable = flow(["detect", bundle, prose, "--out", out])
    expect(unreadable.code).toBe(2)
    expect(unreadable.stderr).toMatch(/none of its 2 lines reads with the bundle's parser .*first line: "this is not a log"/)
    // BGL lines happen to fit HDFS's header layout, but hold no block: the grouping rule says so.
    const bgl = flow(["detect", bundle, path.join(dataRoot(), "loghub-2k/BGL/BGL_2k.log"), "--out", out])
    expect(bgl.code).toBe(2)
    expect(bgl.stderr).toMatch(/^error: grouping\.pattern: /m)

    // An empty log and a log with lines the parser cannot read: warnings naming the file, not failures.
    const empty = path.join(work, "empty.log")
    fs.writeFileSync(empty, "")
    const mixed = path.join(work, "mixed.log")
    fs.writeFileSync(mixed, fs.readFileSync(hdfs(), "utf8").split("\n").slice(0, 20).join("\n") + "\nnot a log line\n")
    const warned = flow(["detect", bundle, empty, mixed, "--out", path.join(work, "warned")])
    expect(warned.code, warned.stderr).toBe(0)
    expect(warned.stderr).toContain(`warning: ${empty} is empty`)
    expect(warned.stderr).toMatch(/warning: .*mixed\.log: 1 of 21 lines \(4\.8%\) do not read with the bundle's parser; first, line 21: "not a log line"/)
    // Invalid UTF-8 and NUL bytes: those lines are unparsed (never half-read), named in the warning; the rest is scored.
    const bytes = path.join(work, "bytes.log")
    const good = fs.readFileSync(hdfs(), "utf8").split("\n").slice(0, 10).join("\n")
    fs.writeFileSync(bytes, Buffer.concat([Buffer.from(`${good}\n081109 203615 148 INFO dfs.DataNode: bad \xff\xfe bytes\n`, "latin1"), Buffer.from("081109 203615 148 INFO dfs.DataNode: nul \u0000 here\n")]))
    const b = flow(["detect", bundle, bytes, "--out", path.join(work, "bytes-out"), "--json"])
    expect(b.code, b.stderr).toBe(0)
    expect(b.stderr).toMatch(/warning: .*bytes\.log: 2 of 12 lines \(16\.7%\) do not read with the bundle's parser; first, line 11: /)
    expect(JSON.parse(b.stdout)).toMatchObject({ lines: 12, parsed: 10, unparsed: 2 })

    const notRun = flow(["bundle", results, "--out", path.join(work, "b2"), "--cache-dir", tmpDir()])
    expect(notRun.code).toBe(2)
    expect(notRun.stderr).toMatch(/is not a finished run folder/)
    const noCache = flow(["bundle", resultFolders(results).get("bgl-nb.naive_bayes")!, "--out", path.join(work, "b3"), "--cache-dir", tmpDir()])
    expect(noCache.code).toBe(2)
    expect(noCache.stderr).toMatch(/is not in the cache; rerun `flow run`/)
    expect(fs.existsSync(out)).toBe(false)
    expect(fs.existsSync(path.join(work, "b2")) || fs.existsSync(path.join(work, "b3"))).toBe(false)
  })
})

/** Run one HDFS DeepLog experiment with `overrides`, bundle it, delete the cache, detect on HDFS_20000: the run's folder and detect's. */
const deeplogBundleDetect = (overrides: string) => {
  const configs = copyConfigs()
  fs.appendFileSync(path.join(configs, "registry.toml"), `
[experiments.dl]
dataset = "hdfs"
models = ["deeplog"]
overrides = { ${overrides} }
`)
  const cache = tmpDir()
  const results = tmpDir()
  const run = flow(["run", path.join(configs, "registry.toml"), "--experiment", "dl", "--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", results])
  expect(run.code, run.stderr).toBe(0)
  const runDir = resultFolders(results).get("dl.deeplog")!
  const bundle = path.join(tmpDir(), "bundle")
  expect(flow(["bundle", runDir, "--out", bundle, "--cache-dir", cache]).code).toBe(0)
  fs.rmSync(cache, { recursive: true, force: true })
  const out = path.join(tmpDir(), "detect")
  const d = flow(["detect", bundle, path.join(dataRoot(), "hdfs/raw/HDFS_20000.log"), "--out", out])
  expect(d.code, d.stderr).toBe(0)
  return { runDir, out }
}

const SMALL_DEEPLOG = `"model.epochs" = 1, "model.hidden_size" = 8, "model.num_layers" = 1, "model.history_size" = 5, "model.top_g" = 5`

describe("a DeepLog bundle (ONNX scoring) with the cache gone", () => {
  it("detect gives the run's own scores and predictions for its test blocks", () => {
    const { runDir, out } = deeplogBundleDetect(`${SMALL_DEEPLOG}, "model.batch_size" = 128`)
    expectRunScores(runDir, out)
  })
})

describe("a DeepLog bundle with its parameter-value model", () => {
  it("detect builds the parameter values and elapsed times of each batch as the run did: the run's own scores for its test blocks", () => {
    const { runDir, out } = deeplogBundleDetect(`${SMALL_DEEPLOG}, "model.parameter_detection_enabled" = true, "model.parameter_epochs" = 2, "model.parameter_min_windows" = 5`)
    // Sequences flagged by parameter values alone: what the representations must reproduce.
    expect(JSON.parse(fs.readFileSync(path.join(runDir, "metrics.json"), "utf8")).scopes.detector.counts.sequences_flagged_only_by_parameters).toBeGreaterThan(0)
    expectRunScores(runDir, out)
  }, 300_000)
})

describe("every detector of the registry in a bundle", () => {
  it("each model of configs/models, trained on HDFS_20000 by block, bundled, gives the run's own scores for its test blocks with the cache gone", () => {
    const configs = copyConfigs()
    const models = fs.readdirSync(path.join(configs, "models")).filter((f) => f.endsWith(".toml")).map((f) => f.replace(/\.toml$/, ""))
    expect(models.length).toBeGreaterThanOrEqual(13)
    const neural = models.filter((m) => m.startsWith("deeplog"))
    fs.appendFileSync(path.join(configs, "registry.toml"), `
[experiments.every]
dataset = "hdfs"
models = ${JSON.stringify(models.filter((m) => !neural.includes(m)))}
groups = ["every"]

[experiments.every-neural]
dataset = "hdfs"
models = ${JSON.stringify(neural)}
groups = ["every"]
overrides = { "model.epochs" = 1, "model.hidden_size" = 8, "model.num_layers" = 1 }
`)
    const cache = tmpDir()
    const results = tmpDir()
    const run = flow(["run", path.join(configs, "registry.toml"), "--group", "every", "--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", results])
    expect(run.code, run.stderr).toBe(0)
    const work = tmpDir()
    const bundles = new Map<string, string>()
    for (const [name, runDir] of resultFolders(results)) {
      const dir = path.join(work, name)
      const b = flow(["bundle", runDir, "--out", dir, "--cache-dir", cache])
      expect(b.code, `${name}: ${b.stderr}`).toBe(0)
      bundles.set(name, runDir)
    }
    expect(bundles.size).toBe(models.length)
    fs.rmSync(cache, { recursive: true, force: true })
    for (const [name, runDir] of bundles) {
      const out = path.join(work, `${name}.detect`)
      const d = flow(["detect", path.join(work, name), path.join(dataRoot(), "hdfs/raw/HDFS_20000.log"), "--out", out])
      expect(d.code, `${name}: ${d.stderr}`).toBe(0)
      expectRunScores(runDir, out)
    }
    // A detector that cannot go on learning from its model is refused by flow train --from, nothing written.
    const refused = flow(["train", "--from", path.join(work, "every.template_frequency"), path.join(dataRoot(), "hdfs/raw/HDFS_20000.log"), "--out", path.join(work, "tf2"), "--cache-dir", tmpDir()])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/^error: template_frequency cannot continue training from a bundle/m)
    expect(fs.existsSync(path.join(work, "tf2"))).toBe(false)
  }, 600_000)
})

