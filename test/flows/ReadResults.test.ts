// Reading results back (issue 16): synthetic result folders written the way flow run writes them
// (writeFolder: files, then a manifest), some broken on purpose.
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { analyzeRuns, readRunFolder, scanResultsTree } from "../../src/flows/ReadResults.ts"
import { config, metrics, write } from "./resultsFixture.ts"

const root = fs.mkdtempSync(path.join(os.tmpdir(), "readresults-"))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

describe("reading a results tree", () => {
  const dir = path.join(root, "tree")
  // bgl x nb x fraction {0.7, 0.8} x seeds {1, 2, 3}: f1 = fraction - seed/100.
  for (const fraction of [0.7, 0.8]) for (const seed of [1, 2, 3]) write(dir, config("bgl", "nb", fraction, seed), `f${fraction * 10}s${seed}`, metrics(fraction - seed / 100, 0.6))
  // A second model with another smoothing, one seed.
  write(dir, config("bgl", "freq", 0.7, 1, 2), "freq1", metrics(0.75, 0.7))
  // Broken and odd folders.
  const truncated = write(dir, config("hdfs", "nb", 0.7, 1), "trunc", metrics(0.5, 0.5))
  fs.writeFileSync(path.join(truncated, "metrics.json"), "{\"headline\": {")
  const noConfig = write(dir, config("hdfs", "nb", 0.8, 1), "noconf", metrics(0.5, 0.5))
  fs.rmSync(path.join(noConfig, "run_config.json"))
  write(dir, config("hdfs", "nb", 0.7, 2), "failed", undefined, "fit: out of memory")
  // An older folder of a run, then its newer one.
  const older = write(dir, config("hdfs", "freq", 0.7, 1), "old", metrics(0.1, 0.5))
  const past = new Date(Date.now() - 60_000)
  fs.utimesSync(path.join(older, "manifest.json"), past, past)
  write(dir, config("hdfs", "freq", 0.7, 1), "new", metrics(0.2, 0.5))
  fs.mkdirSync(path.join(dir, "x.half.run", "abc.tmp-1-2-3"), { recursive: true })

  it("keeps complete, failed, incomplete and superseded runs apart, each with its reason", () => {
    const runs = scanResultsTree(dir)
    const state = (fp: string) => runs.find((r) => r.fingerprint === fp)
    expect(runs.filter((r) => r.state === "complete")).toHaveLength(8)
    expect(state("trunc")).toMatchObject({ state: "incomplete", reason: expect.stringMatching(/metrics\.json does not match its digest/) })
    expect(state("noconf")).toMatchObject({ state: "incomplete", reason: expect.stringMatching(/run_config\.json missing/) })
    expect(state("failed")).toMatchObject({ state: "failed", reason: "fit: out of memory", dataset: "hdfs" })
    expect(state("old")).toMatchObject({ state: "superseded", reason: expect.stringMatching(/new is newer/) })
    expect(state("new")).toMatchObject({ state: "complete", metrics: { f1: 0.2 } })
    expect(runs.some((r) => r.fingerprint?.includes(".tmp-"))).toBe(false)
    // Diagnostic scopes are not metrics; counts are not either.
    expect(Object.keys(state("new")!.metrics).sort()).toEqual(["auroc", "f1", "precision", "recall"])
  })

  it("a metrics.json rewritten to the same size is caught when parsing, and by --verify's hashes", () => {
    const cfg = config("bgl", "nb", 0.9, 9)
    const folder = write(path.join(root, "same-size"), cfg, "fp", metrics(0.5, 0.5))
    const file = path.join(folder, "metrics.json")
    const text = fs.readFileSync(file, "utf8")
    fs.writeFileSync(file, text.replace("\"f1\":0.5", "\"f1\":0.9"))
    expect(readRunFolder(folder, cfg.run, "fp").state).toBe("complete")
    expect(readRunFolder(folder, cfg.run, "fp", true)).toMatchObject({ state: "incomplete", reason: expect.stringMatching(/metrics\.json does not match its digest/) })
    fs.writeFileSync(file, "x".repeat(text.length))
    expect(readRunFolder(folder, cfg.run, "fp")).toMatchObject({ state: "incomplete", reason: expect.stringMatching(/metrics\.json is not valid JSON/) })
    expect(readRunFolder(path.join(root, "nowhere"), "r", "f")).toMatchObject({ state: "missing" })
  })

  it("finds the varying keys without being told, groups over seeds and summarises", () => {
    const a = analyzeRuns(scanResultsTree(dir))
    expect(a.varying).toEqual(["dataset.split.train_fraction", "run_settings.seed"])
    expect(a.ignored).toEqual(["run_settings.seed"])
    const nb = a.groups.filter((g) => g.model === "nb")
    expect(nb.map((g) => [g.params["dataset.split.train_fraction"], g.n])).toEqual([[0.7, 3], [0.8, 3]])
    expect(nb[0]!.metrics.f1!.mean).toBeCloseTo(0.68, 12)
    expect(nb[0]!.metrics.f1!.std).toBeCloseTo(0.01, 12)
    expect(nb[1]!.metrics.f1!.min).toBeCloseTo(0.77, 12)
    expect(a.counts).toEqual({ complete: 8, failed: 1, incomplete: 2, missing: 0, superseded: 1 })
    // Leaderboard: bgl's best nb setting (0.8: mean .78) above freq (.75).
    expect(a.leaderboard.filter((e) => e.dataset === "bgl").map((e) => [e.model, e.params["dataset.split.train_fraction"]])).toEqual([["nb", 0.8], ["freq", 0.7]])
    expect(a.problems).toEqual([])
    // Coverage: hdfs nb 0.7 has a truncated and a failed run and nothing complete; its 0.8 lacks its config.
    expect(a.coverage.filter((c) => c.complete < c.runs).map((c) => [c.dataset, c.model, c.params["dataset.split.train_fraction"], c.complete, c.runs, c.lacking.map((l) => l.state)])).toEqual([
      ["hdfs", "nb", 0.7, 0, 2, ["incomplete", "failed"]]
    ])
    expect(a.groups.some((g) => g.dataset === "hdfs" && g.model === "nb")).toBe(false)
  })

  it("--keep-seeds, --ignore, --where and --metric; unknown keys are reported, not fatal", () => {
    expect(analyzeRuns(scanResultsTree(dir), { keepSeeds: true }).groups.filter((g) => g.model === "nb")).toHaveLength(6)
    const ignored = analyzeRuns(scanResultsTree(dir), { ignore: ["dataset.split.train_fraction"] })
    expect(ignored.groups.find((g) => g.model === "nb")!.n).toBe(6)
    const where = analyzeRuns(scanResultsTree(dir), { where: [["dataset.split.train_fraction", "0.8"], ["model", "nb"]] })
    expect(where.groups.map((g) => [g.model, g.n])).toEqual([["nb", 3]])
    const nowhere = analyzeRuns(scanResultsTree(dir), { where: [["model.config.nosuch", "1"]] })
    expect(nowhere.problems).toEqual(["--where model.config.nosuch: no run has the key \"model.config.nosuch\""])
    expect(nowhere.counts.complete).toBe(0)
    const bad = analyzeRuns(scanResultsTree(dir), { metric: "mcc", ignore: ["nope"] })
    expect(bad.problems).toEqual(["--ignore nope: no run has the key \"nope\"", "--metric mcc: no run has it (f1, precision, recall, auroc)"])
    expect(bad.groups.length).toBe(4)
  })
})

