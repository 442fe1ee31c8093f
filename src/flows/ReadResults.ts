/**
 * Results read back (`flow results`): every run folder of a selection or of a whole results tree,
 * each complete, failed, incomplete, missing or superseded with its reason (never a crash on a
 * bad folder); each complete run's resolved config flattened to dotted hyperparameters and its
 * metrics; the keys that vary across the selection (seeds ignored by default); runs grouped by
 * dataset, model and those keys with n, mean, std, SEM, 95% confidence interval, min and max of
 * every metric; and a leaderboard per dataset.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { canonicalJson } from "../cache/CacheKey.ts"
import { CURVE_AXES, type CurveAxis, type CurvePoint, curvePoints } from "../artifacts/Curves.ts"
import { summarize, type Summary } from "../eval/Stats.ts"
import type { PlannedRun } from "./Plan.ts"
import { checkFolder, MANIFEST_FILE, runDir } from "./Results.ts"
import { flattenConfig, varyingKeys } from "./RunSummary.ts"

/** How a run's folder was found. */
export type ReadState = "complete" | "failed" | "incomplete" | "missing" | "superseded"

/** One run as read from its folder; config and metrics are empty unless complete. */
export interface ReadRun {
  readonly run: string
  readonly fingerprint: string | null
  readonly dir: string
  readonly state: ReadState
  /** Why the run is not complete (failed: its error; incomplete: what is wrong; superseded: by which folder). */
  readonly reason: string | null
  readonly dataset: string | null
  readonly model: string | null
  readonly detector: string | null
  /** The resolved config flattened to dotted keys (`flattenConfig`), seeds included. */
  readonly config: Readonly<Record<string, unknown>>
  /** The headline block's numeric metrics (`f1`, `auroc`, ...) and, for the other valid scopes, `<scope>.<metric>`. */
  readonly metrics: Readonly<Record<string, number>>
  /** The headline block's scope. */
  readonly scope: string | null
  /** Its training curves (`curves.jsonl`), complete runs of iterative detectors only. */
  readonly curves: ReadonlyArray<CurvePoint>
  /** Why its curves look incomplete (shorter than the configured epochs), else null. */
  readonly curvesShort: string | null
}

/** Metrics the tables show first, all higher-is-better; any other numeric headline field follows. */
export const HEADLINE_METRICS: ReadonlyArray<string> = ["f1", "precision", "recall", "auroc", "auprc", "accuracy"]
/** Counts in a metrics block that are not scores (kept out of the statistics). */
const COUNT_FIELDS: ReadonlySet<string> = new Set(["tp", "fp", "tn", "fn", "evaluated", "threshold"])

const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(file, "utf8"))
const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v)
const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const numericFields = (block: Record<string, unknown>, prefix: string, into: Record<string, number>): void => {
  for (const [k, v] of Object.entries(block)) {
    if (typeof v === "number" && Number.isFinite(v) && !COUNT_FIELDS.has(k)) into[`${prefix}${k}`] = v
  }
}

/**
 * Read the folder `dir` of `run` at `fingerprint`: its manifest checked (sizes: a truncated or
 * replaced file is caught; `verify` hashes every file too), then its config and metrics parsed.
 */
