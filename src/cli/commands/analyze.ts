/**
 * `flow analyze compare TARGET... --baseline LOG... --bundle B` and `flow analyze temporal LOG...
 * --bundle B [--baseline LOG...]` (src/flows/Analyze.ts): a log's template distribution against a
 * baseline's, and when each template is active. Templates come from the bundle (by text). Bad input
 * (a bundle that does not check out, a log the parser cannot read, a format without times for
 * `temporal`) is one `error:` line and exit 2, with nothing written.
 */
import { Console, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as path from "node:path"
import { analyzeCompare, analyzeTemporal } from "../../flows/Analyze.ts"
import { loadBundle } from "../../flows/Bundle.ts"
import { fail, handleErrors, json } from "./shared.ts"

const bundleFlag = Flag.String("bundle").pipe(Flag.withDescription("The bundle whose parser and templates read the logs (flow bundle)"))
const outFlag = Flag.String("out").pipe(Flag.withDescription("Folder for analysis.json and report.md"), Flag.withDefault("analysis"))

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)))

const load = (dir: string) =>
  Effect.gen(function*() {
    const bundle = loadBundle(path.resolve(dir))
    if ("error" in bundle) return yield* fail(bundle.error)
    return bundle
  })

const analyzeCompareCommand = Command.make(
  "compare",
  {
    target: Argument.String("target").pipe(Argument.withDescription("The log(s) to compare"), Argument.atLeast(1)),
    baseline: Flag.String("baseline").pipe(Flag.withDescription("A baseline log (repeatable)"), Flag.atLeast(1)),
    bundle: bundleFlag,
    out: outFlag,
    json
  },
  Effect.fn("cli.analyzeCompare")(function*(args) {
    const bundle = yield* load(args.bundle)
    const r = yield* Effect.tryPromise({ try: () => analyzeCompare(bundle, args.target, args.baseline, path.resolve(args.out)), catch: asError })
    if (args.json) return yield* Console.log(JSON.stringify(r, null, 2))
    const c = r.comparison
    yield* Console.log(
      `target ${c.target_lines} lines, ${c.templates.target} templates; baseline ${c.baseline_lines} lines, ${c.templates.baseline} templates; ` +
        `cosine ${c.cosine.toFixed(4)}, KL ${c.kl.toFixed(4)}, JS ${c.js.toFixed(4)}; ${c.new_templates.length} new, ${c.vanished_templates.length} vanished; wrote ${path.resolve(args.out)}`
    )
  }, handleErrors)
).pipe(Command.withDescription("Compare a log's template distribution with a baseline's: cosine, KL and JS divergence, new and vanished templates, largest shifts"))

const analyzeTemporalCommand = Command.make(
  "temporal",
  {
    logs: Argument.String("log").pipe(Argument.withDescription("The log(s) to profile"), Argument.atLeast(1)),
    baseline: Flag.String("baseline").pipe(Flag.withDescription("A baseline log (repeatable): flags against its rates; without one, against the log's own other hours"), Flag.atLeast(0)),
    bundle: bundleFlag,
    out: outFlag,
    json
  },
  Effect.fn("cli.analyzeTemporal")(function*(args) {
    const bundle = yield* load(args.bundle)
    const r = yield* Effect.tryPromise({ try: () => analyzeTemporal(bundle, args.logs, args.baseline, path.resolve(args.out)), catch: asError })
    if (args.json) return yield* Console.log(JSON.stringify(r, null, 2))
    const kinds = [...new Set(r.flags.map((f) => f.kind))].map((k) => `${k} ${r.flags.filter((f) => f.kind === k).length}`).join(", ")
    yield* Console.log(`${r.lines} lines over ${r.exposure.clock_hours} clock hours, ${r.profiles.length} templates; ${r.flags.length} flags against ${r.against}${kinds === "" ? "" : ` (${kinds})`}; wrote ${path.resolve(args.out)}`)
  }, handleErrors)
).pipe(Command.withDescription("Hour-of-day and day-of-week profiles per template, with unusual activity flagged"))

export const analyzeCommand = Command.make("analyze").pipe(
  Command.withDescription("Analyses of logs through a bundle's templates: compare, temporal"),
  Command.withSubcommands([analyzeCompareCommand, analyzeTemporalCommand])
)
