/**
 * Stage `mine`: template mining over the parsed contents. `algorithm = "drain"` is Drain with
 * Drain3's features and logflow's stability and accuracy knobs (src/mining/Drain.ts);
 * `preset = "HDFS"` starts from that LogHub system's settings (src/presets/miners.ts) and any key
 * given beside it overrides the preset. `algorithm = "identity"` makes every distinct content its
 * own template (ablations). Output: a template id per parsed row, the template table (each
 * template with its parameter-exact text, docs/PARSING.md), and the miner state, so match-only
 * inference can reuse the model.
 */
import { Effect, Schema } from "effect"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import { mineTemplatesWithState, type DrainOptions } from "../mining/Drain.ts"
import { mineIdentity } from "../mining/IdentityMiner.ts"
import type { MinedLog } from "../mining/MinerState.ts"
import { MINER_SYSTEMS, minerPreset } from "../presets/miners.ts"
import type { ParsedLog } from "../artifacts/Log.ts"
import { defineStage } from "./Task.ts"

const RegexSource = Schema.String.check(
  Schema.makeFilter((s: string) => {
    try {
      new RegExp(s, "g")
    } catch (e) {
      return `invalid regular expression: ${e instanceof Error ? e.message : String(e)}`
    }
    return new RegExp(s).test("") ? "the pattern matches the empty string" : true
  })
)
const Fraction01 = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))

export const MineParams = closedStruct({
  algorithm: Schema.Literals(["drain", "identity"]).pipe(Schema.withDecodingDefaultKey(Effect.succeed("drain" as const))),
  /** A LogHub system whose miner settings are the starting point. */
  preset: Schema.optionalKey(Schema.String.check(Schema.makeFilter((p: string) =>
    MINER_SYSTEMS.includes(p) || `unknown preset "${p}" (known: ${[...MINER_SYSTEMS].sort().join(", ")})`
  ))),
  depth: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(3))),
  sim_th: Schema.optionalKey(Fraction01),
  max_children: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  max_clusters: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  masks: Schema.optionalKey(Schema.Array(closedStruct({
    pattern: RegexSource,
    name: Schema.optionalKey(Schema.String.check(Schema.isPattern(/^[A-Za-z_][A-Za-z0-9_]*$/))),
    replacement: Schema.optionalKey(Schema.String)
  }))),
  extra_delimiters: Schema.optionalKey(Schema.Array(Schema.NonEmptyString)),
  split_after: Schema.optionalKey(Schema.Array(Schema.NonEmptyString)),
  parametrize_numeric_tokens: Schema.optionalKey(Schema.Boolean),
  numbers_as_params: Schema.optionalKey(Schema.Boolean),
  params_are_similar: Schema.optionalKey(Schema.Boolean),
  variable_threshold: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(2))),
  template_merge: Schema.optionalKey(Schema.Literals(["none", "equal", "param-runs"])),
  cache_capacity: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
  max_content_length: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)))
})
export type MineParams = typeof MineParams.Type

/** The Drain options a mine config stands for: the preset (if any), then every key given. */
export const drainOptions = (p: MineParams): DrainOptions => {
  const base: DrainOptions = p.preset === undefined ? {} : minerPreset(p.preset)
  const given: Record<string, unknown> = {
    depth: p.depth,
    simTh: p.sim_th,
    maxChildren: p.max_children,
    maxClusters: p.max_clusters,
    masks: p.masks,
    extraDelimiters: p.extra_delimiters,
    splitAfter: p.split_after,
    parametrizeNumericTokens: p.parametrize_numeric_tokens,
    numbersAsParams: p.numbers_as_params,
    paramsAreSimilar: p.params_are_similar,
    variableThreshold: p.variable_threshold,
    templateMerge: p.template_merge,
    cacheCapacity: p.cache_capacity,
    maxContentLength: p.max_content_length
  }
  return { ...base, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) }
}

export const mineStage = defineStage<MineParams, { readonly parsed: ParsedLog }, MinedLog>({
  name: "mine",
  version: "4",
  params: MineParams,
  cpu: true,
  run: (params, { parsed }) => {
    if (params.algorithm === "identity") return mineIdentity(parsed.content)
    const { log, state } = mineTemplatesWithState(parsed.content, drainOptions(params))
    return { ...log, state }
  },
  summarize: (out, params) => ({
    miner: params,
    templates: out.templates.length,
    lines: out.templateIds.length
  })
})
