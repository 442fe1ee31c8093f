/**
 * Benchmark (issue 4, scale): sequences built from the compact parsed store at 10M lines.
 * Parses and mines the real HDFS_20000.log once, then builds in memory a synthetic 10M-row
 * ParsedLog + TemplatedLog by replicating its parsed rows 500 times with renamed block ids, plus
 * a matching synthetic label CSV; then times grouping, labels, split and template counts, and
 * reports wall time and peak RSS. Appends a table to docs/BENCHMARKS.md with --write.
 *
 * Renaming: in replica r (0..499) every `blk_<sign><digits>` becomes `blk_<sign><rrr><digits>`
 * with r written as 3 digits (`blk_-160…` -> `blk_-007160…` in replica 7). The replica field has a
 * fixed width, so renamed ids are distinct across replicas and still match `blk_-?\d+`. Raw line
 * numbers continue (replica r's line k is r·20000 + k). Labels are synthetic: a renamed block
 * has its original block's label. Usage: npm run bench:sequences [-- --replicas N] [--write]
 */
import { Buffer } from "node:buffer"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { mineTemplates } from "../src/mining/Drain.ts"
import { compileFormat, parseLog } from "../src/parsing/LogFormat.ts"
import { countVectors } from "../src/representations/CountVectors.ts"
import { buildVocabulary } from "../src/representations/Vocabulary.ts"
import { groupByEntity } from "../src/sequences/GroupByEntity.ts"
import { applyEntityLabels, parseEntityLabelCsv } from "../src/sequences/Labels.ts"
import { chronologicalSplit } from "../src/sequences/Split.ts"
import { sequenceStats } from "../src/sequences/Stats.ts"
import type { ParsedLog, TemplatedLog } from "../src/artifacts/Log.ts"
import { SPLIT_TRAIN } from "../src/artifacts/Sequences.ts"

const root = path.resolve(import.meta.dirname, "..")
const dataRoot = process.env.FLOW_DATA_ROOT ?? path.resolve(root, "../shared/data")
const argAt = process.argv.indexOf("--replicas")
const replicas = argAt >= 0 ? Number(process.argv[argAt + 1]) : 500
if (!Number.isInteger(replicas) || replicas < 1 || replicas > 1000) throw new Error("--replicas must be an integer in 1..1000")

const mib = (bytes: number) => bytes / 2 ** 20
const rss = () => mib(process.memoryUsage().rss)
const peakRss = () => process.resourceUsage().maxRSS / 1024 // maxRSS is in KiB
const timings: Array<{ step: string; ms: number; rssMiB: number }> = []
const timed = <A>(step: string, f: () => A): A => {
  const t0 = performance.now()
  const out = f()
  timings.push({ step, ms: performance.now() - t0, rssMiB: rss() })
  return out
}

const loadAtStart = os.loadavg()[0]!

// 1. The real data, parsed and mined once (HDFS settings of configs/datasets/hdfs.toml).
const t0 = performance.now()
const text = fs.readFileSync(path.join(dataRoot, "hdfs/raw/HDFS_20000.log"), "utf8")
const base = parseLog(text, compileFormat("<Date> <Time> <Pid> <Level> <Component>: <Content>"))
const baseTemplated = mineTemplates(base.content, {
  depth: 4,
  simTh: 0.5,
  maxChildren: 100,
  masks: [{ pattern: "blk_-?\\d+" }, { pattern: "(\\d+\\.){3}\\d+(:\\d+)?" }]
})
const labelText = fs.readFileSync(path.join(dataRoot, "hdfs/labels/HDFS_20000.block_labels.csv"), "utf8")
const prepareMs = performance.now() - t0

