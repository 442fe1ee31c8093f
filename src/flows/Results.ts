/**
 * Result folders: `results/<run>/<fingerprint>/` with run_config.json, dataset_manifest.json,
 * metrics.json, predictions.jsonl, environment.json and run.log. A folder is written to a
 * temporary sibling and renamed into place when complete, so a crash never leaves a partial
 * result; a folder that holds metrics.json is a completed run.
 */
import { Effect, Option, Predicate, Schema } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { ArtifactStore } from "../cache/ArtifactStore.ts"
import { pidAlive } from "../cache/Leases.ts"
import { decodeValue } from "../cache/Codec.ts"
import { LABEL_ANOMALY, LABEL_NORMAL, SPLIT_IGNORED, SPLIT_TEST, SPLIT_TRAIN, type SplitSequences } from "../artifacts/Sequences.ts"
import type { LabelledSequences } from "../artifacts/Sequences.ts"
import type { ScoredSequences } from "../artifacts/Scores.ts"
import { splitSequences } from "../artifacts/Sequences.ts"
import { splitStats } from "../tasks/SplitStage.ts"
import { stringAt } from "../artifacts/Columns.ts"
import type { Node } from "../tasks/Task.ts"
import type { PlannedRun } from "./Plan.ts"
import { projectRoot } from "../runtime/ProjectRoot.ts"

/** Writing a result folder failed. */
export class ResultsError extends Schema.TaggedError<ResultsError>()("ResultsError", {
  run: Schema.String,
  message: Schema.String
}) {}

/** The folder a run's results go to. */
export const runDir = (resultsDir: string, run: PlannedRun): string =>
  path.join(resultsDir, run.spec.name, run.fingerprint)

/** Whether the run's results are complete (metrics.json present). */
export const isComplete = (resultsDir: string, run: PlannedRun): boolean =>
  fs.existsSync(path.join(runDir(resultsDir, run), "metrics.json"))

/** What `status.json` says of a run folder. */
export type RunFolderStatus = "complete" | "failed" | "missing"

/** The state of a run's result folder: complete (metrics.json), failed (status.json says so) or missing. */
export const folderStatus = (resultsDir: string, run: PlannedRun): { status: RunFolderStatus; error?: string } => {
  const dir = runDir(resultsDir, run)
  if (fs.existsSync(path.join(dir, "metrics.json"))) return { status: "complete" }
  try {
    const s = JSON.parse(fs.readFileSync(path.join(dir, "status.json"), "utf8")) as { status?: string; error?: string }
    if (s.status === "failed") return { status: "failed", ...(s.error === undefined ? {} : { error: s.error }) }
  } catch {
    // no status file: never ran, or ran and was interrupted before writing anything
  }
  return { status: "missing" }
}

/** Record a failed run (run_config.json, run.log, status.json) unless the folder already holds complete results. */
export const writeFailure = (
  resultsDir: string,
  run: PlannedRun,
  logLines: ReadonlyArray<string>,
  error: string,
  stage: string | undefined,
  environment: () => unknown
) =>
  Effect.try({
    try: () => {
      if (isComplete(resultsDir, run)) return
      writeFolder(runDir(resultsDir, run), (tmp) => {
        fs.writeFileSync(path.join(tmp, "run_config.json"), `${JSON.stringify(run.runConfig, null, 2)}\n`)
        fs.writeFileSync(path.join(tmp, "status.json"), `${JSON.stringify({ status: "failed", stage: stage ?? null, error, at: new Date().toISOString() }, null, 2)}\n`)
        fs.writeFileSync(path.join(tmp, "run.log"), [...logLines, `${new Date().toISOString()} run failed: ${error}`].join("\n") + "\n")
        fs.writeFileSync(path.join(tmp, "environment.json"), `${JSON.stringify(environment(), null, 2)}\n`)
      })
    },
    catch: (e) => new ResultsError({ run: run.spec.name, message: e instanceof Error ? e.message : String(e) })
  })

