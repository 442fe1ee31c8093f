// DeepLog's parameter-value model in the registry and the plan: it needs a raw-log dataset (and
// timestamps for elapsed times); the plan wires the parameters and elapsed_time represent stages
// into fit and score, shared with a dataset that declares them too.
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { buildPlan } from "../../src/flows/Plan.ts"
import { resolveSources } from "../../src/config/Sources.ts"
import { loadRegistry } from "../../src/config/Registry.ts"
import { copyConfigs, dataRoot } from "../cli/helpers.ts"
import { type Node, upstream } from "../../src/tasks/Task.ts"

const registryWith = (experiment: string, datasetEdit?: (s: string) => string) => {
  const dir = copyConfigs()
  fs.appendFileSync(path.join(dir, "registry.toml"), `\n${experiment}\n`)
  if (datasetEdit !== undefined) {
    const p = path.join(dir, "datasets/hdfs.toml")
    fs.writeFileSync(p, datasetEdit(fs.readFileSync(p, "utf8")))
  }
  return path.join(dir, "registry.toml")
}

describe("deeplog with parameter_detection_enabled", () => {
  it("is refused on a pre-sequenced dataset, naming the experiment", () => {
    const file = registryWith(`[experiments.p]\ndataset = "hdfs-100k-sessions"\nmodels = ["deeplog"]\noverrides = { "model.parameter_detection_enabled" = true }`)
    const exit = Effect.runSyncExit(loadRegistry(file))
    expect(String(exit)).toMatch(/registry\.toml: experiments\.p: model deeplog \(deeplog\) reads parameters and elapsed_time, which need a raw-log dataset/)
  })

  it("gets the parameters and elapsed_time represent stages as inputs of fit and score, shared with the dataset's own", () => {
    const file = registryWith(
      `[experiments.p]\ndataset = "hdfs"\nmodels = ["deeplog"]\noverrides = { "model.parameter_detection_enabled" = true }`,
      (s) => `represent = [{ kind = "parameters" }]\n${s}`
    )
    const reg = Effect.runSync(loadRegistry(file))
    const runs = reg.runs.filter((r) => r.experiment === "p")
    const plan = buildPlan(runs, Effect.runSync(resolveSources(dataRoot(), runs)))
    const run = plan.runs[0]!
    const kinds = (n: Node) => {
      const reps = n.inputs.representations
      return (Array.isArray(reps) ? (reps as ReadonlyArray<Node>) : []).map((i) => (i.params as { kind: string }).kind)
    }
    expect(kinds(run.nodes.fit)).toEqual(["parameters", "elapsed_time"])
    expect(kinds(run.nodes.score)).toEqual(["parameters", "elapsed_time"])
    // The dataset's declared parameters node is the very node fit reads.
    expect(run.nodes.represent.map((n) => n.key)).toContain(upstream(run.nodes.fit).find((i) => i.stage.name === "represent")!.key)
    expect(plan.nodes.filter((n) => n.stage.name === "represent")).toHaveLength(2)
  })

  it("without parameter detection, fit reads only the sequences", () => {
    const reg = Effect.runSync(loadRegistry("configs/registry.toml"))
    const runs = reg.runs.filter((r) => r.experiment === "deeplog-hdfs-raw")
    const plan = buildPlan(runs, Effect.runSync(resolveSources(dataRoot(), runs)))
    expect(Object.fromEntries(Object.entries(plan.runs[0]!.nodes.fit.inputs).map(([name, i]) => [name, (i as Node).stage.name]))).toEqual({ labelled: "label", split: "split" })
  })
})
