/**
 * Result folders: `results/<run>/<fingerprint>/` with run_config.json, dataset_manifest.json,
 * metrics.json, predictions.jsonl, environment.json and run.log (and curves.jsonl, the training curves' points, for iterative
 * detectors); a failed run's folder holds run_config.json, status.json, environment.json and
 * run.log instead. Every folder also holds `manifest.json`, written last: each file's sha256 and
 * size. A folder is filled as a temporary sibling and renamed into place, so a crash never leaves
 * a partial folder; a folder is trusted only when its manifest lists the files its kind needs and
 * every listed file still has the listed size and digest (an edited, truncated or deleted file
 * makes it incomplete, and the next `flow run` rewrites it).
 *
 * Several processes may write the same folder at once (one sweep started twice on one results
 * dir): a writer that finds another's complete folder with the same results in place keeps it;
 * one that finds an incomplete folder (or an older failure record) moves it aside, renames its own
 * in, then removes the old one, so a reader sees the old folder, no folder, or the new one, never
 * half of one. A complete result folder is never replaced by a failure record.
 */
import { curvePoints, type CurvePoint } from "../artifacts/Curves.ts"
import { Effect, Option, Predicate, Schema } from "effect"
import { execFileSync } from "node:child_process"
import { randomInt } from "node:crypto"
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
import { ownPackage, projectRoot } from "../runtime/ProjectRoot.ts"
import { makeFolders } from "../runtime/Folders.ts"
import { fileDigest } from "../sources/Source.ts"
import { type BoundedMemo, memoSpec } from "../runtime/WarmState.ts"

/** Writing a result folder failed. */
export class ResultsError extends Schema.TaggedError<ResultsError>()("ResultsError", {
  run: Schema.String,
  message: Schema.String
}) {}

/** The folder a run's results go to. */
export const runDir = (resultsDir: string, run: PlannedRun): string =>
  path.join(resultsDir, run.spec.name, run.fingerprint)

/** The manifest's file name, inside each result folder. */
export const MANIFEST_FILE = "manifest.json"
/** The manifest's `format`. */
export const MANIFEST_FORMAT = "logflow-results/1"

/** What a folder records: a run's results, or its failure. */
export type FolderKind = "results" | "failure"

/** The files a folder of each kind must list in its manifest. */
export const REQUIRED_FILES: Readonly<Record<FolderKind, ReadonlyArray<string>>> = {
  results: ["run_config.json", "dataset_manifest.json", "metrics.json", "predictions.jsonl", "environment.json", "run.log"],
  failure: ["run_config.json", "status.json", "environment.json", "run.log"]
}

/** The files a rerun of the same fingerprint writes byte for byte again: equal digests of these are equal results. */
export const DETERMINISTIC_FILES: ReadonlyArray<string> = ["metrics.json", "predictions.jsonl", "run_config.json", "dataset_manifest.json"]

export interface ManifestEntry {
  readonly sha256: string
  readonly bytes: number
}

/** `manifest.json`: what a folder is and the digest and size of each of its files. */
export interface FolderManifest {
  readonly format: typeof MANIFEST_FORMAT
  readonly kind: FolderKind
  readonly run: string
  readonly fingerprint: string
  readonly files: Readonly<Record<string, ManifestEntry>>
}

/** The outcome of checking a folder against its manifest. */
export type FolderCheck =
  | { readonly ok: true; readonly manifest: FolderManifest }
  | { readonly ok: false; readonly reason: string }

// A manifest larger than this, or listing more files, is not one this code wrote.
const MAX_MANIFEST_BYTES = 1 << 20
const MAX_FILES = 256
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/
const SHA256 = /^[0-9a-f]{64}$/

const errnoCode = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code

