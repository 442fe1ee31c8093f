/**
 * `flow detect BUNDLE LOG... --out DIR [--follow]`: new logs through a bundle (Bundle.ts), as a
 * stream, so memory stays flat whatever the log's size and a followed log alerts as it grows.
 *
 * Each log is read in chunks of whole lines (LogReader.ts) and parsed with the bundle's parser
 * settings; every parsed line gets its template from the bundle's miner state by match-only
 * inference (nothing is learned). A line no template covers is a novel event: it gets a
 * provisional template (a new id per distinct token text, after the vocabulary's), is counted,
 * listed and sent to the alerting policy, and keeps its place (never dropped or shifted, so
 * predictions stay aligned with their lines). Lines are grouped by the bundle's rule as they come
 * (StreamGroup.ts: an entity's sequence closes after `closeAfterS` of log time without an event,
 * or at the end of the input; windows as soon as they are full), each batch of closed sequences is
 * scored with the bundle's detector (with the representations it reads beside the events,
 * DetectInputs.ts) and flagged with the threshold the training run used, and the
 * alerting policy (eval/Alerting.ts) turns predictions into alerts: per event for a predictive
 * detector (DeepLog: top-k or top-p), per sequence for the others.
 *
 * Written to DIR whole or not at all (FolderWriter): `scores.jsonl` (per sequence: id, score,
 * prediction, events, first and last line), `alerts.jsonl` (in the order raised), `misses.jsonl`
 * (a predictive detector's failed predictions: actual template vs the expected top k),
 * `novel.jsonl` (provisional templates: count, first and last line and time), `summary.json`,
 * `report.md` and a self-contained `report.html` (rates, the most anomalous sequences with sample
 * lines, errors first, and context lines around them, the first misses, the novel templates, and
 * an alert timeline chart).
 */
import * as path from "node:path"
import { Schema } from "effect"
import { dictValueAt, stringAt } from "../artifacts/Columns.ts"
import type { Template } from "../artifacts/Log.ts"
import { LABEL_UNKNOWN } from "../artifacts/Sequences.ts"
import type { SequenceView } from "../detectors/base/Detector.ts"
import { getDetector } from "../detectors/registry.ts"
import { type Alert, AlertEngine, type AlertPolicy, judgeEvent, policyProblems } from "../eval/Alerting.ts"
import { applyThreshold } from "../eval/Thresholds.ts"
import { readLines } from "../parsing/LineReader.ts"
import { compileFormat, parseLog } from "../parsing/LogFormat.ts"
import { FolderWriter } from "../runtime/Folders.ts"
import { peakRssMiB } from "../runtime/Memory.ts"
import { type ClosedSequences, StreamGrouper } from "../sequences/StreamGroup.ts"
import { GroupParams } from "../tasks/GroupStage.ts"
import { ParseParams, parseSettings } from "../tasks/ParseStage.ts"
import { type Bundle, bundlePolicy } from "./Bundle.ts"
import { BundleTemplates, NOVEL_LIMIT } from "./BundleTemplates.ts"
import { DetectInputs } from "./DetectInputs.ts"
import { type LogChunk, type ReadEnd, readLog } from "./LogReader.ts"
import { compileCharts, escapeHtml, vegaCharts } from "./Report.ts"

/** Sample lines shown per anomalous sequence, sequences and misses kept for the report. */
const SAMPLE_LINES = 5
const TOP_SEQUENCES = 20
const FIRST_MISSES = 20
const REPORT_ALERTS = 50
/** Lines of a sequence remembered for its samples. */
const SEQUENCE_LINES = 400
/** Closed events gathered before they are scored together (a followed log scores after every chunk). */
const SCORE_BATCH = 1 << 16
const ERROR_LINE = /error|fail|exception|fatal|panic|refused|denied|timed? ?out/i

export interface DetectOptions {
  /** Follow the logs like `tail -F` until `signal` aborts. */
  readonly follow?: boolean
  readonly signal?: AbortSignal
  /** Overrides of the bundle's alerting policy. */
  readonly policy?: Partial<AlertPolicy>
  /** Entity grouping: close an entity's sequence after this many seconds of log time without an event (0: only at the end of the input). Default: the policy's session gap. */
  readonly closeAfterS?: number
  /** Context lines before and after a sample line in the report (default 3). */
  readonly context?: number
  readonly chunkBytes?: number
  readonly pollMs?: number
  /** Called with every alert as it is raised (a followed log's live output). */
  readonly onAlert?: (alert: DetectAlert) => void
  /** Called once the logs are open and being read (tests of `--follow` wait for it). */
  readonly onReady?: () => void
}

/** An alert as written: the policy's alert and the log time as an ISO date when the log has times. */
export type DetectAlert = Alert & { readonly at?: string }

