// forcedKeys: which nodes of a plan --force and --force-stage recompute.
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { loadRegistry } from "../../src/config/Registry.ts"
import type { RunSpec } from "../../src/config/RunSpec.ts"
import { resolveSources } from "../../src/config/Sources.ts"
import { forcedKeys } from "../../src/flows/Forced.ts"
import { buildPlan, type Plan } from "../../src/flows/Plan.ts"
import { upstream } from "../../src/tasks/Task.ts"
import { dataRoot } from "../cli/helpers.ts"

const registry = Effect.runSync(loadRegistry("configs/registry.toml"))
const baselines = registry.runs.filter((r) => r.groups.includes("baselines"))
const planFor = (runs: ReadonlyArray<RunSpec>) => buildPlan(runs, Effect.runSync(resolveSources(dataRoot(), runs)))
const plan = planFor(baselines)

/** Keys of the nodes of `stage` and of every node reachable from them along input edges, by a walk over the reversed graph. */
const downstreamOf = (p: Plan, stage: string): Set<string> => {
  const consumers = new Map<string, Array<string>>()
  for (const n of p.nodes) for (const i of upstream(n)) consumers.set(i.key, [...(consumers.get(i.key) ?? []), n.key])
  const out = new Set<string>()
  const queue = p.nodes.filter((n) => n.stage.name === stage).map((n) => n.key)
  while (queue.length > 0) {
    const k = queue.pop()!
    if (out.has(k)) continue
    out.add(k)
    queue.push(...(consumers.get(k) ?? []))
  }
  return out
}
const keysOfStages = (p: Plan, stages: ReadonlyArray<string>) => new Set(p.nodes.filter((n) => stages.includes(n.stage.name)).map((n) => n.key))
const stageOf = new Map(plan.nodes.map((n) => [n.key, n.stage.name]))

describe("forcedKeys on the baselines plan", () => {
  it("with force, marks exactly every run's fit, score and evaluate", () => {
    const forced = forcedKeys(plan, { force: true })
    const perRun = new Set(plan.runs.flatMap((r) => [r.nodes.fit.key, r.nodes.score.key, r.nodes.evaluate.key]))
    expect(plan.runs.length).toBe(4)
    expect(forced).toEqual(perRun)
    expect(forced).toEqual(keysOfStages(plan, ["fit", "score", "evaluate"]))
    expect(forced.size).toBe(12)
  })

  it("with forceStage mine, marks the mine nodes and everything downstream of them, nothing upstream", () => {
    const forced = forcedKeys(plan, { force: false, forceStage: "mine" })
    expect(forced).toEqual(downstreamOf(plan, "mine"))
    expect(keysOfStages(plan, ["mine"]).size).toBe(2)
    for (const k of keysOfStages(plan, ["mine", "group", "label", "split", "fit", "score", "evaluate"])) expect(forced.has(k), stageOf.get(k)).toBe(true)
    for (const k of keysOfStages(plan, ["source", "parse"])) expect(forced.has(k), stageOf.get(k)).toBe(false)
    // 27 nodes less 3 sources and 2 parses.
    expect(forced.size).toBe(plan.nodes.length - 5)
  })

  it("with forceStage split, leaves the preprocessing before the split alone", () => {
    const forced = forcedKeys(plan, { force: false, forceStage: "split" })
    expect(forced).toEqual(downstreamOf(plan, "split"))
    expect([...forced].map((k) => stageOf.get(k)).sort()).toEqual([
      ...Array(4).fill("evaluate"), ...Array(4).fill("fit"), ...Array(4).fill("score"), ...Array(4).fill("split")
    ])
  })

  it("with force and forceStage, marks the union", () => {
    const both = forcedKeys(plan, { force: true, forceStage: "label" })
    expect(both).toEqual(new Set([...downstreamOf(plan, "label"), ...keysOfStages(plan, ["fit", "score", "evaluate"])]))
  })

  it("with neither, or a stage no node has, marks nothing", () => {
    expect(forcedKeys(plan, { force: false }).size).toBe(0)
    expect(forcedKeys(plan, { force: false, forceStage: undefined }).size).toBe(0)
    expect(forcedKeys(plan, { force: false, forceStage: "sessions" }).size).toBe(0)
  })
})
