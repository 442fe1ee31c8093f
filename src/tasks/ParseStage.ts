/**
 * Stage `parse`: a raw log file to a columnar `ParsedLog` with a LogHub-style format
 * (`<Date> <Time> <Level> <Component>: <Content>`). Lines that do not match are counted and
 * sampled for the manifest, never fatal.
 */
import { Schema } from "effect"
import { closedStruct } from "../config/ClosedStruct.ts"
import { compileFormat, parseLog } from "../parsing/LogFormat.ts"
import type { ParsedLog } from "./Artifacts.ts"
import { readSourceText, type SourceFile } from "./SourceStage.ts"
import { defineStage } from "./Task.ts"

export const ParseParams = closedStruct({
  /** LogHub-style format; must contain `<Content>`. */
  format: Schema.String.check(
    Schema.makeFilter((f: string) => {
      try {
        compileFormat(f)
        return true
      } catch (e) {
        return e instanceof Error ? e.message : String(e)
      }
    })
  )
})
export type ParseParams = typeof ParseParams.Type

export const parseStage = defineStage<ParseParams, readonly [SourceFile], ParsedLog>({
  name: "parse",
  version: "1",
  params: ParseParams,
  cpu: true,
  run: (params, [source], ctx) => {
    const text = readSourceText(ctx, source)
    ctx.progress(0.3, "parsing")
    return parseLog(text, compileFormat(params.format))
  },
  summarize: (out, params) => ({
    format: params.format,
    raw_lines: out.rawLines,
    parsed_lines: out.lineNo.length,
    unparsed_lines: out.unparsed.count,
    unparsed_samples: out.unparsed.samples,
    fields: out.fields.map((f) => f.name)
  })
})
