/**
 * `flow bundle validate BUNDLE [--log LOG]` and `flow bundle compare A B --log LOG`: a bundle's
 * quality as a score out of 100 with its parts, and two bundles on one log side by side.
 *
 * Parts of the score (each measured part counts; those not measured are listed, and the score is
 * the measured points scaled to 100):
 * - integrity (30): the checksum manifest, the format and logflow's version (`loadBundle`);
 * - loading (20): the model decodes and the detector of this logflow accepts its version and config;
 * - stability (20): two independent loads score the same sequences (random ones over the bundle's
 *   vocabulary, deterministic) with identical scores, predictions and, for a predictive detector,
 *   identical per-event ranks;
 * - memory (10): the peak resident memory of the whole check, full points up to 512 MiB, none from
 *   2 GiB, linear between;
 * - accuracy (20, with `--log`): F1 of `flow detect` on the log against its labels, times 20.
 *
 * Labels (default `LOG.labels.csv`): per line (`LineId,Label[,…]`, `-` normal: `flow gen-synth`'s)
 * or per entity (`Id,Label`, e.g. HDFS's `BlockId,Label` with Normal / Anomaly). Line labels score a
 * predictive detector's events (a line is flagged when its prediction failed) and another detector's
 * sequences (a sequence is anomalous when a labelled line lies between its first and last line:
 * exact for windows and chunks, which are contiguous); entity labels score sequences by id.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Schema } from "effect"
import { mulberry32 } from "../artifacts/Random.ts"
import { LABEL_UNKNOWN } from "../artifacts/Sequences.ts"
import type { SequenceView } from "../detectors/base/Detector.ts"
import { getDetector } from "../detectors/registry.ts"
import { readJsonl } from "../runtime/Folders.ts"
import { peakRssMiB } from "../runtime/Memory.ts"
import { type Bundle, loadBundle } from "./Bundle.ts"
import { DetectInputError, type DetectSummary, detectLogs } from "./Detect.ts"

export interface ScorePart {
  readonly part: "integrity" | "loading" | "stability" | "memory" | "accuracy"
  readonly max: number
  /** Null when not measured (accuracy without a labelled log; the rest when an earlier part failed). */
  readonly points: number | null
  readonly detail: string
}

export interface Validation {
  readonly bundle: string
  readonly score: number
  readonly parts: ReadonlyArray<ScorePart>
  readonly accuracy?: Accuracy
}

export interface Accuracy {
  readonly labels: string
  readonly of: "lines" | "sequences"
  readonly evaluated: number
  readonly tp: number
  readonly fp: number
  readonly fn: number
  readonly precision: number
  readonly recall: number
  readonly f1: number
}

/** Random sequences over the vocabulary (seeded): what stability scores. */
const probeSequences = (bundle: Bundle): SequenceView => {
  const random = mulberry32(17)
  const ids = bundle.spec.vocabulary.map((v) => v.id)
  const n = 64
  const offsets = new Int32Array(n + 1)
  const events: Array<number> = []
  for (let s = 0; s < n; s++) {
    const length = 2 + Math.floor(random() * 30)
    for (let e = 0; e < length; e++) events.push(ids.length === 0 ? 0 : ids[Math.floor(random() * ids.length)]!)
    offsets[s + 1] = events.length
  }
  return { offsets, events: Int32Array.from(events), labels: new Int8Array(n).fill(LABEL_UNKNOWN) }
}

/** Scores (and per-event ranks) of the probe sequences with a freshly loaded bundle. */
const probe = async (dir: string): Promise<string> => {
  const b = loadBundle(dir)
  if ("error" in b) throw new Error(b.error)
  const detector = getDetector(b.spec.detector.tag)
  const config = Schema.decodeUnknownSync(detector.configSchema)(b.spec.detector.config)
  const data = probeSequences(b)
  const which = Int32Array.from({ length: data.labels.length }, (_, i) => i)
  const scored = detector.scoreAsync === undefined ? detector.score(b.model, data, which, config) : await detector.scoreAsync(b.model, data, which, config)
  const events = detector.predictEvents === undefined ? undefined : await detector.predictEvents(b.model, data, which, 3)
  return JSON.stringify({ scores: Array.from(scored.scores), predictions: Array.from(scored.predictions), ranks: events === undefined ? null : Array.from(events.rank) })
}

