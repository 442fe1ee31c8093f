/**
 * Checks of a dataset against its data that are cheap enough to run before any stage: a label
 * CSV has the columns the config names, and an entity pattern matches somewhere in the log. They
 * turn mistakes that would otherwise fail a stage minutes in into one config error up front.
 *
 * A user's pattern is matched in a worker thread with a time budget (`PATTERN_BUDGET_MS`): a
 * pattern that backtracks catastrophically is a config error naming its key, and the command
 * stays responsive to Ctrl-C meanwhile. The entity pattern searches the whole log; each miner
 * mask of the dataset's own (a preset's are known) is applied to its first `MASK_SAMPLE_LINES`
 * lines, as the mine stage would. Answers are remembered by file digest and pattern, in the
 * warm state and in `answersFile` (`<cache>/prechecks.json`), so a log is searched once.
 */
import { Effect, Option } from "effect"
import { memoSpec, WarmState } from "../runtime/WarmState.ts"
import { writeWhole } from "../runtime/Folders.ts"
import * as fs from "node:fs"
import { Worker } from "node:worker_threads"
import { parseCsv } from "../presets/Csv.ts"
import { contextRows } from "../sequences/StreamChunks.ts"
import { describeSource, sourcePath } from "../sources/Source.ts"
import type { Digests } from "./Sources.ts"
import { combineConfigErrors, ConfigError } from "./ConfigError.ts"
import { type DatasetConfig, isSessionDataset } from "./Dataset.ts"

const CHUNK = 1 << 20

/** Check every dataset of a flow; `file` is the config file errors are attributed to. */
export const precheckDatasets = (
  datasets: ReadonlyArray<{ readonly dataset: DatasetConfig; readonly file: string }>,
  digests: Digests,
  roots: { readonly dataRoot: string; readonly sourcesDir: string },
  options: { readonly answersFile?: string | undefined; readonly patternBudgetMs?: number } = {}
): Effect.Effect<void, ConfigError> =>
  Effect.gen(function*() {
    const warm = yield* Effect.serviceOption(WarmState)
    const found = Option.isSome(warm) ? warm.value.memo(answers) : undefined
    // What a check found, by the content digest of the file it read (and the pattern): in a
    // process that keeps a warm state (the daemon), a file's checks are read once, not at every command.
    const local = new Map<string, unknown>()
    const memo = <A>(key: string, compute: () => A): A => {
      if (local.has(key)) return local.get(key) as A
      const value = found?.has(key) === true ? found.get(key) as A : compute()
      local.set(key, value)
      found?.set(key, value)
      return value
    }
    // Pattern searches first (in a worker, against the budget), remembered across runs too.
    const { answersFile, patternBudgetMs = PATTERN_BUDGET_MS } = options
    const saved = readAnswers(answersFile)
    let added = false
    for (const q of patternSearches(datasets, digests, roots)) {
      if (found?.has(q.key) === true || local.has(q.key)) continue
      let answer = saved[q.key]
      if (answer === undefined) {
        answer = yield* Effect.promise(() => searchInWorker(q.file, q.pattern, patternBudgetMs, q.mode))
        if (answer !== "timeout") {
          saved[q.key] = answer
          added = true
        }
      }
      memo(q.key, () => answer)
    }
    if (added) writeAnswers(answersFile, saved)
    return yield* checkAll(datasets, digests, roots, memo, patternBudgetMs)
  })

/** How long one pattern may search one log before it is refused as backtracking catastrophically. */
export const PATTERN_BUDGET_MS = 20_000

/** How many lines of the log each miner mask is tried on before the mine stage runs. */
export const MASK_SAMPLE_LINES = 10_000

/** "match"/"none": an entity search's answer; "ok": a mask went through the sample in time. */
type SearchAnswer = "match" | "none" | "ok" | "timeout"
type SearchMode = "search" | "mask"

