/**
 * Stage `source`: one input file, identified by its content (src/sources/Source.ts). The plan
 * resolves and digests every source before any stage runs; the digest salts the node's key (an
 * edited file is a new key), and this stage records the resolved file for the stages that read it.
 */
import * as path from "node:path"
import type { SourceFile } from "../artifacts/Source.ts"
import { describeSource, digestMemo, resolveSource, SourceParams } from "../sources/Source.ts"
import { defineStage } from "./Task.ts"

/** The stage only records the source the plan resolved (its key is salted with the digest). */
export const sourceStage = defineStage<SourceParams, {}, SourceFile>({
  name: "source",
  version: "2",
  params: SourceParams,
  cpu: false,
  run: (params, _inputs, ctx) => resolveSource({ ...ctx, digests: digestMemo(ctx.digestFile) }, params),
  summarize: (out, params) => ({ ...out, source: describeSource(params) }),
  describe: (params) => (params.path !== undefined ? path.basename(params.path) : describeSource(params))
})
