/**
 * `flow inspect`: build (or read from the cache) one dataset's stages and report what they
 * produced: raw, parsed and unparsed lines (and continuation lines of multi-line events), templates, sequences, and per split the sequence
 * count, label histogram and sequence-length statistics, with requested versus effective sizes.
 */
import { Console, Effect, Layer, Option } from "effect"
import { Argument, Command } from "effect/cli"
import * as os from "node:os"
import * as path from "node:path"
import { ArtifactStore, type EntryMeta } from "../../cache/ArtifactStore.ts"
import { decodeValue } from "../../cache/Codec.ts"
import { splitSequences } from "../../artifacts/Sequences.ts"
import { splitStats } from "../../tasks/SplitStage.ts"
import type { Node } from "../../tasks/Task.ts"
import { buildDatasetPlan } from "../../flows/Plan.ts"
import { FlowEvents } from "../../flows/Events.ts"
import { sourceRoots } from "../../flows/Flow.ts"
import * as WorkerThreads from "../../executor/WorkerThreads.ts"
import { datasetSourceOrigins, datasetSources, resolveSourceList, type SourceRoots } from "../../config/Sources.ts"
import { precheckDatasets } from "../../config/Precheck.ts"
import { loadDatasetFile } from "../../config/Dataset.ts"
import { runPlan } from "../../flows/Runner.ts"
import { ConfigError } from "../../config/ConfigError.ts"
import { namedKeys } from "../../flows/ConfigProblems.ts"
import { cacheLayer, cacheDir, dataRoot, handleErrors, extractLimits, json, mirror, resultsDir } from "./shared.ts"

export interface InspectOptions {
  readonly file: string
  readonly sources: SourceRoots
  readonly maxWorkers: number
  readonly resultsDir: string
}

/** Build the dataset's stages (cached ones are reused) and gather the report. */
export const inspectDataset = Effect.fn("Inspect.inspectDataset")(function*(options: InspectOptions) {
  const store = yield* ArtifactStore
  const dataset = yield* loadDatasetFile(options.file)
  const digests = yield* resolveSourceList(options.sources, datasetSources(dataset), datasetSourceOrigins(dataset, options.file), { hashAsync: true })
  const cache = options.sources.digestFile === undefined ? undefined : path.dirname(options.sources.digestFile)
  yield* precheckDatasets([{ dataset, file: options.file }], digests, options.sources, { answersFile: cache === undefined ? undefined : path.join(cache, "prechecks.json") })
  const { nodes, datasets } = buildDatasetPlan([dataset], digests)
  const dn = datasets[0]!
  const report = yield* runPlan({ runs: [], nodes }, {
    maxWorkers: options.maxWorkers,
    dataRoot: options.sources.dataRoot,
    sourcesDir: options.sources.sourcesDir,
    mirror: options.sources.mirror,
    digestFile: options.sources.digestFile,
    resultsDir: options.resultsDir,
    force: false
  })
  const failed = [...report.nodes].find(([, o]) => o.status === "failed")
  if (failed !== undefined) {
    // A stage that found the config at odds with the data (no sequence labelled, no entity found):
    // a config error naming the dataset file and keys, with their values, as `flow run` reports it.
    const problem = failed[1].config
    if (problem !== undefined) return yield* Effect.fail(new ConfigError({ file: options.file, ...namedKeys(dataset, problem) }))
    return yield* Effect.fail(new Error(`stage failed: ${failed[1].error ?? "unknown error"}`))
  }

  const meta = (n: Node) => store.meta(n.key).pipe(Effect.map(Option.getOrUndefined))
  const value = <A>(n: Node<A>) =>
    store.get(n.key).pipe(Effect.map((o) => Option.match(o, { onNone: () => undefined, onSome: (e) => decodeValue(e.value) as A })))
  const summary = (m: EntryMeta | undefined) => (m?.summary ?? {}) as Record<string, unknown>
  const labelled = yield* value(dn.label)
  const split = yield* value(dn.split)
  if (labelled === undefined || split === undefined) return yield* Effect.fail(new Error("dataset stages missing from the cache"))
  const seqs = splitSequences(labelled, split)
  const parse = summary(dn.parse === undefined ? undefined : yield* meta(dn.parse))
  const mine = summary(dn.mine === undefined ? undefined : yield* meta(dn.mine))
  const labelSummary = summary(yield* meta(dn.label))
  const n = seqs.labels.length
  const s = split.summary
  return {
    dataset: options.file,
    raw_lines: parse.raw_lines ?? null,
    parsed_lines: parse.parsed_lines ?? null,
    unparsed_lines: parse.unparsed_lines ?? null,
    /** With `parser.multiline = "continuation"`: lines that continued the event before them; null otherwise. */
    continuation_lines: parse.continuation_lines ?? null,
    templates: mine.templates ?? labelSummary.templates ?? null,
    sequences: n,
    unlabeled: labelled.unlabeled,
    split: {
      requested: dataset.split,
      effective: {
        train: s.train.count,
        test: s.test.count,
        ignored: s.ignored.count,
        train_fraction: n === 0 ? 0 : s.train.count / n,
        test_fraction: n === 0 ? 0 : s.test.count / n
      },
      labels: { train: s.train, test: s.test, ignored: s.ignored },
      lengths: splitStats(seqs, split.split)
    },
    representations: yield* Effect.forEach(dn.represent, (n) => meta(n).pipe(Effect.map((m) => summary(m)))),
    stages: { cached: report.counts.cached, run: report.counts.done }
  }
})

