// flow parse and preset-driven parsing/mining through the real CLI.
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { parseCsv } from "../../src/presets/Csv.ts"
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

  it("an unknown preset or a missing file exits 2 with one clear line", () => {
    const bad = flow(["parse", hdfs2k(), "--preset", "HDFSX"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('Unknown preset "HDFSX"; the presets are: HDFS, Hadoop')
    const missing = flow(["parse", "/nonexistent.log", "--preset", "HDFS"])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("cannot read /nonexistent.log")
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
