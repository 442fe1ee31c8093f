/**
 * How the nodes and runs of a flow ended, as the runner reports them: a node cached, done,
 * failed or skipped; a run's result folder written, already complete, or failed.
 */
import type { ConfigProblem } from "../executor/Executor.ts"

/** How a node ended in this flow. */
export type NodeStatus = "cached" | "done" | "failed" | "skipped"

export interface NodeOutcome {
  readonly status: NodeStatus
  readonly error?: string
  /** A failed node's stage found the dataset's config at odds with its data (`StageConfigError`). */
  readonly config?: ConfigProblem
}

/** How a run ended in this flow. */
export interface RunOutcome {
  readonly run: string
  readonly fingerprint: string
  readonly status: "written" | "complete" | "failed"
  readonly dir?: string
  readonly error?: string
}

export interface FlowReport {
  readonly nodes: ReadonlyMap<string, NodeOutcome>
  readonly runs: ReadonlyArray<RunOutcome>
  readonly counts: Readonly<Record<NodeStatus, number>>
}
