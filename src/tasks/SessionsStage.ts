/**
 * Stage `sessions`: a pre-sequenced dataset, one session per line, read from published session
 * files (deep-loglizer's `BlockId,Label,Split,EventSequence` CSV, or DeepLog's one-file-per-split
 * lines of event keys). The output is labelled sequences plus the file's split when it has one,
 * so published session sets are evaluated without raw logs.
 */
import { Schema } from "effect"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import { labelHistogram } from "../sequences/Labels.ts"
import { concatSessionFiles, readSessionFile, type SessionFile } from "../sequences/SessionFile.ts"
import { SourceParams, readSourceText } from "../sources/Source.ts"
import type { SourceFile } from "../artifacts/Source.ts"
import { defineStage } from "./Task.ts"
import type { Sessions } from "../artifacts/Sequences.ts"

export const SessionsParams = Schema.Union([
  closedStruct({
    format: Schema.Literal("deeploglizer_csv"),
    source: SourceParams,
    id_column: Schema.optionalKey(Schema.NonEmptyString),
    label_column: Schema.optionalKey(Schema.NonEmptyString),
    split_column: Schema.optionalKey(Schema.NonEmptyString),
    events_column: Schema.optionalKey(Schema.NonEmptyString)
  }),
  closedStruct({
    format: Schema.Literal("deeplog_lines"),
    /** One entry per file, each with the label (and split) of all its sessions. */
    files: Schema.NonEmptyArray(closedStruct({
      source: SourceParams,
      label: Schema.Literals(["normal", "anomaly", "unknown"]),
      split: Schema.optionalKey(Schema.Literals(["train", "test"]))
    }))
  })
])
export type SessionsParams = typeof SessionsParams.Type

/** The source files a sessions config reads, in order, with the key each is given under (below `sessions`). */
export const sessionSourceKeys = (p: SessionsParams): ReadonlyArray<readonly [SourceParams, string]> =>
  p.format === "deeploglizer_csv" ? [[p.source, "source"]] : p.files.map((f, i) => [f.source, `files[${i}].source`] as const)

/** The source files a sessions config reads, in order. */
export const sessionSources = (p: SessionsParams): ReadonlyArray<SourceParams> => sessionSourceKeys(p).map(([s]) => s)

export const sessionsStage = defineStage<SessionsParams, { readonly files: ReadonlyArray<SourceFile> }, Sessions>({
  name: "sessions",
  version: "1",
  params: SessionsParams,
  cpu: true,
  run: (params, { files: sources }, ctx) => {
    let file: SessionFile
    if (params.format === "deeploglizer_csv") {
      file = readSessionFile(readSourceText(ctx, sources[0]!), {
        format: "deeploglizer_csv",
        ...(params.id_column === undefined ? {} : { idColumn: params.id_column }),
        ...(params.label_column === undefined ? {} : { labelColumn: params.label_column }),
        ...(params.split_column === undefined ? {} : { splitColumn: params.split_column }),
        ...(params.events_column === undefined ? {} : { eventsColumn: params.events_column })
      })
    } else {
      file = concatSessionFiles(params.files.map((f, i) =>
        readSessionFile(readSourceText(ctx, sources[i]!), {
          format: "deeplog_lines",
          label: f.label,
          ...(f.split === undefined ? {} : { split: f.split })
        })
      ))
    }
    let unlabeled = 0
    for (const l of file.sequences.labels) if (l < 0) unlabeled++
    return { sequences: file.sequences, unlabeled, split: file.split, vocabulary: file.vocabulary }
  },
  summarize: (out, params) => ({
    sessions: params,
    sequences: out.sequences.labels.length,
    events: out.sequences.events.length,
    templates: out.vocabulary.length,
    unlabeled: out.unlabeled,
    histogram: labelHistogram(out.sequences.labels),
    file_split: out.split !== undefined
  })
})