export interface DetectSummary {
  readonly bundle: string
  readonly run: string
  readonly detector: string
  readonly files: ReadonlyArray<{ readonly file: string; readonly lines: number; readonly parsed: number; readonly unparsed: number; readonly rotations: number }>
  readonly lines: number
  readonly parsed: number
  readonly unparsed: number
  readonly novel_lines: number
  readonly novel_templates: number
  readonly sequences: number
  /** Sequences the detector flagged with the run's threshold. */
  readonly flagged: number
  readonly threshold: number
  readonly threshold_basis: string
  /** What the policy judged: events (a predictive detector) or sequences. */
  readonly predictions_of: "events" | "sequences"
  readonly predictions: number
  readonly failed_predictions: number
  readonly alerts: number
  readonly alerts_by_kind: { readonly sequence: number; readonly novelty: number }
  readonly suppressed_alerts: number
  readonly policy: AlertPolicy
  readonly close_after_s: number
  readonly seconds: number
  /** This process's peak resident memory (runtime/Memory.ts). */
  readonly peak_rss_mib: number
  /** What a person should know about the input (an empty file, unparsed lines, an unfinished last line). */
  readonly warnings: ReadonlyArray<string>
}

/** Bad input to `detect` (a log no line of which parses, an unsupported detector, a bad policy): the command exits 2. */
export class DetectInputError extends Error {}

/** A sequence kept for the report (the most anomalous ones). */
interface TopSequence {
  readonly file: string
  readonly id: string
  readonly score: number
  readonly events: number
  readonly lines: ReadonlyArray<number>
}

interface Miss {
  readonly file: string
  readonly line: number
  readonly entity: string
  readonly actual: string
  readonly expected: ReadonlyArray<string>
  readonly rank: number
}

