/**
 * Struct schemas that reject undeclared keys by name. Every config section (datasets, models,
 * registry, stage params) is built with `closedStruct`, so a typo in a TOML key is an error that
 * lists the keys that would have been accepted, whatever options the caller decodes with.
 * Literal fields (a `type = "..."` tag) stay visible on the encoded side, so a union of closed
 * structs tries only the member whose tag matches and reports that member's errors alone.
 */
import { Schema, SchemaAST, SchemaTransformation } from "effect"

/** A struct schema whose encoded side rejects keys it does not declare, naming them. */
export const closedStruct = <const Fields extends Schema.Struct.Fields>(fields: Fields) => {
  const known = Object.keys(fields)
  // The tag fields, rebuilt from their literal values (so they carry no decoding services).
  const tags: Record<string, Schema.Literal<SchemaAST.LiteralValue>> = {}
  for (const [k, f] of Object.entries(fields)) if (SchemaAST.isLiteral(f.ast)) tags[k] = Schema.Literal(f.ast.literal)
  return Schema.StructWithRest(Schema.Struct(tags), [Schema.Record(Schema.String, Schema.Unknown)]).pipe(
    Schema.check(
      Schema.makeFilter((input: Record<string, unknown>) =>
        Object.keys(input)
          .filter((key) => !known.includes(key))
          .map((key) => ({ path: [key], issue: `unknown key "${key}" (known keys: ${known.join(", ")})` }))
      )
    ),
    Schema.decodeTo(Schema.Struct(fields), SchemaTransformation.passthrough({ strict: false }))
  )
}
