/**
 * Benchmark (issue 6): every detector on deep-loglizer's HDFS_100k sessions (fixed split) and on
 * BGL_2k fixed windows, beside loglizer's published full-HDFS numbers, with fit and score times.
 * Supervised detectors train on the labelled train split; unsupervised ones with their defaults:
 * PCA, invariants mining, isolation forest and markov on the whole train split with labels unused
 * (as loglizer), log clustering on the normal training sequences (loglizer's benchmark does
 * `fit(x_train[y_train == 0])`). It also traces the gap to loglizer to the data: which test
 * anomalies are indistinguishable from normal sessions in the 100k-line sample, and what their
 * full sessions (ait-landauer's copy of all 16,838 anomalous HDFS blocks) contain. Finally the
 * threshold kinds of src/eval/Thresholds.ts on a validation part of the train split.
 * Usage: node bench/detect.ts [--write]  (--write appends the tables to docs/BENCHMARKS.md)
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Schema } from "effect"
import type { SequenceView } from "../src/detectors/base/Detector.ts"
import { pca } from "../src/detectors/PCA.ts"
import { detectors } from "../src/detectors/registry.ts"
import { metricBlock } from "../src/eval/Metrics.ts"
import { type ThresholdSpec, applyThreshold, chooseThreshold } from "../src/eval/Thresholds.ts"
import { mineTemplates } from "../src/mining/Drain.ts"
import { compileFormat, parseLog } from "../src/parsing/LogFormat.ts"
import { fixedWindows } from "../src/sequences/FixedWindow.ts"
import { applyLineLabels } from "../src/sequences/Labels.ts"
import { readSessionFile } from "../src/sequences/SessionFile.ts"
import { chronologicalSplit } from "../src/sequences/Split.ts"
import { SPLIT_TEST, SPLIT_TRAIN } from "../src/artifacts/Sequences.ts"

const root = path.resolve(import.meta.dirname, "..")
const dataRoot = process.env.FLOW_DATA_ROOT ?? path.resolve(root, "../shared/data")
const order = ["logistic_regression", "decision_tree", "svm", "log_clustering", "pca", "invariants_mining", "isolation_forest", "markov", "naive_bayes", "template_frequency"]

/** loglizer README (He et al., ISSRE 2016), full HDFS: precision, recall, F1. */
const loglizer: Record<string, readonly [number, number, number]> = {
  logistic_regression: [0.955, 0.911, 0.933],
  decision_tree: [0.998, 0.998, 0.998],
  svm: [0.959, 0.97, 0.965],
  log_clustering: [1.0, 0.72, 0.837],
  pca: [0.975, 0.635, 0.769],
  invariants_mining: [0.888, 0.945, 0.915],
  isolation_forest: [0.83, 0.776, 0.802]
}

interface Row {
  readonly tag: string
  readonly setting: string
  readonly status: string
  readonly p: number
  readonly r: number
  readonly f1: number
  readonly auroc: number | null
  readonly auprc: number | null
  readonly fitMs: number
  readonly scoreMs: number
  /** F1 without the test anomalies that look exactly like normal sessions (diagnostic). */
  readonly f1Observable: number | null
}

const tagged = (split: Uint8Array, tag: number) => Int32Array.from({ length: split.length }, (_, i) => i).filter((i) => split[i] === tag)

/** Fit on `train`, score `test`, with the default config. `hidden`: test indexes left out of the diagnostic F1. */
function runAll(data: SequenceView, train: Int32Array, test: Int32Array, hidden?: ReadonlySet<number>): Array<Row> {
  const rows: Array<Row> = []
  for (const tag of order) {
    const detector = detectors[tag]!
    const config = Schema.decodeUnknownSync(detector.configSchema)({})
    const setting = detector.supervised ? "supervised" : tag === "log_clustering" ? "normal-only train" : "unsupervised"
    const t0 = performance.now()
    const fit = detector.fit(data, train, config)
    const fitMs = performance.now() - t0
    if (fit.status !== "ok") {
      rows.push({ tag, setting, status: `invalid: ${fit.reason}`, p: 0, r: 0, f1: 0, auroc: null, auprc: null, fitMs, scoreMs: 0, f1Observable: null })
      continue
    }
    const t1 = performance.now()
    const out = detector.score(fit.model, data, test, config)
    const scoreMs = performance.now() - t1
    const labels = Int8Array.from(test, (i) => data.labels[i]!)
    const block = metricBlock({ labels, scores: out.scores, predictions: out.predictions, threshold: out.threshold })
    if (block.status !== "valid") throw new Error(`${tag}: ${block.reason}`)
    let f1Observable: number | null = null
    if (hidden !== undefined) {
      const keep = Int32Array.from({ length: test.length }, (_, j) => j).filter((j) => !hidden.has(test[j]!))
      const diag = metricBlock({ labels, scores: out.scores, predictions: out.predictions, threshold: out.threshold, which: keep, diagnostic: "test anomalies indistinguishable in the sample left out" })
      f1Observable = diag.status === "diagnostic_only" ? diag.f1 : null
    }
    rows.push({ tag, setting, status: block.status, p: block.precision, r: block.recall, f1: block.f1, auroc: block.auroc, auprc: block.auprc, fitMs, scoreMs, f1Observable })
  }
  return rows
}

