/**
 * Stage `split`: tag each sequence train / test / ignored.
 * - `chronological` (default): the first `train_fraction` of sequences (ordered by first event)
 *   train, the last `test_fraction` (default: all the rest) test, anything between is ignored.
 * - `random`: the same sizes over a seeded shuffle (mulberry32).
 * - `raw`: the boundary is drawn over log entries before grouping (first N entries, a first
 *   fraction, or a first fraction of the normal entries); `straddle_policy` says what happens to a
 *   sequence with entries on both sides (split into partial sequences, by first or last event, or
 *   drop).
 * - `predefined`: the split the session file gives (pre-sequenced datasets).
 * With `train_on_normal_entities_only`, train-side sequences not known to be normal are ignored.
 */
import { Effect, Schema } from "effect"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import { labelHistogram, rowLabelsFromSequences } from "../sequences/Labels.ts"
import { type RawBoundary, chronologicalSplit, randomSplit, rawEntrySplit } from "../sequences/Split.ts"
import { lengthStats } from "../sequences/Stats.ts"
import { LABEL_NORMAL, SPLIT_IGNORED, SPLIT_TEST, SPLIT_TRAIN, type Sequences, type SplitSequences } from "../artifacts/Sequences.ts"
import type { ParsedLog } from "../artifacts/Log.ts"
import type { LabelledSequences } from "../artifacts/Sequences.ts"
import { defineStage } from "./Task.ts"
import type { PredefinedSplit } from "../artifacts/Sequences.ts"

const Fraction = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMinimum: true }))

export const SplitParams = closedStruct({
  type: Schema.Literals(["chronological", "random", "raw", "predefined"]).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed("chronological" as const))
  ),
  train_fraction: Schema.optionalKey(Fraction),
  test_fraction: Schema.optionalKey(Fraction),
  seed: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 2 ** 32 - 1 }))),
  raw_first_n: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  raw_first_fraction: Schema.optionalKey(Fraction),
  raw_first_fraction_of_normal: Schema.optionalKey(Fraction),
  straddle_policy: Schema.optionalKey(Schema.Literals(["split_partial", "first_event", "last_event", "drop"])),
  train_on_normal_entities_only: Schema.Boolean.pipe(Schema.withDecodingDefaultKey(Effect.succeed(false)))
}).check(
  Schema.makeFilter((p) => {
    const has = (k: keyof typeof p) => p[k] !== undefined
    const only = (allowed: ReadonlyArray<string>) => {
      const extra = (["train_fraction", "test_fraction", "seed", "raw_first_n", "raw_first_fraction", "raw_first_fraction_of_normal", "straddle_policy"] as const)
        .filter((k) => has(k) && !allowed.includes(k))
      return extra.length === 0 ? true : { path: [extra[0]!], issue: `not used by split type "${p.type}"` }
    }
    switch (p.type) {
      case "chronological":
      case "random": {
        if (!has("train_fraction")) return { path: ["train_fraction"], issue: `split type "${p.type}" needs train_fraction` }
        if (p.type === "random" && !has("seed")) return { path: ["seed"], issue: "a random split needs a seed" }
        if ((p.train_fraction ?? 0) + (p.test_fraction ?? 0) > 1 + 1e-12) {
          return { path: ["test_fraction"], issue: `train_fraction + test_fraction must be at most 1 (got ${p.train_fraction} + ${p.test_fraction})` }
        }
        return only(p.type === "random" ? ["train_fraction", "test_fraction", "seed"] : ["train_fraction", "test_fraction"])
      }
      case "raw": {
        const bounds = (["raw_first_n", "raw_first_fraction", "raw_first_fraction_of_normal"] as const).filter(has)
        if (bounds.length !== 1) return { path: ["raw_first_n"], issue: "a raw split needs exactly one of raw_first_n, raw_first_fraction, raw_first_fraction_of_normal" }
        if (!has("straddle_policy")) return { path: ["straddle_policy"], issue: "a raw split needs straddle_policy (split_partial, first_event, last_event or drop)" }
        return only(["raw_first_n", "raw_first_fraction", "raw_first_fraction_of_normal", "straddle_policy"])
      }
      case "predefined":
        return only([])
    }
  })
)
export type SplitParams = typeof SplitParams.Type