/** Run the bundle on `files`; write the outputs into `out`; returns the summary. */
export const detectLogs = async (bundle: Bundle, files: ReadonlyArray<string>, out: string, options: DetectOptions = {}): Promise<DetectSummary> => {
  const started = performance.now()
  const { spec } = bundle
  const detector = getDetector(spec.detector.tag)
  if (detector.version !== spec.detector.version) {
    throw new DetectInputError(`${bundle.dir}: the bundle's ${spec.detector.tag} model is version ${spec.detector.version}, this logflow's detector is version ${detector.version}; bundle the run again`)
  }
  const config = Schema.decodeUnknownSync(detector.configSchema)(spec.detector.config)
  /** Representations the detector reads beside the events (DeepLog's parameter-value model). */
  const needs = detector.needs?.(config) ?? []
  const policy: AlertPolicy = { ...bundlePolicy(spec), ...options.policy }
  const problems = policyProblems(policy)
  if (problems.length > 0) throw new DetectInputError(`alerting policy: ${problems.join("; ")}`)
  const closeAfterS = options.closeAfterS ?? policy.session_gap_s
  if (!(closeAfterS >= 0)) throw new DetectInputError(`--close-after must be >= 0 seconds, got ${closeAfterS}`)
  const contextLines = options.context ?? 3
  const parser = Schema.decodeUnknownSync(ParseParams)(spec.parser)
  const grouping = Schema.decodeUnknownSync(GroupParams)(spec.grouping)
  const { format, options: parseOptions } = parseSettings(parser)
  const compiled = compileFormat(format)
  const predictive = detector.predictEvents !== undefined
  const engine = new AlertEngine(policy)

  // Templates of new lines (match-only, provisional ones for the rest) and their texts by id.
  const templates = new BundleTemplates(bundle)
  const textOf = templates.textOf
  const vocabulary: Array<Template> = spec.vocabulary.map((v) => ({ id: v.id, text: v.text, count: 0 }))
  const novel = new Map<number, { id: number; text: string; count: number; first: string; last: string; first_time: number; last_time: number }>()
  let novelLines = 0

  // Entity of a line for novelty (and for the sequences of an entity grouping, their id).
  const entityPattern = grouping.type === "entity" && grouping.pattern !== undefined ? new RegExp(grouping.pattern) : undefined
  const entityOfRow = (parsed: ReturnType<typeof parseLog>, row: number): string => {
    if (grouping.type !== "entity") return "*"
    if (grouping.field !== undefined) {
      const f = parsed.fields.find((x) => x.name === grouping.field)
      return f === undefined ? "*" : dictValueAt(f.column, row)
    }
    const m = entityPattern!.exec(stringAt(parsed.content, row))
    return m === null ? "*" : (m[1] ?? m[0])
  }

  const writer = new FolderWriter(out)
  const warnings: Array<string> = []
  const fileStats: Array<{ file: string; lines: number; parsed: number; unparsed: number; rotations: number }> = []
  const top: Array<TopSequence> = []
  const misses: Array<Miss> = []
  const reportAlerts: Array<DetectAlert> = []
  const timeline = new Map<string, number>()
  let sequences = 0
  let flagged = 0
  let usedThreshold = spec.threshold?.value ?? Number.NaN
  let hasTimes = false
  /** Lines of every file before the current one (the clock of a log without times). */
  let linesBefore = 0

  const emit = (a: Alert | undefined) => {
    if (a === undefined) return
    const alert: DetectAlert = hasTimes ? { ...a, at: new Date(a.time * 1000).toISOString() } : a
    writer.append("alerts.jsonl", `${JSON.stringify(alert)}\n`)
    if (reportAlerts.length < REPORT_ALERTS) reportAlerts.push(alert)
    const bucket = hasTimes ? new Date(Math.floor(a.time / 60) * 60_000).toISOString() : String(Math.floor(a.time / 1000) * 1000)
    const key = `${bucket}\u0000${a.kind}`
    timeline.set(key, (timeline.get(key) ?? 0) + 1)
    options.onAlert?.(alert)
  }

  const runFile = async (file: string) => {
    const label = path.basename(file)
    const newGrouper = () => new StreamGrouper(grouping, grouping.type === "entity" && closeAfterS > 0 ? { idleCloseMs: closeAfterS * 1000 } : {})
    let grouper = newGrouper()
    let rowsWithEntity = 0
    const stats = { file, lines: 0, parsed: 0, unparsed: 0, rotations: 0 }
    fileStats.push(stats)
    let firstUnparsed: { line: number; text: string } | undefined
    let generation = 0
    /** Lines of the file's generations before the current one (a rotated file's). */
    let earlierGenerations = 0
    const base = linesBefore
    let clock = 0
    /** Parameter values and elapsed times for a detector that reads them, kept while their sequences are open. */
    let detectInputs = needs.length > 0 ? new DetectInputs(needs, bundle.state) : undefined
    /** A moving-baseline detector's scorer, its state carried from batch to batch (one per file). */
    const streamScorer = detector.streamScorer?.(bundle.model, config)
    /** Closed sequences waiting to be scored. */
    const pending: Array<ClosedSequences> = []
    let pendingEvents = 0

    const scorePending = async () => {
      if (pending.length === 0) return
      const batch = concatClosed(pending)
      pending.length = 0
      pendingEvents = 0
      const n = batch.ids.length
      if (n === 0) return
      const view: SequenceView = {
        offsets: batch.offsets,
        events: batch.events,
        labels: new Int8Array(n).fill(LABEL_UNKNOWN),
        ...(batch.context === undefined ? {} : { context: batch.context })
      }
      const which = Int32Array.from({ length: n }, (_, i) => i)
      const inputs = detectInputs?.inputs(batch, templates.textOf)
      const scored = streamScorer !== undefined
        ? streamScorer.score(view, which)
        : detector.scoreAsync === undefined
        ? detector.score(bundle.model, view, which, config, inputs)
        : await detector.scoreAsync(bundle.model, view, which, config, inputs)
      const threshold = spec.threshold?.value ?? scored.threshold
      usedThreshold = threshold
      const predictions = spec.threshold === null ? scored.predictions : applyThreshold(scored.scores, threshold)
      // The clock of an event: its time, else the clock before it.
      const times = batch.times
      const eventClock = new Float64Array(batch.events.length)
      for (let s = 0; s < n; s++) {
        let c = clock
        for (let e = batch.offsets[s]!; e < batch.offsets[s + 1]!; e++) {
          const t = times[e]!
          c = hasTimes ? (Number.isFinite(t) ? t / 1000 : c) : base + earlierGenerations + batch.lineNo[e]!
          eventClock[e] = c
        }
      }
      const entityOf = (s: number) => (grouping.type === "entity" ? batch.ids[s]! : "*")
      for (let s = 0; s < n; s++) {
        const from = batch.offsets[s]!
        const to = batch.offsets[s + 1]!
        const own = from + (batch.context?.[s] ?? 0)
        sequences++
        if (predictions[s] === 1) flagged++
        const row = {
          file,
          id: batch.ids[s]!,
          score: scored.scores[s]!,
          prediction: predictions[s]!,
          events: to - own,
          first_line: to > own ? batch.lineNo[own]! : null,
          last_line: to > own ? batch.lineNo[to - 1]! : null
        }
        writer.append("scores.jsonl", `${JSON.stringify(row)}\n`)
        if (predictions[s] === 1) keepTop(top, { file, id: row.id, score: row.score, events: row.events, lines: Array.from(batch.lineNo.subarray(own, Math.min(to, own + SEQUENCE_LINES))) })
        if (!predictive) {
          emit(engine.prediction({
            entity: entityOf(s),
            time: to > own ? eventClock[to - 1]! : clock,
            file,
            line: row.last_line ?? 0,
            failed: predictions[s] === 1,
            detail: { sequence: row.id, score: row.score, first_line: row.first_line }
          }))
        }
      }
      if (predictive) {
        const k = Math.max(policy.top_k, 3)
        const ev = await detector.predictEvents!(bundle.model, view, which, k)
        let s = 0
        for (let j = 0; j < ev.event.length; j++) {
          const e = ev.event[j]!
          while (batch.offsets[s + 1]! <= e) s++
          const failed = !judgeEvent(policy, ev.rank[j]!, ev.massAbove[j]!, ev.classes)
          const actual = textOf.get(batch.events[e]!) ?? `<template ${batch.events[e]!}>`
          const line = batch.lineNo[e]!
          let detail: Record<string, unknown> | undefined
          if (failed) {
            const expected = Array.from(ev.top.subarray(j * ev.k, j * ev.k + Math.min(ev.k, policy.rule === "top_k" ? policy.top_k : ev.k)), (id) => (id < 0 ? "<end>" : textOf.get(id) ?? String(id)))
            const miss: Miss = { file, line, entity: entityOf(s), actual, expected, rank: ev.rank[j]! }
            writer.append("misses.jsonl", `${JSON.stringify({ ...miss, unseen: ev.rank[j]! >= ev.classes, mass_above: Number(ev.massAbove[j]!.toFixed(6)) })}\n`)
            if (misses.length < FIRST_MISSES) misses.push(miss)
            detail = { actual, expected: expected.slice(0, 3), rank: ev.rank[j]! }
          }
          emit(engine.prediction({ entity: entityOf(s), time: eventClock[e]!, file, line, failed, ...(detail === undefined ? {} : { detail }) }))
        }
      }
    }

    const onChunk = async (chunk: LogChunk) => {
      if (chunk.generation !== generation) {
        generation = chunk.generation
        stats.rotations = generation
        earlierGenerations = stats.lines
        // A rotated file is a new log: its sequences start over.
        const closed = grouper.finish()
        if (closed.ids.length > 0) pending.push(closed)
        rowsWithEntity += grouper.rowsWithEntity
        grouper = newGrouper()
        await scorePending()
        // Line numbers start over in the new file.
        if (detectInputs !== undefined) detectInputs = new DetectInputs(needs, bundle.state)
      }
      const parsed = parseLog(chunk.bytes, compiled, parseOptions)
      const rows = parsed.lineNo.length
      const lineNo = parsed.lineNo
      for (let i = 0; i < rows; i++) lineNo[i] = lineNo[i]! + chunk.lineBase
      stats.lines = Math.max(stats.lines, earlierGenerations + chunk.lineBase + parsed.rawLines)
      stats.parsed += rows
      stats.unparsed += parsed.unparsed.count
      if (firstUnparsed === undefined && parsed.unparsed.samples.length > 0) {
        const s = parsed.unparsed.samples[0]!
        firstUnparsed = { line: s.line + chunk.lineBase, text: s.text }
      }
      if (parsed.timestamps !== undefined) hasTimes = true
      const ts = parsed.timestamps
      const where = (row: number) => `${generation === 0 ? label : `${label}#${generation}`}:${lineNo[row]}`
      const clockAt = (row: number) => {
        if (ts === undefined) return base + earlierGenerations + lineNo[row]!
        const t = ts[row]!
        return Number.isFinite(t) ? t / 1000 : Number.NaN
      }
      // Match-only templates; a line none covers is novel: a provisional template by its token text.
      const novelRows: Array<[row: number, id: number, text: string]> = []
      const templateIds = templates.assign(parsed, (row, id, text) => novelRows.push([row, id, text]))
      detectInputs?.keep(parsed, templateIds, templates.textOf)
      let next = 0
      for (let i = 0; i < rows; i++) {
        const c = clockAt(i)
        if (!Number.isNaN(c)) clock = c
        if (next < novelRows.length && novelRows[next]![0] === i) {
          const [, id, text] = novelRows[next++]!
          novelLines++
          if (id !== templates.overflowId) {
            let n = novel.get(id)
            if (n === undefined) novel.set(id, (n = { id, text, count: 0, first: where(i), last: where(i), first_time: clock, last_time: clock }))
            n.count++
            n.last = where(i)
            n.last_time = clock
          }
          for (const a of engine.novel({ entity: entityOfRow(parsed, i), time: clock, file, line: lineNo[i]!, template: text })) emit(a)
        }
      }
      for (const a of engine.advance(clock)) emit(a)
      engine.sweep(clock)
      const closed = grouper.push(parsed, { templateIds, templates: vocabulary }) // grouping reads ids only
      if (closed.ids.length > 0) {
        pending.push(closed)
        pendingEvents += closed.events.length
      }
      if (pendingEvents >= SCORE_BATCH || options.follow === true) {
        await scorePending()
        // Nothing waits to be scored: lines before every open sequence are needed no more.
        detectInputs?.forget(grouper.oldestLine())
      }
    }

    const end: { value?: ReadEnd } = {}
    try {
      for await (const chunk of readLog(file, { follow: options.follow === true, ...(options.signal === undefined ? {} : { signal: options.signal }), ...(options.chunkBytes === undefined ? {} : { chunkBytes: options.chunkBytes }), ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }) }, end)) {
        if (options.signal?.aborted === true && options.follow !== true) throw new DetectInputError(`interrupted while reading ${file}: nothing written`)
        await onChunk(chunk)
      }
    } catch (e) {
      if (e instanceof DetectInputError) throw e
      throw new DetectInputError(e instanceof Error ? e.message : String(e))
    }
    const last = grouper.finish()
    if (last.ids.length > 0) pending.push(last)
    await scorePending()
    linesBefore += stats.lines
    if (end.value?.incomplete !== undefined) {
      const inc = end.value.incomplete
      warnings.push(`${file}: line ${inc.line}${inc.generation > 0 ? ` (after rotation ${inc.generation})` : ""} has no line break yet (${inc.bytes} bytes): not read`)
    }
    if (stats.lines === 0) warnings.push(`${file} is empty`)
    else if (stats.unparsed > 0) {
      warnings.push(`${file}: ${stats.unparsed} of ${stats.lines} lines (${((100 * stats.unparsed) / stats.lines).toFixed(1)}%) do not read with the bundle's parser${firstUnparsed === undefined ? "" : `; first, line ${firstUnparsed.line}: ${JSON.stringify(firstUnparsed.text)}`}`)
    }
    if (stats.lines > 0 && stats.parsed === 0 && options.follow !== true) {
      throw new DetectInputError(`${file}: none of its ${stats.lines} lines reads with the bundle's parser (${format}); first line: ${JSON.stringify(firstUnparsed?.text ?? "")}`)
    }
    if (grouping.type === "entity" && grouping.pattern !== undefined && stats.parsed > 0 && rowsWithEntity + grouper.rowsWithEntity === 0 && options.follow !== true) {
      throw new DetectInputError(`grouping.pattern: ${JSON.stringify(grouping.pattern)} names no entity in any of the ${stats.parsed} parsed lines of ${file}`)
    }
  }

  try {
    options.onReady?.()
    if (options.follow === true) await Promise.all(files.map(runFile))
    else for (const file of files) await runFile(file)
    for (const a of engine.finish()) emit(a)

    const novelList = [...novel.values()].map((n) => ({
      template_id: n.id,
      template: n.text,
      count: n.count,
      first: n.first,
      last: n.last,
      ...(hasTimes ? { first_time: new Date(n.first_time * 1000).toISOString(), last_time: new Date(n.last_time * 1000).toISOString() } : {})
    }))
    if (templates.overflow > 0) warnings.push(`more than ${NOVEL_LIMIT} novel templates: ${templates.overflow} lines of further ones are counted, not listed`)
    const st = engine.stats
    const summary: DetectSummary = {
      bundle: path.resolve(bundle.dir),
      run: spec.run,
      detector: spec.detector.tag,
      files: fileStats,
      lines: fileStats.reduce((s, r) => s + r.lines, 0),
      parsed: fileStats.reduce((s, r) => s + r.parsed, 0),
      unparsed: fileStats.reduce((s, r) => s + r.unparsed, 0),
      novel_lines: novelLines,
      novel_templates: novel.size,
      sequences,
      flagged,
      threshold: usedThreshold,
      threshold_basis: spec.threshold?.basis ?? "detector",
      predictions_of: predictive ? "events" : "sequences",
      predictions: st.predictions,
      failed_predictions: st.failed,
      alerts: st.alerts,
      alerts_by_kind: { sequence: st.sequence_alerts, novelty: st.novelty_alerts },
      suppressed_alerts: st.suppressed,
      policy,
      close_after_s: closeAfterS,
      seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
      peak_rss_mib: Number(peakRssMiB().toFixed(1)),
      warnings
    }
    // The report's lines, read in one pass per file: every line of the top sequences (their samples
    // are chosen from them, errors first) and of the first misses, each with its context.
    const wanted = new Map<string, Set<number>>()
    const want = (file: string, line: number) => {
      let set = wanted.get(file)
      if (set === undefined) wanted.set(file, (set = new Set()))
      for (let l = Math.max(1, line - contextLines); l <= line + contextLines; l++) set.add(l)
    }
    for (const t of top) for (const l of t.lines) want(t.file, l)
    for (const m of misses) want(m.file, m.line)
    const texts = new Map<string, Map<number, string>>()
    for (const [file, lines] of wanted) texts.set(file, linesOf(file, lines))
    const textAt = (file: string, line: number) => texts.get(file)?.get(line)
    const samples = top.map((t) => {
      const weight = (n: number) => (ERROR_LINE.test(textAt(t.file, n) ?? "") ? 0 : 1)
      const chosen = [...t.lines].sort((a, b) => weight(a) - weight(b) || a - b).slice(0, SAMPLE_LINES).sort((a, b) => a - b)
      return { t, chosen }
    })
    const report = {
      summary,
      top: samples.map(({ t, chosen }) => ({
        ...t,
        samples: chosen.map((l) => ({
          line: l,
          text: textAt(t.file, l) ?? "",
          before: range(l - contextLines, l).filter((c) => c >= 1).map((c) => ({ line: c, text: textAt(t.file, c) })).filter((x) => x.text !== undefined),
          after: range(l + 1, l + contextLines + 1).map((c) => ({ line: c, text: textAt(t.file, c) })).filter((x) => x.text !== undefined)
        }))
      })),
      misses: misses.map((m) => ({ ...m, text: textAt(m.file, m.line) ?? "" })),
      novel: novelList,
      alerts: reportAlerts,
      timeline: [...timeline].map(([key, count]) => {
        const [bucket, kind] = key.split("\u0000")
        return { bucket: hasTimes ? bucket! : Number(bucket), kind: kind!, count }
      })
    }
    const html = await detectReportHtml(report, spec.run, hasTimes)
    writer.commit(
      {
        "novel.jsonl": novelList.map((n) => `${JSON.stringify(n)}\n`).join(""),
        "summary.json": `${JSON.stringify(summary, null, 2)}\n`,
        "report.md": detectReportMarkdown(report, spec.run),
        "report.html": html
      },
      ["scores.jsonl", "alerts.jsonl", ...(predictive ? ["misses.jsonl"] : [])]
    )
    return summary
  } catch (e) {
    writer.abort()
    throw e
  }
}