export const readRunFolder = (dir: string, run: string, fingerprint: string, verify = false): ReadRun => {
  const base = { run, fingerprint, dir, dataset: null, model: null, detector: null, config: {}, metrics: {}, scope: null, curves: [], curvesShort: null }
  if (!fs.existsSync(dir)) return { ...base, state: "missing", reason: "no result folder (never run, or interrupted before it finished)" }
  const check = checkFolder(dir, run, fingerprint, verify)
  let config: unknown
  let configError: string | undefined
  try {
    config = readJson(path.join(dir, "run_config.json"))
  } catch (e) {
    configError = errorText(e)
  }
  const dataset = isRecord(config) && isRecord(config.dataset) && typeof config.dataset.name === "string" ? config.dataset.name : null
  const modelBlock = isRecord(config) && isRecord(config.model) ? config.model : undefined
  const named = {
    dataset,
    model: typeof modelBlock?.name === "string" ? modelBlock.name : null,
    detector: typeof modelBlock?.detector === "string" ? modelBlock.detector : null,
    config: flattenConfig(config)
  }
  // A folder that does not check out still says, when its config reads, which setting it was meant for.
  if (!check.ok) return { ...base, ...(configError === undefined ? named : {}), state: "incomplete", reason: check.reason }
  if (configError !== undefined) return { ...base, state: "incomplete", reason: `run_config.json is not valid JSON (${configError})` }
  if (check.manifest.kind === "failure") {
    let error = "failed (status.json unreadable)"
    try {
      const s = readJson(path.join(dir, "status.json"))
      if (isRecord(s) && typeof s.error === "string") error = s.error
    } catch {
      // the reason above
    }
    return { ...base, ...named, state: "failed", reason: error }
  }
  let metrics: unknown
  try {
    metrics = readJson(path.join(dir, "metrics.json"))
  } catch (e) {
    return { ...base, ...named, state: "incomplete", reason: `metrics.json is not valid JSON (${errorText(e)})` }
  }
  if (!isRecord(metrics) || !isRecord(metrics.headline)) return { ...base, ...named, state: "incomplete", reason: "metrics.json has no headline block" }
  const values: Record<string, number> = {}
  const headline = metrics.headline
  if (headline.status === "valid") numericFields(headline, "", values)
  if (isRecord(metrics.scopes)) {
    for (const [scope, block] of Object.entries(metrics.scopes)) {
      if (isRecord(block) && block.status === "valid" && scope !== headline.scope) numericFields(block, `${scope}.`, values)
    }
  }
  const curves = readCurves(path.join(dir, "curves.jsonl"))
  return {
    ...base,
    ...named,
    state: "complete",
    reason: headline.status === "valid" ? null : `headline metrics ${String(headline.status)}`,
    metrics: values,
    scope: typeof headline.scope === "string" ? headline.scope : null,
    curves,
    curvesShort: curvesShortness(curves, named.config)
  }
}

/** The points of a `curves.jsonl` (older per-epoch records converted), none when there is no such file. */
const readCurves = (file: string): Array<CurvePoint> => {
  if (!fs.existsSync(file)) return []
  const rows: Array<unknown> = []
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") continue
    try {
      rows.push(JSON.parse(line))
    } catch {
      // a broken line is dropped; the manifest check catches edited files
    }
  }
  return curvePoints(rows)
}

/**
 * Whether a run's curves stop early: with a configured number of epochs (`model.config.epochs`), the
 * last training epoch must reach it. Iteration limits (`max_iter`) are bounds, not lengths: a
 * solver that converges stops sooner, so they flag nothing.
 */
const curvesShortness = (curves: ReadonlyArray<CurvePoint>, config: Readonly<Record<string, unknown>>): string | null => {
  const epochs = config["model.config.epochs"]
  if (typeof epochs !== "number" || curves.length === 0) return null
  const last = Math.max(...curves.filter((c) => c.split === "train" && c.epoch !== undefined).map((c) => c.epoch!), 0)
  return last < epochs ? `curves stop at epoch ${last} of ${epochs}` : null
}

/**
 * The folders of planned runs (a registry selection), each at its current fingerprint. A run not
 * read complete keeps its planned config, dataset and model, so the sweep's coverage can say
 * which settings lack which runs.
 */
export const readPlannedRuns = (runs: ReadonlyArray<PlannedRun>, resultsDir: string, verify = false): Array<ReadRun> =>
  runs.map((r) => {
    const read = readRunFolder(runDir(resultsDir, r), r.spec.name, r.fingerprint, verify)
    if (read.state === "complete" || read.state === "failed") return read
    return { ...read, dataset: r.spec.datasetName, model: r.spec.modelName, detector: r.spec.model.detector, config: flattenConfig(r.runConfig) }
  })

