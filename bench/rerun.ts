/**
 * Benchmark: the baselines sweep cold (empty cache) versus warm (everything cached), as wall
 * time of the whole `bin/flow run` process and as the engine's own flow time; the warm run also
 * from source (no start-up snapshot) as the baseline, and the process start-up floor
 * (`flow --version`) both ways, all in the same run. Appends a table to docs/BENCHMARKS.md.
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

const cold: Array<{ wallMs: number; flowS: number }> = []
const warm: Array<{ wallMs: number; flowS: number }> = []
const warmSource: Array<{ wallMs: number; flowS: number }> = []
const startup: Array<number> = []
const startupSource: Array<number> = []
const SOURCE = { FLOW_NO_SNAPSHOT: "1" }
time(["--version"]) // fill the compile caches once
time(["--version"], SOURCE)
if (!fs.existsSync(path.join(root, ".build/flow.blob"))) console.warn("no start-up snapshot in .build/ (npm run build): every measure runs from source")
for (let i = 0; i < repeat; i++) {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), "bench-cache-"))
  const results = fs.mkdtempSync(path.join(os.tmpdir(), "bench-results-"))
  const args = ["run", "configs/registry.toml", "--group", "baselines", "--data-root", dataRoot, "--cache-dir", cache, "--results-dir", results]
  const c = time(args)
  const w = time(args)
  const ws = time(args, SOURCE)
  for (const x of [w, ws]) if (!/27 cached, 0 run/.test(x.stdout)) throw new Error(`warm run executed stages:\n${x.stdout}`)
  cold.push({ wallMs: c.wallMs, flowS: c.flowS ?? NaN })
  warm.push({ wallMs: w.wallMs, flowS: w.flowS ?? NaN })
  warmSource.push({ wallMs: ws.wallMs, flowS: ws.flowS ?? NaN })
  startup.push(time(["--version"]).wallMs)
  startupSource.push(time(["--version"], SOURCE).wallMs)
  fs.rmSync(cache, { recursive: true, force: true })
  fs.rmSync(results, { recursive: true, force: true })
}

const cw = median(cold.map((x) => x.wallMs))
const ww = median(warm.map((x) => x.wallMs))
const cf = median(cold.map((x) => x.flowS)) * 1000
const wf = median(warm.map((x) => x.flowS)) * 1000
const su = median(startup)
const wsw = median(warmSource.map((x) => x.wallMs))
const wsf = median(warmSource.map((x) => x.flowS)) * 1000
const sus = median(startupSource)
const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(1)}%`
const machine = `${os.cpus()[0]?.model ?? "cpu"}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`
const table = [
  `### bench:rerun (${new Date().toISOString().slice(0, 10)})`,
  "",
  `Command: \`npm run bench:rerun -- --repeat ${repeat}\` (medians of ${repeat}); machine: ${machine}.`,
  "Each repetition: `bin/flow run configs/registry.toml --group baselines` on an empty cache (cold), the",
  "same command again (warm: all 27 stages cache hits), the same warm run started from source",
  "(`FLOW_NO_SNAPSHOT=1`, the baseline), and `flow --version` both ways (the process start-up floor).",
  "",
  "| measure | cold | warm | warm / cold | warm from source | from source / cold |",
  "| --- | ---: | ---: | ---: | ---: | ---: |",
  `| process wall time | ${cw.toFixed(0)} ms | ${ww.toFixed(0)} ms | ${pct(ww, cw)} | ${wsw.toFixed(0)} ms | ${pct(wsw, cw)} |`,
  `| engine flow time (plan walk, stages, results) | ${cf.toFixed(0)} ms | ${wf.toFixed(0)} ms | ${pct(wf, cf)} | ${wsf.toFixed(0)} ms | ${pct(wsf, cf)} |`,
  `| start-up floor (\`flow --version\`) | | ${su.toFixed(0)} ms | | ${sus.toFixed(0)} ms | |`,
  ""
].join("\n")
console.log(table)
const doc = path.join(root, "docs/BENCHMARKS.md")
if (process.argv.includes("--write")) fs.appendFileSync(doc, `\n${table}`)
