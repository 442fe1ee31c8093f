// End to end: the real CLI on real data. Baselines from scratch, a rerun that is all cache hits,
// `cache ls`, and the kill -9 resume test.
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { Leases } from "../../src/cache/Leases.ts"
import * as LmdbCache from "../../src/cache/LmdbCache.ts"
import { dataRoot, expectSameResults, flow, flowAsync, flowKilledAt, resultFolders, stageLines, tmpDir } from "./helpers.ts"

const ARTIFACTS = ["dataset_manifest.json", "environment.json", "manifest.json", "metrics.json", "predictions.jsonl", "run.log", "run_config.json"]
const RUNS = ["bgl-freq.template_frequency", "bgl-nb.naive_bayes", "hdfs-freq.template_frequency", "hdfs-nb.naive_bayes"]

const baseline = (cache: string, results: string, extra: ReadonlyArray<string> = []) => [
  "run", "configs/registry.toml", "--group", "baselines",
  "--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", results, ...extra
]

describe("flow run --group baselines", () => {
  const cache = tmpDir()
  const results = tmpDir()
  let first: ReturnType<typeof flow>

  beforeAll(() => {
    first = flow(baseline(cache, results))
  })

  it("runs every stage once and writes the six artifacts for each of the 4 runs", () => {
    expect(first.stderr).toBe("")
    expect(first.code).toBe(0)
    expect(stageLines(first.stdout, "cached")).toEqual([])
    const folders = resultFolders(results)
    expect([...folders.keys()].sort()).toEqual(RUNS)
    for (const [run, dir] of folders) {
      expect(fs.readdirSync(dir).sort(), run).toEqual(ARTIFACTS)
      const metrics = JSON.parse(fs.readFileSync(path.join(dir, "metrics.json"), "utf8"))
      expect(metrics.headline.status).toBe("valid")
      for (const k of ["precision", "recall", "f1", "accuracy", "tp", "fp", "tn", "fn"]) {
        expect(Number.isFinite(metrics.headline[k]), `${run} ${k}`).toBe(true)
      }
    }
  })

  it("shares preprocessing: each dataset is parsed and mined once", () => {
    const done = stageLines(first.stdout, "done")
    expect(done.filter((l) => l.startsWith("parse "))).toEqual(expect.arrayContaining(["parse hdfs", "parse bgl"]))
    expect(done.filter((l) => l.startsWith("parse ")).length).toBe(2)
    expect(done.filter((l) => l.startsWith("mine ")).length).toBe(2)
    expect(done.filter((l) => l.startsWith("fit ")).length).toBe(4)
  })

  it("reports BGL in the window scope with a diagnostic per-line (event) scope", () => {
    const dir = resultFolders(results).get("bgl-nb.naive_bayes")!
    const m = JSON.parse(fs.readFileSync(path.join(dir, "metrics.json"), "utf8"))
    expect(m.headline.scope).toBe("window")
    expect(m.scopes.event.status).toBe("diagnostic_only")
    // 20 test windows of 20 lines: 400 lines evaluated; their labels are the raw file's last 400 lines.
    expect(m.scopes.event.evaluated).toBe(400)
    const lines = fs.readFileSync(path.join(dataRoot(), "loghub-2k/BGL/BGL_2k.log"), "utf8").split("\n").filter((l) => l.trim() !== "")
    const alerts = lines.slice(1600).filter((l) => !l.startsWith("- ")).length
    expect(m.scopes.event.tp + m.scopes.event.fn).toBe(alerts)
  })

  it("records consistent counts and traceable identity", () => {
    const dir = resultFolders(results).get("hdfs-nb.naive_bayes")!
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "dataset_manifest.json"), "utf8"))
    expect(manifest.parser.raw_lines).toBe(20000)
    expect(manifest.parser.unparsed_lines).toBe(0)
    expect(manifest.labels.sequences).toBe(1782)
    expect(manifest.labels.histogram).toEqual({ normal: 1739, anomaly: 43, unknown: 0 })
    expect(manifest.sources[0].sha256).toBe("919cc80dae56750bf00ecba5aa1ab58ef42fef1f18ecf0313a9a25aa069a7851")
    const metrics = JSON.parse(fs.readFileSync(path.join(dir, "metrics.json"), "utf8"))
    const predictions = fs.readFileSync(path.join(dir, "predictions.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l))
    // The headline counts are exactly what the predictions file says.
    const tp = predictions.filter((p) => p.label === "anomaly" && p.prediction === 1).length
    const fn = predictions.filter((p) => p.label === "anomaly" && p.prediction === 0).length
    const tn = predictions.filter((p) => p.label === "normal" && p.prediction === 0).length
    const fp = predictions.filter((p) => p.label === "normal" && p.prediction === 1).length
    expect({ tp, fn, tn, fp }).toEqual({ tp: metrics.headline.tp, fn: metrics.headline.fn, tn: metrics.headline.tn, fp: metrics.headline.fp })
    expect(predictions.length).toBe(manifest.split.summary.test.count)
    expect(new Set(predictions.map((p) => p.split))).toEqual(new Set(["test"]))
    // The folder name is the fingerprint of run_config.json.
    expect(path.basename(dir)).toBe(metrics.fingerprint)
    const env = JSON.parse(fs.readFileSync(path.join(dir, "environment.json"), "utf8"))
    expect(env.node).toMatch(/^v24\./)
    expect(env.packages.effect).toMatch(/^4\./)
  })

  it("runs no stage the second time: every stage is a cache hit", () => {
    const second = flow(baseline(cache, results))
    expect(second.code).toBe(0)
    expect(stageLines(second.stdout, "done")).toEqual([])
    expect(stageLines(second.stdout, "cached").length).toBe(stageLines(first.stdout, "done").length)
    expect(second.stdout).toMatch(/0 run, 0 failed/)
  })

  it("cache ls lists every entry with its stage; --json gives the same entries", () => {
    const ls = flow(["cache", "ls", "--cache-dir", cache])
    expect(ls.code).toBe(0)
    const lines = ls.stdout.trim().split("\n")
    expect(lines[0]).toMatch(/^KEY\s+STAGE\s+PARAMS\s+SIZE\s+CREATED\s+LAST USED\s+HITS$/)
    const json = flow(["cache", "ls", "--cache-dir", cache, "--json"])
    const entries = JSON.parse(json.stdout) as Array<{ key: string; stage: string; hits: number }>
    expect(entries.length).toBe(stageLines(first.stdout, "done").length)
    expect(lines.length).toBe(entries.length + 2)
    for (const e of entries) expect(ls.stdout).toContain(e.key.slice(0, 12))
    expect(entries.every((e) => e.hits >= 1)).toBe(true)
    const onlyParse = JSON.parse(flow(["cache", "ls", "--cache-dir", cache, "--json", "--stage", "parse"]).stdout) as Array<{ stage: string }>
    expect(onlyParse.map((e) => e.stage)).toEqual(["parse", "parse"])
  })

  it("cache gc removes what its policy picks but never an entry a live flow holds (run last: it empties the cache)", async () => {
    const entries = JSON.parse(flow(["cache", "ls", "--cache-dir", cache, "--json"]).stdout) as Array<{ key: string; stage: string }>
    const dry = flow(["cache", "gc", "--max-size", "0", "--dry-run", "--cache-dir", cache])
    expect(dry.code).toBe(0)
    expect(dry.stdout).toContain(`would remove ${entries.length} entries`)
    // A live flow (this process) holds the parse entries: gc keeps them.
    const held = entries.filter((e) => e.stage === "parse").map((e) => e.key)
    await Effect.runPromise(Effect.flatMap(Leases, (l) =>
      l.hold({ holder: "test", pid: process.pid, host: os.hostname(), startedAt: Date.now(), heartbeatAt: Date.now(), keys: held })
    ).pipe(Effect.provide(LmdbCache.layer(cache))))
    const gc = flow(["cache", "gc", "--max-size", "0", "--cache-dir", cache])
    expect(gc.code).toBe(0)
    expect(gc.stdout).toContain(`removed ${entries.length - held.length} entries`)
    expect(gc.stdout).toContain(`${held.length} entries held by running flows were kept`)
    const left = JSON.parse(flow(["cache", "ls", "--cache-dir", cache, "--json"]).stdout) as Array<{ key: string }>
    expect(left.map((e) => e.key).sort()).toEqual([...held].sort())
    expect(flow(["cache", "gc", "--cache-dir", cache]).code).toBe(2) // no policy given
  })
})

