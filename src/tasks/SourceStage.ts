/**
 * Stage `source`: one input file, identified by its content. It is either a local file under the
 * data root (`path`), or a file inside an archive that is fetched first: a LogHub archive from the
 * catalog (`archive = "HDFS"`) or any URL (`url`), served from a mirror folder when one has it,
 * else downloaded with checksum verification and resume, then extracted. The plan digests every
 * source up front: the digest salts the key (an edited file is a new key) and is checked against
 * the `sha256` the config gives.
 */
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { createHash } from "node:crypto"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import { catalogEntry, loghubCatalog, type LoghubSystem, type SourceArchive } from "../sources/catalog.ts"
import type { DownloadProgress } from "../sources/Download.ts"
import { fetchSource } from "../sources/Fetch.ts"
import { defineStage } from "./Task.ts"
import type { SourceFile } from "../artifacts/Source.ts"

const Hex64 = Schema.String.check(Schema.isPattern(/^[0-9a-f]{64}$/, { message: "Expected 64 lowercase hex digits (sha256)" }))
const Hex32 = Schema.String.check(Schema.isPattern(/^[0-9a-f]{32}$/, { message: "Expected 32 lowercase hex digits (md5)" }))

export const SourceParams = closedStruct({
  /** A file relative to the data root. */
  path: Schema.optionalKey(Schema.NonEmptyString),
  /** A LogHub system whose full archive is fetched (see src/sources/catalog.ts). */
  archive: Schema.optionalKey(Schema.NonEmptyString),
  /** Any URL of a file or a .zip / .tar.gz archive. */
  url: Schema.optionalKey(Schema.String.check(Schema.isPattern(/^https?:\/\/\S+$/, { message: "Expected an http(s) URL" }))),
  /** Checksums of what `url` serves (verified on download; also how a mirror copy is recognised). */
  url_sha256: Schema.optionalKey(Hex64),
  url_md5: Schema.optionalKey(Hex32),
  /** With `archive` or `url`: the file inside the fetched archive, e.g. "HDFS.log". */
  file: Schema.optionalKey(Schema.NonEmptyString),
  /** Expected sha256 of the file itself; a mismatch fails before any stage runs. */
  sha256: Schema.optionalKey(Hex64)
}).check(
  Schema.makeFilter((p) => {
    const given = (["path", "archive", "url"] as const).filter((k) => p[k] !== undefined)
    if (given.length !== 1) return `give exactly one of path, archive or url (got ${given.length === 0 ? "none" : given.join(", ")})`
    if (p.path !== undefined && (p.file !== undefined || p.url_sha256 !== undefined || p.url_md5 !== undefined)) {
      return "file, url_sha256 and url_md5 go with archive or url, not with path"
    }
    if (p.archive !== undefined && !loghubCatalog.some((e) => e.system === p.archive)) {
      return { path: ["archive"], issue: `unknown archive "${p.archive}" (known: ${loghubCatalog.map((e) => e.system).sort().join(", ")})` }
    }
    if (p.archive !== undefined && p.file === undefined) return { path: ["file"], issue: "archive sources need the file inside the archive" }
    return true
  })
)
export type SourceParams = typeof SourceParams.Type

/** The file was missing, unreadable, could not be fetched, or is not the content the config expects. */
export class SourceError extends Schema.TaggedError<SourceError>()("SourceError", {
  path: Schema.String,
  message: Schema.String
}) {}

/** Where sources are read from and fetched to. */
export interface SourceContext {
  readonly dataRoot: string
  /** Folder for downloads and extracted archives (normally `<cache>/sources`). */
  readonly sourcesDir: string
  /** Mirror folder searched before downloading (`--mirror` / `FLOW_MIRROR`). */
  readonly mirror?: string | undefined
  /** File remembering source digests across runs (see fileDigest); none: remembered per process. */
  readonly digestMemo?: string | undefined
  readonly onProgress?: ((name: string, p: DownloadProgress) => void) | undefined
}

interface KnownDigest {
  readonly size: number
  readonly mtimeMs: number
  readonly ino: number
  readonly sha256: string
  /** When the file was hashed (ms since the epoch). */
  readonly hashedAt: number
}

/** A remembered digest is trusted only for a file last modified this long before it was hashed. */
const RACY_MS = 2000

const memos = new Map<string, Map<string, KnownDigest>>()
const memoOf = (file: string | undefined): Map<string, KnownDigest> => {
  const id = file ?? ""
  let m = memos.get(id)
  if (m === undefined) {
    m = new Map()
    if (file !== undefined) {
      try {
        const raw = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, KnownDigest>
        for (const [k, v] of Object.entries(raw)) {
          if (typeof v?.sha256 === "string" && typeof v.size === "number" && typeof v.mtimeMs === "number" && typeof v.ino === "number" && typeof v.hashedAt === "number") m.set(k, v)
        }
      } catch {
        // missing or unreadable: start empty (the memo only saves time)
      }
    }
    memos.set(id, m)
  }
  return m
}

/** Forget what this process remembers of digests (tests: behave like a new process). */
export const forgetDigests = (): void => memos.clear()

/**
 * sha256 of a file. Digests are remembered per path with the file's size, mtime and inode, in
 * this process and, given `memoFile` (the flow uses `<cache>/digests.json`), across runs: a
 * rerun over multi-GB logs does not read them again. Like make and git, this trusts that a file
 * whose size, mtime and inode are unchanged has unchanged content; to rule out an edit within
 * the clock's resolution, a digest is trusted only if the file was last modified at least 2 s
 * before it was hashed. A stage that reads a source checks its digest again (readSourceBytes).
 */