// 2. The synthetic 10M-row store, built column by column.
const t1 = performance.now()
const { parsed, templated } = replicate(base, baseTemplated, replicas)
const syntheticLabels = replicateLabels(labelText, replicas)
const buildMs = performance.now() - t1
const rows = parsed.lineNo.length
const storeMiB = mib(
  parsed.content.blob.byteLength + parsed.content.offsets.byteLength + parsed.lineNo.byteLength + templated.templateIds.byteLength +
    parsed.fields.reduce((s, f) => s + f.column.codes.byteLength, 0)
)
const baselineRss = rss()

// 3. The timed part: group, label, split, counts (+ statistics).
const t2 = performance.now()
const seqs = timed("group by block (`blk_-?\\d+`, byte scan)", () => groupByEntity(parsed, templated, { pattern: "blk_-?\\d+" }))
const labelled = timed("labels (parse CSV, apply per block)", () => {
  const map = parseEntityLabelCsv(syntheticLabels, { entityColumn: "BlockId", labelColumn: "Label", anomalyValues: ["Anomaly"], normalValues: ["Normal"] })
  return applyEntityLabels(seqs, map)
})
const split = timed("chronological split (train_fraction 0.8)", () =>
  chronologicalSplit(labelled.sequences, { trainFraction: 0.8, trainOnNormalOnly: false })
)
const counts = timed("template count vectors (train vocabulary, CSR)", () =>
  countVectors(labelled.sequences, buildVocabulary(labelled.sequences, { split: split.split, tag: SPLIT_TRAIN }))
)
const stats = timed("statistics (lengths, label histograms per split)", () => sequenceStats(labelled.sequences, split.split))
const totalMs = performance.now() - t2
const peak = peakRss()

// Sanity: every replica reproduces the real grouping (1,782 blocks, 43 anomalous, 0 unlabelled).
const sequences = labelled.sequences.labels.length
if (sequences !== 1782 * replicas) throw new Error(`expected ${1782 * replicas} sequences, got ${sequences}`)
if (stats.labels.anomaly !== 43 * replicas || labelled.unlabeled !== 0) throw new Error(`unexpected labels ${JSON.stringify(stats.labels)}, ${labelled.unlabeled} unlabelled`)

const machine = `${os.cpus()[0]?.model ?? "cpu"}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${loadAtStart.toFixed(1)} at start${loadAtStart > 1 ? " (other processes were using the cores)" : ""}`
const table = [
  `### bench:sequences (${new Date().toISOString().slice(0, 10)})`,
  "",
  `Command: \`npm run bench:sequences${replicas === 500 ? "" : ` -- --replicas ${replicas}`}\`; machine: ${machine}.`,
  `Data: synthetic. The real \`hdfs/raw/HDFS_20000.log\` parsed and mined once (${prepareMs.toFixed(0)} ms), its ${base.lineNo.length.toLocaleString("en-US")} parsed`,
  `rows replicated ${replicas} times in memory with renamed block ids (\`blk_<sign><rrr><digits>\`, r = replica) and`,
  `each renamed block labelled like its original: ${rows.toLocaleString("en-US")} rows, ${sequences.toLocaleString("en-US")} blocks, ${stats.labels.anomaly.toLocaleString("en-US")} anomalous.`,
  `Building the store took ${(buildMs / 1000).toFixed(1)} s (not timed below); its columns take ${storeMiB.toFixed(0)} MiB; RSS after building: ${baselineRss.toFixed(0)} MiB.`,
  "",
  "| step | wall | RSS after |",
  "| --- | ---: | ---: |",
  ...timings.map((t) => `| ${t.step} | ${(t.ms / 1000).toFixed(2)} s | ${t.rssMiB.toFixed(0)} MiB |`),
  `| **total (group + labels + split + counts + stats)** | **${(totalMs / 1000).toFixed(2)} s** | peak RSS of the process: **${peak.toFixed(0)} MiB** |`,
  "",
  `Outputs: ${counts.rows.toLocaleString("en-US")} count rows × ${counts.cols} templates, ${counts.indices.length.toLocaleString("en-US")} nonzeros; split train ${split.summary.train.count.toLocaleString("en-US")} / test ${split.summary.test.count.toLocaleString("en-US")};`,
  `block length median ${stats.lengths.median}, p95 ${stats.lengths.p95}, max ${stats.lengths.max}. Target (issue 4): under 20 s and under 2 GB.`,
  ""
].join("\n")
console.log(table)
if (process.argv.includes("--write")) fs.appendFileSync(path.join(root, "docs/BENCHMARKS.md"), `\n${table}`)