const f3 = (v: number | null) => (v === null ? "–" : v.toFixed(3))
const ms = (v: number) => (v < 10 ? v.toFixed(1) : v.toFixed(0))

// 1. HDFS_100k.
const hdfsText = fs.readFileSync(path.join(dataRoot, "hdfs/sessions/deep-loglizer-HDFS_100k/HDFS_100k_sessions.csv"), "utf8")
const hdfs = readSessionFile(hdfsText, { format: "deeploglizer_csv" })
const hd = hdfs.sequences
const hTrain = tagged(hdfs.split!, SPLIT_TRAIN)
const hTest = tagged(hdfs.split!, SPLIT_TEST)
const countKey = (i: number) => {
  const c = new Map<number, number>()
  for (let p = hd.offsets[i]!; p < hd.offsets[i + 1]!; p++) c.set(hd.events[p]!, (c.get(hd.events[p]!) ?? 0) + 1)
  return [...c.entries()].sort((a, b) => a[0] - b[0]).join(";")
}
// Test anomalies whose count vector is that of a normal training session.
const normalKeys = new Set<string>()
for (const i of hTrain) if (hd.labels[i] === 0) normalKeys.add(countKey(i))
const hidden = new Set<number>([...hTest].filter((i) => hd.labels[i] === 1 && normalKeys.has(countKey(i))))
const testAnomalies = [...hTest].filter((i) => hd.labels[i] === 1).length
const trainAnomalies = [...hTrain].filter((i) => hd.labels[i] === 1)
const trainHidden = trainAnomalies.filter((i) => normalKeys.has(countKey(i))).length

// Best any count-vector classifier can do on test: per count vector, the majority of its test labels.
const groups = new Map<string, [number, number]>()
for (const i of hTest) {
  const g = groups.get(countKey(i)) ?? [0, 0]
  g[hd.labels[i] === 1 ? 1 : 0]++
  groups.set(countKey(i), g)
}
let otp = 0
let ofp = 0
for (const [n, a] of groups.values()) if (a > n) (otp += a), (ofp += n)
const oracleF1 = (2 * otp) / (2 * otp + ofp + (testAnomalies - otp))

// The full sessions of those anomalies (all 16,838 anomalous HDFS_v1 blocks, 33 templates).
const fullDir = path.join(dataRoot, "hdfs/sessions/ait-landauer")
const full = new Map<string, Array<number>>()
for (const line of fs.readFileSync(path.join(fullDir, "hdfs_loghub__hdfs_test_abnormal"), "utf8").split("\n")) {
  if (line.trim() === "") continue
  const [block, events] = line.split(",")
  full.set(block!, events!.trim().split(/\s+/).map(Number))
}
const templateText = fs.readFileSync(path.join(fullDir, "HDFS_templates.csv"), "utf8").split("\n").map((t) => t.replace(/<\*>/g, " ").replace(/\s+/g, " ").trim())
const decoder = new TextDecoder()
const idOf = (i: number) => decoder.decode(hd.ids.blob.subarray(hd.ids.offsets[i]!, hd.ids.offsets[i + 1]!))
let longer = 0
const sampleLengths: Array<number> = []
const fullLengths: Array<number> = []
const laterEvents = new Map<number, number>()
for (const i of hidden) {
  const seq = full.get(idOf(i))
  if (seq === undefined) continue
  const sampleLength = hd.offsets[i + 1]! - hd.offsets[i]!
  sampleLengths.push(sampleLength)
  fullLengths.push(seq.length)
  if (seq.length > sampleLength) longer++
  for (const t of new Set(seq.slice(sampleLength))) laterEvents.set(t, (laterEvents.get(t) ?? 0) + 1)
}
const median = (a: Array<number>) => a.sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)] ?? 0
const topLater = [...laterEvents.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([t, c]) => `"${templateText[t - 1]}" (${c})`)