describe("training curves read back (issue 16)", () => {
  const dir = path.join(root, "curves")
  const deeplog = (seed: number, epochs: number, shown: number) => {
    const cfg = { ...config("bgl", "deeplog", 0.7, seed), model: { name: "deeplog", detector: "deeplog", detector_version: "1", config: { epochs } } }
    // Older result folders hold DeepLog's per-epoch records; newer ones points.
    const records = Array.from({ length: shown }, (_, i) => ({ epoch: i + 1, train_loss: 2 - i / 10 + seed / 100, validation_loss: null, validation_top_g: 0.5, steps: 10, seconds: 1 }))
    return write(dir, cfg, `s${seed}`, metrics(0.6, 0.7), undefined, records)
  }
  deeplog(1, 3, 3)
  deeplog(2, 3, 3)
  deeplog(3, 3, 2) // interrupted early
  write(dir, config("bgl", "lr", 0.7, 1), "lr", metrics(0.5, 0.5), undefined, [
    { split: "train", metric: "objective", step: 0, samples: 0, value: 10 },
    { split: "train", metric: "objective", step: 1, samples: 80, value: 4 }
  ])

  it("converts older per-epoch records, flags a run whose curves stop before its configured epochs", () => {
    const runs = scanResultsTree(dir)
    const s3 = runs.find((r) => r.fingerprint === "s3")!
    expect(s3.curvesShort).toBe("curves stop at epoch 2 of 3")
    expect(runs.find((r) => r.fingerprint === "s1")!.curvesShort).toBeNull()
    expect(s3.curves.filter((c) => c.split === "train")).toEqual([
      { split: "train", metric: "loss", epoch: 1, step: 10, value: 2.03 },
      { split: "train", metric: "loss", epoch: 2, step: 20, value: 2 - 0.1 + 0.03 }
    ])
    expect(s3.curves.filter((c) => c.split === "validation").map((c) => c.metric)).toEqual(["top_g_accuracy", "top_g_accuracy"])
  })

  it("aggregates each setting's curves over seeds: n, mean and std per position, on the first axis the points have", () => {
    const a = analyzeRuns(scanResultsTree(dir))
    const loss = a.curves.filter((c) => c.model === "deeplog" && c.split === "train")
    expect(loss.map((c) => [c.axis, c.x, c.n])).toEqual([["epoch", 1, 3], ["epoch", 2, 3], ["epoch", 3, 2]])
    expect(loss[0]!.mean).toBeCloseTo(2.02, 12)
    expect(loss[0]!.std).toBeCloseTo(0.01, 12)
    expect(loss[2]!.mean).toBeCloseTo(1.8 + 0.015, 12)
    const lr = a.curves.filter((c) => c.model === "lr")
    expect(lr.map((c) => [c.axis, c.x, c.n, c.mean, c.std])).toEqual([["step", 0, 1, 10, null], ["step", 1, 1, 4, null]])
  })
})