/**
 * Every run folder of a results tree (`<dir>/<run>/<fingerprint>/`). A run with several
 * fingerprint folders (its config or logflow's stage versions changed) counts by its newest
 * manifest; the older ones are listed as superseded. Temporary and moved-aside folders of a writer
 * (`.tmp-`, `.old-`) are skipped.
 */
export const scanResultsTree = (resultsDir: string, verify = false): Array<ReadRun> => {
  const out: Array<ReadRun> = []
  const isSide = (name: string) => /\.(tmp|old)-/.test(name)
  for (const run of fs.readdirSync(resultsDir).sort()) {
    const runPath = path.join(resultsDir, run)
    if (isSide(run) || !fs.statSync(runPath).isDirectory()) continue
    const folders = fs.readdirSync(runPath).filter((f) => !isSide(f) && fs.statSync(path.join(runPath, f)).isDirectory())
    const written = (f: string): number => {
      try {
        return fs.statSync(path.join(runPath, f, MANIFEST_FILE)).mtimeMs
      } catch {
        return -1
      }
    }
    const byAge = folders.sort((a, b) => written(b) - written(a) || a.localeCompare(b))
    byAge.forEach((f, i) => {
      const read = readRunFolder(path.join(runPath, f), run, f, verify)
      out.push(i === 0 ? read : { ...read, state: "superseded", reason: `an older folder of ${run}; ${byAge[0]} is newer` })
    })
  }
  return out
}

// ---- analysis ------------------------------------------------------------------------------------

/** Keys that vary only because runs repeat with other seeds: left out of grouping by default. */
export const isSeedKey = (key: string): boolean => /(^|\.)seed$/.test(key)

export interface AnalysisOptions {
  /** Keep only runs whose value at each key (a dotted config key, or run / dataset / model / detector) equals the given text. */
  readonly where?: ReadonlyArray<readonly [string, string]>
  /** Keys also left out of grouping (besides seeds, unless `keepSeeds`). */
  readonly ignore?: ReadonlyArray<string>
  readonly keepSeeds?: boolean
  /** The metric that ranks groups (default f1). */
  readonly metric?: string
  /** Display names of keys (dotted config keys, dataset, model, metrics), e.g. from the registry's `[analysis] names`. */
  readonly names?: Readonly<Record<string, string>>
  /** Display values per key: the value as `--where` writes it -> the text shown (`[analysis] values`). */
  readonly values?: Readonly<Record<string, Readonly<Record<string, string>>>>
}

/** A setting: the runs of one dataset, model and value of each varying key, over their seeds. */
export interface ResultGroup {
  readonly dataset: string
  readonly model: string
  readonly params: Readonly<Record<string, unknown>>
  readonly runs: ReadonlyArray<string>
  readonly n: number
  readonly metrics: Readonly<Record<string, Summary>>
}

/** A setting of the selection and how many of its runs were read complete. */
export interface CoverageCell {
  readonly dataset: string
  readonly model: string
  readonly params: Readonly<Record<string, unknown>>
  /** Runs of the setting found (planned, with a registry), complete or not. */
  readonly runs: number
  readonly complete: number
  /** The runs that are not complete, with their state. */
  readonly lacking: ReadonlyArray<{ readonly run: string; readonly state: ReadState }>
}

/** A setting's training curve at one position: over its runs (seeds), n, mean and std. */
export interface CurveSummary {
  readonly dataset: string
  readonly model: string
  readonly params: Readonly<Record<string, unknown>>
  readonly split: string
  readonly metric: string
  readonly axis: CurveAxis
  readonly x: number
  readonly n: number
  readonly mean: number
  readonly std: number | null
}

/** The best setting of each model of a dataset by the ranking metric. */
export interface LeaderboardEntry {
  readonly dataset: string
  readonly model: string
  readonly params: Readonly<Record<string, unknown>>
  readonly n: number
  readonly mean: number
  readonly std: number | null
}

