/**
 * `flow bundle RUN_DIR --out DIR [--cache-dir DIR]`: a finished run's parser settings, miner
 * state, model, threshold and vocabulary as one self-contained bundle (src/flows/Bundle.ts), and
 * `flow detect BUNDLE LOG... --out DIR [--json]`: new logs through it (src/flows/Detect.ts). Bad
 * input (a failed or unfinished run, a bundle whose files do not match its checksum manifest or
 * that another logflow version wrote, a log the bundle's parser cannot read) is one `error:` line
 * and exit 2, with nothing written.
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as path from "node:path"
import { createBundle, loadBundle } from "../../flows/Bundle.ts"
import { compareBundles, validateBundle } from "../../flows/BundleCheck.ts"
import { type DetectAlert, type DetectOptions, type DetectSummary, detectLogs } from "../../flows/Detect.ts"
import type { AlertPolicy } from "../../eval/Alerting.ts"
import { cacheDir, fail, handleErrors, json, withCache } from "./shared.ts"

const bundleMain = Command.make(
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
).pipe(Command.withDescription("Write a finished run's model as a bundle that `flow detect` applies to new logs; validate or compare bundles"))

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)))

const bundleValidate = Command.make(
  "validate",
  {
    bundle: Argument.String("bundle").pipe(Argument.withDescription("A bundle folder")),
    log: Flag.String("log").pipe(Flag.withDescription("A labelled log to measure accuracy on (labels in LOG.labels.csv or --labels)"), Flag.optional),
    labels: Flag.String("labels").pipe(Flag.withDescription("Labels: LineId,Label per line (- normal) or Id,Label per sequence id"), Flag.optional),
    json
  },
  Effect.fn("cli.bundleValidate")(function*(args) {
    const v = yield* Effect.tryPromise({ try: () => validateBundle(path.resolve(args.bundle), Option.getOrUndefined(args.log), Option.getOrUndefined(args.labels)), catch: asError })
    if (args.json) yield* Console.log(JSON.stringify(v, null, 2))
    else yield* Console.log([`${v.bundle}: quality ${v.score} / 100`, ...v.parts.map((p) => `  ${p.part.padEnd(10)} ${p.points === null ? "   -" : String(p.points).padStart(4)} / ${p.max}  ${p.detail}`)].join("\n"))
    // A bundle that does not check out is bad input: the report, then exit 2.
    if (v.parts.find((p) => p.part === "integrity")?.points === 0) process.exitCode = 2
  }, handleErrors)
).pipe(Command.withDescription("A bundle's quality out of 100: integrity, loading, stability over reloads, memory, and accuracy on a labelled log"))

const bundleCompare = Command.make(
  "compare",
  {
    a: Argument.String("a").pipe(Argument.withDescription("A bundle folder")),
    b: Argument.String("b").pipe(Argument.withDescription("Another bundle folder")),
    log: Flag.String("log").pipe(Flag.withDescription("The log both score")),
    labels: Flag.String("labels").pipe(Flag.withDescription("Labels for F1 (default LOG.labels.csv when there is one)"), Flag.optional),
    json
  },
  Effect.fn("cli.bundleCompare")(function*(args) {
    const c = yield* Effect.tryPromise({ try: () => compareBundles(path.resolve(args.a), path.resolve(args.b), args.log, Option.getOrUndefined(args.labels)), catch: asError })
    if (args.json) return yield* Console.log(JSON.stringify(c, null, 2))
    const rows = c.bundles.map((x) => [
      `${x.run} (${x.detector})`,
      String(x.summary.sequences),
      String(x.summary.flagged),
      `${x.summary.alerts} (${x.summary.alerts_by_kind.sequence}/${x.summary.alerts_by_kind.novelty})`,
      String(x.summary.novel_lines),
      x.summary.seconds.toFixed(2),
      x.accuracy === undefined ? "-" : x.accuracy.f1.toFixed(4)
    ])
    const head = ["bundle", "sequences", "flagged", "alerts (seq/novelty)", "novel lines", "seconds", "F1"]
    const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
    const line = (r: ReadonlyArray<string>) => r.map((x, i) => x.padEnd(width[i]!)).join("  ").trimEnd()
    yield* Console.log([line(head), ...rows.map(line), `same prediction on ${(100 * c.agreement.same_prediction).toFixed(1)}% of the ${c.agreement.sequences} sequences both scored`].join("\n"))
  }, handleErrors)
).pipe(Command.withDescription("Two bundles on one log side by side: sequences, flags, alerts, novel lines, time, F1, agreement"))

export const bundleCommand = bundleMain.pipe(Command.withSubcommands([bundleValidate, bundleCompare]))

/** "K/N" (e.g. 7/10) as the policy's K-of-N. */
const kOfN = (text: string): { k: number; n: number } | undefined => {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text)
  return m === null ? undefined : { k: Number(m[1]), n: Number(m[2]) }
}

