/**
 * Which nodes a flow recomputes even when the cache holds them: `--force` recomputes every run's
 * fit, score and evaluate (preprocessing is kept), `--force-stage S` every node of stage S and
 * everything downstream of it. Pure over the plan.
 */
import { upstream } from "../tasks/Task.ts"
import type { Plan } from "./Plan.ts"

export interface ForceOptions {
  /** Recompute fit, score and evaluate of every run. */
  readonly force: boolean
  /** Recompute every node of this stage and everything downstream of it. */
  readonly forceStage?: string | undefined
}

/** The keys to recompute. */
export const forcedKeys = (plan: Plan, options: ForceOptions): ReadonlySet<string> => {
  const forced = new Set<string>()
  if (options.force) for (const r of plan.runs) for (const n of [r.nodes.fit, r.nodes.score, r.nodes.evaluate]) forced.add(n.key)
  if (options.forceStage !== undefined) {
    // plan.nodes is topological: a node is forced when its stage is named or an input is forced.
    for (const n of plan.nodes) {
      if (n.stage.name === options.forceStage || upstream(n).some((i) => forced.has(i.key))) forced.add(n.key)
    }
  }
  return forced
}
