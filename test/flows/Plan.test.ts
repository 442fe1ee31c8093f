// The plan: runs to one DAG where equal work is one node.
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { buildPlan } from "../../src/flows/Plan.ts"
import { resolveSources } from "../../src/config/Sources.ts"
import { isSessionDataset } from "../../src/config/Dataset.ts"
import { loadRegistry } from "../../src/config/Registry.ts"
import type { RunSpec } from "../../src/config/RunSpec.ts"
import { dataRoot } from "../cli/helpers.ts"
import { upstream } from "../../src/tasks/Task.ts"

const registry = Effect.runSync(loadRegistry("configs/registry.toml"))
const baselines = registry.runs.filter((r) => r.groups.includes("baselines"))
const planFor = (runs: ReadonlyArray<RunSpec>) => buildPlan(runs, Effect.runSync(resolveSources(dataRoot(), runs)))

describe("buildPlan", () => {
  it("shares preprocessing between runs over one dataset", () => {
    const plan = planFor(baselines)
    const count = (stage: string) => plan.nodes.filter((n) => n.stage.name === stage).length
    // 3 sources (2 logs + 1 label CSV), one parse / mine / group / label per dataset,
    // one split per distinct split config (normal-only or not) per dataset, one fit / score / evaluate per run.
    expect(plan.nodes.length).toBe(27)
    expect(count("source")).toBe(3)
    expect(count("parse")).toBe(2)
    expect(count("mine")).toBe(2)
    expect(count("label")).toBe(2)
    expect(count("split")).toBe(4)
    expect(count("fit")).toBe(4)
    const [freq, nb] = plan.runs
    expect(freq!.nodes.parse).toBe(nb!.nodes.parse)
    expect(freq!.nodes.split.key).not.toBe(nb!.nodes.split.key)
  })

  it("orders every node after its inputs", () => {
    const plan = planFor(baselines)
    const seen = new Set<string>()
    for (const n of plan.nodes) {
      for (const i of upstream(n)) expect(seen.has(i.key)).toBe(true)
      seen.add(n.key)
    }
  })

  it("is deterministic, and a changed miner param changes mine and everything downstream only", () => {
    const a = planFor(baselines)
    const b = planFor(baselines)
    expect(b.nodes.map((n) => n.key)).toEqual(a.nodes.map((n) => n.key))
    expect(b.runs.map((r) => r.fingerprint)).toEqual(a.runs.map((r) => r.fingerprint))

    const run = baselines[0]!
    if (isSessionDataset(run.dataset)) throw new Error("expected a raw-log dataset")
    const changed: RunSpec = { ...run, dataset: { ...run.dataset, miner: { ...run.dataset.miner, sim_th: 0.6 } } }
    const [p, q] = [planFor([run]).runs[0]!, planFor([changed]).runs[0]!]
    expect(q.nodes.parse?.key).toBe(p.nodes.parse?.key)
    for (const role of ["mine", "group", "label", "split", "fit", "score", "evaluate"] as const) {
      expect(q.nodes[role]?.key, role).not.toBe(p.nodes[role]?.key)
    }
    expect(q.fingerprint).not.toBe(p.fingerprint)
  })
})
