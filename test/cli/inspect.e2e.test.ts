// flow inspect and sequence views end to end, with expected values computed here from the raw
// files (not from the code under test).
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { TRACEBACK_FORMAT, TRACEBACK_LINES } from "../presets/helpers.ts"
import { copyConfigs, dataRoot, flow, resultFolders, tmpDir } from "./helpers.ts"

const inspect = (file: string, cache = tmpDir()) => {
  const r = flow(["inspect", file, "--json", "--data-root", dataRoot(), "--cache-dir", cache])
  if (r.code !== 0) throw new Error(r.stderr)
  return JSON.parse(r.stdout)
}

describe("flow inspect", () => {
  it("HDFS_100k sessions: 7,940 sessions with deep-loglizer's split (6,096 + 256 train, 1,531 + 57 test)", () => {
    // Independent count from the CSV: BlockId,Label,Split,EventSequence
    const rows = fs.readFileSync(path.join(dataRoot(), "hdfs/sessions/deep-loglizer-HDFS_100k/HDFS_100k_sessions.csv"), "utf8").trim().split("\n").slice(1).map((l) => l.split(","))
    const count = (split: string, label: string) => rows.filter((r) => r[2] === split && (r[1] === label || (label === "Anomaly" ? r[1] === "1" : r[1] === "0"))).length
    const report = inspect("configs/datasets/hdfs-100k-sessions.toml")
    expect(report.sequences).toBe(rows.length)
    expect(report.sequences).toBe(7940)
    expect(report.split.labels.train).toMatchObject({ count: 6352, normal: count("train", "Normal"), anomaly: count("train", "Anomaly") })
    expect(report.split.labels.test).toMatchObject({ count: 1588, normal: count("test", "Normal"), anomaly: count("test", "Anomaly") })
    expect(report.split.labels.train.normal).toBe(6096)
    expect(report.templates).toBe(19)
    expect(report.raw_lines).toBeNull()
  })

  it("BGL_2k in windows of 100 lines, step 100: 20 windows, anomalous exactly where an alert line falls", () => {
    const lines = fs.readFileSync(path.join(dataRoot(), "loghub-2k/BGL/BGL_2k.log"), "utf8").split("\n").filter((l) => l.length > 0)
    expect(lines.filter((l) => !l.startsWith("- ")).length).toBe(143)
    let anomalousWindows = 0
    for (let w = 0; w < 20; w++) if (lines.slice(w * 100, w * 100 + 100).some((l) => !l.startsWith("- "))) anomalousWindows++
    const dir = copyConfigs()
    const p = path.join(dir, "datasets/bgl.toml")
    fs.writeFileSync(p, fs.readFileSync(p, "utf8").replace("window_size = 20\nstep = 20", "window_size = 100\nstep = 100"))
    const report = inspect(p)
    expect(report.raw_lines).toBe(2000)
    expect(report.unparsed_lines).toBe(0)
    expect(report.sequences).toBe(20)
    const l = report.split.labels
    expect(l.train.anomaly + l.test.anomaly + l.ignored.anomaly).toBe(anomalousWindows)
    expect(report.split.lengths.train).toMatchObject({ min: 100, max: 100, median: 100 })
  })

  it("HDFS_20000 by block: 1,782 sequences, 43 anomalous; a second inspect reads everything from the cache", () => {
    const cache = tmpDir()
    const first = inspect("configs/datasets/hdfs.toml", cache)
    expect(first.sequences).toBe(1782)
    const l = first.split.labels
    expect(l.train.anomaly + l.test.anomaly + l.ignored.anomaly).toBe(43)
    expect(first.split.effective).toMatchObject({ train: 1425, test: 357, ignored: 0 })
    const second = inspect("configs/datasets/hdfs.toml", cache)
    expect(second.stages.run).toBe(0)
    expect(second.sequences).toBe(1782)
  })

  it("a split that leaves the test side empty is reported, not accepted", () => {
    const dir = copyConfigs()
    const p = path.join(dir, "datasets/bgl.toml")
    fs.writeFileSync(p, fs.readFileSync(p, "utf8").replace("train_fraction = 0.8", "train_fraction = 1.0"))
    const r = flow(["inspect", p, "--data-root", dataRoot(), "--cache-dir", tmpDir()])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/train_fraction/)
    expect(r.stderr).toMatch(/empty/)
  })

  it("a config at odds with the data, found by a stage (a capture group that takes part in no match), is a config error naming file and key", () => {
    const dir = copyConfigs()
    const p = path.join(dir, "datasets/hdfs.toml")
    fs.writeFileSync(p, fs.readFileSync(p, "utf8").replace("pattern = 'blk_-?\\d+'", "pattern = '(x)?blk_-?\\d+'"))
    const r = flow(["inspect", p, "--data-root", dataRoot(), "--cache-dir", tmpDir()])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split("\n")[0]).toBe(
      `error: ${p}: grouping.pattern: pattern "(x)?blk_-?\\\\d+" found no entity (its first capturing group took part in no match) of the 20000 parsed rows; check it against the log's content (grouping.pattern = '(x)?blk_-?\\d+')`
    )
  })

  it("multi-line events: a traceback's lines are counted as continuation lines, a config without the key shows none", () => {
    const root = tmpDir()
    const raw = [...TRACEBACK_LINES, "2024-01-02 03:04:08,500 INFO app: started worker 9"]
    fs.writeFileSync(path.join(root, "app.log"), raw.join("\n") + "\n")
    const continued = raw.filter((l) => !/^\d{4}-/.test(l)).length
    const dataset = (multiline: string, format = TRACEBACK_FORMAT) => {
      const file = path.join(tmpDir(), "app.toml")
      fs.writeFileSync(file, [
        'description = "a log with a traceback"',
        "[source]", 'path = "app.log"',
        "[parser]", `format = "${format}"`, multiline,
        "[miner]",
        "[grouping]", 'type = "fixed_window"', "window_size = 2", "step = 2",
        "[labels]", 'type = "none"',
        "[split]", "train_fraction = 0.5"
      ].join("\n") + "\n")
      return file
    }
    const run = (file: string, json: boolean) => flow(["inspect", file, ...(json ? ["--json"] : []), "--data-root", root, "--cache-dir", tmpDir()])
    const on = JSON.parse(run(dataset('multiline = "continuation"'), true).stdout)
    expect(on).toMatchObject({ raw_lines: raw.length, parsed_lines: raw.length - continued, unparsed_lines: 0, continuation_lines: continued })
    expect(run(dataset('multiline = "continuation"'), false).stdout).toMatch(new RegExp(`continuation +${continued} lines`))
    const off = JSON.parse(run(dataset(""), true).stdout)
    expect(off).toMatchObject({ parsed_lines: raw.length - continued, unparsed_lines: continued, continuation_lines: null })
    expect(run(dataset(""), false).stdout).not.toContain("continuation")
    // A format with no header field cannot tell an event's first line: a config error naming the key.
    const bad = dataset('multiline = "continuation"', "<Content>")
    const r = flow(["inspect", bad, "--data-root", root, "--cache-dir", tmpDir()])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split("\n")).toEqual([
      `error: ${bad}: parser.multiline: "continuation" needs a format with a header field besides <Content> ("<Content>" has none): lines that do not match the header continue the event before them`
    ])
  })
})