/** The manifest of `folder`, parsed and checked for shape, or why it is not usable. */
const readManifest = (folder: string, run: string, fingerprint: string): FolderManifest | string => {
  const file = path.join(folder, MANIFEST_FILE)
  let stat: fs.Stats
  try {
    stat = fs.lstatSync(file)
  } catch (e) {
    return errnoCode(e) === "ENOENT" || errnoCode(e) === "ENOTDIR" ? "no manifest" : `${MANIFEST_FILE} unreadable: ${errnoCode(e) ?? String(e)}`
  }
  if (!stat.isFile()) return `${MANIFEST_FILE} is not a file`
  if (stat.size > MAX_MANIFEST_BYTES) return `${MANIFEST_FILE} is too large to be a manifest`
  let raw: unknown
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"))
  } catch {
    return `${MANIFEST_FILE} is not valid JSON`
  }
  const bad = `${MANIFEST_FILE} is not a ${MANIFEST_FORMAT} manifest`
  if (!Predicate.isObject(raw) || Array.isArray(raw)) return bad
  const m = raw as Record<string, unknown>
  if (m.format !== MANIFEST_FORMAT) return bad
  if (m.kind !== "results" && m.kind !== "failure") return bad
  if (typeof m.run !== "string" || typeof m.fingerprint !== "string") return bad
  if (m.run !== run || m.fingerprint !== fingerprint) return `${MANIFEST_FILE} is for ${m.run}/${m.fingerprint}, not ${run}/${fingerprint}`
  if (!Predicate.isObject(m.files) || Array.isArray(m.files)) return bad
  const entries = Object.entries(m.files as Record<string, unknown>)
  if (entries.length > MAX_FILES) return bad
  const files: Record<string, ManifestEntry> = {}
  for (const [name, entry] of entries) {
    if (!FILE_NAME.test(name) || name === MANIFEST_FILE) return `${MANIFEST_FILE} lists a file it cannot hold: ${JSON.stringify(name)}`
    if (!Predicate.isObject(entry)) return bad
    const { sha256, bytes } = entry as Record<string, unknown>
    if (typeof sha256 !== "string" || !SHA256.test(sha256) || typeof bytes !== "number" || !Number.isSafeInteger(bytes) || bytes < 0) return bad
    files[name] = { sha256, bytes }
  }
  return { format: MANIFEST_FORMAT, kind: m.kind, run: m.run, fingerprint: m.fingerprint, files }
}

/**
 * Check the folder at `folder` (which sits, or will sit, at `results/<run>/<fingerprint>`) against
 * its manifest: the manifest exists, parses, names this run and fingerprint, lists the files its
 * kind needs, and every listed file exists with the listed size and sha256. Files it does not list
 * are ignored. Reads each listed file once (sizes first, so a truncated file costs no hashing);
 * `hashFiles` false checks sizes only (a reader that parses the files it uses anyway).
 */
export const checkFolder = (folder: string, run = path.basename(path.dirname(folder)), fingerprint = path.basename(folder), hashFiles = true): FolderCheck => {
  // Another writer may swap the folder while it is read (manifest of one, files of the next):
  // a check during which the folder at the path changed is read again.
  for (let tries = 0; ; tries++) {
    const before = folderIdentity(folder)
    const check = checkOnce(folder, run, fingerprint, hashFiles)
    if (check.ok || tries >= 4 || before === folderIdentity(folder)) return check
  }
}

/** Which folder sits at `folder` now (device, inode, birth time), or undefined. */
const folderIdentity = (folder: string): string | undefined => {
  try {
    const s = fs.statSync(folder, { bigint: true })
    return `${s.dev}:${s.ino}:${s.birthtimeNs}`
  } catch {
    return undefined
  }
}

const checkOnce = (folder: string, run: string, fingerprint: string, hashFiles: boolean): FolderCheck => {
  const manifest = readManifest(folder, run, fingerprint)
  if (typeof manifest === "string") return { ok: false, reason: manifest }
  const problems: Array<string> = []
  for (const name of REQUIRED_FILES[manifest.kind]) {
    if (!(name in manifest.files)) problems.push(`${MANIFEST_FILE} does not list ${name}`)
  }
  const toHash: Array<[string, ManifestEntry]> = []
  for (const [name, entry] of Object.entries(manifest.files)) {
    let stat: fs.Stats
    try {
      stat = fs.lstatSync(path.join(folder, name))
    } catch (e) {
      problems.push(errnoCode(e) === "ENOENT" ? `${name} missing` : `${name} unreadable: ${errnoCode(e) ?? String(e)}`)
      continue
    }
    if (!stat.isFile()) problems.push(`${name} is not a file`)
    else if (stat.size !== entry.bytes) problems.push(`${name} does not match its digest (${stat.size} bytes, manifest says ${entry.bytes})`)
    else if (hashFiles) toHash.push([name, entry])
  }
  for (const [name, entry] of toHash) {
    try {
      const actual = fileDigest(path.join(folder, name))
      if (actual.sha256 !== entry.sha256 || actual.bytes !== entry.bytes) problems.push(`${name} does not match its digest`)
    } catch (e) {
      problems.push(`${name} unreadable: ${errnoCode(e) ?? String(e)}`)
    }
  }
  return problems.length === 0 ? { ok: true, manifest } : { ok: false, reason: problems.join("; ") }
}

