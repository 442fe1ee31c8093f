/**
 * Benchmark (issue 17): lines per second through `flow detect` on one core, for the EWM window
 * baseline, template frequency and DeepLog (ONNX), on HDFS-shaped logs of `--lines` (default
 * 1,000,000) and twice as many lines, with the process's peak RSS (memory must not grow with the
 * input). The logs are synthetic, built from the real HDFS_20000 lines of the data root: copy k
 * of the 20,000 lines renames every block (`blk_<id>` → `blk_<id>0<k>`) and moves the times k×200 s
 * later, so blocks live as long as in the real log and copies follow one another. Bundles come
 * from `flow run` on the real HDFS_20000 (entity grouping for template frequency and DeepLog,
 * windows of 50 lines with stride 25 for the EWM baseline), then `flow bundle`. Each measurement
 * is a fresh `bin/flow detect` process (the start-up snapshot, built first; FLOW_NO_DAEMON=1); the baseline in the same run
 * is `flow parse` (parse + mine with the HDFS preset) of the same file, one thread.
 * Usage: npm run bench:detect-stream [-- --lines N]; `--write` appends the table to docs/BENCHMARKS.md.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { positiveIntArg } from "./lib/args.ts"

const root = path.resolve(import.meta.dirname, "..")
const dataRoot = process.env.FLOW_DATA_ROOT ?? path.resolve(root, "../shared/data")
const lines = positiveIntArg("--lines", 1_000_000)
/** `--keep DIR`: work there and leave the logs and bundles (for profiling); default a temporary folder, removed. */
const keep = process.argv.includes("--keep") ? path.resolve(process.argv[process.argv.indexOf("--keep") + 1]!) : undefined
if (keep !== undefined) fs.mkdirSync(keep, { recursive: true })
const work = keep ?? fs.mkdtempSync(path.join(os.tmpdir(), "logflow-bench-detect-"))
/** Measured as users run it: the launcher (start-up snapshot), without the resident daemon. */
const launcher = path.join(root, "bin/flow")
const env = { ...process.env, FLOW_NO_DAEMON: "1" }

const flow = (args: ReadonlyArray<string>, heapCapMiB?: number) => {
  const t0 = performance.now()
  const r = spawnSync(launcher, [...args], {
    cwd: root,
    env: heapCapMiB === undefined ? env : { ...env, NODE_OPTIONS: `--max-old-space-size=${heapCapMiB}` },
    encoding: "utf8",
    maxBuffer: 1 << 26
  })
  const seconds = (performance.now() - t0) / 1000
  if (r.status !== 0) throw new Error(`flow ${args.join(" ")} exited ${r.status}:\n${r.stderr}`)
  return { stdout: r.stdout, seconds }
}

/** `yymmdd hhmmss` plus `seconds`. */
const shift = (date: string, time: string, seconds: number): [string, string] => {
  const d = new Date(Date.UTC(2000 + Number(date.slice(0, 2)), Number(date.slice(2, 4)) - 1, Number(date.slice(4, 6)), Number(time.slice(0, 2)), Number(time.slice(2, 4)), Number(time.slice(4, 6))) + seconds * 1000)
  const p = (n: number) => String(n).padStart(2, "0")
  return [`${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}`, `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`]
}

/** An HDFS-shaped log of `n` lines (synthetic, from the real HDFS_20000 lines). */
const hdfsShaped = (n: number): string => {
  const file = path.join(work, `hdfs-${n}.log`)
  const source = fs.readFileSync(path.join(dataRoot, "hdfs/raw/HDFS_20000.log"), "utf8").split("\n").filter((l) => l !== "")
  const fd = fs.openSync(file, "w")
  let written = 0
  for (let k = 0; written < n; k++) {
    const out: Array<string> = []
    for (const line of source) {
      if (written + out.length >= n) break
      const [date, time, rest] = [line.slice(0, 6), line.slice(7, 13), line.slice(13)]
      const [d, t] = shift(date, time, k * 200)
      out.push(`${d} ${t}${k === 0 ? rest : rest.replace(/blk_(-?\d+)/g, `blk_$10${k}`)}`)
    }
    fs.writeSync(fd, out.join("\n") + "\n")
    written += out.length
  }
  fs.closeSync(fd)
  return file
}