export const detectCommand = Command.make(
  "detect",
  {
    bundle: Argument.String("bundle").pipe(Argument.withDescription("A bundle folder (flow bundle)")),
    logs: Argument.String("log").pipe(Argument.withDescription("Log files to score"), Argument.atLeast(1)),
    out: Flag.String("out").pipe(Flag.withDescription("Folder for scores.jsonl, alerts.jsonl, misses.jsonl, novel.jsonl, summary.json, report.md and report.html"), Flag.withDefault("detect")),
    follow: Flag.Boolean("follow").pipe(Flag.withDescription("Follow the logs as they grow (rotation included, like tail -F), printing alerts as they are raised, until interrupted; the outputs are written then"), Flag.withDefault(false)),
    topK: Flag.Int("top-k").pipe(Flag.withDescription("Judge a predictive detector's events by top-k (OK iff the true next template is among the k most likely)"), Flag.optional),
    topP: Flag.Finite("top-p").pipe(Flag.withDescription("Judge them by top-p instead (OK iff the probability mass ranked above the true template is below p)"), Flag.optional),
    kOfN: Flag.String("k-of-n").pipe(Flag.withDescription("K/N: alert when K of an entity's last N predictions failed (default 7/10 for events, 1/1 for sequences)"), Flag.optional),
    sessionGap: Flag.Finite("session-gap").pipe(Flag.withDescription("Seconds of log time after which an entity's session starts over (default 300)"), Flag.optional),
    cooldown: Flag.Finite("cooldown").pipe(Flag.withDescription("Seconds of log time during which a repeated alert of one signature is suppressed (default 60)"), Flag.optional),
    noveltyWindow: Flag.Finite("novelty-window").pipe(Flag.withDescription("Seconds of log time over which a novel template's lines of one entity make one alert (default 60)"), Flag.optional),
    noNovelty: Flag.Boolean("no-novelty").pipe(Flag.withDescription("No novelty alerts"), Flag.withDefault(false)),
    closeAfter: Flag.Finite("close-after").pipe(Flag.withDescription("Close an entity's sequence after this many seconds of log time without an event (default: the session gap; 0: only at the end)"), Flag.optional),
    context: Flag.Int("context").pipe(Flag.withDescription("Context lines before and after each sample line in the report (default 3)"), Flag.withDefault(3)),
    json
  },
  Effect.fn("cli.detect")(function*(args) {
    const bundle = loadBundle(path.resolve(args.bundle))
    if ("error" in bundle) return yield* fail(bundle.error)
    const kn = Option.getOrUndefined(args.kOfN)
    const parsedKn = kn === undefined ? undefined : kOfN(kn)
    if (kn !== undefined && parsedKn === undefined) return yield* fail(`--k-of-n must be K/N, e.g. 7/10; got ${JSON.stringify(kn)}`)
    if (Option.isSome(args.topK) && Option.isSome(args.topP)) return yield* fail("give --top-k or --top-p, not both")
    const policy: Partial<AlertPolicy> = {
      ...(Option.isSome(args.topK) ? { rule: "top_k" as const, top_k: args.topK.value } : {}),
      ...(Option.isSome(args.topP) ? { rule: "top_p" as const, top_p: args.topP.value } : {}),
      ...(parsedKn === undefined ? {} : { k_of_n: parsedKn }),
      ...(Option.isSome(args.sessionGap) ? { session_gap_s: args.sessionGap.value } : {}),
      ...(Option.isSome(args.cooldown) ? { cooldown_s: args.cooldown.value } : {}),
      ...(Option.isSome(args.noveltyWindow) ? { novelty_window_s: args.noveltyWindow.value } : {}),
      ...(args.noNovelty ? { novelty: false } : {})
    }
    const context = yield* Effect.context<never>()
    const say = (line: string) => Effect.runSyncWith(context)(Console.log(line))
    const options: DetectOptions = {
      follow: args.follow,
      policy,
      context: args.context,
      ...(Option.isSome(args.closeAfter) ? { closeAfterS: args.closeAfter.value } : {}),
      ...(args.follow ? { onAlert: (a: DetectAlert) => say(args.json ? JSON.stringify(a) : `alert ${a.kind} ${a.entity} ${path.basename(a.file)}:${a.line}${a.at === undefined ? "" : ` ${a.at}`}${a.kind === "novelty" ? ` "${a.template}" x${a.count}` : ` ${a.failures} of ${a.of} failed`}`) } : {})
    }
    const report = (summary: DetectSummary) =>
      Effect.gen(function*() {
        for (const w of summary.warnings) yield* Console.error(`warning: ${w}`)
        if (args.json && !args.follow) return yield* Console.log(JSON.stringify(summary, null, 2))
        yield* Console.log(
          `${summary.lines} lines read (${summary.parsed} parsed, ${summary.unparsed} unparsed), ${summary.novel_lines} lines of ${summary.novel_templates} novel templates; ` +
            `${summary.sequences} sequences scored (${summary.flagged} flagged), ${summary.alerts} alerts; wrote ${path.resolve(args.out)}`
        )
      })
    // Interrupted (Ctrl-C): a followed log stops reading and writes its outputs; a file read once writes nothing.
    const summary = yield* Effect.callback<DetectSummary, Error>((resume, signal) => {
      const stop = new AbortController()
      const done = detectLogs(bundle, args.logs, path.resolve(args.out), { ...options, signal: stop.signal })
      done.then((s) => resume(Effect.succeed(s)), (e: unknown) => resume(Effect.fail(e instanceof Error ? e : new Error(String(e)))))
      void signal
      return Effect.promise(() => {
        stop.abort()
        return done.then((s) => Effect.runPromiseWith(context)(report(s)), () => undefined)
      })
    })
    yield* report(summary)
  }, handleErrors)
).pipe(Command.withDescription("Score new logs with a bundle: alerts by the bundle's policy, scores, misses, novel templates, a summary and reports; --follow tails growing logs"))
