/**
 * Views of a plan for `flow plan` and `flow list`: text, JSON (`{ runs, nodes }`) and Graphviz
 * DOT. Each node appears once however many runs share it, with its stage, key prefix and state
 * (cached / to run). Pure over the plan and the node states.
 */
import type { NodeState } from "../../flows/Flow.ts"
import { nodeLabels, type Plan, runNodeList } from "../../flows/Plan.ts"
import { type Node, upstream } from "../../tasks/Task.ts"

export interface PlanJson {
  readonly runs: ReadonlyArray<{
    readonly name: string
    readonly experiment: string
    readonly groups: ReadonlyArray<string>
    readonly fingerprint: string
    readonly axes: Readonly<Record<string, unknown>>
    readonly nodes: ReadonlyArray<string>
  }>
  readonly nodes: ReadonlyArray<{
    readonly key: string
    readonly stage: string
    readonly label: string
    readonly state: NodeState
    readonly inputs: ReadonlyArray<string>
    readonly runs: number
  }>
  readonly totals: {
    readonly runs: number
    readonly nodes: number
    readonly cached: number
    /** Uncached nodes included. */
    readonly to_run: number
    readonly uncached: number
    readonly unresolved: number
  }
}

/** The plan as plain data. */
export const planJson = (plan: Plan, states: ReadonlyMap<string, NodeState>): PlanJson => {
  const labels = nodeLabels(plan)
  const usage = new Map<string, number>()
  for (const r of plan.runs) for (const n of runNodeList(r)) usage.set(n.key, (usage.get(n.key) ?? 0) + 1)
  const nodes = plan.nodes.map((n) => ({
    key: n.key,
    stage: n.stage.name,
    label: labels.get(n.key) ?? n.stage.name,
    state: states.get(n.key) ?? "to run",
    inputs: upstream(n).map((i) => i.key),
    runs: usage.get(n.key) ?? 0
  }))
  const count = (state: NodeState) => nodes.filter((n) => n.state === state).length
  const cached = count("cached")
  return {
    runs: plan.runs.map((r) => ({
      name: r.spec.name,
      experiment: r.spec.experiment,
      groups: r.spec.groups,
      fingerprint: r.fingerprint,
      axes: r.spec.axes,
      nodes: runNodeList(r).map((n) => n.key)
    })),
    nodes,
    totals: { runs: plan.runs.length, nodes: nodes.length, cached, to_run: nodes.length - cached - count("unresolved"), uncached: count("uncached"), unresolved: count("unresolved") }
  }
}

/** One line per node (upstream first) and a totals line. */
export const planText = (json: PlanJson): string => {
  const lines = json.nodes.map((n) =>
    `${n.state.padEnd(10)}  ${n.state === "unresolved" ? "?".repeat(12) : n.key.slice(0, 12)}  ${n.label}${n.runs > 1 ? `  (${n.runs} runs)` : ""}`
  )
  const t = json.totals
  lines.push(`${t.runs} runs, ${t.nodes} stages: ${t.cached} cached, ${t.to_run} to run${t.uncached > 0 ? ` (${t.uncached} uncached)` : ""}${t.unresolved > 0 ? `, ${t.unresolved} unresolved` : ""}`)
  return lines.join("\n")
}

/** Graphviz DOT: cached nodes filled grey, nodes to run white. */
export const planDot = (json: PlanJson): string => {
  const id = (k: string) => `n${k.slice(0, 12)}`
  const esc = (s: string) => s.replaceAll("\\", "\\\\").replaceAll('"', '\\"')
  const out = ["digraph plan {", "  rankdir=LR;", '  node [shape=box, style="rounded,filled", fontname="Helvetica"];']
  for (const n of json.nodes) {
    out.push(`  ${id(n.key)} [label="${esc(n.label)}\\n${n.key.slice(0, 12)} · ${n.state}", fillcolor="${n.state === "cached" ? "#d9d9d9" : "#ffffff"}"];`)
  }
  for (const n of json.nodes) for (const i of n.inputs) out.push(`  ${id(i)} -> ${id(n.key)};`)
  out.push("}")
  return out.join("\n")
}

/** Distinct nodes of the given stage in a plan (e.g. to check that parse appears once per dataset). */
export const nodesOfStage = (plan: Plan, stage: string): ReadonlyArray<Node> => plan.nodes.filter((n) => n.stage.name === stage)