/** A folder found to match its manifest, and what its files looked like then. */
export interface CheckedFolder {
  readonly stamp: string
  readonly manifest: FolderManifest
}

/** Folders that matched their manifests, kept in a warm state (the daemon) by path. */
export const checkedFolders = memoSpec<string, CheckedFolder>("checked-result-folders", 1024)

/** A change this recent may not have moved a file's times yet: such a folder is not remembered. */
const RACY_MS = 2000

/**
 * What the folder's files look like (name, inode, size, mtime, ctime of each, and the folder's
 * own identity), and when the newest of them last changed.
 */
const folderStamp = (folder: string): { stamp: string; changedAt: number } | undefined => {
  try {
    let changedAt = 0
    const parts = [folderIdentity(folder)]
    for (const name of fs.readdirSync(folder).sort()) {
      const st = fs.lstatSync(path.join(folder, name), { bigint: true })
      parts.push(`${name}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`)
      changedAt = Math.max(changedAt, Number(st.mtimeMs), Number(st.ctimeMs))
    }
    return { stamp: parts.join("/"), changedAt }
  } catch {
    return undefined
  }
}

/**
 * `checkFolder`, remembered in `checked` when given: a folder that matched its manifest and whose
 * files (names, inodes, sizes, mtimes and ctimes, which no user can set back) are unchanged since
 * is not read again. Like source digests, a match is remembered only when the newest change was
 * RACY_MS or more before the check.
 */
const checkedFolder = (folder: string, run: string, fingerprint: string, checked: BoundedMemo<string, CheckedFolder> | undefined): FolderCheck => {
  if (checked === undefined) return checkFolder(folder, run, fingerprint)
  const before = folderStamp(folder)
  const known = checked.get(folder)
  if (before !== undefined && known !== undefined && known.stamp === before.stamp && known.manifest.run === run && known.manifest.fingerprint === fingerprint) {
    return { ok: true, manifest: known.manifest }
  }
  const checkedAt = Date.now()
  const c = checkFolder(folder, run, fingerprint)
  const after = folderStamp(folder)
  if (c.ok && before !== undefined && after !== undefined && after.stamp === before.stamp && checkedAt - after.changedAt >= RACY_MS) {
    checked.set(folder, { stamp: after.stamp, manifest: c.manifest })
  } else checked.delete(folder)
  return c
}

/** Whether the run's results are complete: a results manifest that every listed file matches. */
export const isComplete = (resultsDir: string, run: PlannedRun): boolean => {
  const c = checkFolder(runDir(resultsDir, run), run.spec.name, run.fingerprint)
  return c.ok && c.manifest.kind === "results"
}

/** The state of a run's result folder. */
export type RunFolderStatus = "complete" | "incomplete" | "failed" | "missing"

/**
 * The state of a run's result folder: complete (results that match their manifest), failed (a
 * failure record that matches its manifest: `error` says why the run failed), incomplete (a
 * folder whose manifest is missing or does not match: `reason` says what is wrong) or missing (no
 * folder: never ran, or interrupted before its folder was renamed into place).
 */
export const folderStatus = (
  resultsDir: string,
  run: PlannedRun,
  checked?: BoundedMemo<string, CheckedFolder>
): { status: RunFolderStatus; error?: string; reason?: string } => {
  const dir = runDir(resultsDir, run)
  if (!fs.existsSync(dir)) return { status: "missing" }
  const c = checkedFolder(dir, run.spec.name, run.fingerprint, checked)
  if (!c.ok) return { status: "incomplete", reason: c.reason }
  if (c.manifest.kind === "results") return { status: "complete" }
  try {
    const s = JSON.parse(fs.readFileSync(path.join(dir, "status.json"), "utf8")) as { status?: unknown; error?: unknown }
    if (s.status === "failed") return { status: "failed", ...(typeof s.error === "string" ? { error: s.error } : {}) }
    return { status: "incomplete", reason: "status.json does not record a failure" }
  } catch {
    return { status: "incomplete", reason: "status.json is not valid JSON" }
  }
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
      writeFolder(runDir(resultsDir, run), { kind: "failure", run: run.spec.name, fingerprint: run.fingerprint }, (tmp) => {
        fs.writeFileSync(path.join(tmp, "run_config.json"), `${JSON.stringify(run.runConfig, null, 2)}\n`)
        fs.writeFileSync(path.join(tmp, "status.json"), `${JSON.stringify({ status: "failed", stage: stage ?? null, error, at: new Date().toISOString() }, null, 2)}\n`)
        fs.writeFileSync(path.join(tmp, "run.log"), [...logLines, `${new Date().toISOString()} run failed: ${error}`].join("\n") + "\n")
        fs.writeFileSync(path.join(tmp, "environment.json"), `${JSON.stringify(environment(), null, 2)}\n`)
      })
    },
    catch: (e) => new ResultsError({ run: run.spec.name, message: e instanceof Error ? e.message : String(e) })
  })

