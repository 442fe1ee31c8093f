// flow results --export (issue 16): the runs and metrics tables written as CSV, JSON and Parquet
// read back equal (Parquet with hyparquet, the reader hyparquet-writer is the companion of).
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parquetReadObjects } from "hyparquet"
import { afterAll, describe, expect, it } from "vitest"
import { analyzeRuns, scanResultsTree } from "../../src/flows/ReadResults.ts"
import { curvesTable, type ExportTable, metricsTable, runsTable, writeTable } from "../../src/flows/ResultsExport.ts"
import { parseCsv } from "../../src/presets/Csv.ts"
import { config, metrics, write } from "./resultsFixture.ts"

const root = fs.mkdtempSync(path.join(os.tmpdir(), "resultsexport-"))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

const tree = path.join(root, "tree")
// Values of several kinds: numbers, strings with a comma, a quote and a newline, booleans, arrays, absent.
const smoothing: ReadonlyArray<unknown> = [1, "a, \"b\"\nc", true, [1, 2], 0.1, "x\ny"]
smoothing.forEach((s, i) => write(tree, config("bgl", "nb", 0.7, i + 1, s), `s${i}`, metrics(0.5 + i / 10, 0.6)))
write(tree, config("bgl", "nb", 0.8, 1), "failed", undefined, "fit: out of memory")
write(tree, config("bgl", "freq", 0.7, 1), "freq", metrics(0.25, 0.5), undefined, [
  { split: "train", metric: "objective", step: 0, samples: 0, value: 10.5 },
  { split: "train", metric: "objective", step: 1, samples: 80, value: 4.25 },
  { split: "validation", metric: "loss", epoch: 1, value: 0.125 }
])

const readBack = async (dir: string, name: string) => {
  const buf = fs.readFileSync(path.join(dir, `${name}.parquet`))
  return {
    csv: parseCsv(fs.readFileSync(path.join(dir, `${name}.csv`), "utf8")),
    json: JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), "utf8")) as Array<Record<string, unknown>>,
    parquet: await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) })
  }
}

const expectRoundTrip = async (dir: string, name: string, t: ExportTable) => {
  const back = await readBack(dir, name)
  const names = t.columns.map((c) => c.name)
  expect(back.json).toEqual(t.rows)
  expect(back.parquet.map((r) => Object.fromEntries(names.map((n) => [n, r[n] ?? null])))).toEqual(t.rows)
  expect(back.csv[0]).toEqual(names)
  expect(back.csv.slice(1)).toEqual(t.rows.map((r) => names.map((n) => (r[n] === null ? "" : String(r[n])))))
}

describe("results exports", () => {
  const analysis = analyzeRuns(scanResultsTree(tree), { keepSeeds: true })
  const out = path.join(root, "out")
  const written = [...writeTable(out, "runs", runsTable(analysis)), ...writeTable(out, "metrics", metricsTable(analysis)), ...writeTable(out, "curves", curvesTable(analysis))]

  it("write six files and nothing else (no temporary file left)", () => {
    expect(written.map((f) => path.basename(f))).toEqual(["runs.csv", "runs.json", "runs.parquet", "metrics.csv", "metrics.json", "metrics.parquet", "curves.csv", "curves.json", "curves.parquet"])
    expect(fs.readdirSync(out).sort()).toEqual(["curves.csv", "curves.json", "curves.parquet", "metrics.csv", "metrics.json", "metrics.parquet", "runs.csv", "runs.json", "runs.parquet"])
  })

  it("runs: one row per run read, kinds per column, every value read back equal from CSV, JSON and Parquet", async () => {
    const t = runsTable(analysis)
    expect(t.rows).toHaveLength(8)
    const kind = (n: string) => t.columns.find((c) => c.name === n)!.kind
    expect([kind("dataset.split.train_fraction"), kind("model.config.smoothing"), kind("f1"), kind("state")]).toEqual(["number", "string", "number", "string"])
    const failed = t.rows.find((r) => r.state === "failed")!
    expect([failed.reason, failed.f1]).toEqual(["fit: out of memory", null])
    expect(t.rows.map((r) => r["model.config.smoothing"])).toContain("a, \"b\"\nc")
    expect(t.rows.map((r) => r["model.config.smoothing"])).toContain("[1,2]")
    await expectRoundTrip(out, "runs", t)
  })

  it("metrics: long form, one row per complete run and metric, read back equal", async () => {
    const t = metricsTable(analysis)
    expect(t.rows).toHaveLength(7 * 4)
    expect(new Set(t.rows.map((r) => r.metric))).toEqual(new Set(["precision", "recall", "f1", "auroc"]))
    await expectRoundTrip(out, "metrics", t)
  })

  it("curves: one row per point, absent axes empty, read back equal", async () => {
    const t = curvesTable(analysis)
    expect(t.rows).toEqual([
      { run: "x.bgl.freq[f=0.7,seed=1]", fingerprint: "freq", dataset: "bgl", model: "freq", split: "train", metric: "objective", epoch: null, step: 0, samples: 0, value: 10.5 },
      { run: "x.bgl.freq[f=0.7,seed=1]", fingerprint: "freq", dataset: "bgl", model: "freq", split: "train", metric: "objective", epoch: null, step: 1, samples: 80, value: 4.25 },
      { run: "x.bgl.freq[f=0.7,seed=1]", fingerprint: "freq", dataset: "bgl", model: "freq", split: "validation", metric: "loss", epoch: 1, step: null, samples: null, value: 0.125 }
    ])
    await expectRoundTrip(out, "curves", t)
  })

  it("an empty selection exports header-only tables that read back empty", async () => {
    const none = analyzeRuns([], {})
    const dir = path.join(root, "empty")
    writeTable(dir, "metrics", metricsTable(none))
    const back = await readBack(dir, "metrics")
    expect([back.json, back.parquet, back.csv]).toEqual([[], [], [["run", "fingerprint", "dataset", "model", "metric", "value"]]])
  })
})