const range = (from: number, to: number): Array<number> => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i)

/** Keep the TOP_SEQUENCES highest-scoring sequences. */
const keepTop = (top: Array<TopSequence>, s: TopSequence) => {
  if (top.length === TOP_SEQUENCES && s.score <= top[top.length - 1]!.score) return
  let i = top.length
  while (i > 0 && top[i - 1]!.score < s.score) i--
  top.splice(i, 0, s)
  if (top.length > TOP_SEQUENCES) top.pop()
}

/** Several batches of closed sequences as one. */
const concatClosed = (parts: ReadonlyArray<ClosedSequences>): ClosedSequences => {
  if (parts.length === 1) return parts[0]!
  const n = parts.reduce((s, p) => s + p.ids.length, 0)
  const events = parts.reduce((s, p) => s + p.events.length, 0)
  const ids: Array<string> = []
  const offsets = new Int32Array(n + 1)
  const ev = new Int32Array(events)
  const lineNo = new Int32Array(events)
  const times = new Float64Array(events)
  const withContext = parts.some((p) => p.context !== undefined)
  const context = withContext ? new Int32Array(n) : undefined
  let s = 0
  let e = 0
  for (const p of parts) {
    for (let i = 0; i < p.ids.length; i++) {
      ids.push(p.ids[i]!)
      if (context !== undefined) context[s] = p.context?.[i] ?? 0
      offsets[++s] = e + p.offsets[i + 1]!
    }
    ev.set(p.events, e)
    lineNo.set(p.lineNo, e)
    times.set(p.times, e)
    e += p.events.length
  }
  return { ids, offsets, events: ev, lineNo, times, ...(context === undefined ? {} : { context }) }
}

