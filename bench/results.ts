/**
 * Benchmark (issue 16): `flow results` over a large results tree. The sweep-demo group is run once
 * (real runs on the data root), then its 36 result folders are copied into a temp tree under new
 * run names until it holds `--runs` folders (default 1,000; synthetic: each copy is a real
 * folder's files with its run name, seed and F1 changed, and a fresh manifest). Measured, each the
 * median of `--repeat` (3): the whole `bin/flow results TREE --json` process (start-up snapshot,
 * no daemon), the same with `--verify` (every file hashed), in this process the read and the
 * analysis alone, and `flow report` over a tree of 200 such runs. Usage: npm run bench:results [-- --runs N --repeat R]; `--write` appends to
 * docs/BENCHMARKS.md.
 */
import { positiveIntArg } from "./lib/args.ts"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { analyzeRuns, scanResultsTree } from "../src/flows/ReadResults.ts"
import { writeFolder } from "../src/flows/Results.ts"

const root = path.resolve(import.meta.dirname, "..")
const dataRoot = process.env.FLOW_DATA_ROOT ?? path.resolve(root, "../shared/data")
const runs = positiveIntArg("--runs", 1000)
const repeat = positiveIntArg("--repeat", 3)
const bin = path.join(root, "bin/flow")
const median = (xs: ReadonlyArray<number>): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const work = fs.mkdtempSync(path.join(os.tmpdir(), "bench-results-"))
try {
  const real = path.join(work, "real")
  const r = spawnSync(bin, ["run", "configs/registry.toml", "--group", "sweep-demo", "--data-root", dataRoot, "--cache-dir", path.join(work, "cache"), "--results-dir", real], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, FLOW_NO_DAEMON: "1" }
  })
  if (r.status !== 0) throw new Error(`flow run sweep-demo failed: ${r.stderr}`)
  const sources = scanResultsTree(real).filter((x) => x.state === "complete")
  const tree = path.join(work, "tree")
  const reportTree = path.join(work, "tree-200")
  const synthesize = (dir: string, count: number) => {
  for (let i = 0; i < count; i++) {
    const src = sources[i % sources.length]!
    const copy = Math.floor(i / sources.length)
    const run = `${src.run}.synthetic-${copy}`
    const fingerprint = (copy.toString(16) + src.fingerprint!).slice(0, 16)
    writeFolder(path.join(dir, run, fingerprint), { kind: "results", run, fingerprint }, (tmp) => {
      for (const f of fs.readdirSync(src.dir)) {
        if (f === "manifest.json") continue
        let text = fs.readFileSync(path.join(src.dir, f), "utf8")
        if (f === "run_config.json") {
          const c = JSON.parse(text)
          c.run = run
          c.run_settings.seed = 1000 + i
          text = JSON.stringify(c, null, 2)
        } else if (f === "metrics.json") {
          const m = JSON.parse(text)
          if (typeof m.headline?.f1 === "number") m.headline.f1 = Math.min(1, m.headline.f1 + ((i * 7919) % 100) / 1000)
          text = JSON.stringify(m, null, 2)
        }
        fs.writeFileSync(path.join(tmp, f), text)
      }
    })
  }
  }
  synthesize(tree, runs)
  synthesize(reportTree, 200)
  const whole = (extra: ReadonlyArray<string>): number => {
    const times: Array<number> = []
    for (let k = 0; k < repeat; k++) {
      const t0 = performance.now()
      const x = spawnSync(bin, ["results", tree, "--json", ...extra], { cwd: root, encoding: "utf8", maxBuffer: 1 << 28, env: { ...process.env, FLOW_NO_DAEMON: "1" } })
      times.push((performance.now() - t0) / 1000)
      if (x.status !== 0) throw new Error(`flow results failed: ${x.stderr}`)
      const out = JSON.parse(x.stdout) as { counts: { complete: number } }
      if (out.counts.complete !== runs) throw new Error(`flow results read ${out.counts.complete} complete runs of ${runs}`)
    }
    return median(times)
  }
  const wholeS = whole([])
  const verifyS = whole(["--verify"])
  const readTimes: Array<number> = []
  const analyzeTimes: Array<number> = []
  let groups = 0
  for (let k = 0; k < repeat; k++) {
    const t0 = performance.now()
    const read = scanResultsTree(tree)
    const t1 = performance.now()
    groups = analyzeRuns(read).groups.length
    readTimes.push((t1 - t0) / 1000)
    analyzeTimes.push((performance.now() - t1) / 1000)
  }
  const reportTimes: Array<number> = []
  let reportKiB = 0
  for (let k = 0; k < repeat; k++) {
    const html = path.join(work, "report.html")
    const t0 = performance.now()
    const x = spawnSync(bin, ["report", reportTree, "--out", html], { cwd: root, encoding: "utf8", env: { ...process.env, FLOW_NO_DAEMON: "1" } })
    reportTimes.push((performance.now() - t0) / 1000)
    if (x.status !== 0) throw new Error(`flow report failed: ${x.stderr}`)
    reportKiB = fs.statSync(html).size / 1024
  }
  const machine = `${os.cpus()[0]?.model ?? "cpu"}, ${os.availableParallelism()} cores, Node ${process.version}`
  const section = [
    `### bench:results (${new Date().toISOString().slice(0, 10)})`,
    "",
    `Command: \`npm run bench:results${process.argv.slice(2).filter((a) => a !== "--write").length === 0 ? "" : ` -- ${process.argv.slice(2).filter((a) => a !== "--write").join(" ")}`}\`; machine: ${machine}.`,
    `A results tree of ${runs.toLocaleString("en-US")} run folders (synthetic: the sweep-demo group's 36 real folders copied under new`,
    `run names, seeds and F1s, each with a fresh manifest); ${groups} settings. Median of ${repeat}. Target: under 2 s.`,
    "",
    "| measure | seconds |",
    "| --- | ---: |",
    `| \`flow results TREE --json\`, whole process | ${wholeS.toFixed(2)} |`,
    `| the same with \`--verify\` (every file hashed) | ${verifyS.toFixed(2)} |`,
    `| in process: read every folder (manifest sizes, config, metrics) | ${median(readTimes).toFixed(3)} |`,
    `| in process: varying keys, groups, statistics, leaderboard, coverage | ${median(analyzeTimes).toFixed(3)} |`,
    `| \`flow report TREE --out report.html\` over 200 of those runs, whole process (${reportKiB.toFixed(0)} KiB page; target under 5 s) | ${median(reportTimes).toFixed(2)} |`,
    ""
  ].join("\n")
  console.log(section)
  if (process.argv.includes("--write")) fs.appendFileSync(path.join(root, "docs/BENCHMARKS.md"), `\n${section}`)
} finally {
  fs.rmSync(work, { recursive: true, force: true })
}
