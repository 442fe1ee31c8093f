/**
 * `flow status`: each selected run is complete (its results match their manifest), incomplete (a
 * result folder whose manifest is missing or does not match its files: edited, truncated or
 * deleted; the reason is shown), failed (a failure recorded in its result folder) or missing
 * (never run, or interrupted before finishing), read from the results folder of its current
 * fingerprint; plus the command that reruns what is not complete.
 */
import { Console, Effect } from "effect"
import { Command } from "effect/cli"
import * as fs from "node:fs"
import * as path from "node:path"
import { ArtifactStore } from "../../cache/ArtifactStore.ts"
import { prepareFlow } from "../../flows/Flow.ts"
import type { Plan } from "../../flows/Plan.ts"
import { folderStatus, type RunFolderStatus } from "../../flows/Results.ts"
import { flowOptions, handleErrors, json, selection, withCache } from "./shared.ts"

export interface RunStatus {
  readonly run: string
  readonly experiment: string
  readonly fingerprint: string
  readonly status: RunFolderStatus
  /** Why the run failed (failed). */
  readonly error?: string
  /** What is wrong with the folder (incomplete). */
  readonly reason?: string
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
      ...(s.error === undefined ? {} : { error: s.error }),
      ...(s.reason === undefined ? {} : { reason: s.reason })
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
    // Cache entries of these runs found corrupt when read (the next run recomputes them).
    const keys = new Set(plan.nodes.map((n) => n.key))
    const corrupt = fs.existsSync(path.join(path.resolve(args.cacheDir), "data.mdb"))
      ? (yield* withCache(args.cacheDir, Effect.flatMap(ArtifactStore, (s) => s.list()))).filter((e) => keys.has(e.key) && e.corrupt !== undefined)
      : []
    const corruptView = corrupt.map((e) => ({ key: e.key, stage: e.stage, reason: e.corrupt?.reason }))
    if (args.json) return yield* Console.log(JSON.stringify({ runs: statuses, rerun: rerun ?? null, corrupt_cache_entries: corruptView }, null, 2))
    const count = (s: string) => statuses.filter((x) => x.status === s).length
    const lines = statuses.map((s) => {
      const why = s.error ?? s.reason
      return `${s.status.padEnd(10)}  ${s.run}  ${s.fingerprint}${why === undefined ? "" : `  ${why}`}`
    })
    lines.push(`${statuses.length} runs: ${count("complete")} complete, ${count("missing")} missing, ${count("failed")} failed, ${count("incomplete")} incomplete`)
    if (rerun !== undefined) lines.push(`rerun: ${rerun}`)
    for (const e of corruptView) lines.push(`corrupt cache entry ${e.key.slice(0, 12)} (${e.stage}): ${e.reason}; the next flow run recomputes it`)
    yield* Console.log(lines.join("\n"))
  }, handleErrors)
).pipe(Command.withDescription("Which runs are complete, incomplete, missing or failed, and the command that reruns the rest"))