describe("sequence views in runs", () => {
  it("a pre-sequenced dataset runs end to end with its predefined split", () => {
    const results = tmpDir()
    const r = flow(["run", "configs/registry.toml", "--group", "sessions", "--data-root", dataRoot(), "--cache-dir", tmpDir(), "--results-dir", results])
    expect(r.code).toBe(0)
    const dir = resultFolders(results).get("hdfs100k-nb.naive_bayes")!
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "dataset_manifest.json"), "utf8"))
    expect(manifest.sessions.sequences).toBe(7940)
    expect(manifest.split.effective).toMatchObject({ train: 6352, test: 1588, ignored: 0 })
    expect(manifest.split.requested).toEqual({ type: "predefined", train_on_normal_entities_only: false })
    const metrics = JSON.parse(fs.readFileSync(path.join(dir, "metrics.json"), "utf8"))
    expect(metrics.headline.evaluated).toBe(1588)
    expect(metrics.headline.tp + metrics.headline.fn).toBe(57)
  })

  it("a raw-entry split with split_partial cuts straddling blocks and records requested versus effective sizes", () => {
    const dir = copyConfigs()
    const p = path.join(dir, "datasets/hdfs.toml")
    fs.writeFileSync(p, fs.readFileSync(p, "utf8").replace(
      "[split]\ntrain_fraction = 0.8\ntrain_on_normal_entities_only = false",
      '[split]\ntype = "raw"\nraw_first_fraction = 0.5\nstraddle_policy = "split_partial"'
    ))
    // Independent: blocks with lines in both halves of the file.
    const lines = fs.readFileSync(path.join(dataRoot(), "hdfs/raw/HDFS_20000.log"), "utf8").split("\n").filter((l) => l.length > 0)
    const sides = new Map<string, Set<number>>()
    lines.forEach((l, i) => {
      for (const b of new Set(l.match(/blk_-?\d+/g) ?? [])) sides.set(b, (sides.get(b) ?? new Set()).add(i < 10000 ? 0 : 1))
    })
    const straddling = [...sides.values()].filter((s) => s.size === 2).length
    const report = inspect(p)
    expect(report.sequences).toBe(1782 + straddling)
    expect(report.split.effective.train + report.split.effective.test + report.split.effective.ignored).toBe(1782 + straddling)
    expect(report.split.requested).toMatchObject({ type: "raw", raw_first_fraction: 0.5, straddle_policy: "split_partial" })
  })
})

