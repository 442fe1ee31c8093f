/**
 * `flow analyze`: logs read through a bundle's parser and templates (BundleTemplates: match-only,
 * provisional templates by text for the rest, so target and baseline share one vocabulary keyed by
 * text), then `compare` (the target's template distribution against the baseline's) or `temporal`
 * (hour-of-day and day-of-week profiles per template, with unusual activity flagged against a
 * baseline or, without one, against the log's own other hours). Logs are streamed (LogReader):
 * what is kept is counts per template. Writes `analysis.json` and `report.md` to `out`, whole.
 */
import * as path from "node:path"
import { Schema } from "effect"
import { compareDistributions, type DistributionComparison, TemporalProfile, type TemporalFlag, temporalFlags } from "../eval/LogProfiles.ts"
import { compileFormat, parseLog } from "../parsing/LogFormat.ts"
import { writeFolderWhole } from "../runtime/Folders.ts"
import { ParseParams, parseSettings } from "../tasks/ParseStage.ts"
import type { Bundle } from "./Bundle.ts"
import { BundleTemplates } from "./BundleTemplates.ts"
import { DetectInputError } from "./Detect.ts"
import { readLog } from "./LogReader.ts"

interface ReadCounts {
  readonly lines: number
  readonly parsed: number
  readonly counts: Map<string, number>
  readonly profile: TemporalProfile
  readonly timed: boolean
}

/** Read `files` through the bundle: template counts (by text) and a temporal profile. */
const readThrough = async (bundle: Bundle, templates: BundleTemplates, files: ReadonlyArray<string>): Promise<ReadCounts> => {
  const { format, options } = parseSettings(Schema.decodeUnknownSync(ParseParams)(bundle.spec.parser))
  const compiled = compileFormat(format)
  const counts = new Map<string, number>()
  const profile = new TemporalProfile()
  let lines = 0
  let parsed = 0
  let timed = false
  for (const file of files) {
    let fileLines = 0
    let fileParsed = 0
    let first: string | undefined
    try {
      for await (const chunk of readLog(file)) {
        const p = parseLog(chunk.bytes, compiled, options)
        fileLines += p.rawLines
        fileParsed += p.lineNo.length
        first ??= p.unparsed.samples[0]?.text
        const ids = templates.assign(p)
        const ts = p.timestamps
        if (ts !== undefined) timed = true
        for (let i = 0; i < ids.length; i++) {
          const text = templates.textOf.get(ids[i]!) ?? `<template ${ids[i]!}>`
          counts.set(text, (counts.get(text) ?? 0) + 1)
          profile.add(text, ts === undefined ? Number.NaN : ts[i]!)
        }
      }
    } catch (e) {
      throw new DetectInputError(e instanceof Error ? e.message : String(e))
    }
    if (fileLines > 0 && fileParsed === 0) throw new DetectInputError(`${file}: none of its ${fileLines} lines reads with the bundle's parser (${format}); first line: ${JSON.stringify(first ?? "")}`)
    lines += fileLines
    parsed += fileParsed
  }
  return { lines, parsed, counts, profile, timed }
}

export interface CompareResult {
  readonly target: ReadonlyArray<string>
  readonly baseline: ReadonlyArray<string>
  readonly lines: { readonly target: number; readonly baseline: number }
  readonly comparison: DistributionComparison
}

/** `flow analyze compare TARGET... --baseline LOG... --bundle B --out DIR`. */
export const analyzeCompare = async (bundle: Bundle, target: ReadonlyArray<string>, baseline: ReadonlyArray<string>, out: string): Promise<CompareResult> => {
  const templates = new BundleTemplates(bundle)
  const b = await readThrough(bundle, templates, baseline)
  const t = await readThrough(bundle, templates, target)
  const result: CompareResult = { target, baseline, lines: { target: t.lines, baseline: b.lines }, comparison: compareDistributions(t.counts, b.counts) }
  const c = result.comparison
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`
  const md = [
    `# Template distribution: ${target.map((f) => path.basename(f)).join(", ")} against ${baseline.map((f) => path.basename(f)).join(", ")}`,
    "",
    `Templates of bundle ${bundle.spec.run} (${bundle.spec.vocabulary.length}; lines none covers get a provisional template by text).`,
    "",
    "| | |",
    "| --- | --- |",
    `| lines (parsed) | target ${c.target_lines}, baseline ${c.baseline_lines} |`,
    `| templates | target ${c.templates.target}, baseline ${c.templates.baseline}, shared ${c.templates.shared} |`,
    `| cosine similarity | ${c.cosine.toFixed(4)} |`,
    `| KL(target ‖ baseline), nats, smoothing ${c.smoothing} | ${c.kl.toFixed(4)} |`,
    `| Jensen-Shannon, nats | ${c.js.toFixed(4)} |`,
    "",
    `## New templates (${c.new_templates.length})`,
    "",
    ...c.new_templates.slice(0, 50).map((n) => `- ${n.count} (${pct(n.share)}): \`${n.template}\``),
    "",
    `## Vanished templates (${c.vanished_templates.length})`,
    "",
    ...c.vanished_templates.slice(0, 50).map((n) => `- ${n.count} in the baseline (${pct(n.share)}): \`${n.template}\``),
    "",
    "## Largest shifts of share",
    "",
    "| template | target | baseline | change |",
    "| --- | ---: | ---: | ---: |",
    ...c.shifts.map((s) => `| \`${s.template.replaceAll("|", "\\|")}\` | ${pct(s.target_share)} | ${pct(s.baseline_share)} | ${s.change >= 0 ? "+" : ""}${pct(s.change)} |`),
    ""
  ].join("\n")
  writeFolderWhole(out, { "analysis.json": `${JSON.stringify(result, null, 2)}\n`, "report.md": md })
  return result
}

