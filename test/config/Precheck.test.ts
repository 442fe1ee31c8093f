// precheckDatasets: cheap checks of datasets against their data before any stage runs, all issues in one error.
import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { ConfigError, formatIssue, issuesOf } from "../../src/config/ConfigError.ts"
import { type DatasetConfig, isSessionDataset, loadDatasetFile, type LogDatasetConfig } from "../../src/config/Dataset.ts"
import { precheckDatasets } from "../../src/config/Precheck.ts"
import { datasetSources, type Digests, resolveSourceList } from "../../src/config/Sources.ts"
import { dataRoot } from "../cli/helpers.ts"

const roots = () => ({ dataRoot: dataRoot(), sourcesDir: os.tmpdir() })

const hdfs = ((): LogDatasetConfig => {
  const d = Effect.runSync(loadDatasetFile("configs/datasets/hdfs.toml"))
  if (isSessionDataset(d)) throw new Error("hdfs.toml should be a raw-log dataset")
  return d
})()
const entityLabels = (() => {
  if (hdfs.labels.type !== "entity_csv") throw new Error("hdfs.toml should have entity_csv labels")
  return hdfs.labels
})()

const digestsOf = (datasets: ReadonlyArray<DatasetConfig>): Digests =>
  Effect.runSync(resolveSourceList(dataRoot(), datasets.flatMap(datasetSources)))

const precheck = (datasets: ReadonlyArray<{ dataset: DatasetConfig; file: string }>, digests = digestsOf(datasets.map((d) => d.dataset))) =>
  precheckDatasets(datasets, digests, roots())

const failure = (datasets: ReadonlyArray<{ dataset: DatasetConfig; file: string }>): ConfigError => Effect.runSync(Effect.flip(precheck(datasets)))

const badColumn: LogDatasetConfig = { ...hdfs, labels: { ...entityLabels, entity_column: "Block" } }
const badPattern: LogDatasetConfig = { ...hdfs, grouping: { type: "entity", pattern: "inode_\\d+" } }

describe("precheckDatasets", () => {
  it("passes a good dataset (configs/datasets/hdfs.toml against its data)", () => {
    expect(Exit.isSuccess(Effect.runSyncExit(precheck([{ dataset: hdfs, file: "hdfs.toml" }])))).toBe(true)
  })

  it("fails naming labels.entity_column when the label file lacks the named column", () => {
    const e = failure([{ dataset: badColumn, file: "hdfs.toml" }])
    expect(e).toBeInstanceOf(ConfigError)
    expect(issuesOf(e)).toEqual([{
      file: "hdfs.toml",
      keyPath: "labels.entity_column",
      detail: 'the label file hdfs/labels/HDFS_20000.block_labels.csv has no column "Block" (columns: BlockId, Label)'
    }])
  })

  it("reports both label columns when both are missing", () => {
    const e = failure([{ dataset: { ...hdfs, labels: { ...entityLabels, entity_column: "Id", label_column: "Class" } }, file: "hdfs.toml" }])
    expect(issuesOf(e).map((i) => i.keyPath)).toEqual(["labels.entity_column", "labels.label_column"])
    expect(issuesOf(e)[1]!.detail).toContain('no column "Class"')
  })

  it("fails naming grouping.pattern when the entity pattern matches no line of the log", () => {
    const log = fs.readFileSync(path.join(dataRoot(), "hdfs/raw/HDFS_20000.log"), "utf8").split("\n")
    expect(log.some((l) => /inode_\d+/.test(l))).toBe(false)
    const e = failure([{ dataset: badPattern, file: "hdfs.toml" }])
    expect(issuesOf(e)).toEqual([{
      file: "hdfs.toml",
      keyPath: "grouping.pattern",
      detail: "the entity pattern /inode_\\d+/ matches no line of hdfs/raw/HDFS_20000.log"
    }])
  })

  it("reports two problems in two datasets together in one ConfigError, each with its file", () => {
    const e = failure([{ dataset: badColumn, file: "a.toml" }, { dataset: badPattern, file: "b.toml" }])
    const issues = issuesOf(e)
    expect(issues.map((i) => [i.file, i.keyPath])).toEqual([["a.toml", "labels.entity_column"], ["b.toml", "grouping.pattern"]])
    expect(e.message).toBe(issues.map(formatIssue).join("\n"))
    expect(e.message.split("\n")).toHaveLength(2)
  })

  it("refuses stream chunks with continuous context under a split_partial raw split, naming split.straddle_policy", () => {
    const streamed: LogDatasetConfig = {
      ...hdfs,
      grouping: { type: "stream_chunks", chunk_size: 100, continuous_context: true },
      split: { type: "raw", raw_first_n: 1000, straddle_policy: "split_partial", train_on_normal_entities_only: false }
    }
    expect(issuesOf(failure([{ dataset: streamed, file: "s.toml" }])).map((i) => i.keyPath)).toEqual(["split.straddle_policy"])
    const noContext = { ...streamed, grouping: { type: "stream_chunks" as const, chunk_size: 100, continuous_context: false } }
    expect(Exit.isSuccess(Effect.runSyncExit(precheck([{ dataset: noContext, file: "s.toml" }])))).toBe(true)
  })

  it("checks nothing of a pre-sequenced dataset, and only the sources that were resolved", () => {
    const sessions = Effect.runSync(loadDatasetFile("configs/datasets/hdfs-100k-sessions.toml"))
    expect(isSessionDataset(sessions)).toBe(true)
    expect(Exit.isSuccess(Effect.runSyncExit(precheck([{ dataset: sessions, file: "hdfs-100k-sessions.toml" }])))).toBe(true)
    // With no digests, a source is not read: the bad column goes unnoticed here (the source stage resolves it later).
    expect(Exit.isSuccess(Effect.runSyncExit(precheck([{ dataset: badColumn, file: "hdfs.toml" }], new Map())))).toBe(true)
  })
})
