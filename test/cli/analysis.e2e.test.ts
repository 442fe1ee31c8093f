// flow results (issue 16) through the real CLI, on the sweep-demo group's 36 runs.
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { parseCsv } from "../../src/presets/Csv.ts"
import { chromium, copyConfigs, dataRoot, flow, needChromium, renderedDom, resultFolders, tmpDir } from "./helpers.ts"


describe("flow results", () => {
  const cache = tmpDir()
  const results = tmpDir()
  const dirs = ["--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", results]
  const select = ["configs/registry.toml", "--group", "sweep-demo", ...dirs]

  it("before any run: every run missing, exit 2; after flow run: settings over seeds, varying keys found without being told", () => {
    const before = flow(["results", ...select])
    expect(before.code).toBe(2)
    expect(before.stdout).toContain("36 runs read: 0 complete, 0 failed, 0 incomplete, 36 missing")
    expect(before.stderr).toContain("error: no complete run found")
    expect(before.stdout).toContain("coverage: 0 of 12 settings complete; these lack runs:")

    const run = flow(["run", ...select])
    expect(run.code, run.stderr).toBe(0)
    const r = flow(["results", ...select, "--json"])
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.counts).toEqual({ complete: 36, failed: 0, incomplete: 0, missing: 0, superseded: 0 })
    expect(out.varying).toContain("dataset.split.train_fraction")
    expect(out.ignored).toEqual(["run_settings.seed"])
    expect(out.directions).toMatchObject({ f1: "higher_is_better", auroc: "higher_is_better" })
    expect(out.groups).toHaveLength(12)
    for (const g of out.groups) {
      expect(g.n).toBe(3)
      expect(g.metrics.f1).toMatchObject({ n: 3, mean: expect.any(Number), std: expect.any(Number) })
    }
    // The leaderboard ranks each dataset's models by their best setting's mean F1.
    const bgl = out.leaderboard.filter((e: { dataset: string }) => e.dataset === "bgl")
    expect(bgl.map((e: { mean: number }) => e.mean)).toEqual([...bgl.map((e: { mean: number }) => e.mean)].sort((a, b) => b - a))

    const text = flow(["results", ...select])
    expect(text.stdout).toMatch(/^DATASET\s+MODEL\s+train_fraction\s+n_max\s+N\s+F1 MEAN ± STD\s+95% CI/m)
    expect(text.stdout).toContain("leaderboard by f1")
  })

  it("--csv, --markdown, a results folder with --where and --sort", () => {
    const csv = parseCsv(flow(["results", ...select, "--csv"]).stdout)
    expect(csv[0]!.slice(0, 5)).toEqual(["dataset", "model", "dataset.split.train_fraction", "model.config.n_max", "n"])
    expect(csv[0]).toContain("f1_ci95_high")
    expect(csv).toHaveLength(13)
    const md = flow(["results", ...select, "--markdown"]).stdout.trimEnd().split("\n")
    expect(md[0]).toMatch(/^\| DATASET \| MODEL \|/)
    expect(md).toHaveLength(14)

    const exportDir = path.join(tmpDir(), "export")
    const exported = flow(["results", ...select, "--export", exportDir])
    expect(exported.code, exported.stderr).toBe(0)
    expect(fs.readdirSync(exportDir).sort()).toEqual(["curves.csv", "curves.json", "curves.parquet", "metrics.csv", "metrics.json", "metrics.parquet", "runs.csv", "runs.json", "runs.parquet"])
    const runsJson = JSON.parse(fs.readFileSync(path.join(exportDir, "runs.json"), "utf8")) as Array<Record<string, unknown>>
    expect(runsJson).toHaveLength(36)
    expect(runsJson[0]).toMatchObject({ state: "complete", "dataset.split.train_fraction": expect.any(Number), "run_settings.seed": expect.any(Number), f1: expect.any(Number) })

    const tree = flow(["results", results, "--where", "dataset=bgl", "--sort", "f1", "--json"])
    expect(tree.code, tree.stderr).toBe(0)
    const groups = JSON.parse(tree.stdout).groups as Array<{ dataset: string; metrics: { f1: { mean: number } } }>
    expect(groups).toHaveLength(6)
    expect(groups.every((g) => g.dataset === "bgl")).toBe(true)
    expect(groups.map((g) => g.metrics.f1.mean)).toEqual(groups.map((g) => g.metrics.f1.mean).sort((a, b) => b - a))
  })

  it("diff: only what differs between two runs; compare: two groups of seeded runs on one metric", () => {
    const a = "sweep-demo.bgl.naive_bayes[train_fraction=0.8,seed=1]"
    const b = "sweep-demo.bgl.naive_bayes[train_fraction=0.7,seed=1]"
    const d = flow(["results", "diff", a, b, "--results-dir", results, "--json"])
    expect(d.code, d.stderr).toBe(0)
    const diff = JSON.parse(d.stdout) as { files: Array<{ file: string; differences: Array<{ key: string; a: unknown; b: unknown }> }> }
    const config = diff.files.find((f) => f.file === "run_config.json")!.differences
    expect(config.map((x) => x.key).sort()).toEqual(["axes.dataset.split.train_fraction", "dataset.split.train_fraction", "run"])
    expect(config.find((x) => x.key === "dataset.split.train_fraction")).toEqual({ key: "dataset.split.train_fraction", a: 0.8, b: 0.7 })
    expect(diff.files.find((f) => f.file === "metrics.json")!.differences.some((x) => x.key === "headline.f1")).toBe(true)
    // A run against itself (by its folder): nothing differs.
    const same = flow(["results", "diff", path.join(results, a), a, "--results-dir", results])
    expect(same.stdout).toContain("run_config.json: same")
    expect(same.stdout).toContain("metrics.json: same")
    expect(flow(["results", "diff", a, "nosuch", "--results-dir", results]).code).toBe(2)

    const c = flow(["results", "compare", ...select, "--where", "dataset=bgl", "--a", "model=naive_bayes", "--b", "model=template_frequency", "--json"])
    expect(c.code, c.stderr).toBe(0)
    const cmp = JSON.parse(c.stdout)
    expect(cmp).toMatchObject({ metric: "f1", nA: 6, nB: 6, permutation: { exact: true, splits: 924 }, mannWhitney: { exact: true } })
    expect(cmp.difference).toBeCloseTo(cmp.meanB - cmp.meanA, 12)
    expect(cmp.bootstrap.low).toBeLessThanOrEqual(cmp.difference)
    expect(cmp.bootstrap.high).toBeGreaterThanOrEqual(cmp.difference)
    const none = flow(["results", "compare", ...select, "--a", "model=naive_bayes", "--b", "model=nosuch"])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain("error: --b model=nosuch: no complete run with f1 matches")
  })

  it("the registry's [analysis] table renames keys and values in every output; a remap of an unknown key is named; a bad table exits 2", () => {
    const configs = copyConfigs()
    const registry = path.join(configs, "registry.toml")
    fs.appendFileSync(registry, [
      "",
      "[analysis]",
      'names = { "dataset.split.train_fraction" = "train share", model = "detector", "model.config.nosuch" = "x" }',
      'values = { model = { naive_bayes = "NB" } }',
      'ignore = ["model.config.n_max"]',
      ""
    ].join("\n"))
    const r = flow(["results", registry, "--group", "sweep-demo", ...dirs])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^DATASET\s+detector\s+train share\s+N\s/m)
    expect(r.stdout).toMatch(/^bgl\s+NB\s+0\.7\s+3\s/m)
    expect(r.stdout).toContain("varying: train share (over run_settings.seed, model.config.n_max)")
    expect(r.stderr).toContain('warning: [analysis] names: no run has the key "model.config.nosuch"')
    const md = flow(["results", registry, "--group", "sweep-demo", ...dirs, "--markdown"])
    expect(md.stdout.split("\n")[0]).toBe("| DATASET | detector | train share | N | F1 MEAN ± STD | 95% CI | PRECISION | RECALL | AUROC | AUPRC |")
    const csv = parseCsv(flow(["results", registry, "--group", "sweep-demo", ...dirs, "--csv"]).stdout)
    expect(csv[0]!.slice(0, 4)).toEqual(["dataset", "detector", "train share", "n"])
    expect(csv.some((row) => row[1] === "NB")).toBe(true)
    const j = JSON.parse(flow(["results", registry, "--group", "sweep-demo", ...dirs, "--json"]).stdout)
    expect(j.display.values).toEqual({ model: { naive_bayes: "NB" } })
    expect(j.problems).toEqual(['[analysis] names: no run has the key "model.config.nosuch"'])

    fs.appendFileSync(registry, "colour = 1\n")
    const bad = flow(["results", registry, "--group", "sweep-demo", ...dirs])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/analysis\.colour/)
  })

  it("flow report: one offline HTML file and an SVG per chart; --svg charts have marks; no complete run writes nothing", () => {
    const out = tmpDir()
    const html = path.join(out, "r.html")
    const svgDir = path.join(out, "svg")
    const r = flow(["report", ...select, "--out", html, "--svg", svgDir])
    expect(r.code, r.stderr).toBe(0)
    const page = fs.readFileSync(html, "utf8")
    // Self-contained: no script, style or image fetched from anywhere.
    expect(page).not.toMatch(/<script[^>]+src=|<link[^>]+href=|<img[^>]+src="?http/i)
    const svgs = fs.readdirSync(svgDir).sort()
    // A chart per varying key, ROC, PR, F1 by threshold and a confusion matrix per dataset, the leaderboard.
    expect(svgs).toEqual(expect.arrayContaining(["leaderboard.svg", "by-dataset-split-train_fraction.svg", "roc-bgl.svg", "pr-hdfs.svg", "f1-threshold-bgl.svg", "confusion-hdfs.svg"]))
    for (const f of svgs) {
      const svg = fs.readFileSync(path.join(svgDir, f), "utf8")
      expect(svg.startsWith("<svg"), f).toBe(true)
      expect((svg.match(/class="mark-/g) ?? []).length, f).toBeGreaterThan(2)
    }
    expect(page.match(/class="chart" id="chart-\d+"/g)).toHaveLength(svgs.length)

    const empty = tmpDir()
    const none = flow(["report", empty, "--out", path.join(out, "none.html")])
    expect(none.code).toBe(2)
    expect(fs.existsSync(path.join(out, "none.html"))).toBe(false)
  })

  it.skipIf(chromium === undefined && !needChromium)("flow report renders in headless Chromium: every chart draws marks, no script error", () => {
    const out = tmpDir()
    const html = path.join(out, "r.html")
    expect(flow(["report", ...select, "--out", html]).code).toBe(0)
    const charts = (fs.readFileSync(html, "utf8").match(/class="chart" id="chart-\d+"/g) ?? []).length
    expect(charts).toBeGreaterThanOrEqual(11)
    const dom = renderedDom(html)
    expect(dom).toContain(`data-rendered="${charts}"`)
    expect(dom).toContain('<div id="report-errors"></div>')
    for (let i = 0; i < charts; i++) {
      const start = dom.indexOf(`id="chart-${i}"`)
      const end = dom.indexOf("</figure>", start)
      const body = dom.slice(start, end)
      expect(body, `chart ${i}`).toContain("<svg")
      expect((body.match(/class="mark-/g) ?? []).length, `chart ${i}`).toBeGreaterThan(2)
    }
  })

  it("bad input: a truncated metrics.json is named and the rest is read; bad flags and selections exit 2", () => {
    const folders = resultFolders(results)
    const victim = "sweep-demo.bgl.naive_bayes[train_fraction=0.8,seed=2]"
    const file = path.join(folders.get(victim)!, "metrics.json")
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").slice(0, 40))
    const r = flow(["results", ...select])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain("36 runs read: 35 complete, 0 failed, 1 incomplete, 0 missing")
    expect(r.stdout).toMatch(/incomplete\s+sweep-demo\.bgl\.naive_bayes\[train_fraction=0\.8,seed=2\]\/[0-9a-f]{16}: metrics\.json does not match its digest/)
    expect(r.stdout).toMatch(/^bgl\s+naive_bayes\s+0\.8\s+2\s+2\s/m)
    expect(r.stdout).toContain("coverage: 11 of 12 settings complete; these lack runs:")
    expect(r.stdout).toContain(`  bgl naive_bayes train_fraction=0.8 n_max=2: 2 of 3; lacking ${victim} (incomplete)`)

    const unknownKey = flow(["results", ...select, "--where", "model.config.nosuch=1"])
    expect(unknownKey.code).toBe(0)
    expect(unknownKey.stderr).toContain("warning: --where model.config.nosuch: no run has the key")
    for (const bad of [
      ["results", "configs/registry.toml", "--group", "nosuch", ...dirs],
      ["results", results, "--group", "sweep-demo"],
      ["results", ...select, "--sort", "nosuch"],
      ["results", ...select, "--where", "novalue"],
      ["results", ...select, "--json", "--csv"],
      ["results", path.join(results, "nowhere")]
    ]) {
      const b = flow(bad)
      expect(b.code, bad.join(" ")).toBe(2)
      expect(b.stderr, bad.join(" ")).toMatch(/^error: /m)
    }
  })
})

describe("training curves through flow results and flow report (loglizer-hdfs: logistic regression and the linear SVM)", () => {
  it("every iterative detector's run has curves; results aggregates them, the report draws them", () => {
    const cache = tmpDir()
    const results = tmpDir()
    const select = ["configs/registry.toml", "--group", "loglizer-hdfs", "--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", results]
    expect(flow(["run", ...select]).code).toBe(0)
    const out = JSON.parse(flow(["results", ...select, "--json"]).stdout) as {
      curves: Array<{ model: string; split: string; metric: string; axis: string; x: number; n: number; mean: number }>
      runs: Array<{ model: string; curve_points: number; curves_short: string | null }>
    }
    const byModel = (m: string) => out.curves.filter((c) => c.model === m)
    expect(new Set(byModel("logistic_regression").map((c) => `${c.split} ${c.metric} ${c.axis}`))).toEqual(new Set(["train objective step"]))
    expect(new Set(byModel("svm").map((c) => `${c.split} ${c.metric} ${c.axis}`))).toEqual(new Set(["train objective epoch"]))
    for (const m of ["logistic_regression", "svm"]) {
      const means = byModel(m).map((c) => c.mean)
      expect(means.length).toBeGreaterThan(1)
      expect(means.at(-1)!).toBeLessThan(means[0]!)
    }
    // Detectors that do not iterate write none.
    expect(out.runs.filter((r) => r.curve_points > 0).map((r) => r.model).sort()).toEqual(["logistic_regression", "svm"])
    const html = path.join(tmpDir(), "r.html")
    const svg = path.join(tmpDir(), "svg")
    expect(flow(["report", ...select, "--out", html, "--svg", svg]).code).toBe(0)
    expect(fs.readFileSync(path.join(svg, "training-curves.svg"), "utf8")).toMatch(/class="mark-line/)
  })
})
