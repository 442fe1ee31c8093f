// The runner over the in-memory store and the inline pool: hits, misses, forced stages.
import { Effect, Layer } from "effect"
import * as os from "node:os"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { ArtifactStore } from "../../src/cache/ArtifactStore.ts"
import * as MemoryCache from "../../src/cache/MemoryCache.ts"
import { type EvaluateParams, evaluateStage } from "../../src/tasks/EvaluateStage.ts"
import { node } from "../../src/tasks/Task.ts"
import { FlowEvents, type FlowEvent } from "../../src/flows/Events.ts"
import { buildPlan } from "../../src/flows/Plan.ts"
import { resolveSources } from "../../src/config/Sources.ts"
import { loadRegistry } from "../../src/config/Registry.ts"
import { runPlan } from "../../src/flows/Runner.ts"
import * as InlineExecutor from "../../src/executor/InlineExecutor.ts"
import { dataRoot } from "../cli/helpers.ts"

describe("runPlan", () => {
  it("computes each node once, then serves every node from the cache; --force reruns fit, score and evaluate", async () => {
    const registry = Effect.runSync(loadRegistry("configs/registry.toml"))
    const runs = registry.runs.filter((r) => r.datasetName === "bgl" && r.groups.includes("baselines"))
    const plan = buildPlan(runs, Effect.runSync(resolveSources(dataRoot(), runs)))
    const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), "logflow-runner-"))
    // A temporary folder left by a writer that died (pid 999999 is not running) is cleaned up.
    const stale = path.join(resultsDir, plan.runs[0]!.spec.name, `${plan.runs[0]!.fingerprint}.tmp-999999-1`)
    fs.mkdirSync(stale, { recursive: true })
    const events: Array<FlowEvent> = []
    const options = { maxWorkers: 2, dataRoot: dataRoot(), sourcesDir: path.join(resultsDir, "sources"), resultsDir, force: false }
    const program = Effect.gen(function*() {
      const first = yield* runPlan(plan, options)
      const second = yield* runPlan(plan, options)
      const forced = yield* runPlan(plan, { ...options, force: true })
      return { first, second, forced }
    }).pipe(
      Effect.provide(Layer.mergeAll(MemoryCache.layer, InlineExecutor.layer, FlowEvents.layerCallback((e) => events.push(e))))
    )
    const { first, second, forced } = await Effect.runPromise(program)
    expect(first.counts).toEqual({ cached: 0, done: plan.nodes.length, failed: 0, skipped: 0 })
    expect(first.runs.map((r) => r.status)).toEqual(["written", "written"])
    expect(fs.existsSync(stale)).toBe(false)
    expect(fs.readdirSync(path.dirname(stale))).toEqual([plan.runs[0]!.fingerprint])
    expect(second.counts).toEqual({ cached: plan.nodes.length, done: 0, failed: 0, skipped: 0 })
    expect(second.runs.map((r) => r.status)).toEqual(["complete", "complete"])
    expect(forced.counts.done).toBe(6)
    expect(forced.runs.map((r) => r.status)).toEqual(["written", "written"])
    const started = events.filter((e) => e._tag === "StageStarted").length
    expect(started).toBe(plan.nodes.length + 6)
  })
})

describe("a node whose key cannot be computed", () => {
  it("runs uncached with a warning naming the parameter, every time, and its run's results are still written", async () => {
    const registry = Effect.runSync(loadRegistry("configs/registry.toml"))
    const runs = registry.runs.filter((r) => r.name === "bgl-nb.naive_bayes")
    const planned = buildPlan(runs, Effect.runSync(resolveSources(dataRoot(), runs)))
    // The evaluate node with a parameter canonical JSON cannot represent exactly.
    const run = planned.runs[0]!
    const evaluate = node(evaluateStage, { scope: "sequence", weight: Infinity } as unknown as EvaluateParams, {
      labelled: run.nodes.label,
      split: run.nodes.split,
      scored: run.nodes.score
    })
    expect(evaluate.uncached).toMatch(/its key cannot be computed \(non-finite number at \.params\.weight\); it runs uncached/)
    const plan = {
      runs: [{ ...run, nodes: { ...run.nodes, evaluate } }],
      nodes: [...planned.nodes.filter((n) => n.key !== run.nodes.evaluate.key), evaluate]
    }
    const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), "logflow-runner-"))
    const events: Array<FlowEvent> = []
    const options = { maxWorkers: 2, dataRoot: dataRoot(), sourcesDir: path.join(resultsDir, "sources"), resultsDir, force: false }
    const { first, second, stored } = await Effect.runPromise(Effect.gen(function*() {
      const first = yield* runPlan(plan, options)
      const second = yield* runPlan(plan, options)
      const stored = (yield* Effect.flatMap(ArtifactStore, (s) => s.list())).map((m) => m.stage)
      return { first, second, stored }
    }).pipe(Effect.provide(Layer.mergeAll(MemoryCache.layer, InlineExecutor.layer, FlowEvents.layerCallback((e) => events.push(e))))))
    expect(first.counts).toEqual({ cached: 0, done: plan.nodes.length, failed: 0, skipped: 0 })
    expect(second.counts).toEqual({ cached: plan.nodes.length - 1, done: 1, failed: 0, skipped: 0 })
    expect(stored).not.toContain("evaluate")
    const warnings = events.filter((e) => e._tag === "StageWarning")
    expect(warnings).toHaveLength(2)
    expect(warnings[0]).toMatchObject({ stage: "evaluate", message: expect.stringContaining(".params.weight") })
    expect(second.runs.map((r) => r.status)).toEqual(["written"])
    const metrics = JSON.parse(fs.readFileSync(path.join(resultsDir, run.spec.name, run.fingerprint, "metrics.json"), "utf8"))
    expect(metrics.headline.status).toBe("valid")
  })

  it("makes the nodes downstream of it uncached too", () => {
    const a = node(evaluateStage, { scope: "sequence", w: Number.NaN } as unknown as EvaluateParams, {} as never)
    expect(a.uncached).toMatch(/\.params\.w/)
    const b = node(evaluateStage, { scope: "sequence" } as EvaluateParams, { labelled: a, split: a, scored: a } as never)
    expect(b.uncached).toBe("upstream evaluate runs uncached")
  })
})