export const splitStage = defineStage<SplitParams, { readonly labelled: LabelledSequences; readonly parsed?: ParsedLog; readonly predefined?: PredefinedSplit }, SplitSequences>({
  name: "split",
  version: "2",
  params: SplitParams,
  cpu: false,
  run: (params, { labelled, parsed, predefined }) => {
    const seqs = labelled.sequences
    const trainOnNormalOnly = params.train_on_normal_entities_only
    switch (params.type) {
      case "chronological":
        return chronologicalSplit(seqs, { trainFraction: params.train_fraction!, ...testFraction(params), trainOnNormalOnly })
      case "random":
        return randomSplit(seqs, { trainFraction: params.train_fraction!, ...testFraction(params), seed: params.seed!, trainOnNormalOnly })
      case "raw": {
        if (parsed === undefined) throw new Error("split type \"raw\" needs a parsed log (not a pre-sequenced dataset)")
        const boundary: RawBoundary = params.raw_first_n !== undefined
          ? { kind: "raw_first_n", n: params.raw_first_n }
          : params.raw_first_fraction !== undefined
          ? { kind: "raw_first_fraction", fraction: params.raw_first_fraction }
          : { kind: "raw_first_fraction_of_normal", fraction: params.raw_first_fraction_of_normal!, rowLabels: rowLabelsOf(labelled, parsed) }
        const r = rawEntrySplit(seqs, { boundary, policy: params.straddle_policy!, rowCount: parsed.lineNo.length, trainOnNormalOnly })
        return { split: r.split, summary: r.summary, ...(r.sequences === seqs ? {} : { sequences: r.sequences }) }
      }
      case "predefined": {
        if (predefined?.split === undefined) {
          throw new Error("split type \"predefined\" needs a session dataset whose file gives the split")
        }
        const split = Uint8Array.from(predefined.split)
        if (trainOnNormalOnly) for (let i = 0; i < split.length; i++) if (split[i] === SPLIT_TRAIN && seqs.labels[i] !== LABEL_NORMAL) split[i] = SPLIT_IGNORED
        return { split, summary: summaryOf(seqs.labels, split) }
      }
    }
  },
  summarize: (out, params) => ({ split: params, summary: out.summary, ...(out.sequences === undefined ? {} : { resplit_sequences: out.sequences.labels.length }) })
})

/** Sequence counts and length statistics per split, for manifests and `flow inspect`. */
export const splitStats = (seqs: Sequences, split: Uint8Array) => ({
  train: lengthStats(seqs, split, SPLIT_TRAIN),
  test: lengthStats(seqs, split, SPLIT_TEST),
  ignored: lengthStats(seqs, split, SPLIT_IGNORED)
})

const testFraction = (p: SplitParams) => (p.test_fraction === undefined ? {} : { testFraction: p.test_fraction })

/** Line-labelled logs carry per-row labels; otherwise a row inherits the label of its sequence. */
const rowLabelsOf = (labelled: LabelledSequences, parsed: ParsedLog): Int8Array =>
  labelled.rowLabels ?? rowLabelsFromSequences(labelled.sequences, parsed.lineNo.length)

const summaryOf = (labels: Int8Array, split: Uint8Array) => {
  const part = (tag: number) => {
    const h = labelHistogram(labels, { split, tag })
    return { count: h.normal + h.anomaly + h.unknown, ...h }
  }
  return { train: part(SPLIT_TRAIN), test: part(SPLIT_TEST), ignored: part(SPLIT_IGNORED) }
}
