/**
 * `flow detect BUNDLE LOG... --out DIR`: new logs through a bundle (Bundle.ts). Each log is parsed
 * with the bundle's parser settings; every parsed line gets its template from the bundle's miner
 * state by match-only inference (nothing is learned); a line no template covers is a novel event:
 * it gets a provisional template (a new id per distinct token text, after the vocabulary's), is
 * counted and listed, and keeps its place (never dropped, so predictions stay aligned with their
 * lines). The lines are grouped by the bundle's rule, scored with the bundle's detector and model,
 * and flagged with the threshold the training run used. Written to DIR, whole or not at all:
 * `scores.jsonl` (per sequence: id, score, prediction, events, first and last line), `alerts.jsonl`
 * (the flagged sequences, most anomalous first, with sample lines, those naming an error first), `novel.jsonl` (the provisional
 * templates, counts, first and last line), `summary.json` and a self-contained `report.html`.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Schema } from "effect"
import { stringAt } from "../artifacts/Columns.ts"
import type { Template } from "../artifacts/Log.ts"
import type { Sequences } from "../artifacts/Sequences.ts"
import { getDetector } from "../detectors/registry.ts"
import { applyThreshold } from "../eval/Thresholds.ts"
import { LogMasker } from "../mining/Masker.ts"
import { matchTemplates } from "../mining/Match.ts"
import { compileFormat, parseLog } from "../parsing/LogFormat.ts"
import { writeFolderWhole } from "../runtime/Folders.ts"
import { GroupParams, groupStage } from "../tasks/GroupStage.ts"
import type { StageContext } from "../tasks/Task.ts"
import { ParseParams, parseSettings } from "../tasks/ParseStage.ts"
import type { Bundle } from "./Bundle.ts"
import { escapeHtml } from "./Report.ts"

/** The group stage reads no files and reports no progress: the context it is given here. */
const GROUP_CONTEXT: StageContext = { dataRoot: ".", sourcesDir: ".", progress: () => {} }

/** Sample lines kept per alert. */
const SAMPLE_LINES = 5

export interface DetectSummary {
  readonly bundle: string
  readonly run: string
  readonly detector: string
  readonly files: ReadonlyArray<{ readonly file: string; readonly lines: number; readonly parsed: number; readonly unparsed: number }>
  readonly lines: number
  readonly parsed: number
  readonly unparsed: number
  readonly novel_lines: number
  readonly novel_templates: number
  readonly sequences: number
  readonly alerts: number
  readonly threshold: number
  readonly threshold_basis: string
  /** What a person should know about the input (an empty file, unparsed lines). */
  readonly warnings: ReadonlyArray<string>
}

/** Bad input to `detect` (a log no line of which parses, an unsupported detector): the command exits 2. */
export class DetectInputError extends Error {}

interface FileResult {
  readonly file: string
  readonly scores: Array<Record<string, unknown>>
  readonly alerts: Array<Record<string, unknown>>
  readonly lines: number
  readonly parsed: number
  readonly unparsed: number
}