export const inspectCommand = Command.make(
  "inspect",
  {
    dataset: Argument.String("dataset").pipe(Argument.withDescription("A dataset TOML, e.g. configs/datasets/hdfs.toml")),
    json,
    cacheDir,
    resultsDir,
    dataRoot,
    mirror,
    extractLimits
  },
  Effect.fn("cli.inspect")(function*(args) {
    const report = yield* inspectDataset({
      file: args.dataset,
      sources: yield* sourceRoots({
        dataRoot: path.resolve(args.dataRoot),
        cacheDir: path.resolve(args.cacheDir),
        mirror: Option.getOrUndefined(Option.map(args.mirror, (m) => path.resolve(m))),
        extractLimits: Option.getOrUndefined(args.extractLimits)
      }),
      maxWorkers: os.availableParallelism(),
      resultsDir: path.resolve(args.resultsDir)
    }).pipe(Effect.provide(Layer.mergeAll(cacheLayer(args.cacheDir), FlowEvents.layerSilent, WorkerThreads.layer({ size: os.availableParallelism() }))))
    if (args.json) {
      yield* Console.log(JSON.stringify(report, null, 2))
      return
    }
    const num = (v: unknown) => (v === null || v === undefined ? "-" : String(v))
    const lines = [
      `dataset         ${report.dataset}`,
      `raw lines       ${num(report.raw_lines)}`,
      `parsed lines    ${num(report.parsed_lines)}`,
      `unparsed lines  ${num(report.unparsed_lines)}`,
      ...(report.continuation_lines === null ? [] : [`continuation    ${num(report.continuation_lines)} lines (parser.multiline)`]),
      `templates       ${num(report.templates)}`,
      `sequences       ${report.sequences} (${report.unlabeled} unlabelled)`,
      `split           requested ${JSON.stringify(report.split.requested)}`,
      `                effective train ${report.split.effective.train} (${(100 * report.split.effective.train_fraction).toFixed(1)}%), test ${report.split.effective.test} (${(100 * report.split.effective.test_fraction).toFixed(1)}%), ignored ${report.split.effective.ignored}`,
      "",
      "SPLIT     SEQS   NORMAL  ANOMALY  UNKNOWN   LEN MIN  MEDIAN    MEAN   P95    MAX"
    ]
    for (const part of ["train", "test", "ignored"] as const) {
      const l = report.split.labels[part]
      const st = report.split.lengths[part]
      lines.push(
        `${part.padEnd(8)} ${String(l.count).padStart(5)} ${String(l.normal).padStart(8)} ${String(l.anomaly).padStart(8)} ${String(l.unknown).padStart(8)}` +
          `   ${String(st.min).padStart(7)} ${String(st.median).padStart(7)} ${st.mean.toFixed(1).padStart(7)} ${String(st.p95).padStart(5)} ${String(st.max).padStart(6)}`
      )
    }
    for (const r of report.representations) {
      const rep = r as { kind?: string; shape?: Record<string, number> }
      lines.push(`represent ${rep.kind ?? "?"}: ${Object.entries(rep.shape ?? {}).map(([k, v]) => `${k} ${v}`).join(", ")}`)
    }
    lines.push(`(${report.stages.cached} stages from the cache, ${report.stages.run} run)`)
    yield* Console.log(lines.join("\n"))
  }, handleErrors)
).pipe(Command.withDescription("Build a dataset's stages and report lines, templates, sequences, splits and lengths"))