describe("representations", () => {
  it("are cached stages: count vectors, n-grams, parameters and elapsed times of HDFS_20000; a second kind reuses the parse", () => {
    const dir = copyConfigs()
    const p = path.join(dir, "datasets/hdfs.toml")
    const base = fs.readFileSync(p, "utf8")
    fs.writeFileSync(p, base.replace("\n[source]", 'represent = [{ kind = "count_vectors" }]\n\n[source]'))
    const cache = tmpDir()
    const first = inspect(p, cache)
    expect(first.representations).toEqual([{ kind: "count_vectors", shape: expect.objectContaining({ rows: 1782 }) }])
    const cols = first.representations[0].shape.cols
    // Independent: the templates of the training sequences are at most the mined templates.
    expect(cols).toBeGreaterThan(0)
    expect(cols).toBeLessThanOrEqual(first.templates)
    fs.writeFileSync(p, base.replace("\n[source]", 'represent = [{ kind = "count_vectors" }, { kind = "ngrams", n_min = 1, n_max = 2 }, { kind = "parameters" }, { kind = "elapsed_time" }]\n\n[source]'))
    const second = inspect(p, cache)
    expect(second.stages.run).toBe(3) // only the three new representations
    const kinds = second.representations.map((r: { kind: string }) => r.kind)
    expect(kinds).toEqual(["count_vectors", "ngrams", "parameters", "elapsed_time"])
    const elapsed = second.representations[3].shape
    expect(elapsed.events).toBe(20000)
    expect(elapsed.missing).toBe(0)
  })

  it("elapsed_time on a parser without timestamps, and parameters on a session dataset, are config errors", () => {
    const dir = copyConfigs()
    const p = path.join(dir, "datasets/bgl.toml")
    fs.writeFileSync(p, fs.readFileSync(p, "utf8")
      .replace("\n[source]", 'represent = [{ kind = "elapsed_time" }]\n\n[source]')
      .replace('[parser]\npreset = "BGL"', '[parser]\npreset = "BGL"\ntimestamp = false'))
    const r = flow(["inspect", p, "--data-root", dataRoot(), "--cache-dir", tmpDir()])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("bgl.toml: represent[0].kind: elapsed_time needs timestamps")
    const s = path.join(dir, "datasets/hdfs-100k-sessions.toml")
    fs.writeFileSync(s, fs.readFileSync(s, "utf8").replace("\n[sessions]", 'represent = [{ kind = "parameters" }]\n\n[sessions]'))
    const r2 = flow(["inspect", s, "--data-root", dataRoot(), "--cache-dir", tmpDir()])
    expect(r2.code).toBe(2)
    expect(r2.stderr).toContain("hdfs-100k-sessions.toml: represent[0].kind: parameters needs a raw-log dataset")
  })
})
