/**
 * Stage `represent`: one representation of a dataset's split sequences, cached under its own key
 * so asking for another (or changing its options) never re-parses or re-groups:
 * - `event_sequences`: template ids mapped to columns of the training vocabulary;
 * - `count_vectors`: template counts per sequence over the training vocabulary (CSR);
 * - `ngrams`: template n-gram phrases (`n_min..n_max`) per sequence;
 * - `parameters`: the parameter values of every row, by template and position (raw-log datasets);
 * - `elapsed_time`: milliseconds between consecutive events of a sequence (needs timestamps).
 */
import { Schema } from "effect"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import { extractParameterColumn } from "../mining/Parameters.ts"
import { countVectors } from "../representations/CountVectors.ts"
import { elapsedTimes } from "../representations/ElapsedTime.ts"
import { eventColumns } from "../representations/EventSequences.ts"
import { ngramPhrases } from "../representations/NGrams.ts"
import { parameterMatrices } from "../representations/ParameterValues.ts"
import { buildVocabulary } from "../representations/Vocabulary.ts"
import { SPLIT_TRAIN, type SplitSequences } from "../artifacts/Sequences.ts"
import type { ParsedLog } from "../artifacts/Log.ts"
import type { LabelledSequences } from "../artifacts/Sequences.ts"
import type { MinedLog } from "../mining/MinerState.ts"
import { splitSequences } from "../artifacts/Sequences.ts"
import { defineStage } from "./Task.ts"
import type { Representation } from "../artifacts/Representation.ts"

const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))

export const RepresentParams = Schema.Union([
  closedStruct({ kind: Schema.Literal("event_sequences") }),
  closedStruct({ kind: Schema.Literal("count_vectors") }),
  closedStruct({ kind: Schema.Literal("ngrams"), n_min: PositiveInt, n_max: PositiveInt }).check(
    Schema.makeFilter((p) => p.n_min <= p.n_max || { path: ["n_max"], issue: `n_max (${p.n_max}) must be at least n_min (${p.n_min})` })
  ),
  closedStruct({ kind: Schema.Literal("parameters") }),
  closedStruct({ kind: Schema.Literal("elapsed_time") })
])
export type RepresentParams = typeof RepresentParams.Type

/** Whether a representation reads the parsed log and mined templates (raw-log datasets only). */
export const needsLog = (p: RepresentParams): boolean => p.kind === "parameters" || p.kind === "elapsed_time"

export const representStage = defineStage<
  RepresentParams,
  { readonly labelled: LabelledSequences; readonly split: SplitSequences; readonly parsed?: ParsedLog; readonly templates?: MinedLog },
  Representation
>({
  name: "represent",
  version: "1",
  params: RepresentParams,
  cpu: true,
  run: (params, { labelled, split, parsed, templates: log }) => {
    const seqs = splitSequences(labelled, split)
    const trainVocabulary = () => buildVocabulary(seqs, { split: split.split, tag: SPLIT_TRAIN })
    switch (params.kind) {
      case "event_sequences": {
        const vocab = trainVocabulary()
        const value = eventColumns(seqs, vocab)
        return { kind: params.kind, value: { vocabulary: vocab.templateIds, ...value }, shape: { sequences: seqs.labels.length, events: value.columns.length, vocabulary: vocab.templateIds.length, oov: value.oov } }
      }
      case "count_vectors": {
        const vocab = trainVocabulary()
        const value = countVectors(seqs, vocab)
        return { kind: params.kind, value: { vocabulary: vocab.templateIds, ...value }, shape: { rows: value.rows, cols: value.cols, nonzeros: value.data.length } }
      }
      case "ngrams": {
        const value = ngramPhrases(seqs, { nMin: params.n_min, nMax: params.n_max })
        return { kind: params.kind, value, shape: { sequences: seqs.labels.length, phrases: value.table.offsets.length - 1, occurrences: value.phrases.length } }
      }
      case "parameters": {
        if (parsed === undefined || log === undefined) throw new Error("represent: parameters need a raw-log dataset (parsed rows and templates)")
        const column = extractParameterColumn(parsed.content, log, log.state?.options ?? {})
        const value = parameterMatrices(log, column)
        return { kind: params.kind, value: { ...value, values: column.values }, shape: { templates: value.templateIds.length, rows: value.rows.length, unmatched_rows: column.unmatched, mismatched_rows: value.mismatched } }
      }
      case "elapsed_time": {
        if (parsed === undefined) throw new Error("represent: elapsed_time needs a raw-log dataset with timestamps")
        const value = elapsedTimes(seqs, parsed)
        let missing = 0
        for (const v of value) if (Number.isNaN(v)) missing++
        return { kind: params.kind, value: { offsets: seqs.offsets, elapsed: value }, shape: { events: value.length, missing } }
      }
    }
  },
  summarize: (out) => ({ kind: out.kind, shape: out.shape })
})
