/**
 * Benchmark: the baselines sweep cold (empty cache, no daemon running: what a first run from a
 * fresh clone does) versus warm (everything cached), as wall time of the whole `bin/flow run`
 * command and as the engine's own flow time. The warm run three ways: through the daemon that
 * the cold run started (the default), in its own process from the start-up snapshot
 * (`FLOW_NO_DAEMON=1`), and from source (`FLOW_NO_SNAPSHOT=1`, the baseline); and the start-up
 * floor (`flow --version`) each way. All in the same run. Appends a table to docs/BENCHMARKS.md.
 * Usage: npm run bench:rerun [-- --repeat N]
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const dataRoot = process.env.FLOW_DATA_ROOT ?? path.resolve(root, "../shared/data")
const repeat = Number(process.argv[process.argv.indexOf("--repeat") + 1] ?? 3) || 3
const bin = path.join(root, "bin/flow")

const time = (args: ReadonlyArray<string>, env: Record<string, string> = {}): { wallMs: number; flowS: number | undefined; stdout: string } => {
  const t0 = performance.now()
  const r = spawnSync(bin, args, { cwd: root, encoding: "utf8", env: { ...process.env, ...env } })
  const wallMs = performance.now() - t0
  if (r.status !== 0) throw new Error(`flow ${args.join(" ")} failed (${r.status}): ${r.stderr}`)
  const m = /; ([\d.]+) s\s*$/.exec(r.stdout.trim())
  return { wallMs, flowS: m === null ? undefined : Number(m[1]), stdout: r.stdout }
}
const median = (xs: ReadonlyArray<number>): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

type Measure = { wallMs: number; flowS: number }
const cold: Array<Measure> = []
const coldOwn: Array<Measure> = []
const modes = {
  daemon: { env: {}, label: "through the daemon (default)" },
  process: { env: { FLOW_NO_DAEMON: "1" }, label: "own process, snapshot (`FLOW_NO_DAEMON=1`)" },
  source: { env: { FLOW_NO_DAEMON: "1", FLOW_NO_SNAPSHOT: "1" }, label: "own process, from source (`FLOW_NO_SNAPSHOT=1`)" }
} as const
type Mode = keyof typeof modes
const warm: Record<Mode, Array<Measure>> = { daemon: [], process: [], source: [] }
const startup: Record<Mode, Array<number>> = { daemon: [], process: [], source: [] }
// After one edited hyperparameter (naive Bayes smoothing): 6 of the 27 stages run again.
const edited: Record<"daemon" | "process", Array<Measure>> = { daemon: [], process: [] }
let smoothing = 1
// The snapshot of the code being measured (a stale one would send every measure to the sources).
const built = spawnSync(process.execPath, [path.join(root, "scripts/build.ts")], { cwd: root, encoding: "utf8" })
if (built.status !== 0) throw new Error(`npm run build failed: ${built.stderr}`)
for (const m of Object.values(modes)) time(["--version"], { ...m.env, FLOW_DAEMON_DIR: fs.mkdtempSync(path.join(os.tmpdir(), "bench-daemon-")) }) // fill compile caches
for (let i = 0; i < repeat; i++) {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), "bench-cache-"))
  const results = fs.mkdtempSync(path.join(os.tmpdir(), "bench-results-"))
  // A daemon folder of this repetition's own: the cold run finds no daemon and starts one.
  const daemonDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-daemon-"))
  fs.chmodSync(daemonDir, 0o700)
  const env = (m: Mode) => ({ ...modes[m].env, FLOW_DAEMON_DIR: daemonDir })
  const dirs = ["--group", "baselines", "--data-root", dataRoot, "--cache-dir", cache, "--results-dir", results]
  const args = ["run", "configs/registry.toml", ...dirs]
  // The edits below go to a copy of the configs (same cache keys), not to the repository's.
  const configs = fs.mkdtempSync(path.join(os.tmpdir(), "bench-configs-"))
  fs.cpSync(path.join(root, "configs"), configs, { recursive: true })
  const editArgs = ["run", path.join(configs, "registry.toml"), ...dirs]
  const c = time(args, env("daemon"))
  cold.push({ wallMs: c.wallMs, flowS: c.flowS ?? NaN })
  for (const m of Object.keys(modes) as Array<Mode>) {
    const w = time(args, env(m))
    if (!/27 cached, 0 run/.test(w.stdout)) throw new Error(`warm run (${m}) executed stages:\n${w.stdout}`)
    warm[m].push({ wallMs: w.wallMs, flowS: w.flowS ?? NaN })
    startup[m].push(time(["--version"], env(m)).wallMs)
  }
  for (const m of ["daemon", "process"] as const) {
    const model = path.join(configs, "models", "naive_bayes.toml")
    fs.writeFileSync(model, fs.readFileSync(model, "utf8").replace(/^smoothing = .*$/m, `smoothing = ${++smoothing}.0`))
    const e = time(editArgs, env(m))
    if (!/21 cached, 6 run/.test(e.stdout)) throw new Error(`edited run (${m}) did not rerun exactly 6 stages:\n${e.stdout}`)
    edited[m].push({ wallMs: e.wallMs, flowS: e.flowS ?? NaN })
  }
  time(["daemon", "stop"], env("daemon"))
  // The cold run in its own process (snapshot, no daemon), on another empty cache: what the daemon adds to a first run.
  const [cache2, results2] = [fs.mkdtempSync(path.join(os.tmpdir(), "bench-cache-")), fs.mkdtempSync(path.join(os.tmpdir(), "bench-results-"))]
  const c2 = time(["run", "configs/registry.toml", "--group", "baselines", "--data-root", dataRoot, "--cache-dir", cache2, "--results-dir", results2], env("process"))
  coldOwn.push({ wallMs: c2.wallMs, flowS: c2.flowS ?? NaN })
  for (const d of [cache, results, daemonDir, cache2, results2, configs]) fs.rmSync(d, { recursive: true, force: true })
}

const cw = median(cold.map((x) => x.wallMs))
const cf = median(cold.map((x) => x.flowS)) * 1000
const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(1)}%`
const machine = `${os.cpus()[0]?.model ?? "cpu"}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`
const rows = (Object.keys(modes) as Array<Mode>).map((m) => {
  const ww = median(warm[m].map((x) => x.wallMs))
  const wf = median(warm[m].map((x) => x.flowS)) * 1000
  return `| ${modes[m].label} | ${ww.toFixed(0)} ms | ${pct(ww, cw)} | ${wf.toFixed(0)} ms | ${pct(wf, cf)} | ${median(startup[m]).toFixed(0)} ms |`
})
const table = [
  `### bench:rerun (${new Date().toISOString().slice(0, 10)})`,
  "",
  `Command: \`npm run bench:rerun -- --repeat ${repeat}\` (medians of ${repeat}); machine: ${machine}.`,
  "Each repetition: `bin/flow run configs/registry.toml --group baselines` on an empty cache with no",
  "daemon running (cold: it starts the daemon and runs in it), then the same command again (warm: all",
  "27 stages cache hits) three ways, each followed by `flow --version` the same way (the start-up floor).",
  `Cold: ${cw.toFixed(0)} ms wall, ${cf.toFixed(0)} ms engine flow time (the same cold run in its own process, no daemon: ` +
    `${median(coldOwn.map((x) => x.wallMs)).toFixed(0)} ms wall, ${(median(coldOwn.map((x) => x.flowS)) * 1000).toFixed(0)} ms engine).`,
  "",
  "| warm run | wall | wall / cold wall | engine | engine / cold engine | \`flow --version\` |",
  "| --- | ---: | ---: | ---: | ---: | ---: |",
  ...rows,
  "",
  "After editing one hyperparameter (naive Bayes `smoothing`; 6 of the 27 stages run again, in worker threads):",
  "",
  "| rerun | wall | engine |",
  "| --- | ---: | ---: |",
  ...(["daemon", "process"] as const).map((m) =>
    `| ${modes[m].label} | ${median(edited[m].map((x) => x.wallMs)).toFixed(0)} ms | ${(median(edited[m].map((x) => x.flowS)) * 1000).toFixed(0)} ms |`
  ),
  ""
].join("\n")
console.log(table)
const doc = path.join(root, "docs/BENCHMARKS.md")
if (process.argv.includes("--write")) fs.appendFileSync(doc, `\n${table}`)