/** The texts of `lines` (1-based) of `file` (the project's line reader; a file gone or unreadable gives none). */
const linesOf = (file: string, lines: ReadonlySet<number>): Map<number, string> => {
  const out = new Map<number, string>()
  if (lines.size === 0) return out
  try {
    readLines(file, {
      chunk: () => {},
      line: (buf, start, end, lineNo) => {
        if (lines.has(lineNo)) out.set(lineNo, Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString("utf8", start, end).replace(/\r$/, ""))
      },
      tooLong: () => {}
    })
  } catch {
    // rotated away or unreadable: the report shows the lines it has
  }
  return out
}

interface DetectReport {
  readonly summary: DetectSummary
  readonly top: ReadonlyArray<TopSequence & { readonly samples: ReadonlyArray<{ line: number; text: string; before: ReadonlyArray<{ line: number; text: string | undefined }>; after: ReadonlyArray<{ line: number; text: string | undefined }> }> }>
  readonly misses: ReadonlyArray<Miss & { readonly text: string }>
  readonly novel: ReadonlyArray<{ template: string; count: number; first: string; last: string; first_time?: string; last_time?: string }>
  readonly alerts: ReadonlyArray<DetectAlert>
  readonly timeline: ReadonlyArray<{ bucket: string | number; kind: string; count: number }>
}