const hdfsRows = runAll(hd, hTrain, hTest, hidden)
const pcaFit = pca.fit(hd, hTrain, Schema.decodeUnknownSync(pca.configSchema)({}))
const pcaK = pcaFit.status === "ok" ? pcaFit.model.components.length : 0
const pcaShare = pcaFit.status === "ok" ? pcaFit.model.eigenvalues[0]! / pcaFit.model.eigenvalues.reduce((a, b) => a + b, 0) : 0

// 2. BGL_2k: parse, mine, windows of 20, line labels, chronological 0.8 split.
const bglText = fs.readFileSync(path.join(dataRoot, "loghub-2k/BGL/BGL_2k.log"), "utf8")
const parsed = parseLog(bglText, compileFormat("<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>"))
const templated = mineTemplates(parsed.content, { masks: [{ pattern: "core\\.\\d+" }], simTh: 0.5, depth: 4 })
const windows = applyLineLabels(fixedWindows(parsed, templated, { size: 20, step: 20 }), parsed, { field: "Label", normalValue: "-" })
const bglSplit = chronologicalSplit(windows, { trainFraction: 0.8, trainOnNormalOnly: false })
const bTrain = tagged(bglSplit.split, SPLIT_TRAIN)
const bTest = tagged(bglSplit.split, SPLIT_TEST)
const bglRows = runAll(windows, bTrain, bTest)

// 3. Thresholds on a validation part of the HDFS train split (every 5th train session).
const validation = hTrain.filter((_, k) => k % 5 === 4)
const fitPart = hTrain.filter((_, k) => k % 5 !== 4)
const specs: ReadonlyArray<readonly [string, ThresholdSpec]> = [
  ["99.5th pct", { kind: "percentile", percentile: 99.5 }],
  ["3-sigma", { kind: "three_sigma" }],
  ["MAD (k = 3)", { kind: "mad" }],
  ["best F1 (validation)", { kind: "best_f1" }]
]
const thresholdRows: Array<string> = []
for (const tag of ["pca", "invariants_mining", "log_clustering", "isolation_forest", "markov"]) {
  const detector = detectors[tag]!
  const config = Schema.decodeUnknownSync(detector.configSchema)({})
  const fit = detector.fit(hd, fitPart, config)
  if (fit.status !== "ok") continue
  const v = detector.score(fit.model, hd, validation, config)
  const t = detector.score(fit.model, hd, hTest, config)
  const testLabels = Int8Array.from(hTest, (i) => hd.labels[i]!)
  const cells = [f3(metricF1(testLabels, t.scores, t.predictions, t.threshold))]
  for (const [, spec] of specs) {
    const chosen = chooseThreshold(spec, { scores: v.scores, labels: Int8Array.from(validation, (i) => hd.labels[i]!), source: "validation" })
    if (chosen.status !== "ok") {
      cells.push(`invalid (${chosen.reason})`)
      continue
    }
    cells.push(f3(metricF1(testLabels, t.scores, applyThreshold(t.scores, chosen.threshold.value), chosen.threshold.value)))
  }
  thresholdRows.push(`| ${tag} | ${cells.join(" | ")} |`)
}

function metricF1(labels: Int8Array, scores: Float64Array, predictions: Uint8Array, threshold: number): number {
  const b = metricBlock({ labels, scores, predictions, threshold })
  return b.status === "valid" ? b.f1 : Number.NaN
}

