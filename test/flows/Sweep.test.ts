// Registry expansion for sweeps: model sets, experiment sets, axes, seeds, extends; and every
// validation error with its message text.
import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { buildPlan } from "../../src/flows/Plan.ts"
import { resolveSources } from "../../src/config/Sources.ts"
import { isSessionDataset } from "../../src/config/Dataset.ts"
import { loadRegistry } from "../../src/config/Registry.ts"
import { copyConfigs, dataRoot } from "../cli/helpers.ts"

const SWEEP = `
[model_sets.classic]
models = ["template_frequency", "naive_bayes", "naive_bayes_trigram"]
overrides = { naive_bayes = { smoothing = 0.5 } }

[experiment_sets.sw]
datasets = ["hdfs", "bgl"]
model_sets = ["classic"]
groups = ["sweep"]
axes = [{ path = "dataset.split.train_fraction", values = [0.7, 0.8] }]
seeds = [1, 2, 3]
`
const withRegistry = (text: string, edit?: (dir: string) => void) => {
  const dir = copyConfigs()
  fs.writeFileSync(path.join(dir, "registry.toml"), text)
  edit?.(dir)
  return path.join(dir, "registry.toml")
}
const failure = (file: string): string => {
  const exit = Effect.runSyncExit(loadRegistry(file))
  if (Exit.isSuccess(exit)) throw new Error("expected a ConfigError")
  return String(exit.cause)
}

describe("sweep expansion", () => {
  it("2 datasets x 3 models x 2 axis values x 3 seeds = 36 runs; each dataset parsed and mined once", () => {
    const reg = Effect.runSync(loadRegistry(withRegistry(SWEEP)))
    expect(reg.runs.length).toBe(36)
    expect(reg.groups.get("sweep")?.length).toBe(36)
    expect(reg.groups.get("classic")?.length).toBe(36) // an experiment's model-set names are groups
    expect(reg.groups.get("sw")?.length).toBe(36) // so is the experiment set's name
    expect(reg.groups.get("sw.hdfs")?.length).toBe(18)
    const names = reg.runs.map((r) => r.name)
    expect(new Set(names).size).toBe(36)
    expect(names).toContain("sw.bgl.naive_bayes[train_fraction=0.8,seed=2]")
    const one = reg.runs.find((r) => r.name === "sw.hdfs.naive_bayes[train_fraction=0.7,seed=3]")!
    expect(one.dataset.split.train_fraction).toBe(0.7)
    expect(one.run.seed).toBe(3)
    expect((one.model.config as { smoothing: number }).smoothing).toBe(0.5) // the model set's per-model override
    const tri = reg.runs.find((r) => r.name === "sw.hdfs.naive_bayes_trigram[train_fraction=0.7,seed=3]")!
    expect((tri.model.config as { smoothing: number }).smoothing).toBe(1)

    const plan = buildPlan(reg.runs, Effect.runSync(resolveSources(dataRoot(), reg.runs)))
    expect(plan.runs.length).toBe(36)
    expect(plan.nodes.filter((n) => n.stage.name === "parse").length).toBe(2)
    expect(plan.nodes.filter((n) => n.stage.name === "mine").length).toBe(2)
    expect(plan.nodes.filter((n) => n.stage.name === "split").length).toBe(4) // 2 datasets x 2 fractions
    expect(plan.nodes.filter((n) => n.stage.name === "fit").length).toBe(36)
    expect(new Set(plan.runs.map((r) => r.fingerprint)).size).toBe(36)
  })

  it("global overrides and axes apply to every experiment; an experiment's own overrides win", () => {
    const reg = Effect.runSync(loadRegistry(withRegistry(`
overrides = { "model.smoothing" = 2.0, "dataset.split.train_fraction" = 0.6 }
axes = [{ path = "model.threshold_quantile", values = [0.9, 1.0] }]
[experiments.a]
dataset = "bgl"
models = ["template_frequency"]
overrides = { "dataset.split.train_fraction" = 0.5 }
`)))
    expect(reg.runs.map((r) => r.name)).toEqual(["a.template_frequency[threshold_quantile=0.9]", "a.template_frequency[threshold_quantile=1]"])
    expect(reg.runs.map((r) => r.dataset.split.train_fraction)).toEqual([0.5, 0.5])
    expect(reg.runs.map((r) => (r.model.config as { smoothing: number }).smoothing)).toEqual([2, 2])
  })

  it("extends merges a parent dataset, child keys winning", () => {
    const reg = Effect.runSync(loadRegistry(withRegistry(`
[experiments.b]
dataset = "bgl-small"
models = ["naive_bayes"]
`, (dir) => fs.writeFileSync(path.join(dir, "datasets/bgl-small.toml"), `extends = "bgl"\n[grouping]\ntype = "fixed_window"\nwindow_size = 10\nstep = 10\n`))))
    const ds = reg.runs[0]!.dataset
    if (isSessionDataset(ds)) throw new Error("expected a raw-log dataset")
    expect(ds.grouping).toEqual({ type: "fixed_window", window_size: 10, step: 10, basis: "parsed", window_alignment_offset: 0 })
    expect(ds.source.path).toBe("loghub-2k/BGL/BGL_2k.log")
  })
})

