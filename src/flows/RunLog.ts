/**
 * The log lines of a flow, per node: what each stage did (started, cached, waited, resumed,
 * checkpointed, retried, failed, done), time-stamped. A run's `run.log` is the lines of its nodes,
 * upstream first, so a shared stage appears in the log of every run it served.
 */
import type { Node } from "../tasks/Task.ts"

export interface RunLog {
  /** Log a line about a node: its stage and key prefix, then `text`. */
  readonly note: (n: Node, text: string) => void
  /** The lines of these nodes, in node order. */
  readonly linesOf: (nodes: ReadonlyArray<Node>) => ReadonlyArray<string>
}

export const makeRunLog = (): RunLog => {
  const lines = new Map<string, Array<string>>()
  return {
    note: (n, text) => {
      const l = lines.get(n.key) ?? []
      l.push(`${new Date().toISOString()} ${n.stage.name} ${n.key.slice(0, 12)} ${text}`)
      lines.set(n.key, l)
    },
    linesOf: (nodes) => nodes.flatMap((n) => lines.get(n.key) ?? [])
  }
}