const machine = `${os.cpus()[0]?.model ?? "cpu"}, ${os.availableParallelism()} cores, Node ${process.version}, load average ${os.loadavg()[0]!.toFixed(1)} at the end`
const hdfsTable = hdfsRows.map((r) => {
  const ref = loglizer[r.tag]
  const gap = ref === undefined ? "" : (r.f1 - ref[2]).toFixed(3)
  return `| ${r.tag} | ${r.setting} | ${f3(r.p)} / ${f3(r.r)} / ${f3(r.f1)} | ${f3(r.auroc)} | ${f3(r.auprc)} | ${ref === undefined ? "–" : ref.map((v) => v.toFixed(3)).join(" / ")} | ${gap} | ${f3(r.f1Observable)} | ${ms(r.fitMs)} | ${ms(r.scoreMs)} |`
})
const bglSummary = bglSplit.summary
const table = [
  `### bench:detect (${new Date().toISOString().slice(0, 10)})`,
  "",
  `Command: \`npm run bench:detect\`; machine: ${machine}. Every detector with its default config (loglizer's`,
  "hyperparameters and feature options); fit on the train split, scored on the test split; P / R / F1 at the",
  "detector's own threshold; AUROC and AUPRC (average precision) from the scores; times in ms.",
  "",
  `#### HDFS_100k (deep-loglizer sessions, fixed split: train ${hTrain.length} with ${trainAnomalies.length} anomalies, test ${hTest.length} with ${testAnomalies} anomalies)`,
  "",
  "| detector | setting | P / R / F1 | AUROC | AUPRC | loglizer (full HDFS) P / R / F1 | ΔF1 | F1 w/o hidden (diagnostic) | fit | score |",
  "| --- | --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
  ...hdfsTable,
  "",
  "Why F1 misses loglizer's by more than 0.03 everywhere, traced to the data:",
  `- ${hidden.size} of the ${testAnomalies} test anomalies (and ${trainHidden} of the ${trainAnomalies.length} training anomalies) have exactly the count vector of`,
  "  normal training sessions. No detector on template counts can tell them apart: the best any count-vector",
  `  classifier can do on this test split, even choosing each vector's label by looking at the test labels, is`,
  `  F1 ${oracleF1.toFixed(3)} (recall ${(otp / testAnomalies).toFixed(3)}); the supervised detectors reach exactly that.`,
  `- These blocks are cut off by the 100k-line sample: in the full HDFS_v1 log (ait-landauer's copy of all 16,838`,
  `  anomalous block sessions) ${longer} of the ${sampleLengths.length} are longer (median ${median(sampleLengths)} events in the sample, ${median(fullLengths)} in full), and`,
  `  the events after the cut include ${topLater.join(", ")} (blocks with the event).`,
  "  The anomalous part of these blocks happens after line 100,000, so in this sample they are labelled anomalous",
  "  but look normal. loglizer's README numbers come from the full HDFS log (575,061 blocks); its maintainers",
  "  answer that HDFS_100k demo results differ for this reason (logpai/loglizer issues #47, #76).",
  "- The \"F1 w/o hidden\" column (status diagnostic_only) leaves those test anomalies out: with them gone the",
  "  supervised detectors and invariants mining detect every remaining anomaly, as on the full log. PCA stays low",
  "  for a second data reason: with TF-IDF weighting, the two training sessions with 203 \"Served block\" events",
  `  (one normal, one anomalous) carry ${(100 * pcaShare).toFixed(1)}% of the training variance, so PCA keeps k = ${pcaK} component (that`,
  "  direction) and normal sessions with three \"Verification succeeded\" events land above the Q threshold.",
  "",
  `#### BGL_2k (fixed windows of 20 lines; ${windows.labels.length} windows; chronological split 0.8: train ${bglSummary.train.count} (${bglSummary.train.anomaly} anomalous), test ${bglSummary.test.count} (${bglSummary.test.anomaly} anomalous); ${templated.templates.length} templates)`,
  "",
  "| detector | setting | P / R / F1 | AUROC | AUPRC | fit | score |",
  "| --- | --- | --- | ---: | ---: | ---: | ---: |",
  ...bglRows.map((r) =>
    r.status.startsWith("invalid")
      ? `| ${r.tag} | ${r.setting} | ${r.status} | – | – | ${ms(r.fitMs)} | – |`
      : `| ${r.tag} | ${r.setting} | ${f3(r.p)} / ${f3(r.r)} / ${f3(r.f1)} | ${f3(r.auroc)} | ${f3(r.auprc)} | ${ms(r.fitMs)} | ${ms(r.scoreMs)} |`
  ),
  "",
  "BGL_2k is tiny (20 test windows); read it as a smoke test of the parse → mine → window → detect path, not as",
  "a comparison with loglizer's BGL numbers.",
  "",
  `#### Threshold kinds (HDFS_100k; fit on 4/5 of the train split, thresholds from the other 1/5 = ${validation.length} validation sessions, test F1)`,
  "",
  `| detector | ${["built-in", ...specs.map(([name]) => name)].join(" | ")} |`,
  `| --- | ${["built-in", ...specs].map(() => "---:").join(" | ")} |`,
  ...thresholdRows,
  "",
  "Percentile, 3-sigma and MAD use the normal validation scores only; best F1 is tuned on the validation labels",
  "and reported as such (never on the test split). Many normal HDFS sessions share one count vector, so their",
  "scores tie and MAD is often 0 (threshold = median).",
  ""
].join("\n")
console.log(table)
if (process.argv.includes("--write")) fs.appendFileSync(path.join(root, "docs/BENCHMARKS.md"), `\n${table}`)