export const fileDigest = (absPath: string, memoFile?: string): { sha256: string; bytes: number } => {
  const st = fs.statSync(absPath)
  if (!st.isFile()) throw new Error(`${absPath} is not a regular file`)
  const memo = memoOf(memoFile)
  const known = memo.get(absPath)
  if (
    known !== undefined && known.size === st.size && known.mtimeMs === st.mtimeMs && known.ino === st.ino &&
    st.mtimeMs <= known.hashedAt - RACY_MS
  ) {
    return { sha256: known.sha256, bytes: st.size }
  }
  const hashedAt = Date.now()
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
  memo.set(absPath, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, sha256, hashedAt })
  if (memoFile !== undefined) {
    try {
      fs.mkdirSync(path.dirname(memoFile), { recursive: true })
      const tmp = `${memoFile}.${process.pid}.tmp`
      fs.writeFileSync(tmp, JSON.stringify(Object.fromEntries(memo)))
      fs.renameSync(tmp, memoFile)
    } catch {
      // a memo that cannot be written only costs the next run a re-read
    }
  }
  return { sha256, bytes: st.size }
}

/** A short name for a source in messages and views. */
export const describeSource = (p: SourceParams): string =>
  p.path ?? `${p.archive ?? p.url ?? "?"}${p.file === undefined ? "" : `:${p.file}`}`

/** The fetchable archive behind an `archive` or `url` source. */
const archiveOf = (p: SourceParams): SourceArchive | undefined => {
  if (p.archive !== undefined) return catalogEntry(p.archive as LoghubSystem)
  if (p.url !== undefined) {
    const name = decodeURIComponent(new URL(p.url).pathname.split("/").at(-1) ?? "") || "download"
    return { name, url: p.url, sha256: p.url_sha256, md5: p.url_md5 }
  }
  return undefined
}

/** Resolve, fetch if needed, and digest a source; fails naming the file (and both digests on a mismatch). */
export const resolveSource = (ctx: SourceContext, params: SourceParams): Effect.Effect<SourceFile, SourceError> =>
  Effect.gen(function*() {
    const name = describeSource(params)
    const archive = archiveOf(params)
    let abs: string
    let file: Omit<SourceFile, "sha256" | "bytes">
    if (archive === undefined) {
      abs = path.resolve(ctx.dataRoot, params.path!)
      file = { path: params.path!, root: "data" }
    } else {
      const fetched = yield* Effect.tryPromise({
        try: () =>
          fetchSource(archive, {
            cacheDir: ctx.sourcesDir,
            mirror: ctx.mirror,
            onProgress: ctx.onProgress === undefined ? undefined : (p) => ctx.onProgress!(archive.name, p)
          }),
        catch: (e) => new SourceError({ path: name, message: `cannot fetch ${archive.url}: ${e instanceof Error ? e.message : String(e)}` })
      })
      const inside = fetched.files.length === 1 && params.file === undefined ? fetched.files[0]!.path : params.file
      if (inside === undefined) {
        return yield* new SourceError({
          path: name,
          message: `${archive.name} holds ${fetched.files.length} files; name one with file = "..." (${fetched.files.slice(0, 8).map((f) => f.path).join(", ")})`
        })
      }
      const base = fs.statSync(fetched.path).isDirectory() ? fetched.path : path.dirname(fetched.path)
      abs = path.join(base, ...inside.split("/"))
      file = { path: path.relative(path.resolve(ctx.sourcesDir), abs).split(path.sep).join("/"), root: "sources" }
    }
    const d = yield* Effect.try({
      try: () => fileDigest(abs, ctx.digestMemo),
      catch: (e) =>
        new SourceError({
          path: name,
          message: `cannot read source ${abs}: ${e instanceof Error ? e.message : String(e)}` +
            (archive === undefined ? " (is the data root right? use --data-root or FLOW_DATA_ROOT)" : "")
        })
    })
    if (params.sha256 !== undefined && params.sha256 !== d.sha256) {
      return yield* new SourceError({ path: name, message: `sha256 mismatch for ${name}: config expects ${params.sha256}, file has ${d.sha256}` })
    }
    return { ...file, sha256: d.sha256, bytes: d.bytes }
  })

/** Absolute path of a resolved source. */
export const sourcePath = (roots: { readonly dataRoot: string; readonly sourcesDir: string }, source: SourceFile): string =>
  path.resolve(source.root === "sources" ? roots.sourcesDir : roots.dataRoot, source.path)

/** Read a source file's bytes, checking it still has the digest the plan saw. */
export const readSourceBytes = (roots: { readonly dataRoot: string; readonly sourcesDir: string }, source: SourceFile): Buffer => {
  const buf = fs.readFileSync(sourcePath(roots, source))
  const now = createHash("sha256").update(buf).digest("hex")
  if (now !== source.sha256) {
    throw new Error(`source ${source.path} changed while the flow ran: expected sha256 ${source.sha256}, now ${now}`)
  }
  return buf
}

/** Read a source file's text (UTF-8), checking its digest. */
export const readSourceText = (roots: { readonly dataRoot: string; readonly sourcesDir: string }, source: SourceFile): string =>
  readSourceBytes(roots, source).toString("utf8")

/** The stage only records the source the plan resolved (its key is salted with the digest). */
export const sourceStage = defineStage<SourceParams, readonly [], SourceFile>({
  name: "source",
  version: "2",
  params: SourceParams,
  cpu: false,
  run: (params, _inputs, ctx) => Effect.runPromise(resolveSource(ctx, params)),
  summarize: (out, params) => ({ ...out, source: describeSource(params) }),
  describe: (params) => (params.path !== undefined ? path.basename(params.path) : describeSource(params))
})
