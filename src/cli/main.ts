/**
 * The `flow` command line: composes the commands (src/cli/commands, one file each) into one CLI
 * and starts it (src/startup/Start.ts: from source, from the start-up snapshot, or as the
 * resident daemon). A mistyped invocation prints one usage line and exits 2; `--help` prints
 * the full help.
 */
import { Console, Effect } from "effect"
import { CliOutput, Command } from "effect/cli"
import { start } from "../startup/Start.ts"
import { cacheCommand } from "./commands/cache.ts"
import { daemonCommand } from "./commands/daemon.ts"
import { exportOnnxCommand } from "./commands/exportOnnx.ts"
import { inspectCommand } from "./commands/inspect.ts"
import { listCommand } from "./commands/list.ts"
import { parseCommand } from "./commands/parse.ts"
import { planCommand } from "./commands/plan.ts"
import { runCommand } from "./commands/run.ts"
import { bundleCommand, detectCommand } from "./commands/bundle.ts"
import { genSynthCommand } from "./commands/genSynth.ts"
import { analyzeCommand } from "./commands/analyze.ts"
import { trainCommand } from "./commands/train.ts"
import { reportCommand, resultsCommand } from "./commands/results.ts"
import { statusCommand } from "./commands/status.ts"

const flow = Command.make("flow").pipe(
  Command.withDescription("logflow: reproducible log anomaly detection experiments as cached, parallel DAGs"),
  Command.withSubcommands([runCommand, listCommand, planCommand, statusCommand, resultsCommand, reportCommand, genSynthCommand, bundleCommand, detectCommand, trainCommand, analyzeCommand, inspectCommand, parseCommand, exportOnnxCommand, cacheCommand, daemonCommand])
)

/** An invalid invocation: what is wrong and one usage line, on stderr (the full help is one `--help` away). */
const usagePresenter: CliOutput.Presenter = {
  present: (event) =>
    event._tag === "InvalidInvocation"
      ? Console.error([
        ...event.errors.map((e) => `error: ${e.message.replace(/^\w/, (c) => c.toLowerCase())}`),
        `usage: ${event.helpDoc.usage}  (${["flow", ...event.commandPath.slice(1)].join(" ")} --help for more)`
      ].join("\n"))
      : CliOutput.defaultPresenter.present(event)
}

/** The CLI: arguments from `Stdio`; a mistyped invocation exits 2, help asked for or shown for a bare group exits 0. */
export const program = flow.pipe(
  Command.run({ version: "0.1.0" }),
  Effect.catchTag("ShowHelp", (e) => Effect.sync(() => void (process.exitCode = e.errors.length > 0 ? 2 : 0))),
  Effect.provide(CliOutput.layerPresenter(usagePresenter))
)

start(program)