describe("kill -9 mid-sweep, then rerun", () => {
  it("reuses every stage finished before the kill and ends with identical metrics", async () => {
    // Reference: an uninterrupted sweep in its own cache.
    const refResults = tmpDir()
    const ref = flow(baseline(tmpDir(), refResults))
    expect(ref.code).toBe(0)

    const cache = tmpDir()
    const results = tmpDir()
    // One stage at a time, killed right after the first parse finishes: mid-sweep by construction.
    const killedOut = await flowKilledAt(baseline(cache, results, ["--max-workers", "1"]), /^done\s+parse /)
    const finishedBeforeKill = stageLines(killedOut, "done")
    expect(finishedBeforeKill.length).toBeGreaterThanOrEqual(2) // the source and the parse at least

    const rerun = flow(baseline(cache, results))
    expect(rerun.code).toBe(0)
    const cached = stageLines(rerun.stdout, "cached")
    const ran = stageLines(rerun.stdout, "done")
    // Everything finished before the kill is a hit now; the rest runs; nothing runs twice.
    for (const s of finishedBeforeKill) expect(cached).toContain(s)
    expect(ran.length).toBeGreaterThan(0)
    expect(cached.length + ran.length).toBe(stageLines(ref.stdout, "done").length)

    const a = resultFolders(refResults)
    const b = resultFolders(results)
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort())
    for (const [run, dir] of a) {
      const read = (d: string) => fs.readFileSync(path.join(d, "metrics.json"), "utf8")
      expect(read(b.get(run)!), run).toBe(read(dir))
      expect(path.basename(b.get(run)!)).toBe(path.basename(dir))
    }
  })
})

describe("two flows on one cache at once", () => {
  it("compute each stage once: the second waits for the first's claim and takes its entry", async () => {
    const cache = tmpDir()
    const [r1, r2] = [tmpDir(), tmpDir()]
    const args = (results: string) => [
      "run", "configs/registry.toml", "--group", "baselines", "--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", results, "--max-workers", "1"
    ]
    const [a, b] = await Promise.all([flowAsync(args(r1)), flowAsync(args(r2))])
    expect(a.code, a.stderr).toBe(0)
    expect(b.code, b.stderr).toBe(0)
    const doneKeys = (out: string) => out.split("\n").filter((l) => l.startsWith("done ")).map((l) => /\[([0-9a-f]+)\]/.exec(l)![1]!)
    const [da, db] = [doneKeys(a.stdout), doneKeys(b.stdout)]
    // Without claims both would compute nearly every stage (27 each); with them, 27 in all.
    expect(da.length + db.length).toBe(27)
    expect(new Set([...da, ...db]).size).toBe(27)
    expectSameResults(r1, r2)
  }, 240_000)
})
