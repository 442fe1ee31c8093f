/**
 * Checks of a dataset against its data that are cheap enough to run before any stage: a label
 * CSV has the columns the config names, and an entity pattern matches somewhere in the log. They
 * turn mistakes that would otherwise fail a stage minutes in into one config error up front.
 */
import { Effect, Option } from "effect"
import { memoSpec, WarmState } from "../runtime/WarmState.ts"
import * as fs from "node:fs"
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
  roots: { readonly dataRoot: string; readonly sourcesDir: string }
): Effect.Effect<void, ConfigError> =>
  Effect.flatMap(Effect.serviceOption(WarmState), (warm) => {
    const found = Option.isSome(warm) ? warm.value.memo(answers) : undefined
    // What a check found, by the content digest of the file it read (and the pattern): in a
    // process that keeps a warm state (the daemon), a file's checks are read once, not at every command.
    const memo = <A>(key: string, compute: () => A): A => {
      if (found?.has(key) === true) return found.get(key) as A
      const value = compute()
      found?.set(key, value)
      return value
    }
    return checkAll(datasets, digests, roots, memo)
  })

const answers = memoSpec<string, unknown>("precheck-answers", 256)

/** Every issue of every dataset, reported together. */
const checkAll = (
  datasets: ReadonlyArray<{ readonly dataset: DatasetConfig; readonly file: string }>,
  digests: Digests,
  roots: { readonly dataRoot: string; readonly sourcesDir: string },
  memo: <A>(key: string, compute: () => A) => A
): Effect.Effect<void, ConfigError> =>
  Effect.suspend(() => {
    const issues = datasets.flatMap(({ dataset, file }) => datasetIssues(dataset, digests, roots, memo).map((i) => ({ file, ...i })))
    const failed = combineConfigErrors(issues.map((i) => new ConfigError(i)))
    return failed === undefined ? Effect.void : Effect.fail(failed)
  })

const datasetIssues = (
  dataset: DatasetConfig,
  digests: Digests,
  roots: { readonly dataRoot: string; readonly sourcesDir: string },
  memo: <A>(key: string, compute: () => A) => A
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
    if (source !== undefined && !memo(`match\0${source.sha256}\0${pattern}`, () => fileMatches(sourcePath(roots, source), new RegExp(pattern)))) {
      issues.push({ keyPath: "grouping.pattern", detail: `the entity pattern /${grouping.pattern}/ matches no line of ${source.path}` })
    }
  }
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

/** Whether the regex matches within some line of the file; stops at the first match. */
const fileMatches = (file: string, re: RegExp): boolean => {
  const fd = fs.openSync(file, "r")
  try {
    const buf = Buffer.alloc(CHUNK)
    let carry = ""
    let n: number
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) {
      const text = carry + buf.subarray(0, n).toString("utf8")
      const cut = text.lastIndexOf("\n")
      const whole = cut < 0 ? "" : text.slice(0, cut)
      if (whole !== "" && whole.split("\n").some((l) => re.test(l))) return true
      carry = cut < 0 ? text : text.slice(cut + 1)
    }
    return carry !== "" && re.test(carry)
  } finally {
    fs.closeSync(fd)
  }
}