/** Bundles of the three detectors, trained on the real HDFS_20000. */
const bundles = (): Array<{ readonly name: string; readonly dir: string }> => {
  const configs = path.join(work, "configs")
  fs.mkdirSync(path.join(configs, "datasets"), { recursive: true })
  fs.mkdirSync(path.join(configs, "models"), { recursive: true })
  const hdfs = fs.readFileSync(path.join(root, "configs/datasets/hdfs.toml"), "utf8")
  fs.writeFileSync(path.join(configs, "datasets/hdfs.toml"), hdfs)
  fs.writeFileSync(
    path.join(configs, "datasets/hdfs-windows.toml"),
    hdfs.replace(/\[grouping\][\s\S]*?(?=\n\[)/, `[grouping]\ntype = "fixed_window"\nwindow_size = 50\nstep = 25\n`).replace(/\[labels\][\s\S]*?(?=\n\[)/, `[labels]\ntype = "none"\n`)
  )
  for (const m of ["template_frequency", "ewm_window", "deeplog"]) fs.copyFileSync(path.join(root, "configs/models", `${m}.toml`), path.join(configs, "models", `${m}.toml`))
  fs.writeFileSync(path.join(configs, "registry.toml"), `
[experiments.freq]
dataset = "hdfs"
models = ["template_frequency"]
overrides = { "dataset.split.train_on_normal_entities_only" = true }

[experiments.ewm]
dataset = "hdfs-windows"
models = ["ewm_window"]

[experiments.dl]
dataset = "hdfs"
models = ["deeplog"]
overrides = { "model.epochs" = 2, "dataset.split.train_on_normal_entities_only" = true }
`)
  const cache = path.join(work, "cache")
  const results = path.join(work, "results")
  flow(["run", path.join(configs, "registry.toml"), "--data-root", dataRoot, "--cache-dir", cache, "--results-dir", results])
  return [["EWM window", "ewm.ewm_window"], ["template frequency", "freq.template_frequency"], ["DeepLog (ONNX)", "dl.deeplog"]].map(([name, run]) => {
    const runDir = path.join(results, run!, fs.readdirSync(path.join(results, run!))[0]!)
    const dir = path.join(work, `bundle-${run}`)
    flow(["bundle", runDir, "--out", dir, "--cache-dir", cache])
    return { name: name!, dir }
  })
}

/** The last row of each detector runs the larger log with V8's old space capped: it completes only if what detect keeps does not grow with the input. */
const HEAP_CAP_MIB = 64
const rows: Array<string> = []
// The launcher uses the snapshot only when it is fresh: build it.
if (spawnSync("npm", ["run", "build"], { cwd: root, stdio: "ignore" }).status !== 0) throw new Error("npm run build failed")
try {
  const made = bundles()
  if (process.argv.includes("--bundles-only")) process.exit(0)
  const files: Array<{ n: number; file: string; cap?: number }> = [lines, 2 * lines].map((n) => ({ n, file: hdfsShaped(n) }))
  const parseRate = new Map<number, number>()
  for (const { n, file } of files) {
    const p = flow(["parse", file, "--preset", "HDFS", "--threads", "1", "--json"])
    parseRate.set(n, n / p.seconds)
  }
  for (const b of made) {
    for (const { n, file, cap } of [...files, { ...files[1]!, cap: HEAP_CAP_MIB }]) {
      const out = path.join(work, "out")
      const r = flow(["detect", b.dir, file, "--out", out, "--json"], cap)
      const s = JSON.parse(r.stdout) as { lines: number; seconds: number; sequences: number; alerts: number; peak_rss_mib: number | null; novel_lines: number }
      if (s.lines !== n) throw new Error(`${b.name}: detect read ${s.lines} lines of ${n}`)
      const rate = n / r.seconds
      const row = `| ${b.name}${cap === undefined ? "" : ` (heap capped at ${cap} MiB)`} | ${n.toLocaleString("en")} | ${r.seconds.toFixed(2)} | ${Math.round(rate).toLocaleString("en")} | ${Math.round(n / s.seconds).toLocaleString("en")} | ${s.sequences.toLocaleString("en")} | ${s.alerts.toLocaleString("en")} | ${s.peak_rss_mib ?? "-"} | ${Math.round(parseRate.get(n)!).toLocaleString("en")} | ${(rate / parseRate.get(n)!).toFixed(2)} |`
      console.log(row)
      rows.push(row)
      fs.rmSync(out, { recursive: true, force: true })
    }
  }
} finally {
  if (keep === undefined) fs.rmSync(work, { recursive: true, force: true })
}

const section = `## flow detect, streaming (issue 17): \`npm run bench:detect-stream\`

${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? "cpu"} (${os.cpus().length} cores), Node ${process.version}. HDFS-shaped synthetic logs
built from the real HDFS_20000 lines (blocks renamed per copy, times moved 200 s per copy); bundles trained on the real
HDFS_20000 (template frequency and DeepLog by block, EWM on windows of 50 lines, stride 25; DeepLog 2×LSTM(64), history
10, 2 epochs). One \`bin/flow detect\` process per row (start-up snapshot, no daemon), one core, default policy. *lines/s*: the whole process (start,
bundle load, read, parse, match, group, score, alert, report); *inside*: detect's own clock. Baseline in the same
run: \`bin/flow parse --preset HDFS --threads 1\` (parse + mine) of the same file, whole process. Peak RSS is V8's
heap sizing as much as what detect keeps: the row *heap capped at ${HEAP_CAP_MIB} MiB* runs the larger log with
\`--max-old-space-size=${HEAP_CAP_MIB}\`, which completes only if detect's own state does not grow with the input.

| detector | lines | seconds | lines/s | lines/s inside | sequences | alerts | peak RSS MiB | flow parse lines/s | detect / parse |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join("\n")}
`
console.log(section)
if (process.argv.includes("--write")) fs.appendFileSync(path.join(root, "docs/BENCHMARKS.md"), `\n${section}`)