/** Labels of a log: per line or per entity (see the module's comment). */
const readLabels = (file: string): { readonly kind: "lines" | "entities"; readonly anomalous: Map<string, boolean> } => {
  let text: string
  try {
    text = fs.readFileSync(file, "utf8")
  } catch (e) {
    throw new DetectInputError(`cannot read the labels ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
  }
  const rows = text.split(/\r?\n/).filter((l) => l.trim() !== "")
  const header = rows[0]?.split(",") ?? []
  if (header.length < 2) throw new DetectInputError(`${file}: expected a header "LineId,Label" or "<Id>,Label", got ${JSON.stringify(rows[0] ?? "")}`)
  const kind = header[0]!.trim() === "LineId" ? "lines" : "entities"
  const anomalous = new Map<string, boolean>()
  rows.slice(1).forEach((row, i) => {
    const [id, label] = row.split(",")
    if (id === undefined || label === undefined || id.trim() === "") throw new DetectInputError(`${file}:${i + 2}: expected an id and a label, got ${JSON.stringify(row)}`)
    anomalous.set(id.trim(), !["-", "normal", "0", ""].includes(label.trim().toLowerCase()))
  })
  return { kind, anomalous }
}

/** F1 of a detect run's outputs (in `out`) against the labels. */
const accuracyOf = (out: string, summary: DetectSummary, labelsFile: string): Accuracy => {
  const labels = readLabels(labelsFile)
  let tp = 0
  let fp = 0
  let fn = 0
  let evaluated = 0
  const count = (predicted: boolean, actual: boolean) => {
    evaluated++
    if (predicted && actual) tp++
    else if (predicted) fp++
    else if (actual) fn++
  }
  const scores = readJsonl(path.join(out, "scores.jsonl"))
  let of: "lines" | "sequences" = "sequences"
  if (labels.kind === "entities") {
    for (const s of scores) {
      const actual = labels.anomalous.get(String(s.id))
      if (actual !== undefined) count(s.prediction === 1, actual)
    }
  } else if (summary.predictions_of === "events") {
    of = "lines"
    const flagged = new Set(readJsonl(path.join(out, "misses.jsonl")).map((m) => Number(m.line)))
    for (const [line, actual] of labels.anomalous) count(flagged.has(Number(line)), actual)
  } else {
    const anomalousLines = [...labels.anomalous].filter(([, a]) => a).map(([l]) => Number(l)).sort((a, b) => a - b)
    const anyIn = (from: number, to: number) => {
      let lo = 0
      let hi = anomalousLines.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (anomalousLines[mid]! < from) lo = mid + 1
        else hi = mid
      }
      return lo < anomalousLines.length && anomalousLines[lo]! <= to
    }
    for (const s of scores) if (s.first_line !== null) count(s.prediction === 1, anyIn(Number(s.first_line), Number(s.last_line)))
  }
  if (evaluated === 0) throw new DetectInputError(`${labelsFile}: none of its labels names a ${labels.kind === "entities" ? "sequence id" : "line"} the bundle scored`)
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp)
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn)
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall)
  return { labels: labelsFile, of, evaluated, tp, fp, fn, precision, recall, f1 }
}

/**
 * Run `flow detect` with the bundle on `log` into a temporary folder: the summary, each sequence's
 * prediction by id, and the accuracy when labels are given.
 */
const detectOnce = async (bundle: Bundle, log: string, labels: string | undefined) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "logflow-detect-"))
  const dir = path.join(out, "detect")
  try {
    const summary = await detectLogs(bundle, [log], dir)
    const predictions = new Map(readJsonl(path.join(dir, "scores.jsonl")).map((s) => [String(s.id), Number(s.prediction)]))
    return { summary, predictions, accuracy: labels === undefined ? undefined : accuracyOf(dir, summary, labels) }
  } finally {
    fs.rmSync(out, { recursive: true, force: true })
  }
}

/** `flow bundle validate`. */
export const validateBundle = async (dir: string, log?: string, labels?: string): Promise<Validation> => {
  const parts: Array<ScorePart> = []
  const loaded = loadBundle(dir)
  if ("error" in loaded) {
    parts.push({ part: "integrity", max: 30, points: 0, detail: loaded.error })
    for (const [part, max] of [["loading", 20], ["stability", 20], ["memory", 10], ["accuracy", 20]] as const) parts.push({ part, max, points: null, detail: "not measured: the bundle does not check out" })
    return { bundle: dir, score: 0, parts }
  }
  parts.push({ part: "integrity", max: 30, points: 30, detail: `${loaded.spec.format} from logflow ${loaded.spec.logflow_version}: every file matches the checksum manifest` })
  let loads = false
  try {
    const detector = getDetector(loaded.spec.detector.tag)
    if (detector.version !== loaded.spec.detector.version) throw new Error(`the model is ${loaded.spec.detector.tag} version ${loaded.spec.detector.version}, this logflow's is ${detector.version}`)
    Schema.decodeUnknownSync(detector.configSchema)(loaded.spec.detector.config)
    loads = true
    parts.push({ part: "loading", max: 20, points: 20, detail: `${loaded.spec.detector.tag} ${detector.version}, ${loaded.spec.vocabulary.length} templates` })
  } catch (e) {
    parts.push({ part: "loading", max: 20, points: 0, detail: e instanceof Error ? e.message : String(e) })
  }
  if (loads) {
    try {
      const [a, b] = [await probe(dir), await probe(dir)]
      parts.push(a === b
        ? { part: "stability", max: 20, points: 20, detail: "two independent loads give identical scores, predictions and event ranks on 64 probe sequences" }
        : { part: "stability", max: 20, points: 0, detail: "two loads of the bundle score the same probe sequences differently" })
    } catch (e) {
      parts.push({ part: "stability", max: 20, points: 0, detail: `scoring failed: ${e instanceof Error ? e.message : String(e)}` })
    }
  } else parts.push({ part: "stability", max: 20, points: null, detail: "not measured: the model does not load" })
  let accuracy: Accuracy | undefined
  if (log !== undefined && loads) {
    const labelsFile = labels ?? `${log}.labels.csv`
    accuracy = (await detectOnce(loaded, log, labelsFile)).accuracy!
    parts.push({ part: "accuracy", max: 20, points: Number((20 * accuracy.f1).toFixed(2)), detail: `F1 ${accuracy.f1.toFixed(4)} over ${accuracy.evaluated} ${accuracy.of} (precision ${accuracy.precision.toFixed(4)}, recall ${accuracy.recall.toFixed(4)}) against ${labelsFile}` })
  } else parts.push({ part: "accuracy", max: 20, points: null, detail: log === undefined ? "not measured: give --log with labels" : "not measured: the model does not load" })
  const rss = peakRssMiB()
  parts.push({ part: "memory", max: 10, points: Number((10 * Math.min(1, Math.max(0, (2048 - rss) / (2048 - 512)))).toFixed(2)), detail: `peak resident memory ${rss.toFixed(0)} MiB (full points up to 512 MiB, none from 2048)` })
  const measured = parts.filter((p) => p.points !== null)
  const score = Number(((100 * measured.reduce((s, p) => s + p.points!, 0)) / measured.reduce((s, p) => s + p.max, 0)).toFixed(1))
  return { bundle: dir, score, parts, ...(accuracy === undefined ? {} : { accuracy }) }
}

export interface BundleComparison {
  readonly log: string
  readonly bundles: ReadonlyArray<{ readonly bundle: string; readonly run: string; readonly detector: string; readonly summary: DetectSummary; readonly accuracy?: Accuracy }>
  /** Sequences both scored (by id): how many, and the share with the same prediction. */
  readonly agreement: { readonly sequences: number; readonly same_prediction: number }
}

/** `flow bundle compare A B --log LOG`: both bundles on one log. */
export const compareBundles = async (a: string, b: string, log: string, labels?: string): Promise<BundleComparison> => {
  const sides = []
  const predictions: Array<Map<string, number>> = []
  for (const dir of [a, b]) {
    const bundle = loadBundle(dir)
    if ("error" in bundle) throw new DetectInputError(bundle.error)
    const labelsFile = labels ?? (fs.existsSync(`${log}.labels.csv`) ? `${log}.labels.csv` : undefined)
    const { summary, predictions: byId, accuracy } = await detectOnce(bundle, log, labelsFile)
    predictions.push(byId)
    sides.push({ bundle: dir, run: bundle.spec.run, detector: bundle.spec.detector.tag, summary, ...(accuracy === undefined ? {} : { accuracy }) })
  }
  let both = 0
  let same = 0
  for (const [id, p] of predictions[0]!) {
    const q = predictions[1]!.get(id)
    if (q === undefined) continue
    both++
    if (p === q) same++
  }
  return { log, bundles: sides, agreement: { sequences: both, same_prediction: both === 0 ? 0 : same / both } }
}
