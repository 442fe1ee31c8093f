// Registry decoding: every bad config is one clear error naming the file and the key path.
import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { loadDatasetFile } from "../../src/config/Dataset.ts"
import { loadRegistry, selectRuns } from "../../src/config/Registry.ts"
import { makeWarmState, WarmState } from "../../src/runtime/WarmState.ts"
import type { ConfigError } from "../../src/config/ConfigError.ts"
import { copyConfigs } from "../cli/helpers.ts"

const load = (file: string) => Effect.runSyncExit(loadRegistry(file))
const errorOf = (exit: Exit.Exit<unknown, ConfigError>): string => {
  if (Exit.isSuccess(exit)) throw new Error("expected a ConfigError")
  const text = String(exit.cause)
  return text
}
const edit = (dir: string, file: string, f: (s: string) => string) => {
  const p = path.join(dir, file)
  fs.writeFileSync(p, f(fs.readFileSync(p, "utf8")))
}

describe("loadRegistry", () => {
  it("loads a registry again only when a file it read has changed", async () => {
    const dir = copyConfigs()
    const reg = path.join(dir, "registry.toml")
    await new Promise((r) => setTimeout(r, 2100)) // files changed in the last 2 s are always read again
    // What a process that stays up (the daemon) keeps between loads.
    const warm = makeWarmState()
    const loadWarm = (file: string) => Effect.runSync(loadRegistry(file).pipe(Effect.provideService(WarmState, warm)))
    const first = loadWarm(reg)
    expect(loadWarm(reg)).toBe(first)
    expect(Effect.runSync(loadRegistry(reg))).not.toBe(first) // without a warm state: read again
    edit(dir, "models/naive_bayes.toml", (s) => s.replace(/smoothing = [\d.]+/, "smoothing = 2.0"))
    const edited = loadWarm(reg)
    expect(edited).not.toBe(first)
    expect(edited.runs.find((r) => r.name === "hdfs-nb.naive_bayes")!.model.config).toMatchObject({ smoothing: 2 })
    fs.rmSync(path.join(dir, "datasets", "bgl.toml"))
    expect(errorOf(load(reg))).toMatch(/unknown dataset "bgl"/)
  })

  it("expands the shipped registry into 4 baseline runs with decoded defaults", () => {
    const reg = Effect.runSync(loadRegistry("configs/registry.toml"))
    expect(reg.runs.filter((r) => r.groups.includes("baselines")).map((r) => r.name)).toEqual([
      "hdfs-freq.template_frequency", "hdfs-nb.naive_bayes", "bgl-freq.template_frequency", "bgl-nb.naive_bayes"
    ])
    expect(reg.groups.get("baselines")?.length).toBe(4)
    const nb = reg.runs[1]!
    expect(nb.model.config).toEqual({ smoothing: 1, n_min: 1, n_max: 2, anomalous_posterior_threshold: 0.5, top_k_phrases: 0 })
    // The override reached the dataset of the frequency run only.
    expect(reg.runs[0]!.dataset.split.train_on_normal_entities_only).toBe(true)
    expect(nb.dataset.split.train_on_normal_entities_only).toBe(false)
  })

  it("names the file, line and column of a TOML syntax error", () => {
    const dir = copyConfigs()
    edit(dir, "datasets/hdfs.toml", (s) => s.replace('[miner]\npreset = "HDFS"', '[miner]\npreset = = "HDFS"'))
    const msg = errorOf(load(path.join(dir, "registry.toml")))
    expect(msg).toMatch(new RegExp(`${dir}/datasets/hdfs\\.toml:\\d+:\\d+: TOML syntax error`))
  })

  it("names an unknown key with its dotted path and the keys it could have been", () => {
    const dir = copyConfigs()
    edit(dir, "datasets/hdfs.toml", (s) => s.replace('[miner]\npreset = "HDFS"', '[miner]\npreset = "HDFS"\nsim_thresh = 0.5'))
    const msg = errorOf(load(path.join(dir, "registry.toml")))
    expect(msg).toContain(`${dir}/datasets/hdfs.toml: miner.sim_thresh: unknown key "sim_thresh"`)
    expect(msg).toContain("sim_th")
  })

  it("names a value of the wrong type", () => {
    const dir = copyConfigs()
    edit(dir, "datasets/bgl.toml", (s) => s.replace("train_fraction = 0.8", 'train_fraction = "most"'))
    expect(errorOf(load(path.join(dir, "registry.toml")))).toMatch(/datasets\/bgl\.toml: split\.train_fraction: Expected number/)
  })

  it("rejects a fraction outside (0, 1] and a window of size 0", () => {
    const dir = copyConfigs()
    edit(dir, "datasets/bgl.toml", (s) => s.replace("train_fraction = 0.8", "train_fraction = 1.5"))
    expect(errorOf(load(path.join(dir, "registry.toml")))).toMatch(/bgl\.toml: split\.train_fraction: Expected a value between 0 \(excluded\) and 1\)/)
    const dir2 = copyConfigs()
    edit(dir2, "datasets/bgl.toml", (s) => s.replace("window_size = 20", "window_size = 0"))
    expect(errorOf(load(path.join(dir2, "registry.toml")))).toContain("bgl.toml: grouping.window_size: Expected a value greater than or equal to 1")
  })

  it("reports only the errors of the union member whose type tag matches", () => {
    const dir = copyConfigs()
    edit(dir, "datasets/bgl.toml", (s) => s.replace("window_size = 20", "window_sise = 20"))
    const msg = errorOf(load(path.join(dir, "registry.toml")))
    expect(msg).toContain('bgl.toml: grouping.window_sise: unknown key "window_sise" (known keys: type, window_size, step, basis, window_alignment_offset)')
    expect(msg).not.toContain("pattern")
  })

  it("names an unknown dataset, model or detector and lists the known ones", () => {
    const dir = copyConfigs()
    edit(dir, "registry.toml", (s) => s.replace('dataset = "bgl"\nmodels = ["naive_bayes"]', 'dataset = "bgl2"\nmodels = ["naive_bayes"]'))
    const msg = errorOf(load(path.join(dir, "registry.toml")))
    expect(msg).toContain(`registry.toml: experiments.bgl-nb.dataset: unknown dataset "bgl2"`)
    expect(msg).toContain("known: bgl, hdfs")

    const dir2 = copyConfigs()
    edit(dir2, "registry.toml", (s) => s.replace('models = ["naive_bayes"]', 'models = ["naive_bays"]'))
    expect(errorOf(load(path.join(dir2, "registry.toml")))).toContain(`experiments.hdfs-nb.models[0]: unknown model "naive_bays"`)

    const dir3 = copyConfigs()
    edit(dir3, "models/naive_bayes.toml", (s) => s.replace('detector = "naive_bayes"', 'detector = "bayes"'))
    const m3 = errorOf(load(path.join(dir3, "registry.toml")))
    expect(m3).toContain(`models/naive_bayes.toml: detector: unknown detector "bayes"`)
    expect(m3).toContain("template_frequency")
  })

  it("rejects invalid hyperparameters naming the model file and key", () => {
    const dir = copyConfigs()
    edit(dir, "models/template_frequency.toml", (s) => s.replace("smoothing = 1.0", "smoothing = -1.0"))
    expect(errorOf(load(path.join(dir, "registry.toml")))).toMatch(/models\/template_frequency\.toml: smoothing: Expected a value greater than 0/)
    const dir2 = copyConfigs()
    edit(dir2, "models/naive_bayes.toml", (s) => s.replace("n_min = 1", "n_min = 3"))
    expect(errorOf(load(path.join(dir2, "registry.toml")))).toMatch(/models\/naive_bayes\.toml: n_min: n_min \(3\) must not exceed n_max \(2\)/)
  })

  it("rejects an override of a key that does not exist in the target config", () => {
    const dir = copyConfigs()
    edit(dir, "registry.toml", (s) => s.replace('"dataset.split.train_on_normal_entities_only" = true }', '"dataset.split.train_normal" = true }'))
    const msg = errorOf(load(path.join(dir, "registry.toml")))
    expect(msg).toContain("split.train_normal: unknown key")
    expect(msg).toContain("after overrides from")
    const dir2 = copyConfigs()
    edit(dir2, "registry.toml", (s) => s.replace('"dataset.split.train_on_normal_entities_only" = true }', '"split.train_on_normal_entities_only" = true }'))
    expect(errorOf(load(path.join(dir2, "registry.toml")))).toContain('experiments.hdfs-freq.overrides.split.train_on_normal_entities_only: an override path must start with "dataset.", "model." or "run."')
  })

  it("a missing registry says file not found", () => {
    expect(errorOf(load("configs/nope.toml"))).toContain("configs/nope.toml: file not found")
  })

  it("selectRuns picks groups and experiments and rejects unknown ones", () => {
    const reg = Effect.runSync(loadRegistry("configs/registry.toml"))
    const sel = (groups: Array<string>, experiments: Array<string>) => Effect.runSyncExit(selectRuns(reg, { groups, experiments }))
    const ok = sel(["hdfs-nb"], ["bgl-freq"])
    expect(Exit.isSuccess(ok) && ok.value.map((r) => r.name)).toEqual(["hdfs-nb.naive_bayes", "bgl-freq.template_frequency"])
    expect(errorOf(sel(["baseline"], []))).toContain('unknown group "baseline" (known groups: baselines, bgl-ewm, bgl-freq')
    expect(errorOf(sel([], ["x"]))).toContain('experiments.x: unknown experiment "x"')
  })

  it("a dataset that extends another and changes grouping.type gets the child's grouping whole, not the parent's keys", () => {
    const dir = copyConfigs()
    fs.writeFileSync(path.join(dir, "datasets", "hdfs-windows.toml"), [
      'extends = "hdfs"',
      "[grouping]",
      'type = "fixed_window"',
      "window_size = 20",
      "step = 20",
      "[labels]",
      'type = "none"'
    ].join("\n"))
    edit(dir, "registry.toml", (s) => s.replace('[experiments.hdfs-nb]\ndataset = "hdfs"', '[experiments.hdfs-nb]\ndataset = "hdfs-windows"'))
    const reg = Effect.runSync(loadRegistry(path.join(dir, "registry.toml")))
    const run = reg.runs.find((r) => r.name === "hdfs-nb.naive_bayes")!
    expect("grouping" in run.dataset && run.dataset.grouping).toEqual({ type: "fixed_window", window_size: 20, step: 20, basis: "parsed", window_alignment_offset: 0 })
    expect("labels" in run.dataset && run.dataset.labels).toEqual({ type: "none" })
    // Tables of the same type still merge key by key.
    fs.writeFileSync(path.join(dir, "datasets", "hdfs-split.toml"), ['extends = "hdfs"', "[split]", "train_fraction = 0.5"].join("\n"))
    const child = Effect.runSync(loadDatasetFile(path.join(dir, "datasets", "hdfs-split.toml")))
    expect(child.split).toMatchObject({ type: "chronological", train_fraction: 0.5, train_on_normal_entities_only: false })
  })

  it("reports every error of a load, each with its file and key, not only the first", () => {
    const dir = copyConfigs()
    edit(dir, "datasets/hdfs.toml", (s) => s.replace("train_fraction = 0.8", "train_fraction = 1.5").replace('[miner]\npreset = "HDFS"', '[miner]\npreset = "HDFS"\nsim_thresh = 0.5'))
    edit(dir, "models/naive_bayes.toml", (s) => s.replace(/smoothing = [\d.]+/, "smoothing = -1"))
    edit(dir, "registry.toml", (s) => s.replace('[experiments.bgl-nb]\ndataset = "bgl"', '[experiments.bgl-nb]\ndataset = "bgl"\nmodel_sets = ["nope"]'))
    const msg = errorOf(load(path.join(dir, "registry.toml")))
    expect(msg).toContain(`${dir}/datasets/hdfs.toml: miner.sim_thresh: unknown key "sim_thresh"`)
    expect(msg).toContain(`${dir}/datasets/hdfs.toml: split.train_fraction:`)
    expect(msg).toContain(`${dir}/models/naive_bayes.toml: smoothing:`)
    expect(msg).toContain(`${dir}/registry.toml: experiments.bgl-nb.model_sets[0]: unknown model set "nope"`)
    // Each once, though two experiments read the same dataset.
    expect(msg.split("miner.sim_thresh").length - 1).toBe(1)
    // The registry file's own errors come together too (it is checked before the files it names).
    const dir2 = copyConfigs()
    edit(dir2, "registry.toml", (s) => s.replace('max_workers = "auto"', 'max_workers = 0\nseeds = []'))
    const msg2 = errorOf(load(path.join(dir2, "registry.toml")))
    expect(msg2).toContain(`${dir2}/registry.toml: max_workers:`)
    expect(msg2).toContain(`${dir2}/registry.toml: seeds`)
  })
})