export interface Analysis {
  readonly runs: ReadonlyArray<ReadRun>
  readonly counts: Readonly<Record<ReadState, number>>
  /** Keys that vary across the complete runs (per dataset and detector), grouping ones first. */
  readonly varying: ReadonlyArray<string>
  /** Varying keys left out of grouping (seeds, `ignore`). */
  readonly ignored: ReadonlyArray<string>
  readonly metric: string
  readonly metrics: ReadonlyArray<string>
  readonly groups: ReadonlyArray<ResultGroup>
  readonly leaderboard: ReadonlyArray<LeaderboardEntry>
  /** Every setting with runs (complete or not; with a registry, every planned one), and how complete it is. */
  readonly coverage: ReadonlyArray<CoverageCell>
  /** Training curves per setting, split, metric and position (the first x-axis its points share), over seeds. */
  readonly curves: ReadonlyArray<CurveSummary>
  /** Display names and values (see `AnalysisOptions`). */
  readonly names: Readonly<Record<string, string>>
  readonly values: Readonly<Record<string, Readonly<Record<string, string>>>>
  /** Problems with the request itself (a `where` key no run has, a metric no run has, a remap of an unknown key). */
  readonly problems: ReadonlyArray<string>
}

/** A key's display name under `a`'s remaps (else `fallback`). */
export const displayName = (a: Analysis, key: string, fallback = key): string => a.names[key] ?? fallback

/** A value's display text for `key` under `a`'s remaps (else `fallback`). */
export const displayValue = (a: Analysis, key: string, value: unknown, fallback: string): string => {
  const text = asText(value)
  return text === undefined ? fallback : a.values[key]?.[text] ?? fallback
}

const PSEUDO_KEYS = ["run", "dataset", "model", "detector"] as const

const valueAt = (r: ReadRun, key: string): unknown => {
  switch (key) {
    case "run": return r.run
    case "dataset": return r.dataset
    case "model": return r.model
    case "detector": return r.detector
    default: return r.config[key]
  }
}

/** A value as `--where` compares it: strings as they are, anything else as canonical JSON; a missing one matches nothing. */
export const asText = (v: unknown): string | undefined => (v === undefined ? undefined : typeof v === "string" ? v : canonicalJson(v))

