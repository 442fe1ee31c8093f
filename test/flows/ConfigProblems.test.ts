// Config errors found by a stage (no sequence received a label): the node fails without retries and
// stores nothing, and the flow reports a ConfigError in the dataset file naming the grouping and
// label keys with their values. Real OpenStack lines, SYNTHETIC instance labels (instanceFixture.ts).
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { ArtifactStore } from "../../src/cache/ArtifactStore.ts"
import * as MemoryCache from "../../src/cache/MemoryCache.ts"
import { issuesOf } from "../../src/config/ConfigError.ts"
import { loadRegistry } from "../../src/config/Registry.ts"
import { resolveSources } from "../../src/config/Sources.ts"
import * as InlineExecutor from "../../src/executor/InlineExecutor.ts"
import { namedKeys, stageConfigErrors } from "../../src/flows/ConfigProblems.ts"
import { type FlowEvent, FlowEvents } from "../../src/flows/Events.ts"
import { buildPlan } from "../../src/flows/Plan.ts"
import { runPlan } from "../../src/flows/Runner.ts"
import { dataRoot } from "../cli/helpers.ts"
import { CAPTURED, instanceRegistry, WHOLE } from "./instanceFixture.ts"

const flowOf = async (pattern: string) => {
  const fixture = instanceRegistry(pattern)
  const registry = Effect.runSync(loadRegistry(fixture.registry))
  const plan = buildPlan(registry.runs, Effect.runSync(resolveSources(dataRoot(), registry.runs)))
  const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), "logflow-config-problems-"))
  const events: Array<FlowEvent> = []
  const options = { maxWorkers: 2, dataRoot: dataRoot(), sourcesDir: path.join(resultsDir, "sources"), resultsDir, force: false, retries: registry.retries }
  const { report, stored } = await Effect.runPromise(Effect.gen(function*() {
    const report = yield* runPlan(plan, options)
    const stored = (yield* Effect.flatMap(ArtifactStore, (s) => s.list())).map((m) => m.stage)
    return { report, stored }
  }).pipe(Effect.provide(Layer.mergeAll(MemoryCache.layer, InlineExecutor.layer, FlowEvents.layerCallback((e) => events.push(e))))))
  return { fixture, plan, report, stored, events, resultsDir }
}

describe("a stage's config error in a flow", () => {
  it("with the whole `[instance: UUID]` match as the entity, the label stage fails once (no retry), stores nothing, and names the keys", async () => {
    const { fixture, plan, report, stored, events } = await flowOf(WHOLE)
    const run = plan.runs[0]!
    const label = report.nodes.get(run.nodes.label.key)!
    expect(label.status).toBe("failed")
    expect(label.config?.keys).toEqual(["grouping", "labels.source", "labels.entity_column"])
    // The registry allows two retries of the label stage; a config error would fail the same way, so none is made.
    expect(events.filter((e) => e._tag === "StageStarted" && e.stage === "label")).toHaveLength(1)
    expect(stored.sort()).toEqual(["group", "mine", "parse", "source", "source"])
    expect(report.counts).toEqual({ cached: 0, done: 5, failed: 1, skipped: 4 })
    expect(report.runs.map((r) => r.status)).toEqual(["failed"])
    // The run's version of the group stage is the one without capture groups.
    expect((run.runConfig as { stage_versions: Record<string, string> }).stage_versions.group).toBe("3")

    const error = stageConfigErrors(plan, report, fixture.registry)
    expect(error).toBeDefined()
    const issues = issuesOf(error!)
    expect(issues).toHaveLength(1)
    expect(issues[0]!.file).toBe(fixture.dataset)
    expect(issues[0]!.keyPath).toBe("grouping.pattern, labels.source, labels.entity_column")
    expect(issues[0]!.detail).toMatch(/^no sequence received a label: none of the 22 entity ids the grouping found is in column "InstanceId" of the label file .*instance_labels\.csv \(22 ids\); the grouping found ids like "\[instance: b9000564-fe1a-409b-b8cc-1e88b294cd1d\]"; the label file lists ids like "b9000564-fe1a-409b-b8cc-1e88b294cd1d"; the label file's ids sit inside the grouping's: a capturing group around the id in the grouping's pattern makes its first group the entity/)
    expect(issues[0]!.detail).toContain(`(grouping.pattern = '${WHOLE}', labels.entity_column = 'InstanceId')`)
  })

  it("with the UUID as the pattern's capture group, the labels attach and the run is evaluated; its group version is 4", async () => {
    const { plan, report, stored, resultsDir } = await flowOf(CAPTURED)
    const run = plan.runs[0]!
    expect(report.counts.failed).toBe(0)
    expect(stored).toContain("label")
    expect((run.runConfig as { stage_versions: Record<string, string> }).stage_versions.group).toBe("4")
    expect(stageConfigErrors(plan, report, "registry.toml")).toBeUndefined()
    const metrics = JSON.parse(fs.readFileSync(path.join(resultsDir, run.spec.name, run.fingerprint, "metrics.json"), "utf8"))
    expect(metrics.headline.status).toBe("valid")
    // 22 instances, the later half tested; 2 of the 3 synthetic anomalies fall in it.
    expect(metrics.headline.evaluated).toBe(11)
    expect(metrics.headline.tp + metrics.headline.fn).toBe(2)
  })
})

describe("namedKeys", () => {
  const dataset = {
    grouping: { type: "entity", pattern: "id=(\\d+)" },
    labels: { type: "entity_csv", source: { path: "l.csv" }, entity_column: "Id", label_column: "Label" },
    split: { type: "chronological", train_fraction: 0.8 }
  }

  it("spells a top-level table as its own keys but type, leaves out keys the dataset lacks and writes no table's value", () => {
    expect(namedKeys(dataset, { keys: ["grouping", "labels.source", "labels.entity_column", "labels.field"], detail: "what" })).toEqual({
      keyPath: "grouping.pattern, labels.source, labels.entity_column",
      detail: "what (grouping.pattern = 'id=(\\d+)', labels.entity_column = 'Id')"
    })
    expect(namedKeys(dataset, { keys: ["split.train_fraction"], detail: "what" })).toEqual({ keyPath: "split.train_fraction", detail: "what (split.train_fraction = 0.8)" })
    expect(namedKeys({ grouping: { type: "entity", pattern: "it's" } }, { keys: ["grouping"], detail: "d" }).detail).toBe(`d (grouping.pattern = "it's")`)
    expect(namedKeys(dataset, { keys: ["labels.source"], detail: "d" })).toEqual({ keyPath: "labels.source", detail: "d" })
  })
})
