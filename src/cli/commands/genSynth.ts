/**
 * `flow gen-synth --out FILE [--lines N] [--anomaly-rate R] [--seed S]`: a synthetic syslog-style
 * log with labelled injected anomalies (src/presets/Synth.ts), and its labels beside it
 * (`FILE.labels.csv`: LineId, Label, Kind). Both files are written whole or not at all; bad options
 * exit 2 naming the option.
 */
import { Console, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { writeWhole } from "../../runtime/Folders.ts"
import { ANOMALY_KINDS, generateSynth, synthLabelsCsv, synthProblems } from "../../presets/Synth.ts"
import { fail, handleErrors } from "./shared.ts"

export const genSynthCommand = Command.make(
  "gen-synth",
  {
    out: Flag.String("out").pipe(Flag.withDescription("The log file to write (labels go to FILE.labels.csv)")),
    lines: Flag.Int("lines").pipe(Flag.withDescription("Lines to write (default 10000)"), Flag.withDefault(10_000)),
    anomalyRate: Flag.Finite("anomaly-rate").pipe(Flag.withDescription("Share of lines in injected anomalies, 0 to 0.5 (default 0.05)"), Flag.withDefault(0.05)),
    seed: Flag.Int("seed").pipe(Flag.withDescription("Seed: the same seed, the same bytes (default 1)"), Flag.withDefault(1))
  },
  Effect.fn("cli.genSynth")(function*(args) {
    const options = { lines: args.lines, anomalyRate: args.anomalyRate, seed: args.seed }
    const problems = synthProblems(options)
    if (problems.length > 0) return yield* fail(problems.join("\n"))
    const log = generateSynth(options)
    writeWhole(args.out, log.lines.join("\n") + "\n")
    writeWhole(`${args.out}.labels.csv`, synthLabelsCsv(log))
    const byKind = ANOMALY_KINDS.map((k) => `${k} ${log.labels.filter((x) => x === k).length}`).join(", ")
    const anomalous = log.labels.filter((x) => x !== null).length
    yield* Console.log(`${args.out}: ${log.lines.length} lines, ${anomalous} anomalous (${byKind}); labels in ${args.out}.labels.csv; read it with --preset Linux`)
  }, handleErrors)
)
