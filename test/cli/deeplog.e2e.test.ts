// DeepLog through `flow run`: per-epoch checkpoints in the cache, kill -9 mid-training, resume
// from the last checkpoint to the same final weights and metrics as an uninterrupted run; a
// corrupt newest checkpoint is discarded and the one before it used; checkpoints are removed
// once the fit is stored; curves.jsonl; `flow export-onnx`.
import * as fs from "node:fs"
import * as path from "node:path"
import { open } from "lmdb"
import { describe, expect, it } from "vitest"
import { copyConfigs, dataRoot, flow, flowKilledAt, resultFolders, tmpDir } from "./helpers.ts"

const configs = copyConfigs()
fs.appendFileSync(
  path.join(configs, "registry.toml"),
  `
[experiments.dl-e2e]
dataset = "hdfs-100k-sessions"
models = ["deeplog"]
overrides = { "model.epochs" = 4, "model.hidden_size" = 8, "model.num_layers" = 1, "model.history_size" = 5, "model.top_g" = 5, "model.batch_size" = 128, "model.learning_rate" = 0.01 }
`
)
fs.appendFileSync(
  path.join(configs, "registry.toml"),
  `
[experiments.dlp-e2e]
dataset = "hdfs"
models = ["deeplog"]
overrides = { "model.epochs" = 2, "model.hidden_size" = 8, "model.num_layers" = 1, "model.top_g" = 3, "model.parameter_detection_enabled" = true, "model.parameter_epochs" = 20 }
`
)
fs.appendFileSync(
  path.join(configs, "registry.toml"),
  `
[experiments.dlt-e2e]
dataset = "hdfs-100k-sessions"
models = ["deeplog"]
overrides = { "model.epochs" = 1, "model.hidden_size" = 8, "model.num_layers" = 1, "model.history_size" = 5, "model.top_g" = 5, "model.batch_size" = 128, "model.threshold" = { kind = "fixed", value = 2.5 } }
`
)
const registry = path.join(configs, "registry.toml")
const run = (cache: string, results: string, experiment = "dl-e2e") =>
  [
    "run", registry, "--experiment", experiment, "--cache-dir", cache, "--results-dir", results, "--data-root", dataRoot(), "--max-workers", "2"
  ]

const fitReport = (dir: string) => {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "dataset_manifest.json"), "utf8")) as {
    fit: { report: { weights_sha256: string; resumed_from_epoch: number | null; epochs: number; parameter_model?: unknown } }
  }
  return manifest.fit.report
}

/** The cache's checkpoint entries: step -> key. */
const checkpoints = (cache: string): Map<number, string> => {
  const root = open({ path: cache, maxDbs: 8, compression: false })
  const metas = root.openDB<{ stage: string; params: { step: number } }, string>({ name: "meta", encoding: "json" })
  const out = new Map<number, string>()
  for (const { key, value } of metas.getRange()) if (value.stage === "checkpoint") out.set(value.params.step, key)
  void root.close()
  return out
}

