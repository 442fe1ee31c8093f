/**
 * `flow parse FILE --preset NAME`: parse and mine one log file with a LogHub preset
 * (src/presets/ParseFile.ts, which streams it), print what it found, and with `--out` write
 * LogHub-style `<name>_structured.csv` and `<name>_templates.csv`.
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { parseFile } from "../../presets/ParseFile.ts"
import { PARSER_PRESETS } from "../../tasks/ParseStage.ts"
import { handleErrors, json } from "./shared.ts"

export const parseCommand = Command.make(
  "parse",
  {
    file: Argument.String("file").pipe(Argument.withDescription("A log file")),
    preset: Flag.String("preset").pipe(Flag.withDescription(`LogHub preset: ${PARSER_PRESETS.join(", ")}`)),
    out: Flag.String("out").pipe(Flag.withDescription("Write <name>_structured.csv and <name>_templates.csv here"), Flag.optional),
    json
  },
  Effect.fn("cli.parse")(function*(args) {
    const out = Option.getOrUndefined(args.out)
    // Read asynchronously, chunk by chunk: Ctrl-C aborts it at the next chunk, and the command
    // waits for it to remove its temporary files before it ends, writing nothing.
    const controller = new AbortController()
    const parsing = parseFile(args.file, { preset: args.preset, signal: controller.signal, ...(out === undefined ? { write: false } : { outDir: out }) })
    const summary = yield* Effect.tryPromise({ try: () => parsing, catch: (e) => (e instanceof Error ? e : new Error(String(e))) }).pipe(
      Effect.onInterrupt(() =>
        Effect.promise(() => {
          controller.abort(new Error("interrupted"))
          return parsing.catch(() => undefined)
        })
      )
    )
    const view = {
      file: summary.file,
      preset: summary.preset,
      lines: summary.lines,
      parsed_lines: summary.parsedLines,
      unparsed_lines: summary.unparsed.count,
      unparsed_by_reason: summary.unparsed.byReason,
      templates: summary.templates,
      seconds: Number(summary.seconds.toFixed(3)),
      structured_csv: summary.structuredCsv,
      templates_csv: summary.templatesCsv
    }
    if (args.json) {
      yield* Console.log(JSON.stringify(view, null, 2))
      return
    }
    yield* Console.log(
      `${summary.file} (${summary.preset}): ${summary.lines} lines, ${summary.templates} templates, ` +
        `${summary.unparsed.count} unparsed, ${summary.seconds.toFixed(2)} s` +
        (summary.structuredCsv === null ? "" : `\nwrote ${summary.structuredCsv}\nwrote ${summary.templatesCsv}`)
    )
  }, handleErrors)
).pipe(Command.withDescription("Parse and mine one log file with a preset; write LogHub-style CSVs with --out"))
