/**
 * Stage `parse`: a raw log file to a columnar `ParsedLog` with a LogHub-style format
 * (`<Date> <Time> <Level> <Component>: <Content>`), read as bytes so invalid UTF-8, NUL bytes and
 * over-long lines are counted (with their reason) rather than silently mangled. `preset = "HDFS"`
 * takes the system's format, line handling and timestamp rule; keys given beside it override
 * them. Lines that do not parse are counted and sampled for the manifest, never fatal;
 * `multiline = "continuation"` makes them continue the event before them instead (counted too).
 */
import { Schema } from "effect"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import { compileFormat, multilineProblem, type ParseOptions } from "../parsing/LogFormat.ts"
import { parseLogFile } from "../parsing/ParseFileStream.ts"
import { compileTimestamp, type TimestampSpec } from "../parsing/Timestamp.ts"
import { getPreset, SYSTEMS } from "../presets/Presets.ts"
import type { ParsedLog } from "../artifacts/Log.ts"
import { readSourceStreamed } from "../sources/Source.ts"
import type { SourceFile } from "../artifacts/Source.ts"
import { defineStage } from "./Task.ts"

const check = (f: () => unknown) => {
  try {
    f()
    return true
  } catch (e) {
    return e instanceof Error ? e.message : String(e)
  }
}

const TimestampParams = closedStruct({
  /** Header fields and their patterns, e.g. [{ field = "Date", pattern = "yyMMdd" }, { field = "Time", pattern = "HHmmss" }]. */
  parts: Schema.NonEmptyArray(closedStruct({ field: Schema.NonEmptyString, pattern: Schema.NonEmptyString })),
  /** For formats without a year: the year of the first line. */
  assume_year: Schema.optionalKey(Schema.Int)
})

export const ParseParams = closedStruct({
  /** A LogHub system: its format, line handling and timestamp rule. */
  preset: Schema.optionalKey(Schema.String.check(Schema.makeFilter((p: string) => check(() => getPreset(p))))),
  /** LogHub-style format; must contain `<Content>`. */
  format: Schema.optionalKey(Schema.String.check(Schema.makeFilter((f: string) => check(() => compileFormat(f))))),
  /** Strip whitespace around each line before matching (logparser's `line.strip()`). */
  trim: Schema.optionalKey(Schema.Boolean),
  /** How bytes become text: utf8 (invalid bytes make the line unparsed) or latin1. */
  encoding: Schema.optionalKey(Schema.Literals(["utf8", "latin1"])),
  /** Longer lines are counted as unparsed (`too_long`). */
  max_line_bytes: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  /** How to build each row's time from header fields; `false` turns a preset's rule off. */
  timestamp: Schema.optionalKey(Schema.Union([TimestampParams, Schema.Literal(false)])),
  /** "continuation": a line that does not match the format continues the event before it (LogFormat's `Multiline`). */
  multiline: Schema.optionalKey(Schema.Literals(["none", "continuation"]))
}).check(
  Schema.makeFilter((p) => {
    if (p.preset === undefined && p.format === undefined) return { path: ["format"], issue: "give a format or a preset" }
    if (p.multiline !== undefined) {
      const problem = multilineProblem(compileFormat(p.format ?? getPreset(p.preset!).format), p.multiline)
      if (problem !== undefined) return { path: ["multiline"], issue: problem }
    }
    const t = p.timestamp
    if (t !== undefined && t !== false) {
      const ok = check(() => compileTimestamp(timestampSpec(t)))
      if (ok !== true) return { path: ["timestamp"], issue: ok }
      const fields = compileFormat(p.format ?? getPreset(p.preset!).format).fieldNames
      const missing = t.parts.find((x) => !fields.includes(x.field))
      if (missing !== undefined) return { path: ["timestamp"], issue: `field "${missing.field}" is not in the format (fields: ${fields.join(", ")})` }
    }
    return true
  })
)
export type ParseParams = typeof ParseParams.Type

const timestampSpec = (t: { readonly parts: ReadonlyArray<{ field: string; pattern: string }>; readonly assume_year?: number }): TimestampSpec => ({
  parts: t.parts,
  ...(t.assume_year === undefined ? {} : { assumeYear: t.assume_year })
})

/** The format and parse options a parse config stands for: the preset's, then every key given. */
export const parseSettings = (p: ParseParams): { format: string; options: ParseOptions } => {
  const preset = p.preset === undefined ? undefined : getPreset(p.preset)
  const timestamp = p.timestamp === false ? undefined : p.timestamp !== undefined ? timestampSpec(p.timestamp) : preset?.timestamp
  const options: ParseOptions = {
    ...(preset?.line ?? {}),
    ...(p.trim === undefined ? {} : { trim: p.trim }),
    ...(p.encoding === undefined ? {} : { encoding: p.encoding }),
    ...(p.max_line_bytes === undefined ? {} : { maxLineBytes: p.max_line_bytes }),
    ...(timestamp === undefined ? {} : { timestamp }),
    ...(p.multiline === undefined ? {} : { multiline: p.multiline })
  }
  return { format: p.format ?? preset!.format, options }
}

/** Whether rows of this parse config get timestamps (time windows need them). */
export const hasTimestamps = (p: ParseParams): boolean => parseSettings(p).options.timestamp !== undefined

/** Preset names, for messages. */
export const PARSER_PRESETS = SYSTEMS

export const parseStage = defineStage<ParseParams, { readonly source: SourceFile }, ParsedLog>({
  name: "parse",
  version: "3",
  params: ParseParams,
  cpu: true,
  run: (params, { source }, ctx) => {
    const { format, options } = parseSettings(params)
    const compiled = compileFormat(format)
    ctx.progress(0.1, "parsing")
    // Streamed: the file is never held whole (its digest is checked first, in chunks).
    return readSourceStreamed(ctx, source, (file) => parseLogFile(file, compiled, options))
  },
  summarize: (out, params) => {
    let timed = 0
    if (out.timestamps !== undefined) for (const t of out.timestamps) if (!Number.isNaN(t)) timed++
    return {
      parser: params,
      format: parseSettings(params).format,
      raw_lines: out.rawLines,
      parsed_lines: out.lineNo.length,
      unparsed_lines: out.unparsed.count,
      unparsed_by_reason: "byReason" in out.unparsed ? out.unparsed.byReason : undefined,
      unparsed_samples: out.unparsed.samples,
      ...(out.continuationLines === undefined ? {} : { continuation_lines: out.continuationLines }),
      fields: out.fields.map((f) => f.name),
      timestamped_rows: out.timestamps === undefined ? null : timed
    }
  }
})
