/**
 * `flow status`: each selected run is complete (metrics written), failed (a failure recorded in
 * its result folder) or missing (never run, or interrupted before finishing), read from the
 * results folder of its current fingerprint; plus the command that reruns what is not complete.
 */
import { Console, Effect } from "effect"
import { Command } from "effect/cli"
import { prepareFlow } from "../../flows/Flow.ts"
import type { Plan } from "../../flows/Plan.ts"
import { folderStatus, type RunFolderStatus } from "../../flows/Results.ts"
import { flowOptions, handleErrors, json, selection } from "./shared.ts"

export interface RunStatus {
  readonly run: string
  readonly experiment: string
  readonly fingerprint: string
  readonly status: RunFolderStatus
  readonly error?: string
}

/** Status of every run of the plan. */
export const runStatuses = (plan: Plan, resultsDir: string): Array<RunStatus> =>
  plan.runs.map((r) => {
    const s = folderStatus(resultsDir, r)
    return {
      run: r.spec.name,
      experiment: r.spec.experiment,
      fingerprint: r.fingerprint,
      status: s.status,
      ...(s.error === undefined ? {} : { error: s.error })
    }
  })

/** The `flow run` command that reruns exactly the runs that are not complete. */
export const rerunCommand = (registryFile: string, statuses: ReadonlyArray<RunStatus>, extraArgs: ReadonlyArray<string>): string | undefined => {
  const runs = statuses.filter((s) => s.status !== "complete").map((s) => s.run)
  if (runs.length === 0) return undefined
  const quote = (s: string) => (/^[\w./:=@+-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`)
  return ["flow", "run", registryFile, ...runs.flatMap((r) => ["--run", r]), ...extraArgs].map(quote).join(" ")
}

export const statusCommand = Command.make(
  "status",
  { ...selection, json },
  Effect.fn("cli.status")(function*(args) {
    const options = flowOptions(args)
    const { plan } = yield* prepareFlow(options)
    const statuses = runStatuses(plan, options.resultsDir)
    const extra = [
      ...(args.cacheDir === ".cache" ? [] : ["--cache-dir", args.cacheDir]),
      ...(args.resultsDir === "results" ? [] : ["--results-dir", args.resultsDir]),
      ...(args.dataRoot === "data" ? [] : ["--data-root", args.dataRoot])
    ]
    const rerun = rerunCommand(args.registry, statuses, extra)
    if (args.json) return yield* Console.log(JSON.stringify({ runs: statuses, rerun: rerun ?? null }, null, 2))
    const count = (s: string) => statuses.filter((x) => x.status === s).length
    const lines = statuses.map((s) => `${s.status.padEnd(8)}  ${s.run}  ${s.fingerprint}${s.error === undefined ? "" : `  ${s.error}`}`)
    lines.push(`${statuses.length} runs: ${count("complete")} complete, ${count("missing")} missing, ${count("failed")} failed`)
    if (rerun !== undefined) lines.push(`rerun: ${rerun}`)
    yield* Console.log(lines.join("\n"))
  }, handleErrors)
).pipe(Command.withDescription("Which runs are complete, missing or failed, and the command that reruns the rest"))