/** Run the bundle on `files`; write the outputs into `out`; returns the summary. */
export const detectLogs = async (bundle: Bundle, files: ReadonlyArray<string>, out: string): Promise<DetectSummary> => {
  const { spec } = bundle
  const detector = getDetector(spec.detector.tag)
  if (detector.version !== spec.detector.version) {
    throw new DetectInputError(`${bundle.dir}: the bundle's ${spec.detector.tag} model is version ${spec.detector.version}, this logflow's detector is version ${detector.version}; bundle the run again`)
  }
  const config = Schema.decodeUnknownSync(detector.configSchema)(spec.detector.config)
  if ((detector.needs?.(config) ?? []).length > 0) {
    throw new DetectInputError(`${spec.detector.tag} with this config reads representations beside the events (${detector.needs!(config).join(", ")}), which flow detect does not build yet`)
  }
  const parser = Schema.decodeUnknownSync(ParseParams)(spec.parser)
  const grouping = Schema.decodeUnknownSync(GroupParams)(spec.grouping)
  const { format, options } = parseSettings(parser)
  const compiled = compileFormat(format)
  const masker = new LogMasker(bundle.state.options)
  const vocabulary: Array<Template> = spec.vocabulary.map((v) => ({ id: v.id, text: v.text, count: 0 }))
  const nextId = vocabulary.reduce((m, t) => Math.max(m, t.id + 1), 0)
  const novel = new Map<string, { id: number; text: string; count: number; first: string; last: string }>()
  const results: Array<FileResult> = []
  const warnings: Array<string> = []
  let usedThreshold = spec.threshold?.value ?? Number.NaN

  for (const file of files) {
    let bytes: Buffer
    try {
      bytes = fs.readFileSync(file)
    } catch (e) {
      throw new DetectInputError(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`)
    }
    const parsed = parseLog(bytes, compiled, options)
    const rows = parsed.lineNo.length
    if (parsed.rawLines === 0) warnings.push(`${file} is empty`)
    else if (parsed.unparsed.count > 0) {
      const first = parsed.unparsed.samples[0]
      warnings.push(`${file}: ${parsed.unparsed.count} of ${parsed.rawLines} lines (${((100 * parsed.unparsed.count) / parsed.rawLines).toFixed(1)}%) do not read with the bundle's parser${first === undefined ? "" : `; first, line ${first.line}: ${JSON.stringify(first.text)}`}`)
    }
    if (parsed.rawLines > 0 && rows === 0) {
      const sample = parsed.unparsed.samples[0]
      throw new DetectInputError(`${file}: none of its ${parsed.rawLines} lines reads with the bundle's parser (${format}); first line: ${JSON.stringify(sample?.text ?? "")}`)
    }
    // Match-only templates (the project's column matcher); a line none covers gets a provisional one.
    const { templateIds, unseen } = matchTemplates(parsed.content, bundle.state)
    for (let i = 0; unseen > 0 && i < rows; i++) {
      if (templateIds[i]! < 0) {
        const text = masker.tokens(stringAt(parsed.content, i)).join(" ")
        let n = novel.get(text)
        const where = `${path.basename(file)}:${parsed.lineNo[i]}`
        if (n === undefined) novel.set(text, (n = { id: nextId + novel.size, text, count: 0, first: where, last: where }))
        n.count++
        n.last = where
        templateIds[i] = n.id
      }
    }
    const templates = [...vocabulary, ...[...novel.values()].map((n) => ({ id: n.id, text: n.text, count: n.count }))]
    const seqs: Sequences = (await groupStage.run(grouping, { parsed, templates: { templateIds, templates } }, GROUP_CONTEXT)).sequences
    const which = Int32Array.from({ length: seqs.labels.length }, (_, i) => i)
    const scored = detector.scoreAsync === undefined
      ? detector.score(bundle.model, seqs, which, config)
      : await detector.scoreAsync(bundle.model, seqs, which, config)
    const threshold = spec.threshold?.value ?? scored.threshold
    usedThreshold = threshold
    const predictions = spec.threshold === null ? scored.predictions : applyThreshold(scored.scores, threshold)
    // The file's lines, split once and only when a sequence is flagged (for its sample lines).
    let split: Array<string> | undefined
    const lineText = (n: number): string => ((split ??= bytes.toString("utf8").split("\n"))[n - 1] ?? "").replace(/\r$/, "")
    const lineOf = (row: number) => parsed.lineNo[seqs.rows[row]!]!
    const scores: Array<Record<string, unknown>> = []
    const alerts: Array<Record<string, unknown>> = []
    for (let s = 0; s < which.length; s++) {
      const from = seqs.offsets[s]!
      const to = seqs.offsets[s + 1]!
      const row = {
        file,
        id: stringAt(seqs.ids, s),
        score: scored.scores[s]!,
        prediction: predictions[s]!,
        events: to - from,
        first_line: to > from ? lineOf(from) : null,
        last_line: to > from ? lineOf(to - 1) : null
      }
      scores.push(row)
      if (predictions[s] === 1) {
        // Sample lines: those naming an error first, then the sequence's first lines.
        const lines: Array<number> = []
        for (let e = from; e < to; e++) lines.push(lineOf(e))
        const weight = (n: number) => (/error|fail|exception|fatal/i.test(lineText(n)) ? 0 : 1)
        const sample = [...lines].sort((a, b) => weight(a) - weight(b) || a - b).slice(0, SAMPLE_LINES).sort((a, b) => a - b)
        alerts.push({ ...row, samples: sample.map((n) => ({ line: n, text: lineText(n) })) })
      }
    }
    results.push({ file, scores, alerts, lines: parsed.rawLines, parsed: rows, unparsed: parsed.unparsed.count })
  }

  const allScores = results.flatMap((r) => r.scores)
  const allAlerts = results.flatMap((r) => r.alerts).sort((a, b) => (b.score as number) - (a.score as number))
  const novelList = [...novel.values()].map((n) => ({ template_id: n.id, template: n.text, count: n.count, first: n.first, last: n.last }))
  const summary: DetectSummary = {
    bundle: path.resolve(bundle.dir),
    run: spec.run,
    detector: spec.detector.tag,
    files: results.map((r) => ({ file: r.file, lines: r.lines, parsed: r.parsed, unparsed: r.unparsed })),
    lines: results.reduce((s, r) => s + r.lines, 0),
    parsed: results.reduce((s, r) => s + r.parsed, 0),
    unparsed: results.reduce((s, r) => s + r.unparsed, 0),
    novel_lines: novelList.reduce((s, n) => s + n.count, 0),
    novel_templates: novelList.length,
    sequences: allScores.length,
    alerts: allAlerts.length,
    threshold: usedThreshold,
    threshold_basis: spec.threshold?.basis ?? "detector",
    warnings
  }
  const jsonl = (rows: ReadonlyArray<unknown>) => rows.map((r) => JSON.stringify(r)).join("\n") + (rows.length > 0 ? "\n" : "")
  const report = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>logflow detect: ${escapeHtml(spec.run)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left;vertical-align:top}pre{margin:0;white-space:pre-wrap}</style></head><body>
<h1>logflow detect with ${escapeHtml(spec.run)} (${escapeHtml(spec.detector.tag)})</h1>
<p>${summary.lines} lines read in ${results.length} file(s), ${summary.parsed} parsed, ${summary.unparsed} unparsed; ${summary.novel_lines} lines of ${summary.novel_templates} novel templates; ${summary.sequences} sequences scored, ${summary.alerts} alerts (threshold ${summary.threshold}, ${escapeHtml(summary.threshold_basis)}).</p>
<h2>Top alerts</h2>
<table><thead><tr><th>sequence</th><th>score</th><th>lines</th><th>sample lines</th></tr></thead><tbody>
${allAlerts.slice(0, 50).map((a) => `<tr><td>${escapeHtml(String(a.id))}</td><td>${(a.score as number).toFixed(4)}</td><td>${escapeHtml(`${path.basename(String(a.file))}:${String(a.first_line)}-${String(a.last_line)}`)}</td><td><pre>${(a.samples as Array<{ line: number; text: string }>).map((x) => escapeHtml(`${x.line}: ${x.text}`)).join("\n")}</pre></td></tr>`).join("\n")}
</tbody></table>
<h2>Novel templates</h2>
<table><thead><tr><th>template</th><th>count</th><th>first</th><th>last</th></tr></thead><tbody>
${novelList.map((n) => `<tr><td>${escapeHtml(n.template)}</td><td>${n.count}</td><td>${escapeHtml(n.first)}</td><td>${escapeHtml(n.last)}</td></tr>`).join("\n")}
</tbody></table>
</body></html>
`
  // Whole or nothing: the files go to a temporary sibling folder, renamed onto `out` at the end.
  writeFolderWhole(out, {
    "scores.jsonl": jsonl(allScores),
    "alerts.jsonl": jsonl(allAlerts),
    "novel.jsonl": jsonl(novelList),
    "summary.json": `${JSON.stringify(summary, null, 2)}\n`,
    "report.html": report
  })
  return summary
}
