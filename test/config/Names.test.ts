// Names a registry gives and uses (experiments, sets, datasets, models, groups) follow one rule, so
// none can name a file outside datasets/ or models/, or a results folder outside --results-dir;
// axis values are encoded into run names, so a run name never holds a path separator or "..".
import { Effect, Exit } from "effect"
import fc from "fast-check"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { loadDataset, nameIssue } from "../../src/config/Dataset.ts"
import { nameSafe, runSuffix } from "../../src/config/Expand.ts"
import { loadModel } from "../../src/config/Model.ts"
import { loadRegistry } from "../../src/config/Registry.ts"
import { copyConfigs } from "../cli/helpers.ts"

const withRegistry = (text: string, edit?: (dir: string) => void) => {
  const dir = copyConfigs()
  fs.writeFileSync(path.join(dir, "registry.toml"), text)
  edit?.(dir)
  return path.join(dir, "registry.toml")
}
const failure = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) throw new Error("expected a ConfigError")
  return String(exit.cause)
}
const loadFailure = (file: string): string => failure(Effect.runSyncExit(loadRegistry(file)))
/** A valid dataset (and model) file placed beside the registry, outside datasets/ and models/. */
const plantOutside = (dir: string) => {
  fs.copyFileSync(path.join(dir, "datasets", "bgl.toml"), path.join(dir, "elsewhere.toml"))
  fs.copyFileSync(path.join(dir, "models", "naive_bayes.toml"), path.join(dir, "escaped_model.toml"))
}
const NB = `dataset = "bgl"\nmodels = ["naive_bayes"]\n`

describe("the name rule", () => {
  it("accepts every name the shipped configs use", () => {
    const reg = Effect.runSync(loadRegistry("configs/registry.toml"))
    const names = [
      ...reg.experiments.keys(), ...reg.groups.keys(),
      ...reg.runs.flatMap((r) => [r.datasetName, r.modelName]),
      ...fs.readdirSync("configs/datasets").map((f) => f.replace(/\.toml$/, "")),
      ...fs.readdirSync("configs/models").map((f) => f.replace(/\.toml$/, ""))
    ]
    expect(names).toContain("hdfs-100k-sessions")
    expect(names).toContain("deeplog_end")
    expect(names).toContain("sweep-demo.hdfs")
    expect(names.filter((n) => nameIssue(n) !== undefined)).toEqual([])
    for (const n of ["a", "7", "s.bgl", "a+b", "x-1.5_y"]) expect(nameIssue(n), n).toBeUndefined()
  })

  it("refuses separators, .., a leading or trailing dot, spaces and the empty name", () => {
    for (const n of ["", "../x", "a/b", "a\\b", "..", ".", ".hidden", "a.", "a..b", "-x", "a b", "a\0b", "/etc/passwd", "é"]) {
      expect(nameIssue(n), JSON.stringify(n)).toMatch(/is not a valid name/)
    }
  })

  it("no name that follows the rule holds a separator or .., and EXPERIMENT.MODEL never does either", () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom("a", "0", ".", "/", "\\", "-", "_", "+", " ") }), fc.string({ unit: fc.constantFrom("a", ".", "/", "-") }), (a, b) => {
      if (nameIssue(a) !== undefined || nameIssue(b) !== undefined) return
      const run = `${a}.${b}`
      expect(/[/\\]/.test(run) || run.includes("..")).toBe(false)
    }))
  })
})