const pct = (a: number, b: number) => (b === 0 ? "-" : `${((100 * a) / b).toFixed(2)}%`)

/** The rates of a detect run, as label/value pairs (both reports). */
const rates = (s: DetectSummary): Array<[string, string]> => [
  ["lines read", `${s.lines} in ${s.files.length} file(s)`],
  ["parsed", `${s.parsed} (${pct(s.parsed, s.lines)}); unparsed ${s.unparsed}`],
  ["novel lines", `${s.novel_lines} (${pct(s.novel_lines, s.parsed)}) of ${s.novel_templates} novel templates`],
  ["sequences scored", `${s.sequences}; flagged by ${s.detector} at threshold ${s.threshold} (${s.threshold_basis}): ${s.flagged} (${pct(s.flagged, s.sequences)})`],
  [`predictions (${s.predictions_of})`, `${s.predictions}; failed ${s.failed_predictions} (${pct(s.failed_predictions, s.predictions)})`],
  ["alerts", `${s.alerts} (${s.alerts_by_kind.sequence} sequence, ${s.alerts_by_kind.novelty} novelty); ${s.suppressed_alerts} suppressed by cooldown; ${s.lines === 0 ? "-" : ((1000 * s.alerts) / s.lines).toFixed(3)} per 1,000 lines`],
  ["policy", `${s.policy.rule === "top_k" ? `top-${s.policy.top_k}` : `top-p ${s.policy.top_p}`}, ${s.policy.k_of_n.k} of ${s.policy.k_of_n.n}, sessions reset after ${s.policy.session_gap_s} s, cooldown ${s.policy.cooldown_s} s, novelty ${s.policy.novelty ? `over ${s.policy.novelty_window_s} s` : "off"}`]
]