/** How `writeFolder` ended: `written` (this writer's folder is in place) or `kept` (another writer's folder, which this one must not replace, is). */
export type WriteOutcome = "written" | "kept"

// Errors of renaming a folder onto a path another folder (or a file) holds, depending on the system.
const TARGET_TAKEN: ReadonlySet<string> = new Set(["ENOTEMPTY", "EEXIST", "EPERM", "ENOTDIR"])
// Bounds the install loop: each pass some writer put its folder in place, so it ends long before.
const MAX_INSTALL_TRIES = 100
// `<dir>.tmp-<pid>-<time>-<random>` (being filled) or `<dir>.old-…` (moved aside): unique even for two writers of one process in one millisecond.
const sideName = (dir: string, what: "tmp" | "old") => `${dir}.${what}-${process.pid}-${Date.now()}-${randomInt(1e9)}`

/**
 * Whether `there`, a folder that matches its manifest, stays in place instead of `mine`: complete
 * results are never replaced by a failure record, nor (unless `replaceEqual`) by results with the
 * same deterministic files.
 */
const keeps = (there: FolderManifest, mine: FolderManifest, replaceEqual: boolean): boolean => {
  if (there.kind !== "results") return false
  if (mine.kind === "failure") return true
  return !replaceEqual && DETERMINISTIC_FILES.every((f) => {
    const a = there.files[f]
    const b = mine.files[f]
    return a !== undefined && b !== undefined && a.sha256 === b.sha256 && a.bytes === b.bytes
  })
}

/**
 * Write the folder `dir` (of `what`: its kind, run and fingerprint) atomically: `fill` writes the
 * files into a temporary sibling, then the manifest of every file there is written last, and the
 * folder is renamed onto `dir`. If another folder holds `dir`: one that matches its manifest and `keeps`
 * says must stay is kept (the temporary folder is removed, `kept`); any other is moved aside, this
 * one renamed in, then the old one removed. `replaceEqual`: replace complete results even when
 * equal (a forced rewrite).
 */
