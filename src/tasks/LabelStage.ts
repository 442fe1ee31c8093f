/**
 * Stage `label`: attach a label to every sequence, from an entity label CSV (e.g. HDFS block
 * labels), from a per-line parsed field (BGL: `-` is normal; a window is anomalous when any of
 * its lines is, or when at least `window_anomaly_fraction` of them are), or none (all unknown;
 * unsupervised runs still score). A label file none of whose ids is an entity the grouping found
 * (every sequence unknown) is a config error (`StageConfigError`) naming the grouping and label keys.
 */
import { Effect, Schema } from "effect"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import { applyEntityLabels, applyLineLabels, describeIdMismatch, labelHistogram, lineLabels, parseEntityLabelCsv } from "../sequences/Labels.ts"
import { LABEL_UNKNOWN } from "../artifacts/Sequences.ts"
import type { ParsedLog } from "../artifacts/Log.ts"
import type { GroupedSequences } from "../artifacts/Sequences.ts"
import { describeSource, SourceParams, readSourceText } from "../sources/Source.ts"
import type { SourceFile } from "../artifacts/Source.ts"
import { defineStage, StageConfigError } from "./Task.ts"
import type { LabelledSequences } from "../artifacts/Sequences.ts"

export const LabelParams = Schema.Union([
  closedStruct({
    type: Schema.Literal("entity_csv"),
    /** The label file (it becomes its own `source` node). */
    source: SourceParams,
    entity_column: Schema.NonEmptyString,
    label_column: Schema.NonEmptyString,
    anomaly_values: Schema.Array(Schema.String).pipe(Schema.withDecodingDefaultKey(Effect.succeed(["Anomaly"]))),
    normal_values: Schema.Array(Schema.String).pipe(Schema.withDecodingDefaultKey(Effect.succeed(["Normal"])))
  }),
  closedStruct({
    type: Schema.Literal("line_field"),
    field: Schema.NonEmptyString,
    normal_value: Schema.String.pipe(Schema.withDecodingDefaultKey(Effect.succeed("-"))),
    /** A window is anomalous when at least this fraction of its lines are; absent: any anomalous line. */
    window_anomaly_fraction: Schema.optionalKey(
      Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMinimum: true }))
    )
  }),
  closedStruct({ type: Schema.Literal("none") })
])
export type LabelParams = typeof LabelParams.Type

export const labelStage = defineStage<
  LabelParams,
  { readonly grouped: GroupedSequences; readonly parsed: ParsedLog; readonly labelFile?: SourceFile },
  LabelledSequences
>({
  name: "label",
  version: "2",
  params: LabelParams,
  cpu: true,
  run: (params, { grouped, parsed, labelFile }, ctx) => {
    const seqs = grouped.sequences
    const context = grouped.context === undefined ? {} : { context: grouped.context }
    switch (params.type) {
      case "entity_csv": {
        const source = labelFile
        if (source === undefined) throw new Error("label stage: entity_csv labels need their source file")
        const labels = parseEntityLabelCsv(readSourceText(ctx, source), {
          entityColumn: params.entity_column,
          labelColumn: params.label_column,
          anomalyValues: params.anomaly_values,
          normalValues: params.normal_values
        })
        const labelled = applyEntityLabels(seqs, labels)
        const count = labelled.sequences.labels.length
        if (count > 0 && labelled.unlabeled === count) {
          // Every sequence unknown: the runs would score but never evaluate. The config is wrong, not the code.
          throw new StageConfigError(
            ["grouping", "labels.source", "labels.entity_column"],
            `no sequence received a label: none of the ${count} entity ids the grouping found is in column ` +
              `${JSON.stringify(params.entity_column)} of the label file ${describeSource(params.source)} (${labels.size} ids); ` +
              describeIdMismatch(seqs.ids, labels)
          )
        }
        return { ...labelled, ...context }
      }
      case "line_field":
        return {
          sequences: applyLineLabels(seqs, parsed, {
            field: params.field,
            normalValue: params.normal_value,
            rule: params.window_anomaly_fraction === undefined ? "any" : { fraction: params.window_anomaly_fraction },
            ...context
          }),
          unlabeled: 0,
          rowLabels: lineLabels(parsed, { field: params.field, normalValue: params.normal_value }),
          ...context
        }
      case "none":
        return { sequences: { ...seqs, labels: new Int8Array(seqs.labels.length).fill(LABEL_UNKNOWN) }, unlabeled: seqs.labels.length, ...context }
    }
  },
  summarize: (out, params) => ({
    labels: params,
    sequences: out.sequences.labels.length,
    unlabeled: out.unlabeled,
    histogram: labelHistogram(out.sequences.labels)
  })
})