describe("deeplog fit: checkpoints and resume", () => {
  const cacheA = tmpDir()
  const resultsA = tmpDir()
  const first = flow(run(cacheA, resultsA))

  it("trains, writes curves.jsonl and leaves no checkpoint behind", () => {
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toMatch(/^checkpt\s+fit dl-e2e\.deeplog .* step 4,/m)
    const dir = resultFolders(resultsA).get("dl-e2e.deeplog")!
    const curves = fs.readFileSync(path.join(dir, "curves.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { split: string; metric: string; epoch: number; step: number; value: number })
    const train = curves.filter((c) => c.split === "train" && c.metric === "loss")
    expect(train.map((c) => c.epoch)).toEqual([1, 2, 3, 4])
    // Steps count across epochs; every point is on the epoch and step axes.
    expect(train.map((c) => c.step)).toEqual([...train.map((c) => c.step)].sort((a, b) => a - b))
    expect(curves.every((c) => Number.isInteger(c.epoch) && Number.isInteger(c.step) && Number.isFinite(c.value))).toBe(true)
    expect(fitReport(dir).resumed_from_epoch).toBe(null)
    expect(checkpoints(cacheA).size).toBe(0)
  })

  it("export-onnx writes the run's model and a sidecar; ONNX Runtime loads it; other runs and a missing cache entry are clear errors", async () => {
    const dir = resultFolders(resultsA).get("dl-e2e.deeplog")!
    const out = path.join(tmpDir(), "model.onnx")
    const r = flow(["export-onnx", dir, "--out", out, "--cache-dir", cacheA])
    expect(r.code, r.stderr).toBe(0)
    const sidecar = JSON.parse(fs.readFileSync(`${out}.json`, "utf8")) as { history_size: number; top_g: number; vocabulary: { keys: Array<unknown>; pad_index: number } }
    expect(sidecar.history_size).toBe(5)
    expect(sidecar.top_g).toBe(5)
    // No threshold rule in the model config: the run used the detector's own, top_g - 0.5.
    expect(sidecar).toMatchObject({ threshold: 4.5, threshold_basis: "detector", detector_threshold: 4.5 })
    expect(sidecar.vocabulary.pad_index).toBe(sidecar.vocabulary.keys.length)
    const { OnnxScorer } = await import("../../src/detectors/deeplog/Onnx.ts")
    const scorer = await OnnxScorer.create(new Uint8Array(fs.readFileSync(out)))
    const logits = await scorer.run(new Int32Array(5).fill(sidecar.vocabulary.pad_index), 1, 5)
    await scorer.release()
    expect(logits.length).toBe(sidecar.vocabulary.keys.length)
    const missing = flow(["export-onnx", dir, "--out", out, "--cache-dir", tmpDir()])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/is not in the cache; rerun `flow run`/)
    const notRun = flow(["export-onnx", resultsA, "--out", out, "--cache-dir", cacheA])
    expect(notRun.code).toBe(2)
    expect(notRun.stderr).toMatch(/is not a finished run folder/)
    // A copy whose dataset manifest was edited (the fit key pointed elsewhere) is not trusted.
    const edited = path.join(tmpDir(), "dl-e2e.deeplog", path.basename(dir))
    fs.cpSync(dir, edited, { recursive: true })
    const manifestFile = path.join(edited, "dataset_manifest.json")
    fs.writeFileSync(manifestFile, fs.readFileSync(manifestFile, "utf8").replace(/"fit": "[0-9a-f]{4}/, '"fit": "0000'))
    const tampered = flow(["export-onnx", edited, "--out", out, "--cache-dir", cacheA])
    expect(tampered.code).toBe(2)
    expect(tampered.stderr).toMatch(/is incomplete \(dataset_manifest\.json .*\); `flow run` rewrites it/)
  })

  it("killed after epoch 2, resumes from epoch 2 to the same weights and metrics", async () => {
    const cache = tmpDir()
    const results = tmpDir()
    await flowKilledAt(run(cache, results), /^checkpt\s+fit .* step 2,/)
    expect([...checkpoints(cache).keys()].sort()).toEqual([1, 2])
    const again = flow(run(cache, results))
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toMatch(/^resumed\s+fit dl-e2e\.deeplog .* from checkpoint 2$/m)
    expect(again.stdout).not.toMatch(/step [12],/)
    const a = resultFolders(resultsA).get("dl-e2e.deeplog")!
    const b = resultFolders(results).get("dl-e2e.deeplog")!
    expect(fitReport(b).resumed_from_epoch).toBe(2)
    expect(fitReport(b).weights_sha256).toBe(fitReport(a).weights_sha256)
    expect(fs.readFileSync(path.join(b, "metrics.json"), "utf8")).toBe(fs.readFileSync(path.join(a, "metrics.json"), "utf8"))
    expect(fs.readFileSync(path.join(b, "predictions.jsonl"), "utf8")).toBe(fs.readFileSync(path.join(a, "predictions.jsonl"), "utf8"))
    expect(checkpoints(cache).size).toBe(0)
  })

  it("a corrupt newest checkpoint is discarded and training resumes from the one before", async () => {
    const cache = tmpDir()
    const results = tmpDir()
    await flowKilledAt(run(cache, results), /^checkpt\s+fit .* step 3,/)
    const stored = checkpoints(cache)
    expect([...stored.keys()].sort()).toEqual([2, 3])
    // Flip bytes of the newest checkpoint behind the store's back.
    const root = open({ path: cache, maxDbs: 8, compression: false })
    const chunks = root.openDB<Buffer, string>({ name: "chunks", encoding: "binary" })
    const chunkKey = `${stored.get(3)!}/000000`
    const bytes = Buffer.from(chunks.get(chunkKey)!)
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff
    chunks.putSync(chunkKey, bytes)
    await root.close()
    const again = flow(run(cache, results))
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toMatch(/^resumed\s+fit dl-e2e\.deeplog .* from checkpoint 2$/m)
    const b = resultFolders(results).get("dl-e2e.deeplog")!
    expect(fs.readFileSync(path.join(b, "run.log"), "utf8")).toMatch(/checkpoint at step 3 \[[0-9a-f]{12}\] is corrupt .*discarded/)
    expect(fitReport(b).weights_sha256).toBe(fitReport(resultFolders(resultsA).get("dl-e2e.deeplog")!).weights_sha256)
  })

  it("with the parameter-value model: checkpoints after each template's model, and a resume there reproduces the run", async () => {
    const cacheP = tmpDir()
    const resultsP = tmpDir()
    const full = flow(run(cacheP, resultsP, "dlp-e2e"))
    expect(full.code, full.stderr).toBe(0)
    const a = resultFolders(resultsP).get("dlp-e2e.deeplog")!
    const report = fitReport(a)
    expect(report.parameter_model).toMatchObject({ z: expect.closeTo(2.5758, 3) })
    expect((report.parameter_model as { templates: Array<unknown> }).templates.length).toBeGreaterThan(3)
    const metrics = JSON.parse(fs.readFileSync(path.join(a, "metrics.json"), "utf8")) as { scopes: { detector: { counts: Record<string, number> } } }
    expect(metrics.scopes.detector.counts.parameter_vectors_scored).toBeGreaterThan(0)

    const cache = tmpDir()
    const results = tmpDir()
    // Steps 1-2 are the key model's epochs; step 4 is after the second template's parameter model.
    await flowKilledAt(run(cache, results, "dlp-e2e"), /^checkpt\s+fit .* step 4,/)
    const again = flow(run(cache, results, "dlp-e2e"))
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toMatch(/^resumed\s+fit dlp-e2e\.deeplog .* from checkpoint 4$/m)
    const b = resultFolders(results).get("dlp-e2e.deeplog")!
    expect(fitReport(b).weights_sha256).toBe(report.weights_sha256)
    expect(fitReport(b).parameter_model).toEqual(report.parameter_model)
    expect(fs.readFileSync(path.join(b, "predictions.jsonl"), "utf8")).toBe(fs.readFileSync(path.join(a, "predictions.jsonl"), "utf8"))
  })
})

describe("export-onnx with a calibrated threshold (issue 17)", () => {
  it("the sidecar carries the threshold the run used, not the detector's own", () => {
    const cache = tmpDir()
    const results = tmpDir()
    const r = flow(run(cache, results, "dlt-e2e"))
    expect(r.code, r.stderr).toBe(0)
    const dir = resultFolders(results).get("dlt-e2e.deeplog")!
    const metrics = JSON.parse(fs.readFileSync(path.join(dir, "metrics.json"), "utf8")) as { headline: { threshold: number } }
    expect(metrics.headline.threshold).toBe(2.5)
    const out = path.join(tmpDir(), "model.onnx")
    expect(flow(["export-onnx", dir, "--out", out, "--cache-dir", cache]).code).toBe(0)
    const sidecar = JSON.parse(fs.readFileSync(`${out}.json`, "utf8")) as Record<string, unknown>
    expect(sidecar).toMatchObject({ threshold: 2.5, threshold_basis: "fixed value 2.5", detector_threshold: 4.5 })
  })
})