export const writeFolder = (
  dir: string,
  what: { readonly kind: FolderKind; readonly run: string; readonly fingerprint: string },
  fill: (tmp: string) => void,
  replaceEqual = false
): WriteOutcome => {
  const { kind, run, fingerprint } = what
  makeFolders(path.dirname(dir))
  removeStaleTemps(dir)
  const tmp = sideName(dir, "tmp")
  fs.mkdirSync(tmp)
  let manifest: FolderManifest
  try {
    fill(tmp)
    const files: Record<string, ManifestEntry> = {}
    for (const name of fs.readdirSync(tmp).sort()) {
      if (name === MANIFEST_FILE || !fs.lstatSync(path.join(tmp, name)).isFile()) continue
      files[name] = fileDigest(path.join(tmp, name))
    }
    const missing = REQUIRED_FILES[kind].filter((f) => !(f in files))
    if (missing.length > 0) throw new Error(`${dir}: ${kind} folder lacks ${missing.join(", ")}`)
    manifest = { format: MANIFEST_FORMAT, kind, run, fingerprint, files }
    fs.writeFileSync(path.join(tmp, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`)
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true })
    throw e
  }
  return install(tmp, manifest, dir, replaceEqual)
}

/** Rename the filled folder `tmp` onto `dir`, dealing with whatever another writer put there (see `writeFolder`). */
const install = (tmp: string, manifest: FolderManifest, dir: string, replaceEqual: boolean): WriteOutcome => {
  const { run, fingerprint } = manifest
  // The folder this writer holds and will rename in: its own, or a complete one it moved aside and must put back.
  let held = tmp
  let heldManifest = manifest
  const discard: Array<string> = []
  try {
    let last: unknown
    for (let attempt = 0; attempt < MAX_INSTALL_TRIES; attempt++) {
      try {
        fs.renameSync(held, dir)
        return held === tmp ? "written" : "kept"
      } catch (e) {
        if (!TARGET_TAKEN.has(errnoCode(e) ?? "")) throw e
        last = e
      }
      const there = checkFolder(dir, run, fingerprint)
      if (there.ok && keeps(there.manifest, heldManifest, replaceEqual)) {
        fs.rmSync(held, { recursive: true, force: true })
        return "kept"
      }
      const aside = sideName(dir, "old")
      try {
        fs.renameSync(dir, aside)
      } catch (e) {
        if (errnoCode(e) === "ENOENT") continue // another writer moved it meanwhile
        throw e
      }
      // Another writer may have swapped its folder in between the check and the move: check what was moved.
      const moved = checkFolder(aside, run, fingerprint)
      if (moved.ok && keeps(moved.manifest, heldManifest, replaceEqual)) {
        fs.rmSync(held, { recursive: true, force: true })
        held = aside
        heldManifest = moved.manifest
      } else {
        discard.push(aside)
      }
    }
    throw new Error(`cannot put ${dir} in place after ${MAX_INSTALL_TRIES} tries: ${last instanceof Error ? last.message : String(last)}`)
  } catch (e) {
    if (held !== tmp) {
      try {
        fs.renameSync(held, dir) // a complete folder moved aside: put it back if the place is free
      } catch {
        // taken again: whatever holds it now stays
      }
    }
    fs.rmSync(held, { recursive: true, force: true })
    throw e
  } finally {
    for (const d of discard) fs.rmSync(d, { recursive: true, force: true })
  }
}

/**
 * Write a run's artifacts from the cache, and their manifest, atomically (see `writeFolder`).
 * `replaceEqual`: replace a complete folder even when its results are the same (a forced rewrite);
 * otherwise a complete folder with the same results that another writer put in place is kept.
 */
export const writeResults = Effect.fn("Results.writeResults")(function*(
  resultsDir: string,
  run: PlannedRun,
  logLines: ReadonlyArray<string>,
  environment: () => unknown,
  options: { readonly replaceEqual?: boolean } = {}
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
      writeFolder(dir, { kind: "results", run: run.spec.name, fingerprint: run.fingerprint }, (tmp) => {
        const json = (name: string, v: unknown) => fs.writeFileSync(path.join(tmp, name), `${JSON.stringify(v, null, 2)}\n`)
        json("run_config.json", run.runConfig)
        json("dataset_manifest.json", manifest)
        json("metrics.json", { run: run.spec.name, fingerprint: run.fingerprint, ...metrics })
        fs.writeFileSync(path.join(tmp, "predictions.jsonl"), predictions)
        json("environment.json", environment())
        fs.writeFileSync(path.join(tmp, "run.log"), logLines.join("\n") + "\n")
        const curves = trainingCurves(metas.fit.summary)
        if (curves !== undefined) fs.writeFileSync(path.join(tmp, "curves.jsonl"), curves.map((c) => JSON.stringify(c)).join("\n") + "\n")
      }, options.replaceEqual ?? false),
    catch: (e) => fail(`cannot write ${dir}: ${e instanceof Error ? e.message : String(e)}`)
  })
  return dir
})

/** The training curves a fit reported (iterative detectors), as curve points (`artifacts/Curves.ts`), if any. */
const trainingCurves = (summary: unknown): ReadonlyArray<CurvePoint> | undefined => {
  if (!Predicate.isObject(summary) || !("report" in summary)) return undefined
  const report = summary.report
  if (!(Predicate.isObject(report) && "curves" in report && Array.isArray(report.curves))) return undefined
  const points = curvePoints(report.curves)
  return points.length === 0 ? undefined : points
}

/** Remove `<dir>.tmp-<pid>-…` and `<dir>.old-<pid>-…` folders left by processes that died mid-write. */
const removeStaleTemps = (dir: string) => {
  const base = path.basename(dir).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
  const side = new RegExp(`^${base}\\.(?:tmp|old)-(\\d+)-\\d+(?:-\\d+)?$`)
  for (const name of fs.readdirSync(path.dirname(dir))) {
    const m = side.exec(name)
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
  const own = ownPackage()
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
