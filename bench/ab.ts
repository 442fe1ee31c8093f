/**
 * Benchmark: the same core paths of this checkout and another one (e.g. the commit before a
 * restructuring), alternated in fresh processes: parseLog (header-field dictionaries),
 * mineTemplates with the HDFS preset (content cache), groupByEntity and ngramPhrases (n 1-3), on
 * 400,000 HDFS lines whose numbers vary per copy (every header time and most contents distinct),
 * and the warm `flow run --group baselines` through each checkout's own daemon.
 * Usage: node bench/ab.ts OTHER_CHECKOUT [--pairs N]   (prints a table; writes nothing)
 * Each checkout must have run `npm ci`; the warm runs use its own bin/flow.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const here = path.resolve(import.meta.dirname, "..")
const dataRoot = process.env.FLOW_DATA_ROOT ?? path.resolve(here, "../shared/data")

/** The child: time the core paths of the checkout at `root`, print JSON. */
const child = async (root: string): Promise<void> => {
  const load = (p: string) => import(path.join(root, p))
  const { compileFormat, parseLog } = await load("src/parsing/LogFormat.ts")
  const { mineTemplates } = await load("src/mining/Drain.ts")
  const { getPreset } = await load("src/presets/Presets.ts")
  const { minerPreset } = await load("src/presets/miners.ts")
  const { groupByEntity } = await load("src/sequences/GroupByEntity.ts")
  const { ngramPhrases } = await load("src/representations/NGrams.ts")
  const lines = fs.readFileSync(path.join(dataRoot, "hdfs/raw/HDFS_20000.log"), "utf8").trimEnd().split("\n")
  const out: Array<string> = []
  for (let c = 0; c < 20; c++) {
    for (const l of lines) out.push(l.replace(/\d+/g, (d) => String((Number(d.slice(-6)) + c * 7919) % 10 ** Math.min(d.length, 6)).padStart(Math.min(d.length, 6), "0")))
  }
  const buf = Buffer.from(out.join("\n") + "\n")
  const preset = getPreset("HDFS")
  const time = <A>(f: () => A): [number, A] => {
    const t = performance.now()
    const r = f()
    return [Math.round(performance.now() - t), r]
  }
  const [parse, parsed] = time(() => parseLog(buf, compileFormat(preset.format), preset.line ?? {}))
  const [mine, mined] = time(() => mineTemplates(parsed.content, minerPreset("HDFS")))
  const [group, seqs] = time(() => groupByEntity(parsed, mined, { pattern: "blk_-?\\d+" }))
  const [ngrams] = time(() => ngramPhrases(seqs, { nMin: 1, nMax: 3 }))
  process.stdout.write(JSON.stringify({ parse, mine, group, ngrams, rows: parsed.lineNo.length, templates: mined.templates.length, sequences: seqs.labels.length }))
}

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const main = (): void => {
  const other = process.argv[2]
  if (other === undefined || !fs.existsSync(path.join(other, "src"))) throw new Error("usage: node bench/ab.ts OTHER_CHECKOUT [--pairs N]")
  const pairs = Number(process.argv[process.argv.indexOf("--pairs") + 1] ?? 4) || 4
  const sides = [{ name: `other (${other})`, root: path.resolve(other) }, { name: "this checkout", root: here }]
  const cores = sides.map(() => [] as Array<Record<string, number>>)
  for (let i = 0; i < pairs; i++) {
    sides.forEach((s, k) => {
      const r = spawnSync(process.execPath, [import.meta.filename, "--child", s.root], { encoding: "utf8", env: { ...process.env, FLOW_DATA_ROOT: dataRoot } })
      if (r.status !== 0) throw new Error(`${s.name}: ${r.stderr}`)
      cores[k]!.push(JSON.parse(r.stdout))
    })
  }
  // Warm runs: each side's own daemon (its own folder), every stage cached, alternated.
  const daemons = fs.mkdtempSync(path.join(os.tmpdir(), "bench-ab-daemon-"))
  fs.chmodSync(daemons, 0o700)
  const dirs = sides.map(() => ["--cache-dir", fs.mkdtempSync(path.join(os.tmpdir(), "bench-ab-cache-")), "--results-dir", fs.mkdtempSync(path.join(os.tmpdir(), "bench-ab-results-"))])
  const flow = (k: number, args: ReadonlyArray<string>) => {
    const t0 = performance.now()
    const r = spawnSync(path.join(sides[k]!.root, "bin/flow"), args, { cwd: sides[k]!.root, encoding: "utf8", env: { ...process.env, FLOW_DAEMON_DIR: daemons } })
    if (r.status !== 0) throw new Error(`${sides[k]!.name}: flow ${args.join(" ")}: ${r.stderr}`)
    return performance.now() - t0
  }
  const run = (k: number) => flow(k, ["run", "configs/registry.toml", "--group", "baselines", "--data-root", dataRoot, ...dirs[k]!])
  sides.forEach((_, k) => run(k))
  const warm = sides.map(() => [] as Array<number>)
  for (let i = 0; i < 10 * pairs; i++) sides.forEach((_, k) => warm[k]!.push(run(k)))
  sides.forEach((_, k) => flow(k, ["daemon", "stop"]))
  console.log(`| | parse | mine | group | n-grams | warm baselines run through the daemon (median of ${10 * pairs}) |`)
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |")
  sides.forEach((s, k) => {
    const m = (key: string) => `${median(cores[k]!.map((c) => c[key]!))} ms`
    console.log(`| ${s.name} | ${m("parse")} | ${m("mine")} | ${m("group")} | ${m("ngrams")} | ${median(warm[k]!).toFixed(1)} ms |`)
  })
  const first = cores.map((c) => c[0]!)
  console.log(`same output both sides: rows ${first.map((c) => c.rows).join(" / ")}, templates ${first.map((c) => c.templates).join(" / ")}, sequences ${first.map((c) => c.sequences).join(" / ")}`)
}

if (process.argv[2] === "--child") await child(process.argv[3]!)
else main()
