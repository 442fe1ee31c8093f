/**
 * Benchmark: the baselines sweep cold (empty cache) versus warm (everything cached), as wall
 * time of the whole `flow run` process and as the engine's own flow time, plus the process
 * start-up floor (`flow --version`) measured in the same run. Appends a table to
 * docs/BENCHMARKS.md. Usage: npm run bench:rerun [-- --repeat N]
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const dataRoot = process.env.FLOW_DATA_ROOT ?? path.resolve(root, "../shared/data")
const repeat = Number(process.argv[process.argv.indexOf("--repeat") + 1] ?? 3) || 3
const bin = path.join(root, "bin/flow")

const time = (args: ReadonlyArray<string>): { wallMs: number; flowS: number | undefined; stdout: string } => {
  const t0 = performance.now()
  const r = spawnSync(bin, args, { cwd: root, encoding: "utf8" })
  const wallMs = performance.now() - t0
  if (r.status !== 0) throw new Error(`flow ${args.join(" ")} failed (${r.status}): ${r.stderr}`)
  const m = /; ([\d.]+) s\s*$/.exec(r.stdout.trim())
  return { wallMs, flowS: m === null ? undefined : Number(m[1]), stdout: r.stdout }
}
const median = (xs: ReadonlyArray<number>): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const cold: Array<{ wallMs: number; flowS: number }> = []
const warm: Array<{ wallMs: number; flowS: number }> = []
const startup: Array<number> = []
time(["--version"]) // fill the compile cache once
for (let i = 0; i < repeat; i++) {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), "bench-cache-"))
  const results = fs.mkdtempSync(path.join(os.tmpdir(), "bench-results-"))
  const args = ["run", "configs/registry.toml", "--group", "baselines", "--data-root", dataRoot, "--cache-dir", cache, "--results-dir", results]
  const c = time(args)
  const w = time(args)
  if (!/27 cached, 0 run/.test(w.stdout)) throw new Error(`warm run executed stages:\n${w.stdout}`)
  cold.push({ wallMs: c.wallMs, flowS: c.flowS ?? NaN })
  warm.push({ wallMs: w.wallMs, flowS: w.flowS ?? NaN })
  startup.push(time(["--version"]).wallMs)
  fs.rmSync(cache, { recursive: true, force: true })
  fs.rmSync(results, { recursive: true, force: true })
}

const cw = median(cold.map((x) => x.wallMs))
const ww = median(warm.map((x) => x.wallMs))
const cf = median(cold.map((x) => x.flowS)) * 1000
const wf = median(warm.map((x) => x.flowS)) * 1000
const su = median(startup)
const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(1)}%`
const machine = `${os.cpus()[0]?.model ?? "cpu"}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`
const table = [
  `### bench:rerun (${new Date().toISOString().slice(0, 10)})`,
  "",
  `Command: \`npm run bench:rerun -- --repeat ${repeat}\` (medians of ${repeat}); machine: ${machine}.`,
  "Each repetition: `flow run configs/registry.toml --group baselines` on an empty cache (cold), the",
  "same command again (warm: all 27 stages cache hits), and `flow --version` (process start-up floor).",
  "",
  "| measure | cold | warm | warm / cold |",
  "| --- | ---: | ---: | ---: |",
  `| process wall time | ${cw.toFixed(0)} ms | ${ww.toFixed(0)} ms | ${pct(ww, cw)} |`,
  `| engine flow time (plan walk, stages, results) | ${cf.toFixed(0)} ms | ${wf.toFixed(0)} ms | ${pct(wf, cf)} |`,
  `| start-up floor (\`flow --version\`) | ${su.toFixed(0)} ms | | |`,
  ""
].join("\n")
console.log(table)
const doc = path.join(root, "docs/BENCHMARKS.md")
if (process.argv.includes("--write")) fs.appendFileSync(doc, `\n${table}`)