/** Group, summarise and rank the complete runs of `runs`. */
export const analyzeRuns = (runs: ReadonlyArray<ReadRun>, options: AnalysisOptions = {}): Analysis => {
  const problems: Array<string> = []
  const metric = options.metric ?? "f1"
  let selected = [...runs]
  for (const [key, value] of options.where ?? []) {
    const known = runs.some((r) => r.state === "complete" && (PSEUDO_KEYS.includes(key as (typeof PSEUDO_KEYS)[number]) || key in r.config))
    if (!known) problems.push(`--where ${key}: no run has the key ${JSON.stringify(key)}`)
    selected = selected.filter((r) => r.state !== "complete" || asText(valueAt(r, key)) === value)
  }
  const counts: Record<ReadState, number> = { complete: 0, failed: 0, incomplete: 0, missing: 0, superseded: 0 }
  for (const r of selected) counts[r.state]++
  const complete = selected.filter((r) => r.state === "complete")
  // Settings come from every run whose config is known (planned ones too), statistics from the complete ones.
  const configured = selected.filter((r) => r.state !== "superseded" && r.dataset !== null)
  const varying = varyingKeys(configured.map((r) => ({ group: `${r.dataset}\u0000${r.detector}`, flat: r.config })))
  const ignore = new Set(options.ignore ?? [])
  for (const k of ignore) if (!complete.some((r) => k in r.config)) problems.push(`--ignore ${k}: no run has the key ${JSON.stringify(k)}`)
  const ignored = varying.filter((k) => ignore.has(k) || (options.keepSeeds !== true && isSeedKey(k)))
  const grouping = varying.filter((k) => !ignored.includes(k))

  const metricNames = new Set<string>()
  for (const r of complete) for (const m of Object.keys(r.metrics)) metricNames.add(m)
  const metrics = [...HEADLINE_METRICS.filter((m) => metricNames.has(m)), ...[...metricNames].filter((m) => !HEADLINE_METRICS.includes(m)).sort()]
  if (complete.length > 0 && !metricNames.has(metric)) problems.push(`--metric ${metric}: no run has it (${metrics.join(", ") || "no metrics"})`)

  const settingOf = (r: ReadRun) => canonicalJson([r.dataset, r.model, ...grouping.map((k) => r.config[k] ?? null)])
  const bySetting = new Map<string, Array<ReadRun>>()
  for (const r of configured) {
    const key = settingOf(r)
    const list = bySetting.get(key)
    if (list === undefined) bySetting.set(key, [r])
    else list.push(r)
  }
  const coverage: Array<CoverageCell> = [...bySetting.values()].map((members) => ({
    dataset: members[0]!.dataset ?? "?",
    model: members[0]!.model ?? "?",
    params: Object.fromEntries(grouping.map((k) => [k, members[0]!.config[k] ?? null])),
    runs: members.length,
    complete: members.filter((r) => r.state === "complete").length,
    lacking: members.filter((r) => r.state !== "complete").map((r) => ({ run: r.run, state: r.state }))
  }))
  const byKey = new Map<string, Array<ReadRun>>()
  for (const [key, members] of bySetting) {
    const done = members.filter((r) => r.state === "complete")
    if (done.length > 0) byKey.set(key, done)
  }
  const groups: Array<ResultGroup> = [...byKey.values()].map((members) => {
    const first = members[0]!
    const summaries: Record<string, Summary> = {}
    for (const m of metrics) {
      const values = members.map((r) => r.metrics[m]).filter((v): v is number => v !== undefined)
      if (values.length > 0) summaries[m] = summarize(values)
    }
    return {
      dataset: first.dataset ?? "?",
      model: first.model ?? "?",
      params: Object.fromEntries(grouping.map((k) => [k, first.config[k] ?? null])),
      runs: members.map((r) => r.run),
      n: members.length,
      metrics: summaries
    }
  })

  const curves: Array<CurveSummary> = []
  for (const g of groups) {
    const members = complete.filter((r) => g.runs.includes(r.run) && r.dataset === g.dataset && r.model === g.model)
    const series = new Map<string, { split: string; metric: string; axis: CurveAxis; values: Map<number, Array<number>> }>()
    for (const r of members) {
      for (const p of r.curves) {
        const axis = CURVE_AXES.find((a) => p[a] !== undefined)!
        const key = `${p.split}\u0000${p.metric}\u0000${axis}`
        let s = series.get(key)
        if (s === undefined) series.set(key, (s = { split: p.split, metric: p.metric, axis, values: new Map() }))
        const x = p[axis]!
        const list = s.values.get(x)
        if (list === undefined) s.values.set(x, [p.value])
        else list.push(p.value)
      }
    }
    for (const s of series.values()) {
      for (const [x, values] of [...s.values].sort((a, b) => a[0] - b[0])) {
        const sum = summarize(values)
        curves.push({ dataset: g.dataset, model: g.model, params: g.params, split: s.split, metric: s.metric, axis: s.axis, x, n: sum.n, mean: sum.mean, std: sum.std })
      }
    }
  }

  const leaderboard: Array<LeaderboardEntry> = []
  for (const dataset of [...new Set(groups.map((g) => g.dataset))]) {
    const best = new Map<string, ResultGroup>()
    for (const g of groups) {
      if (g.dataset !== dataset || g.metrics[metric] === undefined) continue
      const b = best.get(g.model)
      if (b === undefined || g.metrics[metric]!.mean > b.metrics[metric]!.mean) best.set(g.model, g)
    }
    const ranked = [...best.values()].sort((a, b) => b.metrics[metric]!.mean - a.metrics[metric]!.mean)
    for (const g of ranked) {
      const s = g.metrics[metric]!
      leaderboard.push({ dataset, model: g.model, params: g.params, n: s.n, mean: s.mean, std: s.std })
    }
  }
  const names = options.names ?? {}
  const values = options.values ?? {}
  const known = (key: string) => PSEUDO_KEYS.includes(key as (typeof PSEUDO_KEYS)[number]) || metricNames.has(key) || runs.some((r) => r.state === "complete" && key in r.config)
  for (const [table, keys] of [["names", Object.keys(names)], ["values", Object.keys(values)]] as const) {
    for (const k of keys) if (!known(k)) problems.push(`[analysis] ${table}: no run has the key ${JSON.stringify(k)}`)
  }
  return { runs: selected, counts, varying: [...grouping, ...ignored], ignored, metric, metrics, groups, leaderboard, coverage, curves, names, values, problems }
}

