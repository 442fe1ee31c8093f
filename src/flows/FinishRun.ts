/**
 * The end of a run in a flow, once its evaluate node is settled: a failed or skipped run records
 * its failure (the stage that failed and the log) in its result folder; a complete folder (one
 * that matches its manifest) is kept unless one of the run's nodes was recomputed on purpose
 * (forced, uncached); otherwise the run's results are written from the cache, and when a folder
 * was there but did not match its manifest, the run's log says what was wrong with it.
 */
import { Effect, Option } from "effect"
import { ArtifactStore } from "../cache/ArtifactStore.ts"
import type { Node } from "../tasks/Task.ts"
import type { FlowEvents } from "./Events.ts"
import type { NodeOutcome, RunOutcome } from "./Outcomes.ts"
import { type PlannedRun, runNodeList } from "./Plan.ts"
import { checkedFolders, folderStatus, writeFailure, writeResults } from "./Results.ts"
import { WarmState } from "../runtime/WarmState.ts"
import type { RunLog } from "./RunLog.ts"

export interface FinishContext {
  readonly resultsDir: string
  /** The flow's store (uncached outputs included). */
  readonly store: ArtifactStore["Service"]
  readonly events: FlowEvents["Service"]
  readonly log: RunLog
  /** The error of every node that failed in this flow, by key. */
  readonly failedKeys: ReadonlyMap<string, string>
  /** Whether a node was recomputed on purpose, so a complete result folder must be rewritten. */
  readonly rewrite: (n: Node) => boolean
  readonly environment: () => unknown
}

/** Record how `run` ended, given its evaluate node's outcome. */
export const finishRun = (run: PlannedRun, outcome: NodeOutcome, c: FinishContext): Effect.Effect<RunOutcome> =>
  Effect.gen(function*() {
    const base = { run: run.spec.name, fingerprint: run.fingerprint }
    const nodes = runNodeList(run)
    if (outcome.status === "failed" || outcome.status === "skipped") {
      const failedNode = nodes.find((n) => c.failedKeys.has(n.key))
      const error = failedNode === undefined
        ? `evaluate ${outcome.status}${outcome.error === undefined ? "" : `: ${outcome.error}`}`
        : `stage ${failedNode.stage.name} failed: ${c.failedKeys.get(failedNode.key)}`
      yield* writeFailure(c.resultsDir, run, c.log.linesOf(nodes), error, failedNode?.stage.name, c.environment).pipe(Effect.ignore)
      yield* c.events.emit({ _tag: "RunFailed", run: run.spec.name, error })
      return { ...base, status: "failed", error } satisfies RunOutcome
    }
    const forced = nodes.some(c.rewrite)
    if (!forced) {
      const warm = yield* Effect.serviceOption(WarmState)
      const folder = folderStatus(c.resultsDir, run, Option.isSome(warm) ? warm.value.memo(checkedFolders) : undefined)
      if (folder.status === "complete") {
        yield* c.events.emit({ _tag: "RunWritten", run: run.spec.name, dir: run.fingerprint, status: "complete" })
        return { ...base, status: "complete" } satisfies RunOutcome
      }
      // RunWritten has no place for a reason: the rewritten folder's run.log says why.
      if (folder.status === "incomplete") c.log.note(run.nodes.evaluate, `result folder incomplete (${folder.reason}): rewriting it`)
    }
    return yield* writeResults(c.resultsDir, run, c.log.linesOf(nodes), c.environment, { replaceEqual: forced }).pipe(
      Effect.provideService(ArtifactStore, c.store),
      Effect.tap((dir) => c.events.emit({ _tag: "RunWritten", run: run.spec.name, dir, status: "written" })),
      Effect.map((dir): RunOutcome => ({ ...base, status: "written", dir })),
      Effect.catch((e) =>
        c.events.emit({ _tag: "RunFailed", run: run.spec.name, error: e.message }).pipe(
          Effect.as({ ...base, status: "failed", error: e.message } satisfies RunOutcome)
        )
      )
    )
  })
