/**
 * Stage `group`: parsed rows to sequences, by entity (every id a row names, e.g. HDFS block
 * ids) or by fixed windows of parsed rows. Sequences come out chronological (by first row) and
 * unlabelled; stage `label` attaches labels.
 */
import { Schema } from "effect"
import { closedStruct } from "../config/ClosedStruct.ts"
import { fixedWindows } from "../sequences/FixedWindow.ts"
import { groupByEntity } from "../sequences/GroupByEntity.ts"
import type { ParsedLog, Sequences, TemplatedLog } from "./Artifacts.ts"
import { defineStage } from "./Task.ts"

export const GroupParams = Schema.Union([
  closedStruct({
    type: Schema.Literal("entity"),
    /** Regex source of the entity id, e.g. `blk_-?\d+`. */
    pattern: Schema.NonEmptyString
  }),
  closedStruct({
    type: Schema.Literal("fixed_window"),
    size: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
    step: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
  })
])
export type GroupParams = typeof GroupParams.Type

export const groupStage = defineStage<GroupParams, readonly [ParsedLog, TemplatedLog], Sequences>({
  name: "group",
  version: "1",
  params: GroupParams,
  cpu: true,
  run: (params, [parsed, templated]) =>
    params.type === "entity"
      ? groupByEntity(parsed, templated, { pattern: params.pattern })
      : fixedWindows(parsed, templated, { size: params.size, step: params.step }),
  summarize: (out, params) => ({ grouping: params, sequences: out.labels.length, events: out.events.length })
})