const alertWhat = (a: DetectAlert): string =>
  a.kind === "sequence"
    ? `${a.failures} of ${a.of} failed (lines ${a.from_line}-${a.line})${a.detail?.actual === undefined ? "" : `: ${String(a.detail.actual)}`}`
    : `novel "${a.template}" ×${a.count} (lines ${a.line}-${a.last_line})`

export const detectReportMarkdown = (r: DetectReport, run: string): string => {
  const s = r.summary
  const cell = (x: string) => x.replaceAll("|", "\\|").replaceAll("\n", " ")
  const out: Array<string> = [`# logflow detect with ${run} (${s.detector})`, "", "| | |", "| --- | --- |", ...rates(s).map(([k, v]) => `| ${k} | ${cell(v)} |`), ""]
  if (s.warnings.length > 0) out.push("## Warnings", "", ...s.warnings.map((w) => `- ${w}`), "")
  out.push("## Most anomalous sequences", "")
  if (r.top.length === 0) out.push("None flagged.", "")
  for (const t of r.top) {
    out.push(`### ${t.id} (score ${t.score.toFixed(4)}, ${t.events} events, ${path.basename(t.file)})`, "", "```")
    for (const x of t.samples) {
      for (const b of x.before) out.push(`  ${b.line}: ${b.text}`)
      out.push(`> ${x.line}: ${x.text}`)
      for (const a of x.after) out.push(`  ${a.line}: ${a.text}`)
      out.push("  ...")
    }
    out.push("```", "")
  }
  if (s.predictions_of === "events") {
    out.push("## First misses (actual event vs expected)", "", "| line | entity | actual | expected (most likely first) | rank |", "| --- | --- | --- | --- | --- |")
    for (const m of r.misses) out.push(`| ${path.basename(m.file)}:${m.line} | ${cell(m.entity)} | ${cell(m.actual)} | ${cell(m.expected.join(" / "))} | ${m.rank} |`)
    out.push("")
  }
  out.push("## Novel templates", "", "| template | count | first | last |", "| --- | --- | --- | --- |")
  for (const n of r.novel) out.push(`| ${cell(n.template)} | ${n.count} | ${n.first}${n.first_time === undefined ? "" : ` ${n.first_time}`} | ${n.last}${n.last_time === undefined ? "" : ` ${n.last_time}`} |`)
  out.push("", `## First ${r.alerts.length} alerts of ${s.alerts}`, "", "| kind | entity | where | what | suppressed before |", "| --- | --- | --- | --- | --- |")
  for (const a of r.alerts) out.push(`| ${a.kind} | ${cell(a.entity)} | ${path.basename(a.file)}:${a.line}${a.at === undefined ? "" : ` ${a.at}`} | ${cell(alertWhat(a))} | ${a.suppressed_before} |`)
  return `${out.join("\n")}\n`
}