describe("sweep validation errors", () => {
  const exp = `[experiments.e]\ndataset = "bgl"\nmodels = ["naive_bayes"]\n`

  it("an axis path that does not exist in the dataset schema", () => {
    const msg = failure(withRegistry(`${exp}axes = [{ path = "dataset.split.fraction", values = [0.5] }]\n`))
    expect(msg).toContain('datasets/bgl.toml: split.fraction: unknown key "fraction" (known keys: type, train_fraction, test_fraction, seed, raw_first_n')
    expect(msg).toContain("registry.toml: experiments.e.axes[0].values")
  })

  it("an axis path that is not rooted at dataset., model. or run.", () => {
    expect(failure(withRegistry(`${exp}axes = [{ path = "split.train_fraction", values = [0.5] }]\n`))).toContain(
      "registry.toml: experiments.e.axes[0].path: an axis path is dotted and starts with dataset., model. or run."
    )
  })

  it("an axis value of the wrong type names the axis", () => {
    const msg = failure(withRegistry(`${exp}axes = [{ path = "model.smoothing", values = [1.0, "lots"] }]\n`))
    expect(msg).toContain("models/naive_bayes.toml: smoothing: Expected number")
    expect(msg).toContain("experiments.e.axes[0].values")
  })

  it("an unknown run-level key", () => {
    expect(failure(withRegistry(`${exp}overrides = { "run.sede" = 3 }\n`))).toContain('registry.toml: run.sede: unknown key "sede" (known keys: seed)')
  })

  it("seeds must be integers", () => {
    expect(failure(withRegistry(`seeds = [1, 2.5]\n${exp}`))).toContain("registry.toml: seeds[1]: Expected an integer")
  })

  it("an unknown model set, and a model-set override for a model outside the set", () => {
    expect(failure(withRegistry(`[experiments.e]\ndataset = "bgl"\nmodel_sets = ["nope"]\n`))).toContain(
      'registry.toml: experiments.e.model_sets[0]: unknown model set "nope" (known: none)'
    )
    expect(failure(withRegistry(`[model_sets.m]\nmodels = ["naive_bayes"]\noverrides = { template_frequency = { smoothing = 2.0 } }\n${exp}`))).toContain(
      'registry.toml: model_sets.m.overrides.template_frequency: "template_frequency" is not one of the set\'s models (naive_bayes)'
    )
  })

  it("an experiment without models, a model given twice, an axis given twice", () => {
    expect(failure(withRegistry(`[experiments.e]\ndataset = "bgl"\n`))).toContain("registry.toml: experiments.e: an experiment needs at least one model")
    expect(failure(withRegistry(`[model_sets.m]\nmodels = ["naive_bayes"]\n[experiments.e]\ndataset = "bgl"\nmodels = ["naive_bayes"]\nmodel_sets = ["m"]\n`))).toContain(
      'model "naive_bayes" appears twice in experiment "e"'
    )
    expect(failure(withRegistry(`axes = [{ path = "run.seed", values = [1] }]\nseeds = [1, 2]\n${exp}`))).toContain('seeds.path: axis "run.seed" is given twice')
  })

  it("an extends cycle", () => {
    const msg = failure(withRegistry(`[experiments.e]\ndataset = "x"\nmodels = ["naive_bayes"]\n`, (dir) => {
      fs.writeFileSync(path.join(dir, "datasets/x.toml"), `extends = "y"\n`)
      fs.writeFileSync(path.join(dir, "datasets/y.toml"), `extends = "x"\n`)
    }))
    expect(msg).toContain("datasets/y.toml: extends: extends cycle: x -> y -> x")
  })

  it("an experiment set that clashes with an experiment name", () => {
    expect(failure(withRegistry(`[experiments."s.bgl"]\ndataset = "bgl"\nmodels = ["naive_bayes"]\n[experiment_sets.s]\ndatasets = ["bgl"]\nmodels = ["naive_bayes"]\n`))).toContain(
      'registry.toml: experiment_sets.s: expands to experiment "s.bgl", which is also defined under [experiments]'
    )
  })

  it("an unknown stage in a retry policy, and a negative retry count", () => {
    expect(failure(withRegistry(`[stages.fitt]\nretries = 1\n${exp}`))).toContain("registry.toml: stages.fitt: unknown stage (known: source, parse")
    expect(failure(withRegistry(`[stages.fit]\nretries = -1\n${exp}`))).toContain("registry.toml: stages.fit.retries: Expected a value greater than or equal to 0")
  })
})

describe("run seeds reach seeded detectors", () => {
  it("seeds = [...] sets an isolation forest's own seed, unless the experiment sets model.seed", () => {
    const reg = Effect.runSync(loadRegistry(withRegistry(`
[experiments.f]
dataset = "bgl"
models = ["isolation_forest", "naive_bayes"]
seeds = [7, 8]
[experiments.g]
dataset = "bgl"
models = ["isolation_forest"]
seeds = [7]
overrides = { "model.seed" = 3 }
`)))
    const seedOf = (name: string) => (reg.runs.find((r) => r.name === name)!.model.config as { seed?: number }).seed
    expect(seedOf("f.isolation_forest[seed=7]")).toBe(7)
    expect(seedOf("f.isolation_forest[seed=8]")).toBe(8)
    expect(seedOf("f.naive_bayes[seed=7]")).toBeUndefined()
    expect(seedOf("g.isolation_forest[seed=7]")).toBe(3)
  })
})
