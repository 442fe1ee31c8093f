/**
 * `flow status`: each selected run is complete (metrics written), failed (a failure recorded in
 * its result folder) or missing (never run, or interrupted before finishing), read from the
 * results folder of its current fingerprint; plus the command that reruns what is not complete.
 */
import type { Plan } from "./Plan.ts"
import { folderStatus, type RunFolderStatus } from "./Results.ts"

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
