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

const precheck = (
  datasets: ReadonlyArray<{ dataset: DatasetConfig; file: string }>,
  digests = digestsOf(datasets.map((d) => d.dataset)),
  options: Parameters<typeof precheckDatasets>[3] = {}
) => precheckDatasets(datasets, digests, roots(), options)

const failure = (datasets: ReadonlyArray<{ dataset: DatasetConfig; file: string }>, options: Parameters<typeof precheckDatasets>[3] = {}): Promise<ConfigError> =>
  Effect.runPromise(Effect.flip(precheck(datasets, undefined, options)))

const badColumn: LogDatasetConfig = { ...hdfs, labels: { ...entityLabels, entity_column: "Block" } }
const badPattern: LogDatasetConfig = { ...hdfs, grouping: { type: "entity", pattern: "inode_\\d+" } }

describe("precheckDatasets", () => {
  it("passes a good dataset (configs/datasets/hdfs.toml against its data)", async () => {
    expect(Exit.isSuccess(await Effect.runPromiseExit(precheck([{ dataset: hdfs, file: "hdfs.toml" }])))).toBe(true)
  })

  it("fails naming labels.entity_column when the label file lacks the named column", async () => {
    const e = await failure([{ dataset: badColumn, file: "hdfs.toml" }])
    expect(e).toBeInstanceOf(ConfigError)
    expect(issuesOf(e)).toEqual([{
      file: "hdfs.toml",
      keyPath: "labels.entity_column",
      detail: 'the label file hdfs/labels/HDFS_20000.block_labels.csv has no column "Block" (columns: BlockId, Label)'
    }])
  })

  it("reports both label columns when both are missing", async () => {
    const e = await failure([{ dataset: { ...hdfs, labels: { ...entityLabels, entity_column: "Id", label_column: "Class" } }, file: "hdfs.toml" }])
    expect(issuesOf(e).map((i) => i.keyPath)).toEqual(["labels.entity_column", "labels.label_column"])
    expect(issuesOf(e)[1]!.detail).toContain('no column "Class"')
  })

  it("fails naming grouping.pattern when the entity pattern matches no line of the log", async () => {
    const log = fs.readFileSync(path.join(dataRoot(), "hdfs/raw/HDFS_20000.log"), "utf8").split("\n")
    expect(log.some((l) => /inode_\d+/.test(l))).toBe(false)
    const e = await failure([{ dataset: badPattern, file: "hdfs.toml" }])
    expect(issuesOf(e)).toEqual([{
      file: "hdfs.toml",
      keyPath: "grouping.pattern",
      detail: "the entity pattern /inode_\\d+/ matches no line of hdfs/raw/HDFS_20000.log"
    }])
  })

  it("reports two problems in two datasets together in one ConfigError, each with its file", async () => {
    const e = await failure([{ dataset: badColumn, file: "a.toml" }, { dataset: badPattern, file: "b.toml" }])
    const issues = issuesOf(e)
    expect(issues.map((i) => [i.file, i.keyPath])).toEqual([["a.toml", "labels.entity_column"], ["b.toml", "grouping.pattern"]])
    expect(e.message).toBe(issues.map(formatIssue).join("\n"))
    expect(e.message.split("\n")).toHaveLength(2)
  })

  it("refuses stream chunks with continuous context under a split_partial raw split, naming split.straddle_policy", async () => {
    const streamed: LogDatasetConfig = {
      ...hdfs,
      grouping: { type: "stream_chunks", chunk_size: 100, continuous_context: true },
      split: { type: "raw", raw_first_n: 1000, straddle_policy: "split_partial", train_on_normal_entities_only: false }
    }
    expect(issuesOf(await failure([{ dataset: streamed, file: "s.toml" }])).map((i) => i.keyPath)).toEqual(["split.straddle_policy"])
    const noContext = { ...streamed, grouping: { type: "stream_chunks" as const, chunk_size: 100, continuous_context: false } }
    expect(Exit.isSuccess(await Effect.runPromiseExit(precheck([{ dataset: noContext, file: "s.toml" }])))).toBe(true)
  })

  it("checks nothing of a pre-sequenced dataset, and only the sources that were resolved", async () => {
    const sessions = Effect.runSync(loadDatasetFile("configs/datasets/hdfs-100k-sessions.toml"))
    expect(isSessionDataset(sessions)).toBe(true)
    expect(Exit.isSuccess(await Effect.runPromiseExit(precheck([{ dataset: sessions, file: "hdfs-100k-sessions.toml" }])))).toBe(true)
    // With no digests, a source is not read: the bad column goes unnoticed here (the source stage resolves it later).
    expect(Exit.isSuccess(await Effect.runPromiseExit(precheck([{ dataset: badColumn, file: "hdfs.toml" }], new Map())))).toBe(true)
  })

  it("refuses a pattern that backtracks catastrophically, naming grouping.pattern, within its time budget; remembers answers in the answers file", async () => {
    const t0 = Date.now()
    const e = await failure([{ dataset: { ...hdfs, grouping: { type: "entity", pattern: "(\\d+)+x" } }, file: "hdfs.toml" }], { patternBudgetMs: 500 })
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(issuesOf(e)).toEqual([{ file: "hdfs.toml", keyPath: "grouping.pattern", detail: expect.stringMatching(/took over 0\.5 s: it backtracks catastrophically/) }])
    // A good pattern's answer is saved, and the file's answer is what a later precheck reads.
    const answersFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "logflow-precheck-")), "prechecks.json")
    expect(Exit.isSuccess(await Effect.runPromiseExit(precheck([{ dataset: hdfs, file: "hdfs.toml" }], undefined, { answersFile })))).toBe(true)
    const saved = JSON.parse(fs.readFileSync(answersFile, "utf8")) as Record<string, string>
    expect(Object.values(saved)).toEqual(["match"])
    // Planted "none": the saved answer is used instead of searching again.
    fs.writeFileSync(answersFile, JSON.stringify(Object.fromEntries(Object.keys(saved).map((k) => [k, "none"]))))
    const e2 = await failure([{ dataset: hdfs, file: "hdfs.toml" }], { answersFile })
    expect(issuesOf(e2).map((i) => i.keyPath)).toEqual(["grouping.pattern"])
  })

  it("refuses a miner mask that backtracks catastrophically on the log's first lines, naming miner.masks[i].pattern; a good mask passes", async () => {
    const masks = [{ pattern: "blk_-?\\d+" }, { pattern: "(\\w+\\s?)+$" }]
    const e = await failure([{ dataset: { ...hdfs, miner: { ...hdfs.miner, masks } }, file: "hdfs.toml" }], { patternBudgetMs: 500 })
    expect(issuesOf(e)).toEqual([{
      file: "hdfs.toml",
      keyPath: "miner.masks[1].pattern",
      detail: expect.stringMatching(/the mask .* took over 0\.5 s on the first 10000 lines of .*HDFS.*: it backtracks catastrophically/)
    }])
  })
})
