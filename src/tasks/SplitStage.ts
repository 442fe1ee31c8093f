/**
 * Stage `split`: tag each sequence train / test / ignored. Chronological: the first
 * `train_fraction` of sequences (ordered by first event) train, the rest test; with
 * `train_on_normal_only`, train-side sequences not known to be normal are ignored.
 */
import { Effect, Schema } from "effect"
import { closedStruct } from "../config/ClosedStruct.ts"
import { chronologicalSplit } from "../sequences/Split.ts"
import type { SplitSequences } from "./Artifacts.ts"
import type { LabelledSequences } from "./LabelStage.ts"
import { defineStage } from "./Task.ts"

export const SplitParams = closedStruct({
  train_fraction: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMinimum: true, exclusiveMaximum: true })),
  train_on_normal_only: Schema.Boolean.pipe(Schema.withDecodingDefaultKey(Effect.succeed(false)))
})
export type SplitParams = typeof SplitParams.Type

export const splitStage = defineStage<SplitParams, readonly [LabelledSequences], SplitSequences>({
  name: "split",
  version: "1",
  params: SplitParams,
  cpu: false,
  run: (params, [labelled]) =>
    chronologicalSplit(labelled.sequences, {
      trainFraction: params.train_fraction,
      trainOnNormalOnly: params.train_on_normal_only
    }),
  summarize: (out, params) => ({ split: params, summary: out.summary })
})
