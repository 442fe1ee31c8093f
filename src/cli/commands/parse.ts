/**
 * `flow parse FILE (--preset NAME | --format FORMAT) [--multiline continuation] [--truth CSV]
 * [--out DIR] [--threads 1|2] [--json]`: parse and mine one log file with a LogHub preset, or with a format and
 * the generic miner (src/presets/ParseFile.ts, which streams it), print what it found, score it
 * against a LogHub `*_structured.csv` with `--truth`, and with `--out` write LogHub-style
 * `<name>_structured.csv` and `<name>_templates.csv`. More than 10% of lines unparsed is a
 * warning (the share and the first such line); none parsed is an error (exit 2, nothing written).
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { parseFile, ParseFileInputError, type ParseFileSummary } from "../../presets/ParseFile.ts"
import type { TruthScores } from "../../presets/Truth.ts"
import { PARSER_PRESETS } from "../../tasks/ParseStage.ts"
import { handleErrors, json } from "./shared.ts"

const USAGE =
  "usage: flow parse FILE (--preset NAME | --format FORMAT) [--multiline continuation] [--truth STRUCTURED_CSV] [--out DIR] [--threads 1|2] [--json]  (flow parse --help for more)"

/** Share of unparsed lines above which the command warns. */
const WARN_UNPARSED = 0.1

export const parseCommand = Command.make(
  "parse",
  {
    file: Argument.String("file").pipe(Argument.withDescription("A log file")),
    preset: Flag.String("preset").pipe(Flag.withDescription(`LogHub preset: ${PARSER_PRESETS.join(", ")}`), Flag.optional),
    format: Flag.String("format").pipe(
      Flag.withDescription("A LogHub-style format instead of a preset, e.g. '<Date> <Time> <Level>: <Content>' (mined with the generic miner)"),
      Flag.optional
    ),
    multiline: Flag.Literals("multiline", ["none", "continuation"]).pipe(
      Flag.withDescription("continuation: a line that does not match the format continues the event before it (tracebacks)"),
      Flag.optional
    ),
    truth: Flag.String("truth").pipe(Flag.withDescription("A LogHub *_structured.csv (LineId, EventTemplate): print GA, FGA, PA and FTA"), Flag.optional),
    out: Flag.String("out").pipe(Flag.withDescription("Write <name>_structured.csv and <name>_templates.csv here"), Flag.optional),
    threads: Flag.Literals("threads", ["1", "2"]).pipe(
      Flag.withDescription("2: a second thread reads and matches lines while this one mines (same results; default 2 for files of 64 MiB or more on two or more cores)"),
      Flag.optional
    ),
    json
  },
  Effect.fn("cli.parse")(function*(args) {
    const preset = Option.getOrUndefined(args.preset)
    const format = Option.getOrUndefined(args.format)
    if ((preset === undefined) === (format === undefined)) {
      yield* Console.error(`error: ${preset === undefined ? "give --preset NAME or --format FORMAT" : "give --preset or --format, not both"}\n${USAGE}`)
      process.exitCode = 2
      return
    }
    const out = Option.getOrUndefined(args.out)
    const multiline = Option.getOrUndefined(args.multiline)
    const truth = Option.getOrUndefined(args.truth)
    const threads = Option.getOrUndefined(args.threads)
    // Read asynchronously, chunk by chunk: Ctrl-C aborts it at the next chunk, and the command
    // waits for it to remove its temporary files before it ends, writing nothing.
    const controller = new AbortController()
    const parsing = parseFile(args.file, {
      ...(preset === undefined ? {} : { preset }),
      ...(format === undefined ? {} : { format }),
      ...(multiline === undefined ? {} : { multiline }),
      ...(truth === undefined ? {} : { truth }),
      ...(threads === undefined ? {} : { threads: threads === "2" ? 2 : 1 }),
      signal: controller.signal,
      ...(out === undefined ? { write: false } : { outDir: out })
    })
    const summary = yield* Effect.tryPromise({ try: () => parsing, catch: inputError }).pipe(
      Effect.onInterrupt(() =>
        Effect.promise(() => {
          controller.abort(new Error("interrupted"))
          return parsing.catch(() => undefined)
        })
      )
    )
    const warnings = unparsedWarnings(summary)
    const noneParsed = summary.lines > 0 && summary.parsedLines === 0
    if (args.json) {
      yield* Console.log(JSON.stringify(jsonView(summary, warnings), null, 2))
    } else {
      for (const w of warnings) yield* Console.error(`warning: ${w}`)
      yield* Console.log(textView(summary))
    }
    if (noneParsed) {
      yield* Console.error(`error: no line of ${summary.file} matches the format ${JSON.stringify(summary.format)}; nothing written`)
      process.exitCode = 2
    }
  }, handleErrors)
).pipe(Command.withDescription("Parse and mine one log file with a preset or a format; score it with --truth; write LogHub-style CSVs with --out"))

