/**
 * `flow train --from BUNDLE LOG... --out DIR [--epochs N] [--cache-dir DIR]` (src/flows/Retrain.ts):
 * a bundle's miner and model go on learning from new normal logs; the result is a new bundle. A
 * cached stage: the same bundle, logs and settings again write the stored result. Bad input (a
 * bundle that does not check out, a detector that cannot continue, a log the parser cannot read)
 * is one `error:` line and exit 2, with nothing written.
 */
import { Console, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as path from "node:path"
import { loadBundle } from "../../flows/Bundle.ts"
import { retrainBundle } from "../../flows/Retrain.ts"
import { cacheDir, fail, handleErrors, withCache } from "./shared.ts"

export const trainCommand = Command.make(
  "train",
  {
    from: Flag.String("from").pipe(Flag.withDescription("The bundle to continue from (flow bundle)")),
    logs: Argument.String("log").pipe(Argument.withDescription("New normal logs to learn from"), Argument.atLeast(1)),
    out: Flag.String("out").pipe(Flag.withDescription("The new bundle folder")),
    epochs: Flag.Int("epochs").pipe(Flag.withDescription("More epochs for a neural model (default 1)"), Flag.withDefault(1)),
    cacheDir
  },
  Effect.fn("cli.train")(function*(args) {
    if (args.epochs < 1) return yield* fail(`--epochs must be >= 1, got ${args.epochs}`)
    const bundle = loadBundle(path.resolve(args.from))
    if ("error" in bundle) return yield* fail(bundle.error)
    const r = yield* withCache(args.cacheDir, retrainBundle(bundle, args.logs, path.resolve(args.out), args.epochs))
    yield* Console.log(
      `${r.cached ? "cached" : "trained"}: ${r.spec.detector.tag} of ${r.spec.run} continued on ${r.lines} lines (${r.sequences} sequences, ${r.newTemplates} new templates, ${r.spec.vocabulary.length} in all); wrote ${r.dir}`
    )
  }, handleErrors)
).pipe(Command.withDescription("Continue a bundle's miner and model on new normal logs (a cached stage) and write a new bundle"))
