// Which hyperparameters vary among a flow's runs: flattened configs compared within a dataset and detector.
import { describe, expect, it } from "vitest"
import { flattenConfig, varyingKeys } from "../../src/flows/RunSummary.ts"

const config = (dataset: string, detector: string, model: Record<string, unknown>, seed = 0) => ({
  run: `${dataset}.${detector}`,
  experiment: dataset,
  dataset: { name: dataset, source: { path: `${dataset}.log`, sha256: "ab" }, split: { train_fraction: 0.8 }, description: "x" },
  model: { name: detector, detector, detector_version: "1", config: model },
  run_settings: { seed },
  axes: { "model.smoothing": 1 },
  sources: [{ path: "x" }],
  stage_versions: { parse: "3" }
})

describe("run summary", () => {
  it("flattens a run config to dotted keys without identity, provenance or path-like keys", () => {
    expect(flattenConfig(config("hdfs", "naive_bayes", { smoothing: 1, masks: ["a", "b"] }))).toEqual({
      "dataset.split.train_fraction": 0.8,
      "model.config.smoothing": 1,
      "model.config.masks": ["a", "b"],
      "run_settings.seed": 0
    })
  })

  it("finds the keys that differ within a dataset and detector, in config order", () => {
    const runs = [
      { group: "hdfs/nb", flat: flattenConfig(config("hdfs", "nb", { smoothing: 1, n_max: 2 }, 1)) },
      { group: "hdfs/nb", flat: flattenConfig(config("hdfs", "nb", { smoothing: 0.5, n_max: 2 }, 2)) },
      // Another detector and another dataset differ in many keys: none of them counts.
      { group: "bgl/freq", flat: flattenConfig({ ...config("bgl", "freq", { quantile: 0.9 }), dataset: { name: "bgl", split: { train_fraction: 0.5 } } }) }
    ]
    expect(varyingKeys(runs)).toEqual(["model.config.smoothing", "run_settings.seed"])
    // A key one run of a group lacks varies too; equal arrays do not.
    expect(varyingKeys([
      { group: "g", flat: { a: [1, 2], b: 1 } },
      { group: "g", flat: { a: [1, 2] } }
    ])).toEqual(["b"])
    expect(varyingKeys([{ group: "g", flat: { a: 1 } }, { group: "h", flat: { a: 2 } }])).toEqual([])
  })
})