// ---- one run against another ----------------------------------------------------------------------

/**
 * The result folder `spec` names: a result folder itself (it holds a manifest), a run's folder (its
 * newest result folder), or a run name under `resultsDir` (likewise); a message when none.
 */
export const resolveRunFolder = (spec: string, resultsDir: string): string | { readonly error: string } => {
  const newest = (runFolder: string): string | undefined => {
    const candidates = fs.readdirSync(runFolder).filter((f) => !/\.(tmp|old)-/.test(f) && fs.existsSync(path.join(runFolder, f, MANIFEST_FILE)))
    const written = (f: string) => fs.statSync(path.join(runFolder, f, MANIFEST_FILE)).mtimeMs
    return candidates.sort((x, y) => written(y) - written(x))[0]
  }
  for (const candidate of [spec, path.join(resultsDir, spec)]) {
    if (!fs.existsSync(candidate) || !fs.statSync(candidate).isDirectory()) continue
    if (fs.existsSync(path.join(candidate, MANIFEST_FILE))) return candidate
    const f = newest(candidate)
    if (f !== undefined) return path.join(candidate, f)
  }
  return { error: `${spec}: no result folder (neither a folder with a ${MANIFEST_FILE}, nor a run's folder, nor a run under ${resultsDir})` }
}

/** A value flattened without leaving anything out (arrays as values), for `diffFolders`. */
const flattenAll = (value: unknown, prefix = "", into: Record<string, unknown> = {}): Record<string, unknown> => {
  if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) flattenAll(v, prefix === "" ? k : `${prefix}.${k}`, into)
  } else if (prefix !== "") into[prefix] = value
  return into
}

/** The files `diffFolders` compares, in this order. */
export const DIFF_FILES: ReadonlyArray<string> = ["run_config.json", "metrics.json", "dataset_manifest.json", "environment.json", MANIFEST_FILE]

export interface FolderDiff {
  readonly a: string
  readonly b: string
  /** Per file: the dotted keys whose values differ (missing on one side: undefined there). */
  readonly files: ReadonlyArray<{ readonly file: string; readonly differences: ReadonlyArray<{ readonly key: string; readonly a: unknown; readonly b: unknown }> }>
  /** Files that could not be read, by folder. */
  readonly problems: ReadonlyArray<string>
}

/** What differs between two result folders: config, metrics, dataset manifest, environment and manifest, key by key. */
export const diffFolders = (a: string, b: string): FolderDiff => {
  const problems: Array<string> = []
  const read = (dir: string, file: string): Record<string, unknown> | undefined => {
    const full = path.join(dir, file)
    if (!fs.existsSync(full)) return undefined
    try {
      return flattenAll(readJson(full))
    } catch (e) {
      problems.push(`${full}: not valid JSON (${errorText(e)})`)
      return undefined
    }
  }
  const text = (v: unknown) => (v === undefined ? "\u0000missing" : canonicalJson(v))
  const files = DIFF_FILES.map((file) => {
    const x = read(a, file) ?? {}
    const y = read(b, file) ?? {}
    const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])]
    return { file, differences: keys.filter((k) => text(x[k]) !== text(y[k])).map((key) => ({ key, a: x[key], b: y[key] })) }
  })
  return { a, b, files, problems }
}
