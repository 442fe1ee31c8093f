// The table `flow run` ends with: cells, short headers, and fitting a terminal's width.
import { describe, expect, it } from "vitest"
import { cutEnd, cutMiddle, fmtMetric, fmtParam, formatRunTable, shortHeaders } from "../../../src/cli/view/RunTable.ts"
import type { FlowSummary, RunSummary } from "../../../src/flows/RunSummary.ts"

const row = (run: string, params: Record<string, unknown>, over: Partial<RunSummary> = {}): RunSummary => ({
  run,
  dataset: "hdfs",
  model: "naive_bayes",
  detector: "naive_bayes",
  fingerprint: "0123456789abcdef",
  params,
  scope: "sequence",
  precision: 0.5,
  recall: 0.25,
  f1: 1 / 3,
  auroc: null,
  status: "ok",
  cached: false,
  dir: `/r/${run}`,
  error: null,
  ...over
})

const summary: FlowSummary = {
  varying: ["model.config.smoothing", "dataset.split.train_fraction_of_the_training_data"],
  runs: [
    row("sweep.hdfs.naive_bayes[smoothing=1,train_fraction_of_the_training_data=0.7]", { "model.config.smoothing": 1, "dataset.split.train_fraction_of_the_training_data": 0.7 }),
    row("sweep.hdfs.naive_bayes[smoothing=0.25,train_fraction_of_the_training_data=0.7]", { "model.config.smoothing": 0.25, "dataset.split.train_fraction_of_the_training_data": 0.7 }, { cached: true }),
    row("sweep.hdfs.failed", { "model.config.smoothing": null, "dataset.split.train_fraction_of_the_training_data": null }, { status: "failed", precision: null, recall: null, f1: null })
  ]
}

const cells = (line: string) => line.trim().split(/\s{2,}/)

describe("run table", () => {
  it("formats metrics with 3 decimals and missing values as -", () => {
    expect(fmtMetric(1 / 3)).toBe("0.333")
    expect(fmtMetric(0)).toBe("0.000")
    expect(fmtMetric(null)).toBe("-")
    expect([fmtParam(null), fmtParam("a b"), fmtParam(0.25), fmtParam(true), fmtParam([1, 2])]).toEqual(["-", "a b", "0.25", "true", "[1,2]"])
  })

  it("cuts text with an ellipsis at the end or in the middle, never past the width", () => {
    expect(cutEnd("naive_bayes", 20)).toBe("naive_bayes")
    expect(cutEnd("naive_bayes", 6)).toBe("naive…")
    expect(cutMiddle("sweep.hdfs.naive_bayes[seed=1]", 15)).toBe("sweep.h…seed=1]")
    for (let w = 1; w < 32; w++) expect(cutMiddle("sweep.hdfs.naive_bayes[seed=1]", w).length).toBe(Math.min(w, 30))
  })

  it("shortens dotted headers to their shortest distinct suffix", () => {
    expect(shortHeaders(["model.config.smoothing", "dataset.split.train_fraction", "run_settings.seed"])).toEqual(["smoothing", "train_fraction", "seed"])
    expect(shortHeaders(["model.config.seed", "run_settings.seed"])).toEqual(["config.seed", "run_settings.seed"])
  })

  it("prints every column in full without a width", () => {
    const lines = formatRunTable(summary)
    expect(lines).toHaveLength(4)
    expect(cells(lines[0]!)).toEqual(["RUN", "DATASET", "MODEL", "smoothing", "train_fraction_of_the_training_data", "P", "R", "F1", "AUROC", "STATUS", "CACHE"])
    expect(cells(lines[1]!)).toEqual([summary.runs[0]!.run, "hdfs", "naive_bayes", "1", "0.7", "0.500", "0.250", "0.333", "-", "ok", "computed"])
    expect(cells(lines[2]!).at(-1)).toBe("cached")
    expect(cells(lines[3]!)).toEqual(["sweep.hdfs.failed", "hdfs", "naive_bayes", "-", "-", "-", "-", "-", "-", "failed", "computed"])
    // Columns line up: every F1 cell ends where the header's does.
    const end = lines[0]!.indexOf("F1") + 2
    for (const l of lines.slice(1)) expect(l.slice(end - 5, end)).toMatch(/^( {4}-|\d\.\d{3})$/)
  })

  it("fits a width: drops the widest varying column first, then narrows run names, and says what it hid", () => {
    const full = formatRunTable(summary)
    const fullWidth = Math.max(...full.map((l) => l.length))
    const narrower = formatRunTable(summary, fullWidth - 10)
    expect(cells(narrower[0]!)).toEqual(["RUN", "DATASET", "MODEL", "smoothing", "P", "R", "F1", "AUROC", "STATUS", "CACHE"])
    expect(narrower.at(-1)).toBe("(1 varying parameter not shown to fit the terminal: dataset.split.train_fraction_of_the_training_data; flow run --json has them)")
    expect(narrower[1]).toContain(summary.runs[0]!.run) // the run names still fit
    for (const width of [120, 100, 80, 60]) {
      const lines = formatRunTable(summary, width)
      for (const l of lines) expect(l.length, `${width}: ${l}`).toBeLessThanOrEqual(width)
      // Run names lose their middle, keeping the experiment and the axes' end.
      expect(cells(lines[1]!)[0]).toMatch(/^sweep\..*….*\]$/)
      if (width < 80) continue // narrower than the narrowest table: lines are cut
      expect(cells(lines[0]!)).toEqual(["RUN", "DATASET", "MODEL", "P", "R", "F1", "AUROC", "STATUS", "CACHE"])
      expect(cells(lines[1]!).slice(-2)).toEqual(["ok", "computed"])
    }
    // A width that fits keeps everything.
    expect(formatRunTable(summary, fullWidth)).toEqual(full)
  })

  it("prints nothing for no runs, and no varying columns when nothing varies", () => {
    expect(formatRunTable({ varying: [], runs: [] })).toEqual([])
    expect(cells(formatRunTable({ varying: [], runs: [row("a", {})] })[0]!)).toEqual(["RUN", "DATASET", "MODEL", "P", "R", "F1", "AUROC", "STATUS", "CACHE"])
  })
})
