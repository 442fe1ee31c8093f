/**
 * Stage `group`: parsed rows to sequences: by entity (every id a row names, e.g. HDFS block ids),
 * fixed windows (of parsed rows or raw line positions), time windows, or chronological stream
 * chunks. Sequences come out ordered by first row and unlabelled; stage `label` attaches labels.
 */
import { Effect, Schema } from "effect"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import { fixedWindows } from "../sequences/FixedWindow.ts"
import { captureGroupCount, groupByEntity, NoEntityError } from "../sequences/GroupByEntity.ts"
import { groupByField } from "../sequences/GroupByField.ts"
import { streamChunks } from "../sequences/StreamChunks.ts"
import { timeWindows } from "../sequences/TimeWindow.ts"
import type { ParsedLog, TemplatedLog } from "../artifacts/Log.ts"
import { defineStage, StageConfigError } from "./Task.ts"
import type { GroupedSequences } from "../artifacts/Sequences.ts"

const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))

export const GroupParams = Schema.Union([
  closedStruct({
    type: Schema.Literal("entity"),
    /**
     * Regex source of the entity id in Content, e.g. `blk_-?\d+` (a row naming several ids belongs
     * to each); with a capturing group, the first group's text is the id.
     */
    pattern: Schema.optionalKey(Schema.NonEmptyString),
    /** Or a header field whose value is the entity, e.g. BGL's `Node`. */
    field: Schema.optionalKey(Schema.NonEmptyString)
  }).check(Schema.makeFilter((p) => (p.pattern === undefined) !== (p.field === undefined) || { path: ["pattern"], issue: "give exactly one of pattern or field" })),
  closedStruct({
    type: Schema.Literal("fixed_window"),
    window_size: PositiveInt,
    step: PositiveInt,
    /** Count positions in parsed rows or in raw lines (unparsed lines included). */
    basis: Schema.Literals(["parsed", "raw"]).pipe(Schema.withDecodingDefaultKey(Effect.succeed("parsed" as const))),
    window_alignment_offset: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(0)))
  }),
  closedStruct({
    type: Schema.Literal("time_window"),
    time_span_ms: PositiveInt,
    step_ms: PositiveInt
  }),
  closedStruct({
    type: Schema.Literal("stream_chunks"),
    chunk_size: PositiveInt,
    /** Rows carried from before each chunk as unscored context: a count, or true for a whole chunk. */
    continuous_context: Schema.Union([Schema.Boolean, Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))]).pipe(
      Schema.withDecodingDefaultKey(Effect.succeed(false))
    )
  })
])
export type GroupParams = typeof GroupParams.Type

/**
 * Whether an entity pattern has a capturing group, whose first group is then the entity id (from
 * group version 4; version 3 took the whole match). False for a pattern that does not compile
 * (the stage reports it).
 */
const capturesEntity = (params: GroupParams): boolean => {
  if (params.type !== "entity" || params.pattern === undefined) return false
  try {
    return captureGroupCount(params.pattern) > 0
  } catch {
    return false
  }
}

/** `groupByEntity`, where a pattern that finds no entity is a config error naming `grouping.pattern` (exit 2). */
const entities = (parsed: ParsedLog, templated: TemplatedLog, pattern: string) => {
  try {
    return groupByEntity(parsed, templated, { pattern })
  } catch (e) {
    if (e instanceof NoEntityError) throw new StageConfigError(["grouping.pattern"], e.message.replace(/^groupByEntity: /, ""))
    throw e
  }
}

export const groupStage = defineStage<GroupParams, { readonly parsed: ParsedLog; readonly templates: TemplatedLog }, GroupedSequences>({
  name: "group",
  version: "3",
  // Only a pattern with a capturing group groups differently since the first group became the
  // entity: its nodes (and runs) get new keys, every other grouping keeps version 3 and its cache.
  versionFor: (params) => (capturesEntity(params) ? "4" : "3"),
  params: GroupParams,
  cpu: true,
  run: (params, { parsed, templates: templated }) => {
    switch (params.type) {
      case "entity":
        return {
          sequences: params.field !== undefined
            ? groupByField(parsed, templated, params.field)
            : entities(parsed, templated, params.pattern!)
        }
      case "fixed_window":
        return {
          sequences: fixedWindows(parsed, templated, {
            size: params.window_size,
            step: params.step,
            basis: params.basis,
            alignmentOffset: params.window_alignment_offset
          })
        }
      case "time_window": {
        const w = timeWindows(parsed, templated, { spanMs: params.time_span_ms, stepMs: params.step_ms })
        return { sequences: w.sequences, untimed: w.untimed }
      }
      case "stream_chunks": {
        const c = streamChunks(parsed, templated, { chunkSize: params.chunk_size, continuousContext: params.continuous_context })
        return { sequences: c.sequences, context: c.context }
      }
    }
  },
  summarize: (out, params) => ({
    grouping: params,
    sequences: out.sequences.labels.length,
    events: out.sequences.events.length,
    ...(out.untimed === undefined ? {} : { untimed_rows: out.untimed })
  })
})
