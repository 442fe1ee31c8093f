/**
 * A config file is missing, malformed or inconsistent. One error carries every issue found in a
 * load (a registry with three bad keys reports three lines), each naming the file and the dotted
 * key path, so a user fixes them all in one round.
 */
import { Schema } from "effect"

/** One problem: where (file, dotted key path) and what. */
export interface ConfigIssue {
  readonly file: string
  readonly keyPath: string
  readonly detail: string
}

const Issue = Schema.Struct({ file: Schema.String, keyPath: Schema.String, detail: Schema.String })

/** "file: key.path: what is wrong". */
export const formatIssue = (i: ConfigIssue): string => `${i.file}${i.keyPath === "" ? "" : `: ${i.keyPath}`}: ${i.detail}`

export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  file: Schema.String,
  keyPath: Schema.String,
  detail: Schema.String,
  /** Further issues found in the same load, in the order found. */
  more: Schema.optional(Schema.Array(Issue))
}) {
  /** Every issue, one per line. */
  override get message(): string {
    return issuesOf(this).map(formatIssue).join("\n")
  }
}

/** Every issue an error carries. */
export const issuesOf = (e: ConfigError): ReadonlyArray<ConfigIssue> => [
  { file: e.file, keyPath: e.keyPath, detail: e.detail },
  ...(e.more ?? [])
]

/** One error for several (each issue once, in order); undefined for none. */
export const combineConfigErrors = (errors: ReadonlyArray<ConfigError>): ConfigError | undefined => {
  const seen = new Set<string>()
  const issues = errors.flatMap(issuesOf).filter((i) => {
    const line = formatIssue(i)
    if (seen.has(line)) return false
    seen.add(line)
    return true
  })
  const [first, ...more] = issues
  if (first === undefined) return undefined
  return new ConfigError({ ...first, ...(more.length === 0 ? {} : { more }) })
}