export interface TemporalResult {
  readonly logs: ReadonlyArray<string>
  readonly baseline: ReadonlyArray<string>
  readonly lines: number
  readonly untimed: number
  /** Per template: lines, per hour of day (UTC) and per day of week (Monday first). */
  readonly profiles: ReadonlyArray<{ readonly template: string; readonly lines: number; readonly hours: ReadonlyArray<number>; readonly weekdays: ReadonlyArray<number> }>
  /** Seconds the log covers per hour of day and day of week, and the clock hours with lines. */
  readonly exposure: { readonly hours: ReadonlyArray<number>; readonly weekdays: ReadonlyArray<number>; readonly clock_hours: number }
  readonly flags: ReadonlyArray<TemporalFlag>
  readonly against: "baseline" | "own hours"
}

/** `flow analyze temporal LOG... --bundle B [--baseline LOG...] --out DIR`. */
export const analyzeTemporal = async (bundle: Bundle, logs: ReadonlyArray<string>, baseline: ReadonlyArray<string>, out: string): Promise<TemporalResult> => {
  const templates = new BundleTemplates(bundle)
  const b = baseline.length === 0 ? undefined : await readThrough(bundle, templates, baseline)
  const t = await readThrough(bundle, templates, logs)
  if (!t.timed || (b !== undefined && !b.timed)) {
    throw new DetectInputError(`the bundle's parser (${bundle.spec.run}) gives no timestamps: temporal profiles need a format with a time`)
  }
  if (t.profile.lines === 0) throw new DetectInputError(`no line of ${logs.join(", ")} has a timestamp the bundle's parser reads`)
  const flags = temporalFlags(t.profile, b?.profile)
  const profiles = [...t.profile.hours.keys()].sort().map((template) => ({
    template,
    lines: t.profile.hours.get(template)!.reduce((a, x) => a + x, 0),
    hours: Array.from(t.profile.hours.get(template)!),
    weekdays: Array.from(t.profile.weekdays.get(template)!)
  })).sort((x, y) => y.lines - x.lines)
  const result: TemporalResult = {
    logs,
    baseline,
    lines: t.lines,
    untimed: t.profile.untimed,
    profiles,
    exposure: (() => {
      const e = t.profile.exposure()
      return { hours: Array.from(e.hours), weekdays: Array.from(e.days), clock_hours: e.buckets.size }
    })(),
    flags,
    against: b === undefined ? "own hours" : "baseline"
  }
  const md = [
    `# Temporal profile of ${logs.map((f) => path.basename(f)).join(", ")}`,
    "",
    `${t.profile.lines} timed lines (${t.profile.untimed} without a time) over ${t.profile.bucketLines.size} clock hours; templates of bundle ${bundle.spec.run}. ` +
      (b === undefined ? "Flags: clock hours where a template's rate is far above its rate in the other hours." : `Flags against the baseline ${baseline.map((f) => path.basename(f)).join(", ")}.`),
    "",
    `## Flags (${flags.length})`,
    "",
    "| template | kind | at | count | expected | z |",
    "| --- | --- | --- | ---: | ---: | ---: |",
    ...flags.map((f) => `| \`${f.template.replaceAll("|", "\\|")}\` | ${f.kind} | ${f.at} | ${f.count} | ${f.expected ?? "-"} | ${f.z ?? "-"} |`),
    "",
    "## Profiles (lines per hour of day, UTC)",
    "",
    `| template | lines | ${Array.from({ length: 24 }, (_, h) => String(h)).join(" | ")} |`,
    `| --- | ---: | ${Array.from({ length: 24 }, () => "---:").join(" | ")} |`,
    ...profiles.slice(0, 50).map((p) => `| \`${p.template.replaceAll("|", "\\|")}\` | ${p.lines} | ${p.hours.join(" | ")} |`),
    ""
  ].join("\n")
  writeFolderWhole(out, { "analysis.json": `${JSON.stringify(result, null, 2)}\n`, "report.md": md })
  return result
}