/** The (file, pattern) searches the datasets' entity patterns and miner masks need. */
const patternSearches = (
  datasets: ReadonlyArray<{ readonly dataset: DatasetConfig }>,
  digests: Digests,
  roots: { readonly dataRoot: string; readonly sourcesDir: string }
) =>
  datasets.flatMap(({ dataset }) => {
    if (isSessionDataset(dataset)) return []
    const source = digests.get(describeSource(dataset.source))
    if (source === undefined) return []
    const file = sourcePath(roots, source)
    const out: Array<{ key: string; file: string; pattern: string; mode: SearchMode }> = []
    if (dataset.grouping.type === "entity" && dataset.grouping.pattern !== undefined) {
      out.push({ key: searchKey("search", source.sha256, dataset.grouping.pattern), file, pattern: dataset.grouping.pattern, mode: "search" })
    }
    for (const m of dataset.miner.masks ?? []) out.push({ key: searchKey("mask", source.sha256, m.pattern), file, pattern: m.pattern, mode: "mask" })
    return out
  })

const searchKey = (mode: SearchMode, sha256: string, pattern: string) => `${mode === "search" ? "match" : "mask"}\0${sha256}\0${pattern}`

const readAnswers = (file: string | undefined): Record<string, SearchAnswer> => {
  if (file === undefined) return {}
  try {
    const raw = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>
    return Object.fromEntries(Object.entries(raw).filter(([, v]) => v === "match" || v === "none" || v === "ok")) as Record<string, SearchAnswer>
  } catch {
    return {}
  }
}

const writeAnswers = (file: string | undefined, answers: Record<string, SearchAnswer>): void => {
  if (file === undefined) return
  try {
    writeWhole(file, JSON.stringify(answers))
  } catch {
    // remembered answers only save time
  }
}

/**
 * In a worker thread that is stopped after `budgetMs` ("timeout" then): "search" answers whether
 * `pattern` matches within some line of `file` (stopping at the first match); "mask" replaces
 * every match in each of the first MASK_SAMPLE_LINES lines and answers "ok".
 */
export const searchInWorker = (file: string, pattern: string, budgetMs: number, mode: SearchMode = "search"): Promise<SearchAnswer> =>
  new Promise((resolve) => {
    const w = new Worker(SEARCH_CODE, { eval: true, workerData: { file, pattern, chunk: CHUNK, mode, sample: MASK_SAMPLE_LINES } })
    const timer = setTimeout(() => {
      void w.terminate()
      resolve("timeout")
    }, budgetMs)
    const done = (answer: SearchAnswer) => {
      clearTimeout(timer)
      resolve(answer)
    }
    w.once("message", (m: boolean) => done(mode === "mask" ? "ok" : m ? "match" : "none"))
    w.once("error", () => done("none"))
    w.once("exit", () => done("none"))
  })

/** The search, as the worker runs it (Node built-ins only). */
const SEARCH_CODE = `
const { parentPort, workerData } = require("node:worker_threads")
const fs = require("node:fs")
const mask = workerData.mode === "mask"
const re = new RegExp(workerData.pattern, mask ? "g" : "")
let left = workerData.sample
const test = (l) => {
  if (!mask) return re.test(l)
  l.replace(re, "<*>")
  return --left <= 0
}
const fd = fs.openSync(workerData.file, "r")
const buf = Buffer.alloc(workerData.chunk)
let carry = ""
let n
let found = false
while (!found && (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) {
  const text = carry + buf.subarray(0, n).toString("utf8")
  const cut = text.lastIndexOf("\\n")
  const whole = cut < 0 ? "" : text.slice(0, cut)
  if (whole !== "" && whole.split("\\n").some(test)) found = true
  carry = cut < 0 ? text : text.slice(cut + 1)
}
fs.closeSync(fd)
parentPort.postMessage(found || (carry !== "" && test(carry)))
`

const answers = memoSpec<string, unknown>("precheck-answers", 256)