const detectReportHtml = async (r: DetectReport, run: string, hasTimes: boolean): Promise<string> => {
  const s = r.summary
  const e = escapeHtml
  const chart = {
    id: "alert-timeline",
    section: "Alert timeline",
    title: "Alerts over log time",
    spec: {
      width: 900,
      height: 200,
      data: { values: r.timeline },
      mark: "bar",
      encoding: {
        x: hasTimes ? { field: "bucket", type: "temporal", timeUnit: "yearmonthdatehoursminutes", title: "log time (per minute)" } : { field: "bucket", type: "quantitative", bin: { maxbins: 60 }, title: "line" },
        y: { aggregate: "sum", field: "count", type: "quantitative", title: "alerts" },
        color: { field: "kind", type: "nominal" }
      }
    }
  }
  const compiled = r.timeline.length === 0 ? [] : await compileCharts([chart], false)
  const charts = vegaCharts(compiled.map((c) => c.vega))
  const lineHtml = (line: number, text: string | undefined, mark: boolean) => `<span class="${mark ? "hit" : "ctx"}">${line}: ${e(text ?? "")}</span>`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>logflow detect: ${e(run)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1300px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left;vertical-align:top}pre{margin:0;white-space:pre-wrap}.ctx{color:#777}.hit{font-weight:bold}#report-errors:empty{display:none}#report-errors{color:#b00}</style>
${compiled.length === 0 ? "" : charts.head}
</head><body>
<h1>logflow detect with ${e(run)} (${e(s.detector)})</h1>
<div id="report-errors"></div>
<table class="rates">${rates(s).map(([k, v]) => `<tr><th>${e(k)}</th><td>${e(v)}</td></tr>`).join("")}</table>
${s.warnings.length === 0 ? "" : `<h2>Warnings</h2><ul>${s.warnings.map((w) => `<li>${e(w)}</li>`).join("")}</ul>`}
<h2>Alert timeline</h2>
${compiled.length === 0 ? "<p>No alerts.</p>" : `<figure><div class="chart" id="chart-0" data-chart="alert-timeline"></div></figure>`}
<h2>Most anomalous sequences</h2>
${r.top.length === 0 ? "<p>None flagged.</p>" : `<table><thead><tr><th>sequence</th><th>score</th><th>events</th><th>sample lines (errors first) with context</th></tr></thead><tbody>
${r.top.map((t) => `<tr><td>${e(t.id)}<br><small>${e(path.basename(t.file))}</small></td><td>${t.score.toFixed(4)}</td><td>${t.events}</td><td><pre>${t.samples.map((x) => [...x.before.map((b) => lineHtml(b.line, b.text, false)), lineHtml(x.line, x.text, true), ...x.after.map((a) => lineHtml(a.line, a.text, false))].join("\n")).join("\n…\n")}</pre></td></tr>`).join("\n")}
</tbody></table>`}
${s.predictions_of === "events" ? `<h2>First misses</h2><table><thead><tr><th>line</th><th>entity</th><th>actual</th><th>expected (most likely first)</th><th>rank</th></tr></thead><tbody>
${r.misses.map((m) => `<tr><td>${e(`${path.basename(m.file)}:${m.line}`)}</td><td>${e(m.entity)}</td><td>${e(m.actual)}<br><small>${e(m.text)}</small></td><td>${m.expected.map((x) => e(x)).join("<br>")}</td><td>${m.rank}</td></tr>`).join("\n")}
</tbody></table>` : ""}
<h2>Novel templates</h2>
<table><thead><tr><th>template</th><th>count</th><th>first</th><th>last</th></tr></thead><tbody>
${r.novel.map((n) => `<tr><td>${e(n.template)}</td><td>${n.count}</td><td>${e(`${n.first}${n.first_time === undefined ? "" : ` ${n.first_time}`}`)}</td><td>${e(`${n.last}${n.last_time === undefined ? "" : ` ${n.last_time}`}`)}</td></tr>`).join("\n")}
</tbody></table>
<h2>Alerts</h2>
<p>The first ${r.alerts.length} of ${s.alerts} (all in alerts.jsonl).</p>
<table><thead><tr><th>kind</th><th>entity</th><th>where</th><th>what</th><th>suppressed before</th></tr></thead><tbody>
${r.alerts.map((a) => `<tr><td>${a.kind}</td><td>${e(a.entity)}</td><td>${e(`${path.basename(a.file)}:${a.line}${a.at === undefined ? "" : ` ${a.at}`}`)}</td><td>${e(alertWhat(a))}</td><td>${a.suppressed_before}</td></tr>`).join("\n")}
</tbody></table>
${compiled.length === 0 ? "" : charts.body}
</body></html>
`
}