/** A failure of `parseFile` as one line naming the flag it came from. */
const inputError = (e: unknown): Error => {
  if (e instanceof ParseFileInputError) return e.option === "file" ? e : new Error(`--${e.option}: ${e.message}`)
  return e instanceof Error ? e : new Error(String(e))
}

/** The unparsed-lines warning, when more than `WARN_UNPARSED` of the lines did not parse. */
const unparsedWarnings = (s: ParseFileSummary): Array<string> => {
  const u = s.unparsed
  if (s.lines === 0 || u.count / s.lines <= WARN_UNPARSED) return []
  const first = u.samples[0]
  return [
    `${u.count} of ${s.lines} lines (${percent(u.count / s.lines)}) did not parse` +
      (first === undefined ? "" : `; the first, line ${first.line} (${first.reason}): ${JSON.stringify(first.text)}`)
  ]
}

const percent = (x: number): string => `${(100 * x).toFixed(x < 0.001 || x > 0.999 ? 2 : 1)}%`

const jsonView = (s: ParseFileSummary, warnings: ReadonlyArray<string>) => ({
  file: s.file,
  preset: s.preset,
  format: s.format,
  multiline: s.multiline,
  lines: s.lines,
  parsed_lines: s.parsedLines,
  continuation_lines: s.continuationLines,
  unparsed_lines: s.unparsed.count,
  unparsed_by_reason: s.unparsed.byReason,
  templates: s.templates,
  accuracy: s.accuracy === null ? null : accuracyView(s.accuracy),
  warnings,
  seconds: Number(s.seconds.toFixed(3)),
  structured_csv: s.structuredCsv,
  templates_csv: s.templatesCsv
})

const accuracyView = (a: TruthScores) => ({
  truth: a.truth,
  lines: a.lines,
  unmatched_lines: a.unmatched,
  ga: a.ga,
  fga: { f1: a.fga.f1, precision: a.fga.precision, recall: a.fga.recall, correct: a.fga.correct, predicted: a.fga.predictedGroups, true: a.fga.trueGroups },
  pa: a.pa,
  fta: { f1: a.fta.f1, precision: a.fta.precision, recall: a.fta.recall, correct: a.fta.correct, predicted: a.fta.predictedTemplates, true: a.fta.trueTemplates }
})

const textView = (s: ParseFileSummary): string => {
  const lines = [
    `${s.file} (${s.preset ?? `format ${JSON.stringify(s.format)}`}): ${s.lines} lines, ${s.templates} templates, ` +
      `${s.unparsed.count} unparsed, ` + (s.multiline === "none" ? "" : `${s.continuationLines} continuation lines, `) + `${s.seconds.toFixed(2)} s`
  ]
  const a = s.accuracy
  if (a !== null) {
    const f = (x: number) => (Number.isNaN(x) ? "-" : x.toFixed(3))
    lines.push(
      `accuracy against ${a.truth} (${a.lines} lines${a.unmatched === 0 ? "" : `, ${a.unmatched} not parsed here`}): ` +
        `GA ${f(a.ga)}  FGA ${f(a.fga.f1)}  PA ${f(a.pa)}  FTA ${f(a.fta.f1)} (precision ${f(a.fta.precision)}, recall ${f(a.fta.recall)})`
    )
  }
  if (s.structuredCsv !== null) lines.push(`wrote ${s.structuredCsv}`, `wrote ${s.templatesCsv}`)
  return lines.join("\n")
}
