/**
 * Miner throughput and stream stability. For HDFS_2k and BGL_2k (and the real 20k-line HDFS
 * sample) it replicates the raw log to N lines, then times parse alone, mine alone and parse +
 * mine on one core, and compares template count, GA and FGA of the replicated stream with the
 * 2k run. Usage: node bench/mine-speed.ts [--lines N] [--repeat R]
 */
import { compileFormat, parseLog } from "../src/parsing/LogFormat.ts"
import { groupingAccuracy, groupingF1, mineTemplates } from "../src/mining/Drain.ts"
import { minerPreset } from "../src/presets/miners.ts"
import { LOGHUB_FORMATS, loadLoghub, readData } from "../test/mining/loghub.ts"

const arg = (name: string, d: number): number => {
  const i = process.argv.indexOf(name)
  return i < 0 ? d : Number(process.argv[i + 1])
}
const target = arg("--lines", 1_000_000)
const repeat = arg("--repeat", 3)
const best = <T>(f: () => T): { ms: number; out: T } => {
  let ms = Infinity
  let out: T | undefined
  for (let r = 0; r < repeat; r++) {
    const t0 = performance.now()
    out = f()
    ms = Math.min(ms, performance.now() - t0)
  }
  return { ms, out: out! }
}
const rate = (lines: number, ms: number): string => `${(lines / ms / 1000).toFixed(2)} M lines/s`

for (const system of ["HDFS", "BGL"] as const) {
  const format = compileFormat(LOGHUB_FORMATS[system])
  const sample = loadLoghub(system)
  const raw = readData(`loghub-2k/${system}/${system}_2k.log`).replace(/\r?\n$/, "") + "\n"
  const reps = Math.ceil(target / 2000)
  const text = raw.repeat(reps)
  const opts = minerPreset(system)
  const small = mineTemplates(sample.content, opts)
  const parsed = best(() => parseLog(text, format))
  const lines = parsed.out.lineNo.length
  const mined = best(() => mineTemplates(parsed.out.content, opts))
  const both = best(() => mineTemplates(parseLog(text, format).content, opts))
  const truth = Array.from({ length: lines }, (_, i) => sample.eventIds[i % 2000]!)
  const firstSame = small.templateIds.every((t, i) => mined.out.templateIds[i] === t)
  const replicaSame = mined.out.templateIds.every((t, i) => t === mined.out.templateIds[i % 2000])
  console.log(`${system}: ${lines} lines (2k x ${reps})`)
  console.log(`  parse ${parsed.ms.toFixed(0)} ms (${rate(lines, parsed.ms)}), mine ${mined.ms.toFixed(0)} ms (${rate(lines, mined.ms)}), parse+mine ${both.ms.toFixed(0)} ms (${rate(lines, both.ms)})`)
  console.log(`  templates 2k ${small.templates.length} -> stream ${mined.out.templates.length}; GA ${groupingAccuracy(small.templateIds, sample.eventIds).toFixed(4)} -> ${groupingAccuracy(mined.out.templateIds, truth).toFixed(4)}; FGA ${groupingF1(small.templateIds, sample.eventIds).toFixed(4)} -> ${groupingF1(mined.out.templateIds, truth).toFixed(4)}; first 2k ids identical: ${firstSame}; every replica = its original: ${replicaSame}`)
}

{
  const format = compileFormat(LOGHUB_FORMATS.HDFS)
  const text = readData("hdfs/raw/HDFS_20000.log")
  const opts = minerPreset("HDFS")
  const parsed = parseLog(text, format)
  const lines = parsed.lineNo.length
  const mined = best(() => mineTemplates(parsed.content, opts))
  const both = best(() => mineTemplates(parseLog(text, format).content, opts))
  console.log(`HDFS_20000 (real, no replication): ${lines} lines, ${mined.out.templates.length} templates`)
  console.log(`  mine ${mined.ms.toFixed(1)} ms (${rate(lines, mined.ms)}), parse+mine ${both.ms.toFixed(1)} ms (${rate(lines, both.ms)})`)
}
