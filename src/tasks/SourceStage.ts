/**
 * Stage `source`: one local file under the data root, identified by its content. The plan
 * computes the file's sha256 up front (it salts the key, so an edited file is a new key) and
 * checks it against the digest the config gives, if any.
 */
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { createHash } from "node:crypto"
import { closedStruct } from "../config/ClosedStruct.ts"
import { defineStage } from "./Task.ts"

/** A source file as later stages see it. */
export interface SourceFile {
  /** Path relative to the data root. */
  readonly path: string
  readonly sha256: string
  readonly bytes: number
}

export const SourceParams = closedStruct({
  /** Path relative to the data root. */
  path: Schema.NonEmptyString,
  /** Expected sha256 (hex); a mismatch fails before any stage runs. */
  sha256: Schema.optionalKey(Schema.String.check(Schema.isPattern(/^[0-9a-f]{64}$/)))
})
export type SourceParams = typeof SourceParams.Type

/** The file was missing, unreadable, or not the content the config expects. */
export class SourceError extends Schema.TaggedError<SourceError>()("SourceError", {
  path: Schema.String,
  message: Schema.String
}) {}

const digests = new Map<string, { size: number; mtimeMs: number; sha256: string }>()

/** sha256 of a file, remembered per path + size + mtime for the life of the process. */
export const fileDigest = (absPath: string): { sha256: string; bytes: number } => {
  const st = fs.statSync(absPath)
  if (!st.isFile()) throw new Error(`${absPath} is not a regular file`)
  const known = digests.get(absPath)
  if (known !== undefined && known.size === st.size && known.mtimeMs === st.mtimeMs) {
    return { sha256: known.sha256, bytes: st.size }
  }
  const hash = createHash("sha256")
  const fd = fs.openSync(absPath, "r")
  try {
    const buf = Buffer.allocUnsafe(1 << 20)
    let n: number
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) hash.update(buf.subarray(0, n))
  } finally {
    fs.closeSync(fd)
  }
  const sha256 = hash.digest("hex")
  digests.set(absPath, { size: st.size, mtimeMs: st.mtimeMs, sha256 })
  return { sha256, bytes: st.size }
}

/** Resolve and digest a source; fails naming the file (and both digests on a mismatch). */
export const resolveSource = (dataRoot: string, params: SourceParams) =>
  Effect.try({
    try: () => fileDigest(path.resolve(dataRoot, params.path)),
    catch: (e) =>
      new SourceError({
        path: params.path,
        message: `cannot read source ${path.resolve(dataRoot, params.path)}: ${e instanceof Error ? e.message : String(e)}` +
          ` (is the data root right? use --data-root or FLOW_DATA_ROOT)`
      })
  }).pipe(
    Effect.flatMap((d) =>
      params.sha256 !== undefined && params.sha256 !== d.sha256
        ? Effect.fail(
          new SourceError({
            path: params.path,
            message: `sha256 mismatch for ${params.path}: config expects ${params.sha256}, file has ${d.sha256}`
          })
        )
        : Effect.succeed<SourceFile>({ path: params.path, sha256: d.sha256, bytes: d.bytes })
    )
  )

/** Read a source file's text, checking it still has the digest the plan saw. */
export const readSourceText = (dataRoot: string, source: SourceFile): string => {
  const abs = path.resolve(dataRoot, source.path)
  const buf = fs.readFileSync(abs)
  const now = createHash("sha256").update(buf).digest("hex")
  if (now !== source.sha256) {
    throw new Error(`source ${source.path} changed while the flow ran: expected sha256 ${source.sha256}, now ${now}`)
  }
  return buf.toString("utf8")
}

export const sourceStage = defineStage<SourceParams, readonly [], SourceFile>({
  name: "source",
  version: "1",
  params: SourceParams,
  cpu: false,
  run: (params, _inputs, ctx) => {
    const d = fileDigest(path.resolve(ctx.dataRoot, params.path))
    if (params.sha256 !== undefined && params.sha256 !== d.sha256) {
      throw new Error(`sha256 mismatch for ${params.path}: config expects ${params.sha256}, file has ${d.sha256}`)
    }
    return { path: params.path, sha256: d.sha256, bytes: d.bytes }
  },
  summarize: (out) => out,
  describe: (params) => path.basename(params.path)
})