/** Replicate parsed rows `times` times, renaming block ids in the content bytes. */
function replicate(log: ParsedLog, mined: TemplatedLog, times: number): { parsed: ParsedLog; templated: TemplatedLog } {
  const n = log.lineNo.length
  const { blob, offsets } = log.content
  // Insertion points: right after every "blk_" or "blk_-" that precedes a digit.
  const marks: Array<number> = []
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength)
  for (let at = buf.indexOf("blk_"); at >= 0; at = buf.indexOf("blk_", at + 1)) {
    let d = at + 4
    if (blob[d] === 0x2d) d++
    if (blob[d]! >= 0x30 && blob[d]! <= 0x39) marks.push(d)
  }
  // Bytes added per row (3 per mark), so each replica's offsets are the original ones plus a running shift.
  const extra = new Int32Array(n + 1)
  for (let m = 0, row = 0; m < marks.length; m++) {
    while (offsets[row + 1]! <= marks[m]!) row++
    extra[row + 1] += 3
  }
  for (let row = 0; row < n; row++) extra[row + 1] += extra[row]!
  const replicaBytes = blob.byteLength + extra[n]!
  const outBlob = new Uint8Array(replicaBytes * times)
  const outOffsets = new Int32Array(n * times + 1)
  const lineNo = new Int32Array(n * times)
  const templateIds = new Int32Array(n * times)
  const codes = log.fields.map(() => new Int32Array(n * times))
  for (let r = 0; r < times; r++) {
    const tag = [0x30 + Math.floor(r / 100), 0x30 + (Math.floor(r / 10) % 10), 0x30 + (r % 10)]
    let out = r * replicaBytes
    let from = 0
    for (const mark of marks) {
      outBlob.set(blob.subarray(from, mark), out)
      out += mark - from
      outBlob[out++] = tag[0]!
      outBlob[out++] = tag[1]!
      outBlob[out++] = tag[2]!
      from = mark
    }
    outBlob.set(blob.subarray(from), out)
    for (let row = 0; row < n; row++) {
      const i = r * n + row
      outOffsets[i] = r * replicaBytes + offsets[row]! + extra[row]!
      lineNo[i] = r * log.rawLines + log.lineNo[row]!
      templateIds[i] = mined.templateIds[row]!
    }
    log.fields.forEach((f, k) => codes[k]!.set(f.column.codes, r * n))
  }
  outOffsets[n * times] = replicaBytes * times
  return {
    parsed: {
      rawLines: log.rawLines * times,
      lineNo,
      content: { blob: outBlob, offsets: outOffsets },
      fields: log.fields.map((f, k) => ({ name: f.name, column: { values: f.column.values, codes: codes[k]! } })),
      unparsed: { count: log.unparsed.count * times, samples: log.unparsed.samples }
    },
    templated: { templateIds, templates: mined.templates }
  }
}

/** The label CSV of the renamed blocks: every original row once per replica, same label. */
function replicateLabels(csv: string, times: number): string {
  const lines = csv.split("\n").map((l) => l.replace(/\r$/, "")).filter((l) => l !== "")
  const parts: Array<string> = [lines[0]!]
  for (let r = 0; r < times; r++) {
    const tag = String(r).padStart(3, "0")
    for (let k = 1; k < lines.length; k++) parts.push(lines[k]!.replace(/^blk_(-?)/, `blk_$1${tag}`))
  }
  return parts.join("\n") + "\n"
}
