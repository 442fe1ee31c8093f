// End to end: the results table `flow run` ends with, and `flow run --json`. A registry with two
// naive Bayes runs on BGL that differ in one hyperparameter (smoothing), and a template frequency
// run of the same dataset: the table lists every run with its metrics.json's F1, exactly the
// varying key as a column, and "cached" on a rerun; --json prints only JSON lines.
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { copyConfigs, dataRoot, flow, resultFolders, stageLines, tmpDir } from "./helpers.ts"

const RUNS = ["bgl-freq.template_frequency", "table-nb.naive_bayes[smoothing=1]", "table-nb.naive_bayes[smoothing=0.25]"]
const HEADER = ["RUN", "DATASET", "MODEL", "smoothing", "P", "R", "F1", "AUROC", "STATUS", "CACHE"]

/** The table after the count line: header cells and one cell array per run. */
const table = (stdout: string): { header: Array<string>; rows: Map<string, Record<string, string>> } => {
  const lines = stdout.split("\n")
  const at = lines.findIndex((l) => /^RUN\s+DATASET\s/.test(l))
  expect(at, stdout).toBeGreaterThan(0)
  expect(lines[at - 1]).toBe("")
  expect(lines[at - 2]).toMatch(/^\d+ runs \(/) // the count line comes first, as before
  const header = lines[at]!.trim().split(/\s{2,}/)
  const rows = new Map<string, Record<string, string>>()
  for (const l of lines.slice(at + 1).filter((x) => x !== "")) {
    const cells = l.trim().split(/\s{2,}/)
    expect(cells.length, l).toBe(header.length)
    rows.set(cells[0]!, Object.fromEntries(header.map((h, i) => [h, cells[i]!])))
  }
  return { header, rows }
}

describe("flow run results table and --json", () => {
  let reg = ""
  let dirs: Array<string> = []
  let results = ""
  const run = (extra: ReadonlyArray<string> = []) => flow(["run", reg, "--group", "table-demo", "--experiment", "bgl-freq", ...dirs, ...extra])

  beforeAll(() => {
    const configs = copyConfigs()
    reg = path.join(configs, "registry.toml")
    fs.appendFileSync(reg, [
      "",
      "[experiments.table-nb]",
      'dataset = "bgl"',
      'models = ["naive_bayes"]',
      'groups = ["table-demo"]',
      'axes = [{ path = "model.smoothing", values = [1.0, 0.25] }]',
      ""
    ].join("\n"))
    results = tmpDir()
    dirs = ["--data-root", dataRoot(), "--cache-dir", tmpDir(), "--results-dir", results]
  })

  it("ends with a table of every run: F1 from its metrics.json, the varying key, computed then cached", () => {
    const first = run()
    expect(first.code, first.stderr).toBe(0)
    expect(stageLines(first.stdout, "done").length).toBeGreaterThan(0) // the stage lines are still there
    const t = table(first.stdout)
    expect(t.header).toEqual(HEADER)
    expect([...t.rows.keys()]).toEqual(RUNS)
    const folders = resultFolders(results)
    for (const name of RUNS) {
      const row = t.rows.get(name)!
      const headline = JSON.parse(fs.readFileSync(path.join(folders.get(name)!, "metrics.json"), "utf8")).headline
      expect(row.F1, name).toBe(headline.f1.toFixed(3))
      expect(row.P, name).toBe(headline.precision.toFixed(3))
      expect(row.R, name).toBe(headline.recall.toFixed(3))
      expect(row.AUROC, name).toBe(headline.auroc === null ? "-" : headline.auroc.toFixed(3))
      expect(row.DATASET).toBe("bgl")
      expect(row.STATUS).toBe("ok")
      expect(row.CACHE).toBe("computed")
    }
    expect(t.rows.get(RUNS[1]!)!.smoothing).toBe("1")
    expect(t.rows.get(RUNS[2]!)!.smoothing).toBe("0.25")
    expect(t.rows.get(RUNS[0]!)!.MODEL).toBe("template_frequency")

    const second = run()
    expect(second.code, second.stderr).toBe(0)
    const again = table(second.stdout)
    expect([...again.rows.values()].map((r) => r.CACHE)).toEqual(["cached", "cached", "cached"])
    expect([...again.rows.values()].map((r) => r.F1)).toEqual([...t.rows.values()].map((r) => r.F1))
  })

  it("--json prints one JSON object per line: every stage event, then a summary of the same runs", () => {
    const r = run(["--json"])
    expect(r.code, r.stderr).toBe(0)
    const lines = r.stdout.trimEnd().split("\n")
    const objects = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
    const events = objects.slice(0, -1)
    expect(events.every((e) => e.type === "event" && typeof e._tag === "string")).toBe(true)
    expect(events[0]).toMatchObject({ _tag: "Planned", runs: 3 })
    const summary = objects.at(-1) as {
      type: string
      varying: Array<string>
      runs: Array<{ run: string; f1: number | null; params: Record<string, unknown>; status: string; cached: boolean }>
      counts: Record<string, number>
    }
    expect(summary.type).toBe("summary")
    expect(summary.varying).toEqual(["model.config.smoothing"])
    expect(summary.runs.map((x) => x.run)).toEqual(RUNS)
    const folders = resultFolders(results)
    for (const x of summary.runs) {
      expect(x.f1).toBe(JSON.parse(fs.readFileSync(path.join(folders.get(x.run)!, "metrics.json"), "utf8")).headline.f1)
      expect(x).toMatchObject({ status: "ok", cached: true })
    }
    expect(summary.runs.map((x) => x.params["model.config.smoothing"])).toEqual([1, 1, 0.25])
    expect(summary.counts.runs).toBe(3)
    expect(summary.counts.cached).toBe(events.filter((e) => e._tag === "StageCached").length)
    expect(summary.counts.stages).toBe(summary.counts.cached)
  })
})
