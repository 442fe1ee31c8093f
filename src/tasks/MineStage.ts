/**
 * Stage `mine`: template mining over the parsed contents with Drain (depth, similarity
 * threshold, max children, masking regexes). Output: a template id per parsed row and the
 * template table.
 */
import { Effect, Schema } from "effect"
import { closedStruct } from "../config/ClosedStruct.ts"
import { mineTemplates } from "../mining/Drain.ts"
import type { ParsedLog, TemplatedLog } from "./Artifacts.ts"
import { defineStage } from "./Task.ts"

const RegexSource = Schema.String.check(
  Schema.makeFilter((s: string) => {
    try {
      new RegExp(s, "g")
      return true
    } catch (e) {
      return `invalid regular expression: ${e instanceof Error ? e.message : String(e)}`
    }
  })
)

export const MineParams = closedStruct({
  algorithm: Schema.Literal("drain").pipe(Schema.withDecodingDefaultKey(Effect.succeed("drain" as const))),
  depth: Schema.Int.check(Schema.isGreaterThanOrEqualTo(3)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(4))),
  sim_th: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 })).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed(0.4))
  ),
  max_children: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed(100))
  ),
  masks: Schema.Array(closedStruct({ pattern: RegexSource, replacement: Schema.optionalKey(Schema.String) })).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed([]))
  ),
  extra_delimiters: Schema.Array(Schema.String).pipe(Schema.withDecodingDefaultKey(Effect.succeed([])))
})
export type MineParams = typeof MineParams.Type

export const mineStage = defineStage<MineParams, readonly [ParsedLog], TemplatedLog>({
  name: "mine",
  version: "1",
  params: MineParams,
  cpu: true,
  run: (params, [parsed]) =>
    mineTemplates(parsed.content, {
      depth: params.depth,
      simTh: params.sim_th,
      maxChildren: params.max_children,
      masks: params.masks,
      extraDelimiters: params.extra_delimiters
    }),
  summarize: (out, params) => ({
    miner: params,
    templates: out.templates.length,
    lines: out.templateIds.length
  })
})