describe("names in a registry", () => {
  it("an experiment, experiment set or model set named with a path is an error naming the key, and all are reported together", () => {
    const msg = loadFailure(withRegistry(
      `[experiments."../../../escape-exp"]\n${NB}` +
        `[experiment_sets."a/b"]\ndatasets = ["bgl"]\nmodels = ["naive_bayes"]\n` +
        `[model_sets."../m"]\nmodels = ["naive_bayes"]\n` +
        `[experiments.ok]\ndataset = "bgl"\nmodels = ["naive_bayes"]\ngroups = ["../g"]\n` +
        `[experiments.typo]\ndataset = "bgl"\nmodels = ["naive_bayes"]\nseeds = []\n`
    ))
    expect(msg).toContain('registry.toml: experiments.../../../escape-exp: "../../../escape-exp" is not a valid name')
    expect(msg).toContain('registry.toml: experiment_sets.a/b: "a/b" is not a valid name')
    expect(msg).toContain('registry.toml: model_sets.../m: "../m" is not a valid name')
    expect(msg).toContain('registry.toml: experiments.ok.groups[0]: "../g" is not a valid name')
    expect(msg).toContain("registry.toml: experiments.typo.seeds[0]: Missing key") // a schema error in the same round
  })

  it("a dataset named ../elsewhere is refused even when that file exists and is valid", () => {
    const reg = withRegistry(`[experiments.e]\ndataset = "../elsewhere"\nmodels = ["naive_bayes"]\n`, plantOutside)
    expect(loadFailure(reg)).toContain('registry.toml: experiments.e.dataset: "../elsewhere" is not a valid name')
    const set = withRegistry(`[experiment_sets.s]\ndatasets = ["bgl", "../elsewhere"]\nmodels = ["naive_bayes"]\n`, plantOutside)
    expect(loadFailure(set)).toContain('registry.toml: experiment_sets.s.datasets[1]: "../elsewhere" is not a valid name')
  })

  it("a model named ../escaped_model is refused even when that file exists and is valid", () => {
    const reg = withRegistry(`[experiments.e]\ndataset = "bgl"\nmodels = ["../escaped_model"]\n`, plantOutside)
    expect(loadFailure(reg)).toContain('registry.toml: experiments.e.models[0]: "../escaped_model" is not a valid name')
    const set = withRegistry(`[model_sets.m]\nmodels = ["../escaped_model"]\n[experiments.e]\ndataset = "bgl"\nmodel_sets = ["m"]\n`, plantOutside)
    expect(loadFailure(set)).toContain('registry.toml: model_sets.m.models[0]: "../escaped_model" is not a valid name')
  })

  it("extends = \"../elsewhere\" is an error naming the dataset file and extends", () => {
    let dir = ""
    const reg = withRegistry(`[experiments.e]\ndataset = "child"\nmodels = ["naive_bayes"]\n`, (d) => {
      dir = d
      plantOutside(d)
      fs.writeFileSync(path.join(d, "datasets", "child.toml"), `extends = "../elsewhere"\n`)
    })
    expect(loadFailure(reg)).toContain(`${dir}/datasets/child.toml: extends: "../elsewhere" is not a valid name`)
  })

  it("the loaders refuse a name leaving datasets/ or models/ whoever calls them", () => {
    const dir = copyConfigs()
    plantOutside(dir)
    const referrer = { file: "caller.toml", keyPath: "somewhere" }
    expect(failure(Effect.runSyncExit(loadDataset({ dir, name: "../elsewhere", referrer, cache: new Map() })))).toContain(
      `caller.toml: somewhere: dataset "../elsewhere" is not a file in ${dir}/datasets`
    )
    expect(failure(Effect.runSyncExit(loadModel({ dir, name: "../escaped_model", referrer, cache: new Map() })))).toContain(
      'caller.toml: somewhere: "../escaped_model" is not a valid name'
    )
  })
})

describe("axis values in run names", () => {
  it("ordinary values keep their rendering", () => {
    expect(runSuffix([["dataset.split.train_fraction", 0.7], ["run.seed", 1]])).toBe("[train_fraction=0.7,seed=1]")
    expect(runSuffix([["model.threshold_quantile", 1.0]])).toBe("[threshold_quantile=1]")
    expect(runSuffix([["dataset.miner.kind", "drain"], ["model.x", -1.5], ["model.y", true], ["model.z", 1e-7]])).toBe("[kind=drain,x=-1.5,y=true,z=1e-7]")
    expect(runSuffix([["dataset.split.seed", 1], ["run.seed", 2]])).toBe("[dataset.split.seed=1,run.seed=2]")
  })

  it("encodes separators, .., spaces, % and the characters that structure a run name", () => {
    expect(runSuffix([["dataset.description", "/../../../../axis-escape"]])).toBe("[description=%2F%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%2Faxis-escape]")
    expect(runSuffix([["dataset.source.path", "hdfs/raw/a.log"]])).toBe("[path=hdfs%2Fraw%2Fa.log]")
    expect(nameSafe("..")).toBe("%2E%2E")
    expect(nameSafe("a b%c\\d")).toBe("a%20b%25c%5Cd")
    expect(nameSafe("x,y]=[")).toBe("x%2Cy%5D%3D%5B")
    expect(nameSafe("é")).toBe("%C3%A9")
    expect(runSuffix([["model.list", [1, 2]]])).toBe("[list=%5B1%2C2%5D]")
  })

  it("an encoded value never holds a separator or .., and distinct values stay distinct", () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom(".", "/", "\\", "%", "a", "2", " ", "é", "\0", "-") }), fc.string(), (a, b) => {
      const s = nameSafe(a)
      expect(/^[A-Za-z0-9_.+%-]*$/.test(s)).toBe(true)
      expect(s.includes("..")).toBe(false)
      if (a !== b) expect(nameSafe(b)).not.toBe(s)
    }))
  })

  it("a registry axis value with / and .. gives a run name without either", () => {
    const reg = Effect.runSync(loadRegistry(withRegistry(`[experiments.e]\n${NB}axes = [{ path = "dataset.description", values = ["/../../../../axis-escape", "plain"] }]\n`)))
    expect(reg.runs.map((r) => r.name)).toEqual([
      "e.naive_bayes[description=%2F%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%2Faxis-escape]",
      "e.naive_bayes[description=plain]"
    ])
    expect(reg.runs[0]!.axes).toEqual({ "dataset.description": "/../../../../axis-escape" })
    expect(reg.runs[0]!.dataset.description).toBe("/../../../../axis-escape")
  })
})
