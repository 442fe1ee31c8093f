/**
 * `flow bundle RUN_DIR --out DIR [--cache-dir DIR]`: a finished run's parser settings, miner
 * state, model, threshold and vocabulary as one self-contained bundle (src/flows/Bundle.ts), and
 * `flow detect BUNDLE LOG... --out DIR [--json]`: new logs through it (src/flows/Detect.ts). Bad
 * input (a failed or unfinished run, a bundle whose files do not match its checksum manifest or
 * that another logflow version wrote, a log the bundle's parser cannot read) is one `error:` line
 * and exit 2, with nothing written.
 */
import { Console, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as path from "node:path"
import { createBundle, loadBundle } from "../../flows/Bundle.ts"
import { DetectInputError, detectLogs } from "../../flows/Detect.ts"
import { cacheDir, fail, handleErrors, json, withCache } from "./shared.ts"

export const bundleCommand = Command.make(
  "bundle",
  {
    runDir: Argument.String("run-dir").pipe(Argument.withDescription("A finished run's result folder, results/<run>/<fingerprint>")),
    out: Flag.String("out").pipe(Flag.withDescription("The bundle folder to write")),
    cacheDir
  },
  Effect.fn("cli.bundle")(function*(args) {
    const r = yield* withCache(args.cacheDir, createBundle(path.resolve(args.runDir), path.resolve(args.out)))
    yield* Console.log(`wrote ${r.dir}: ${r.spec.detector.tag} of ${r.spec.run}, ${r.spec.vocabulary.length} templates, threshold ${r.spec.threshold === null ? "the detector's own" : `${r.spec.threshold.value} (${r.spec.threshold.basis})`}`)
  }, handleErrors)
).pipe(Command.withDescription("Write a finished run's model as a bundle that `flow detect` applies to new logs"))

export const detectCommand = Command.make(
  "detect",
  {
    bundle: Argument.String("bundle").pipe(Argument.withDescription("A bundle folder (flow bundle)")),
    logs: Argument.String("log").pipe(Argument.withDescription("Log files to score"), Argument.atLeast(1)),
    out: Flag.String("out").pipe(Flag.withDescription("Folder for scores.jsonl, alerts.jsonl, novel.jsonl, summary.json and report.html"), Flag.withDefault("detect")),
    json
  },
  Effect.fn("cli.detect")(function*(args) {
    const bundle = loadBundle(path.resolve(args.bundle))
    if ("error" in bundle) return yield* fail(bundle.error)
    const summary = yield* Effect.tryPromise({
      try: () => detectLogs(bundle, args.logs, path.resolve(args.out)),
      catch: (e) => (e instanceof DetectInputError ? e : e instanceof Error ? e : new Error(String(e)))
    })
    for (const w of summary.warnings) yield* Console.error(`warning: ${w}`)
    if (args.json) return yield* Console.log(JSON.stringify(summary, null, 2))
    yield* Console.log(
      `${summary.lines} lines read (${summary.parsed} parsed, ${summary.unparsed} unparsed), ${summary.novel_lines} lines of ${summary.novel_templates} novel templates; ` +
        `${summary.sequences} sequences scored, ${summary.alerts} alerts; wrote ${path.resolve(args.out)}`
    )
  }, handleErrors)
).pipe(Command.withDescription("Score new logs with a bundle: scores, alerts, novel templates, a summary and an HTML report"))
