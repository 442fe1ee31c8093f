// Synthetic result folders for the results readers' tests, written the way flow run writes them
// (writeFolder: the files, then a manifest of their digests).
import * as fs from "node:fs"
import * as path from "node:path"
import { writeFolder } from "../../src/flows/Results.ts"

export const config = (dataset: string, model: string, fraction: number, seed: number, smoothing: unknown = 1) => ({
  run: `x.${dataset}.${model}[f=${fraction},seed=${seed}]`,
  experiment: `x.${dataset}`,
  dataset: { name: dataset, source: { path: `${dataset}.log`, sha256: "ab".repeat(32) }, split: { type: "chronological", train_fraction: fraction } },
  model: { name: model, detector: model, detector_version: "1", config: { smoothing } },
  run_settings: { seed },
  axes: { "dataset.split.train_fraction": fraction, "run.seed": seed },
  stage_versions: { fit: "4" }
})

export const metrics = (f1: number, auroc: number) => ({
  headline: { scope: "window", status: "valid", threshold: 0.5, evaluated: 20, tp: 1, fp: 1, tn: 1, fn: 1, precision: f1, recall: f1, f1, auroc },
  scopes: { event: { scope: "event", status: "diagnostic_only", f1: 0.1 } }
})

/** A complete result folder (or a failure record) under `dir`. */
export const write = (dir: string, cfg: { readonly run: string }, fingerprint: string, m: unknown, failure?: string, curves?: ReadonlyArray<unknown>): string => {
  const folder = path.join(dir, cfg.run, fingerprint)
  writeFolder(folder, { kind: failure === undefined ? "results" : "failure", run: cfg.run, fingerprint }, (tmp) => {
    fs.writeFileSync(path.join(tmp, "run_config.json"), JSON.stringify(cfg))
    fs.writeFileSync(path.join(tmp, "environment.json"), "{}")
    fs.writeFileSync(path.join(tmp, "run.log"), "log\n")
    if (failure === undefined) {
      fs.writeFileSync(path.join(tmp, "metrics.json"), JSON.stringify(m))
      fs.writeFileSync(path.join(tmp, "predictions.jsonl"), "")
      fs.writeFileSync(path.join(tmp, "dataset_manifest.json"), "{}")
      if (curves !== undefined) fs.writeFileSync(path.join(tmp, "curves.jsonl"), curves.map((c) => JSON.stringify(c)).join("\n") + "\n")
    } else fs.writeFileSync(path.join(tmp, "status.json"), JSON.stringify({ status: "failed", error: failure }))
  })
  return folder
}

