/**
 * Stage `label`: attach a label to every sequence, from an entity label CSV (e.g. HDFS block
 * labels), from a per-line parsed field (BGL: `-` is normal; a sequence is anomalous iff any of
 * its lines is), or none (all unknown; unsupervised runs still score).
 */
import { Effect, Schema } from "effect"
import { closedStruct } from "../config/ClosedStruct.ts"
import { applyEntityLabels, applyLineLabels, labelHistogram, parseEntityLabelCsv } from "../sequences/Labels.ts"
import { LABEL_UNKNOWN, type ParsedLog, type Sequences } from "./Artifacts.ts"
import { readSourceText, SourceParams, type SourceFile } from "./SourceStage.ts"
import { defineStage } from "./Task.ts"

export const LabelParams = Schema.Union([
  closedStruct({
    type: Schema.Literal("entity_csv"),
    /** The label file, relative to the data root (it becomes its own `source` node). */
    source: SourceParams,
    entity_column: Schema.NonEmptyString,
    label_column: Schema.NonEmptyString,
    anomaly_values: Schema.Array(Schema.String).pipe(Schema.withDecodingDefaultKey(Effect.succeed(["Anomaly"]))),
    normal_values: Schema.Array(Schema.String).pipe(Schema.withDecodingDefaultKey(Effect.succeed(["Normal"])))
  }),
  closedStruct({
    type: Schema.Literal("line_field"),
    field: Schema.NonEmptyString,
    normal_value: Schema.String.pipe(Schema.withDecodingDefaultKey(Effect.succeed("-")))
  }),
  closedStruct({ type: Schema.Literal("none") })
])
export type LabelParams = typeof LabelParams.Type

/** Sequences with labels, and how many could not be labelled. */
export interface LabelledSequences {
  readonly sequences: Sequences
  readonly unlabeled: number
}

export const labelStage = defineStage<
  LabelParams,
  readonly [Sequences, ParsedLog, ...ReadonlyArray<SourceFile>],
  LabelledSequences
>({
  name: "label",
  version: "1",
  params: LabelParams,
  cpu: true,
  run: (params, [seqs, parsed, ...sources], ctx) => {
    switch (params.type) {
      case "entity_csv": {
        const source = sources[0]
        if (source === undefined) throw new Error("label stage: entity_csv labels need their source file")
        const labels = parseEntityLabelCsv(readSourceText(ctx, source), {
          entityColumn: params.entity_column,
          labelColumn: params.label_column,
          anomalyValues: params.anomaly_values,
          normalValues: params.normal_values
        })
        return applyEntityLabels(seqs, labels)
      }
      case "line_field":
        return { sequences: applyLineLabels(seqs, parsed, { field: params.field, normalValue: params.normal_value }), unlabeled: 0 }
      case "none":
        return { sequences: { ...seqs, labels: new Int8Array(seqs.labels.length).fill(LABEL_UNKNOWN) }, unlabeled: seqs.labels.length }
    }
  },
  summarize: (out, params) => ({
    labels: params,
    sequences: out.sequences.labels.length,
    unlabeled: out.unlabeled,
    histogram: labelHistogram(out.sequences.labels)
  })
})
