/**
 * Reading config files: TOML parsed with its syntax errors placed (file:line:column), values
 * decoded with a schema with every issue named by its dotted key path, and file stamps that tell
 * whether a file changed since it was read. Decoded values are remembered per schema and input in
 * the warm state: a registry decodes the same dataset and model inputs for many runs.
 */
import { Effect, Option, Result, Schema, SchemaIssue } from "effect"
import * as fs from "node:fs"
import { parse as parseToml, TomlError } from "smol-toml"
import { memoSpec, WarmState } from "../runtime/WarmState.ts"
import { ConfigError, type ConfigIssue } from "./ConfigError.ts"

/** Read and parse a TOML file; syntax errors name the file, line and column. `reads` collects the files read. */
export const readToml = (file: string, reads?: Set<string>): Effect.Effect<Record<string, unknown>, ConfigError> =>
  Effect.try({
    try: () => {
      reads?.add(file)
      return parseToml(fs.readFileSync(file, "utf8")) as Record<string, unknown>
    },
    catch: (e) => {
      if (e instanceof TomlError) {
        return new ConfigError({ file: `${file}:${e.line}:${e.column}`, keyPath: "", detail: `TOML syntax error: ${firstLine(e.message)}` })
      }
      const msg = e instanceof Error ? e.message : String(e)
      return new ConfigError({ file, keyPath: "", detail: msg.includes("ENOENT") ? "file not found" : msg })
    }
  })

const decodedInputs = memoSpec<object, Map<string, unknown>>("config-decodes", 64)
const PER_SCHEMA = 4096

/** Decode with a schema; every issue is reported, each with its dotted key path under `prefix`. */
export const decode = <S extends Schema.Codec<unknown, unknown>>(
  schema: S,
  input: unknown,
  file: string,
  prefix: string,
  note?: string
): Effect.Effect<S["Type"], ConfigError> =>
  Effect.flatMap(Effect.serviceOption(WarmState), (warm) => {
    // Each distinct input once per schema (successes only; a failure is reported with this call's file and key path).
    let memo: Map<string, unknown> | undefined
    let key: string | undefined
    if (Option.isSome(warm)) {
      const memos = warm.value.memo(decodedInputs)
      memo = memos.get(schema)
      if (memo === undefined) memos.set(schema, memo = new Map())
      try {
        key = JSON.stringify(input)
      } catch {
        key = undefined // not JSON (a BigInt from TOML): decode every time
      }
      if (key !== undefined && memo.has(key)) return Effect.succeed(memo.get(key) as S["Type"])
    }
    const result = Schema.decodeUnknownResult(schema)(input, { errors: "all", onExcessProperty: "error" })
    if (Result.isSuccess(result)) {
      if (memo !== undefined && key !== undefined) {
        if (memo.size >= PER_SCHEMA) memo.clear()
        memo.set(key, result.success)
      }
      return Effect.succeed(result.success)
    }
    const suffix = note === undefined ? "" : ` (${note})`
    const issues: Array<ConfigIssue> = SchemaIssue.makeFormatterStandardSchemaV1()(result.failure.issue).issues.map((i) => ({
      file,
      keyPath: dotted([prefix, ...(i.path ?? [])]),
      detail: `${i.message.split("\n")[0]}${suffix}`
    }))
    const [first, ...more] = issues.length > 0 ? issues : [{ file, keyPath: prefix, detail: `invalid${suffix}` }]
    return Effect.fail(new ConfigError({ ...first!, ...(more.length === 0 ? {} : { more }) }))
  })

/** What identifies a file's content without reading it. */
export interface FileStamp {
  readonly file: string
  readonly ino: number
  readonly size: number
  readonly mtimeMs: number
  readonly ctimeMs: number
}

/** The stamp of a file now (undefined when it does not exist). */
export const fileStamp = (file: string): FileStamp | undefined => {
  const st = fs.statSync(file, { throwIfNoEntry: false })
  return st === undefined ? undefined : { file, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs }
}

/** Whether a file still has the stamp it had. */
export const sameStamp = (a: FileStamp | undefined, b: FileStamp): boolean =>
  a !== undefined && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs

/** `a.b[0].c` from path segments (numbers are array indexes). */
export const dotted = (segments: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>): string =>
  segments.reduce<string>((acc, segment) => {
    const seg = typeof segment === "object" ? segment.key : segment
    if (typeof seg === "number") return `${acc}[${seg}]`
    const s = String(seg)
    return s === "" ? acc : acc === "" ? s : `${acc}.${s}`
  }, "")

/** The names of the .toml files in a folder, for messages ("none" when there are none). */
export const listNames = (dir: string): string => {
  try {
    return fs.readdirSync(dir).filter((f) => f.endsWith(".toml")).map((f) => f.slice(0, -5)).sort().join(", ") || "none"
  } catch {
    return "none"
  }
}

const firstLine = (s: string): string => s.split("\n")[0] ?? s