/** Every issue of every dataset, reported together. */
const checkAll = (
  datasets: ReadonlyArray<{ readonly dataset: DatasetConfig; readonly file: string }>,
  digests: Digests,
  roots: { readonly dataRoot: string; readonly sourcesDir: string },
  memo: <A>(key: string, compute: () => A) => A,
  budgetMs: number
): Effect.Effect<void, ConfigError> =>
  Effect.suspend(() => {
    const issues = datasets.flatMap(({ dataset, file }) => datasetIssues(dataset, digests, roots, memo, budgetMs).map((i) => ({ file, ...i })))
    const failed = combineConfigErrors(issues.map((i) => new ConfigError(i)))
    return failed === undefined ? Effect.void : Effect.fail(failed)
  })

const datasetIssues = (
  dataset: DatasetConfig,
  digests: Digests,
  roots: { readonly dataRoot: string; readonly sourcesDir: string },
  memo: <A>(key: string, compute: () => A) => A,
  budgetMs: number
): ReadonlyArray<{ readonly keyPath: string; readonly detail: string }> => {
  if (isSessionDataset(dataset)) return []
  const issues: Array<{ keyPath: string; detail: string }> = []
  const labels = dataset.labels
  if (labels.type === "entity_csv") {
    const source = digests.get(describeSource(labels.source))
    if (source !== undefined) {
      const header = memo(`header\0${source.sha256}`, () =>
        parseCsv(firstLine(sourcePath(roots, source)))[0]?.map((h) => h.trim().replace(/^\uFEFF/, "")) ?? [])
      for (const [key, column] of [["entity_column", labels.entity_column], ["label_column", labels.label_column]] as const) {
        if (!header.includes(column)) {
          issues.push({ keyPath: `labels.${key}`, detail: `the label file ${source.path} has no column "${column}" (columns: ${header.join(", ")})` })
        }
      }
    }
  }
  const grouping = dataset.grouping
  const split = dataset.split
  if (grouping.type === "stream_chunks" && contextRows(grouping.continuous_context, grouping.chunk_size) > 0 &&
    split.type === "raw" && split.straddle_policy === "split_partial") {
    issues.push({
      keyPath: "split.straddle_policy",
      detail: "split_partial cuts the chunk that straddles the boundary in two, and the cut pieces have no context to follow; " +
        "with grouping.continuous_context use first_event, last_event or drop"
    })
  }
  if (grouping.type === "entity" && grouping.pattern !== undefined) {
    const source = digests.get(describeSource(dataset.source))
    const pattern = grouping.pattern
    const answer = source === undefined ? undefined : memo<SearchAnswer | undefined>(searchKey("search", source.sha256, pattern), () => undefined)
    if (source !== undefined && answer === "none") {
      issues.push({ keyPath: "grouping.pattern", detail: `the entity pattern /${grouping.pattern}/ matches no line of ${source.path}` })
    }
    if (source !== undefined && answer === "timeout") {
      issues.push({
        keyPath: "grouping.pattern",
        detail: `searching ${source.path} with the entity pattern /${grouping.pattern}/ took over ${budgetMs / 1000} s: ` +
          "it backtracks catastrophically (nested quantifiers such as (\\d+)+); simplify it"
      })
    }
  }
  const source = digests.get(describeSource(dataset.source))
  dataset.miner.masks?.forEach((m, i) => {
    if (source === undefined || memo<SearchAnswer | undefined>(searchKey("mask", source.sha256, m.pattern), () => undefined) !== "timeout") return
    issues.push({
      keyPath: `miner.masks[${i}].pattern`,
      detail: `the mask /${m.pattern}/ took over ${budgetMs / 1000} s on the first ${MASK_SAMPLE_LINES} lines of ${source.path}: ` +
        "it backtracks catastrophically (nested quantifiers such as (\\w+\\s?)+); simplify it"
    })
  })
  return issues
}

const firstLine = (file: string): string => {
  const fd = fs.openSync(file, "r")
  try {
    const buf = Buffer.alloc(64 * 1024)
    const n = fs.readSync(fd, buf, 0, buf.length, 0)
    const text = buf.subarray(0, n).toString("utf8")
    const end = text.indexOf("\n")
    return end < 0 ? text : text.slice(0, end)
  } finally {
    fs.closeSync(fd)
  }
}
