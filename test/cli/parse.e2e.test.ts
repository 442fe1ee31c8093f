// flow parse and preset-driven parsing/mining through the real CLI.
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { groupF1, groupingAccuracy, templateAccuracy, templateF1 } from "../../src/mining/Accuracy.ts"
import { parseCsv } from "../../src/presets/Csv.ts"
import { TRACEBACK_FORMAT, TRACEBACK_LINES } from "../presets/helpers.ts"
import { copyConfigs, dataRoot, flow, repoRoot, tmpDir } from "./helpers.ts"

const hdfs2k = () => path.join(dataRoot(), "loghub-2k/HDFS/HDFS_2k.log")

describe("flow parse", () => {
  it("without --out prints a summary and writes nothing", () => {
    // The CLI runs in the repository root: a write would land there (parseFile's default folder).
    const r = flow(["parse", hdfs2k(), "--preset", "HDFS", "--json"])
    expect(r.code).toBe(0)
    const s = JSON.parse(r.stdout)
    expect(s).toMatchObject({ preset: "HDFS", lines: 2000, parsed_lines: 2000, unparsed_lines: 0, structured_csv: null })
    expect(s.templates).toBeGreaterThan(10)
    expect(typeof s.seconds).toBe("number")
    expect(fs.readdirSync(repoRoot).filter((f) => f.startsWith("HDFS_2k.log"))).toEqual([])
  })

  it("with --out writes LogHub's two CSVs, row for row", () => {
    const out = tmpDir()
    const r = flow(["parse", hdfs2k(), "--preset", "hdfs", "--out", out])
    expect(r.code).toBe(0)
    const structured = parseCsv(fs.readFileSync(path.join(out, "HDFS_2k.log_structured.csv"), "utf8"))
    const truth = parseCsv(fs.readFileSync(path.join(dataRoot(), "loghub-2k/HDFS/HDFS_2k.log_structured.csv"), "utf8"))
    expect(structured[0]).toEqual(["LineId", "Date", "Time", "Pid", "Level", "Component", "Content", "EventId", "EventTemplate"])
    expect(structured.length).toBe(truth.length)
    // The header fields and Content equal LogHub's for every line.
    for (let i = 1; i < truth.length; i++) expect(structured[i]!.slice(0, 7)).toEqual(truth[i]!.slice(0, 7))
    const templates = parseCsv(fs.readFileSync(path.join(out, "HDFS_2k.log_templates.csv"), "utf8"))
    expect(templates[0]).toEqual(["EventId", "EventTemplate", "Occurrences"])
    expect(templates.slice(1).reduce((n, t) => n + Number(t[2]), 0)).toBe(2000)
  })

  it("--threads 2 (a reading thread beside the miner) writes the same CSVs as --threads 1; --threads 3 exits 2", () => {
    const [one, two] = [tmpDir(), tmpDir()]
    expect(flow(["parse", hdfs2k(), "--preset", "HDFS", "--out", one, "--threads", "1"]).code).toBe(0)
    expect(flow(["parse", hdfs2k(), "--preset", "HDFS", "--out", two, "--threads", "2"]).code).toBe(0)
    for (const f of ["HDFS_2k.log_structured.csv", "HDFS_2k.log_templates.csv"]) {
      expect(fs.readFileSync(path.join(two, f), "utf8")).toBe(fs.readFileSync(path.join(one, f), "utf8"))
    }
    const bad = flow(["parse", hdfs2k(), "--preset", "HDFS", "--threads", "3"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/threads/)
  })

  it("an unknown preset or a missing file exits 2 with one clear line", () => {
    const bad = flow(["parse", hdfs2k(), "--preset", "HDFSX"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('Unknown preset "HDFSX"; the presets are: HDFS, Hadoop')
    const missing = flow(["parse", "/nonexistent.log", "--preset", "HDFS"])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("cannot read /nonexistent.log")
  })
})

describe("flow parse with --format, --multiline and --truth", () => {
  const HDFS_FORMAT = "<Date> <Time> <Pid> <Level> <Component>: <Content>"
  const APP_FORMAT = TRACEBACK_FORMAT
  const TRACEBACK = TRACEBACK_LINES.join("\n") + "\n"
  const write = (name: string, text: string): string => {
    const file = path.join(tmpDir(), name)
    fs.writeFileSync(file, text)
    return file
  }
  const USAGE = "usage: flow parse FILE (--preset NAME | --format FORMAT) [--multiline continuation] [--truth STRUCTURED_CSV] [--out DIR] [--threads 1|2] [--json]  (flow parse --help for more)"

  it("neither or both of --preset and --format: one error line and one usage line, exit 2", () => {
    const neither = flow(["parse", hdfs2k()])
    expect(neither.code).toBe(2)
    expect(neither.stderr.trim().split("\n")).toEqual(["error: give --preset NAME or --format FORMAT", USAGE])
    const both = flow(["parse", hdfs2k(), "--preset", "HDFS", "--format", HDFS_FORMAT])
    expect(both.code).toBe(2)
    expect(both.stderr.trim().split("\n")).toEqual(["error: give --preset or --format, not both", USAGE])
    expect(both.stdout).toBe("")
  })

  it("bad input is one line naming the option or column, exit 2", () => {
    const truthWithout = write("t.csv", "LineId,EventId\n1,E1\n")
    const cases: Array<[Array<string>, string]> = [
      [["--format", "<Date <Time> <Content>"], "error: --format: Invalid log format \"<Date <Time> <Content>\": unterminated field at position 0"],
      [["--format", "<Date> Time> <Content>"], "error: --format: Invalid log format \"<Date> Time> <Content>\": \">\" at position 11 closes no field"],
      [["--format", "<Date> <Date> <Content>"], "error: --format: Invalid log format \"<Date> <Date> <Content>\": duplicate field <Date>"],
      [["--format", "<Date> <Message>"], "error: --format: Invalid log format \"<Date> <Message>\": it has no <Content> field"],
      [["--format", "<Content>", "--multiline", "continuation"], "error: --multiline: \"continuation\" needs a format with a header field besides <Content>"],
      [["--preset", "HDFS", "--truth", truthWithout], `error: --truth: ${truthWithout} has no column "EventTemplate" (columns: LineId, EventId)`],
      [["--preset", "HDFS", "--truth", path.join(dataRoot(), "loghub-2k/HDFS/HDFS_2k.log_templates.csv")], "HDFS_2k.log_templates.csv has no column \"LineId\""]
    ]
    for (const [args, message] of cases) {
      const r = flow(["parse", hdfs2k(), ...args])
      expect(r.code, args.join(" ")).toBe(2)
      expect(r.stderr.trim().split("\n").length, r.stderr).toBe(1)
      expect(r.stderr).toContain(message)
    }
    const mode = flow(["parse", hdfs2k(), "--format", HDFS_FORMAT, "--multiline", "lines"])
    expect(mode.code).toBe(2)
    expect(mode.stderr).toContain("--multiline")
  })

  it("--truth on LogHub's HDFS 2k prints GA, FGA, PA and FTA: the Accuracy functions' values on the written CSV", () => {
    const out = tmpDir()
    const truth = path.join(dataRoot(), "loghub-2k/HDFS/HDFS_2k.log_structured.csv")
    const r = flow(["parse", hdfs2k(), "--preset", "HDFS", "--truth", truth, "--out", out, "--json"])
    expect(r.code).toBe(0)
    const a = JSON.parse(r.stdout).accuracy
    const ours = parseCsv(fs.readFileSync(path.join(out, "HDFS_2k.log_structured.csv"), "utf8"))
    const rows = parseCsv(fs.readFileSync(truth, "utf8"))
    const ids = ours.slice(1).map((x) => x[ours[0]!.indexOf("EventId")]!)
    const texts = ours.slice(1).map((x) => x[ours[0]!.indexOf("EventTemplate")]!)
    const trueTemplates = rows.slice(1).map((x) => x[rows[0]!.indexOf("EventTemplate")]!)
    const fga = groupF1(ids, trueTemplates)
    const fta = templateF1(ids, texts, trueTemplates)
    expect(a).toEqual({
      truth,
      lines: 2000,
      unmatched_lines: 0,
      ga: groupingAccuracy(ids, trueTemplates),
      fga: { f1: fga.f1, precision: fga.precision, recall: fga.recall, correct: fga.correct, predicted: fga.predictedGroups, true: fga.trueGroups },
      pa: templateAccuracy(texts, trueTemplates),
      fta: { f1: fta.f1, precision: fta.precision, recall: fta.recall, correct: fta.correct, predicted: fta.predictedTemplates, true: fta.trueTemplates }
    })
    expect(a.ga).toBeGreaterThan(0.9)
    const text = flow(["parse", hdfs2k(), "--preset", "HDFS", "--truth", truth])
    expect(text.code).toBe(0)
    expect(text.stdout).toContain(`accuracy against ${truth} (2000 lines): GA ${a.ga.toFixed(3)}  FGA ${a.fga.f1.toFixed(3)}  PA ${a.pa.toFixed(3)}  FTA ${a.fta.f1.toFixed(3)}`)
  })

  it("--format with --multiline continuation: a Python traceback is one event, its lines counted as continuation lines", () => {
    const file = write("app.log", TRACEBACK)
    const out = tmpDir()
    const r = flow(["parse", file, "--format", APP_FORMAT, "--multiline", "continuation", "--out", out, "--json"])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ preset: null, format: APP_FORMAT, multiline: "continuation", lines: 7, parsed_lines: 3, continuation_lines: 4, unparsed_lines: 0, warnings: [] })
    const rows = parseCsv(fs.readFileSync(path.join(out, "app.log_structured.csv"), "utf8"))
    expect(rows.slice(1).map((x) => x[0])).toEqual(["1", "2", "7"])
    const text = flow(["parse", file, "--format", APP_FORMAT, "--multiline", "continuation"])
    expect(text.stdout).toMatch(/7 lines, \d+ templates, 0 unparsed, 4 continuation lines/)
    expect(text.stderr).toBe("")
  })

  it("more than 10% unparsed: a warning with the share and the first unparsed line; none parsed: exit 2 and nothing written", () => {
    const file = write("app.log", TRACEBACK)
    const r = flow(["parse", file, "--format", APP_FORMAT])
    expect(r.code).toBe(0)
    expect(r.stderr.trim()).toBe('warning: 4 of 7 lines (57.1%) did not parse; the first, line 3 (no_match): "Traceback (most recent call last):"')
    const j = flow(["parse", file, "--format", APP_FORMAT, "--json"])
    expect(j.code).toBe(0)
    expect(JSON.parse(j.stdout).warnings).toEqual(['4 of 7 lines (57.1%) did not parse; the first, line 3 (no_match): "Traceback (most recent call last):"'])
    // 1 of 10 lines unparsed is not more than 10%: no warning.
    const few = write("few.log", [...Array.from({ length: 9 }, (_, i) => `2024-01-02 03:04:1${i},0 INFO app: tick ${i}`), "oops"].join("\n") + "\n")
    const quiet = flow(["parse", few, "--format", APP_FORMAT])
    expect(quiet.code).toBe(0)
    expect(quiet.stderr).toBe("")
    const out = tmpDir()
    const none = flow(["parse", file, "--preset", "HDFS", "--out", out])
    expect(none.code).toBe(2)
    expect(none.stderr.trim().split("\n")).toEqual([
      'warning: 7 of 7 lines (100.00%) did not parse; the first, line 1 (no_match): "2024-01-02 03:04:05,123 INFO app: started worker 7"',
      `error: no line of ${file} matches the format "${HDFS_FORMAT}"; nothing written`
    ])
    expect(fs.readdirSync(out)).toEqual([])
  })
})

describe("presets in dataset configs", () => {
  it("an unknown parser or miner preset is a config error naming the key", () => {
    const dir = copyConfigs()
    const p = path.join(dir, "datasets/bgl.toml")
    fs.writeFileSync(p, fs.readFileSync(p, "utf8").replace('[parser]\npreset = "BGL"', '[parser]\npreset = "BGX"'))
    const r = flow(["run", path.join(dir, "registry.toml"), "--data-root", dataRoot(), "--cache-dir", tmpDir()])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('datasets/bgl.toml: parser.preset: Unknown preset "BGX"')
    const dir2 = copyConfigs()
    const p2 = path.join(dir2, "datasets/bgl.toml")
    fs.writeFileSync(p2, fs.readFileSync(p2, "utf8").replace('[miner]\npreset = "BGL"', '[miner]\npreset = "BGX"'))
    expect(flow(["run", path.join(dir2, "registry.toml"), "--data-root", dataRoot(), "--cache-dir", tmpDir()]).stderr).toContain(
      'datasets/bgl.toml: miner.preset: unknown preset "BGX" (known: Android, Apache'
    )
  })

  it("a time window on a parser without timestamps is rejected before any stage runs", () => {
    const dir = copyConfigs()
    const p = path.join(dir, "datasets/bgl.toml")
    fs.writeFileSync(p, fs.readFileSync(p, "utf8")
      .replace('[parser]\npreset = "BGL"', '[parser]\npreset = "BGL"\ntimestamp = false')
      .replace('type = "fixed_window"\nwindow_size = 20\nstep = 20', 'type = "time_window"\ntime_span_ms = 60000\nstep_ms = 60000'))
    const cache = tmpDir()
    const r = flow(["run", path.join(dir, "registry.toml"), "--data-root", dataRoot(), "--cache-dir", cache])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("datasets/bgl.toml: grouping.time_span_ms: time windows need timestamps")
    expect(JSON.parse(flow(["cache", "ls", "--cache-dir", cache, "--json"]).stdout)).toEqual([])
  })

  it("BGL with its preset's timestamps groups into one-hour time windows", () => {
    const dir = copyConfigs()
    const p = path.join(dir, "datasets/bgl.toml")
    fs.writeFileSync(p, fs.readFileSync(p, "utf8").replace('type = "fixed_window"\nwindow_size = 20\nstep = 20', 'type = "time_window"\ntime_span_ms = 3600000\nstep_ms = 3600000'))
    // Independent: BGL's second field is epoch seconds; count distinct hours from the first time.
    const secs = fs.readFileSync(path.join(dataRoot(), "loghub-2k/BGL/BGL_2k.log"), "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => Number(l.trim().split(/\s+/)[1]))
    const t0 = Math.min(...secs)
    const hours = new Set(secs.map((s) => Math.floor((s - t0) / 3600)))
    const r = flow(["inspect", p, "--json", "--data-root", dataRoot(), "--cache-dir", tmpDir()])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).sequences).toBe(hours.size)
  })
})
