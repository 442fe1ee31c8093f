/**
 * `flow inspect`: build (or read from the cache) one dataset's stages and report what they
 * produced: raw, parsed and unparsed lines, templates, sequences, and per split the sequence
 * count, label histogram and sequence-length statistics, with requested versus effective sizes.
 */
import { Effect, Option } from "effect"
import { ArtifactStore, type EntryMeta } from "../cache/ArtifactStore.ts"
import { decodeValue } from "../cache/Codec.ts"
import type { SourceRoots } from "../config/Sources.ts"
import { splitSequences } from "../artifacts/Sequences.ts"
import { splitStats } from "../tasks/SplitStage.ts"
import type { Node } from "../tasks/Task.ts"
import { buildDatasetPlan } from "./Plan.ts"
import { datasetSources, resolveSourceList } from "../config/Sources.ts"
import { precheckDatasets } from "../config/Precheck.ts"
import { loadDatasetFile } from "../config/Dataset.ts"
import { runPlan } from "./Runner.ts"

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
  const digests = yield* resolveSourceList(options.sources, datasetSources(dataset))
  yield* precheckDatasets([{ dataset, file: options.file }], digests, options.sources)
  const { nodes, datasets } = buildDatasetPlan([dataset], digests)
  const dn = datasets[0]!
  const report = yield* runPlan({ runs: [], nodes }, {
    maxWorkers: options.maxWorkers,
    dataRoot: options.sources.dataRoot,
    sourcesDir: options.sources.sourcesDir,
    mirror: options.sources.mirror,
    resultsDir: options.resultsDir,
    force: false
  })
  const failed = [...report.nodes].find(([, o]) => o.status === "failed")
  if (failed !== undefined) return yield* Effect.fail(new Error(`stage failed: ${failed[1].error ?? "unknown error"}`))

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