/** Write a folder atomically: fill a temporary sibling, then rename it over `dir`. */
const writeFolder = (dir: string, fill: (tmp: string) => void) => {
  fs.mkdirSync(path.dirname(dir), { recursive: true })
  removeStaleTemps(dir)
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`
  fs.mkdirSync(tmp)
  try {
    fill(tmp)
    if (fs.existsSync(dir)) fs.rmSync(dir, { recursive: true, force: true })
    fs.renameSync(tmp, dir)
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true })
    throw e
  }
}

/** Write a run's six artifacts from the cache, atomically. */
export const writeResults = Effect.fn("Results.writeResults")(function*(
  resultsDir: string,
  run: PlannedRun,
  logLines: ReadonlyArray<string>,
  environment: () => unknown
) {
  const store = yield* ArtifactStore
  const fail = (message: string) => new ResultsError({ run: run.spec.name, message })
  const meta = (n: Node) =>
    store.meta(n.key).pipe(
      Effect.mapError((e) => fail(e.message)),
      Effect.flatMap((o) => Option.match(o, { onNone: () => Effect.fail(fail(`${n.stage.name} entry missing from cache`)), onSome: Effect.succeed }))
    )
  const value = <A>(n: Node<A>) =>
    store.get(n.key).pipe(
      Effect.mapError((e) => fail(e.message)),
      Effect.flatMap((o) =>
        Option.match(o, {
          onNone: () => Effect.fail(fail(`${n.stage.name} entry missing from cache`)),
          onSome: (e) => Effect.succeed(decodeValue(e.value) as A)
        })
      )
    )
  const nodes = run.nodes
  const metrics = yield* value(nodes.evaluate)
  const labelled = yield* value(nodes.label)
  const split = yield* value(nodes.split)
  const scored = yield* value(nodes.score)
  const optionalMeta = (n: Node | undefined) => (n === undefined ? Effect.succeed(undefined) : meta(n))
  const metas = {
    sources: yield* Effect.forEach(nodes.sources, meta),
    parse: yield* optionalMeta(nodes.parse),
    mine: yield* optionalMeta(nodes.mine),
    group: yield* optionalMeta(nodes.group),
    label: yield* meta(nodes.label),
    split: yield* meta(nodes.split),
    fit: yield* meta(nodes.fit),
    represent: yield* Effect.forEach(nodes.represent, meta)
  }
  const seqs = splitSequences(labelled, split)
  const spec = run.spec.dataset.split
  const manifest = {
    run: run.spec.name,
    dataset: run.spec.datasetName,
    sources: metas.sources.map((m) => m.summary),
    ...(metas.parse === undefined ? {} : { parser: metas.parse.summary }),
    ...(metas.mine === undefined ? {} : { miner: metas.mine.summary }),
    ...(metas.group === undefined ? {} : { grouping: metas.group.summary }),
    [metas.label.stage === "sessions" ? "sessions" : "labels"]: metas.label.summary,
    split: {
      ...(metas.split.summary as Record<string, unknown>),
      requested: spec,
      effective: {
        train: split.summary.train.count,
        test: split.summary.test.count,
        ignored: split.summary.ignored.count,
        train_fraction: seqs.labels.length === 0 ? 0 : split.summary.train.count / seqs.labels.length,
        test_fraction: seqs.labels.length === 0 ? 0 : split.summary.test.count / seqs.labels.length
      },
      lengths: splitStats(seqs, split.split)
    },
    fit: metas.fit.summary,
    ...(metas.represent.length === 0 ? {} : { representations: metas.represent.map((m) => m.summary) }),
    cache_keys: {
      sources: metas.sources.map((m) => m.key),
      represent: metas.represent.map((m) => m.key),
      ...Object.fromEntries((["parse", "mine", "group", "label", "split", "fit"] as const).flatMap((k) => {
        const m = metas[k]
        return m === undefined ? [] : [[k, m.key]]
      }))
    }
  }
  const predictions = predictionLines(labelled, split, scored)

  const dir = runDir(resultsDir, run)
  yield* Effect.try({
    try: () =>
      writeFolder(dir, (tmp) => {
        const json = (name: string, v: unknown) => fs.writeFileSync(path.join(tmp, name), `${JSON.stringify(v, null, 2)}\n`)
        json("run_config.json", run.runConfig)
        json("dataset_manifest.json", manifest)
        json("metrics.json", { run: run.spec.name, fingerprint: run.fingerprint, ...metrics })
        fs.writeFileSync(path.join(tmp, "predictions.jsonl"), predictions)
        json("environment.json", environment())
        fs.writeFileSync(path.join(tmp, "run.log"), logLines.join("\n") + "\n")
        const curves = trainingCurves(metas.fit.summary)
        if (curves !== undefined) fs.writeFileSync(path.join(tmp, "curves.jsonl"), curves.map((c) => JSON.stringify(c)).join("\n") + "\n")
      }),
    catch: (e) => fail(`cannot write ${dir}: ${e instanceof Error ? e.message : String(e)}`)
  })
  return dir
})

/** The per-epoch training curves a fit reported (neural detectors), if any. */
const trainingCurves = (summary: unknown): ReadonlyArray<unknown> | undefined => {
  if (!Predicate.isObject(summary) || !("report" in summary)) return undefined
  const report = summary.report
  return Predicate.isObject(report) && "curves" in report && Array.isArray(report.curves) ? report.curves : undefined
}

/** Remove `<dir>.tmp-<pid>-<time>` folders left by processes that died mid-write. */
const removeStaleTemps = (dir: string) => {
  const base = path.basename(dir)
  for (const name of fs.readdirSync(path.dirname(dir))) {
    const m = new RegExp(`^${base}\\.tmp-(\\d+)-\\d+$`).exec(name)
    if (m !== null && !pidAlive(Number(m[1]))) fs.rmSync(path.join(path.dirname(dir), name), { recursive: true, force: true })
  }
}

const splitName = (tag: number | undefined): string =>
  tag === SPLIT_TRAIN ? "train" : tag === SPLIT_TEST ? "test" : tag === SPLIT_IGNORED ? "ignored" : "unknown"

const labelName = (l: number | undefined): string =>
  l === LABEL_NORMAL ? "normal" : l === LABEL_ANOMALY ? "anomaly" : "unknown"

const predictionLines = (labelled: LabelledSequences, split: SplitSequences, scored: ScoredSequences): string => {
  if (scored.status !== "ok") return ""
  const seqs = splitSequences(labelled, split)
  const out: Array<string> = []
  for (let j = 0; j < scored.which.length; j++) {
    const i = scored.which[j]!
    out.push(JSON.stringify({
      id: stringAt(seqs.ids, i),
      split: splitName(split.split[i]),
      label: labelName(seqs.labels[i]),
      score: Number.isFinite(scored.scores[j]!) ? scored.scores[j] : null,
      prediction: scored.predictions[j]
    }))
  }
  return out.length === 0 ? "" : out.join("\n") + "\n"
}

/**
 * Node version, platform, git commit, package versions and how the CLI started: read once, when a
 * flow first writes a result folder (each flow reads it again: the commit may have moved).
 */
export const lazyEnvironment = (cliStart: string): (() => unknown) => {
  let known: unknown
  return () => (known ??= readEnvironment(cliStart))
}

const readEnvironment = (cliStart: string): unknown => {
  const root = projectRoot()
  const pkgVersion = (name: string): string | null => {
    try {
      return (JSON.parse(fs.readFileSync(path.join(root, "node_modules", name, "package.json"), "utf8")) as { version: string }).version
    } catch {
      return null
    }
  }
  const git = (...args: Array<string>): string | null => {
    try {
      return execFileSync("git", args, { cwd: root, stdio: ["ignore", "pipe", "ignore"] }).toString().trim()
    } catch {
      return null
    }
  }
  const own = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
    version: string
    dependencies?: Record<string, string>
  }
  return {
    logflow: own.version,
    node: process.version,
    cli_start: cliStart,
    platform: process.platform,
    arch: process.arch,
    cpus: os.availableParallelism(),
    memory_bytes: os.totalmem(),
    git_commit: git("rev-parse", "HEAD"),
    git_dirty: (() => {
      const s = git("status", "--porcelain", "--untracked-files=no")
      return s === null ? null : s.length > 0
    })(),
    packages: Object.fromEntries(Object.keys(own.dependencies ?? {}).map((n) => [n, pkgVersion(n)]))
  }
}
