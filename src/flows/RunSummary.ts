/**
 * What a flow did to each of its runs, read back for a person or a script: the run's dataset and
 * model, the hyperparameters that vary among its runs, the headline precision, recall, F1 and
 * AUROC from its `metrics.json`, how it ended and whether it was served from the cache.
 *
 * Varying hyperparameters: each run's resolved config (`run_config.json`) flattened to dotted keys
 * (`model.config.smoothing`, `dataset.split.train_fraction`, `run_settings.seed`); a key varies
 * when two runs of the same dataset and detector give it different values (or one lacks it). Runs
 * of different datasets or detectors differ in nearly every key, which the dataset and model
 * columns already say. Identity and provenance keys (names, sources, paths, digests, stage
 * versions, axes, which the config already holds) are never listed.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { canonicalJson } from "../cache/CacheKey.ts"
import type { FlowReport } from "./Outcomes.ts"
import { type PlannedRun, runNodeList } from "./Plan.ts"
import { runDir } from "./Results.ts"

/** One run of a flow, as its summary shows it; null where a value is missing. */
export interface RunSummary {
  readonly run: string
  readonly dataset: string
  readonly model: string
  readonly detector: string
  readonly fingerprint: string
  /** The varying hyperparameters, by dotted key (null where this run lacks the key). */
  readonly params: Readonly<Record<string, unknown>>
  /** The headline block's scope (sequence, window, ...). */
  readonly scope: string | null
  readonly precision: number | null
  readonly recall: number | null
  readonly f1: number | null
  readonly auroc: number | null
  /** `ok`, `failed`, or the headline block's status when it is not valid (`invalid`, `not_applicable`). */
  readonly status: string
  /** The result folder was already complete, or every stage of the run was a cache hit. */
  readonly cached: boolean
  readonly dir: string
  readonly error: string | null
}

/** The runs of a flow and the dotted keys that vary among them. */
export interface FlowSummary {
  readonly varying: ReadonlyArray<string>
  readonly runs: ReadonlyArray<RunSummary>
}

/** Top-level keys of a run config that are identity or provenance, not hyperparameters. */
const IGNORED_KEYS: ReadonlySet<string> = new Set(["run", "experiment", "sources", "stage_versions", "axes", "dataset.name", "model.name", "model.detector", "model.detector_version"])
/** Last segments of a dotted key that name a file or where it came from. */
const IGNORED_LEAVES: ReadonlySet<string> = new Set(["path", "sha256", "url", "root", "description"])

/** A config flattened to dotted keys; arrays are values. Identity and path-like keys are left out. */
export const flattenConfig = (config: unknown): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  const walk = (v: unknown, key: string) => {
    if (IGNORED_KEYS.has(key) || IGNORED_LEAVES.has(key.slice(key.lastIndexOf(".") + 1))) return
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(x, key === "" ? k : `${key}.${k}`)
    } else if (key !== "") {
      out[key] = v
    }
  }
  walk(config, "")
  return out
}

/**
 * The keys whose values differ between two configs of the same group (e.g. dataset and detector),
 * in the order they first appear.
 */
export const varyingKeys = (configs: ReadonlyArray<{ readonly group: string; readonly flat: Readonly<Record<string, unknown>> }>): Array<string> => {
  const order: Array<string> = []
  const seen = new Set<string>()
  for (const c of configs) {
    for (const k of Object.keys(c.flat)) {
      if (!seen.has(k)) (seen.add(k), order.push(k))
    }
  }
  const groups = new Map<string, Array<Readonly<Record<string, unknown>>>>()
  for (const c of configs) {
    const g = groups.get(c.group)
    if (g === undefined) groups.set(c.group, [c.flat])
    else g.push(c.flat)
  }
  const text = (v: unknown) => (v === undefined ? "\u0000missing" : canonicalJson(v))
  return order.filter((k) => [...groups.values()].some((g) => new Set(g.map((f) => text(f[k]))).size > 1))
}

/** The headline block of a result folder's `metrics.json`, or undefined when it cannot be read. */
const readHeadline = (dir: string): Record<string, unknown> | undefined => {
  try {
    const metrics: unknown = JSON.parse(fs.readFileSync(path.join(dir, "metrics.json"), "utf8"))
    if (metrics === null || typeof metrics !== "object" || !("headline" in metrics)) return undefined
    const h = metrics.headline
    return h !== null && typeof h === "object" ? { ...h } : undefined
  } catch {
    return undefined
  }
}
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null)

/** How each of `runs` ended in the flow `report`, with its headline metrics from `resultsDir`. */
export const summarizeRuns = (runs: ReadonlyArray<PlannedRun>, report: FlowReport, resultsDir: string): FlowSummary => {
  const flats = runs.map((r) => ({ group: `${r.spec.datasetName}\u0000${r.spec.model.detector}`, flat: flattenConfig(r.runConfig) }))
  const varying = varyingKeys(flats)
  const outcomes = new Map(report.runs.map((o) => [o.run, o]))
  return {
    varying,
    runs: runs.map((r, i): RunSummary => {
      const outcome = outcomes.get(r.spec.name)
      const dir = runDir(resultsDir, r)
      const failed = outcome === undefined || outcome.status === "failed"
      const headline = failed ? undefined : readHeadline(dir)
      const metricStatus = typeof headline?.status === "string" ? headline.status : undefined
      const allCached = runNodeList(r).every((n) => report.nodes.get(n.key)?.status === "cached")
      return {
        run: r.spec.name,
        dataset: r.spec.datasetName,
        model: r.spec.modelName,
        detector: r.spec.model.detector,
        fingerprint: r.fingerprint,
        params: Object.fromEntries(varying.map((k) => [k, flats[i]!.flat[k] ?? null])),
        scope: typeof headline?.scope === "string" ? headline.scope : null,
        precision: num(headline?.precision),
        recall: num(headline?.recall),
        f1: num(headline?.f1),
        auroc: num(headline?.auroc),
        status: outcome === undefined ? "not_run" : failed ? "failed" : metricStatus === undefined || metricStatus === "valid" ? "ok" : metricStatus,
        cached: outcome?.status === "complete" || (outcome !== undefined && !failed && allCached),
        dir,
        error: outcome?.error ?? null
      }
    })
  }
}
