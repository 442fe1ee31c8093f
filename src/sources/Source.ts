/**
 * Sources: the files a dataset reads, each identified by its content. A source is a local file
 * under the data root (`path`), or a file inside an archive that is fetched first: a LogHub archive
 * from the catalog (`archive = "HDFS"`) or any URL (`url`), served from a mirror folder when one
 * has it, else downloaded with checksum verification and resume, then extracted. `resolveSource`
 * fetches (if needed) and digests one; the digest salts every cache key downstream and is checked
 * against the `sha256` the config gives, and a stage that reads a source checks it once more.
 */
import { Schema } from "effect"
import * as fs from "node:fs"
import * as fsp from "node:fs/promises"
import * as path from "node:path"
import { createHash } from "node:crypto"
import { closedStruct } from "../artifacts/ClosedStruct.ts"
import type { SourceFile } from "../artifacts/Source.ts"
import { catalogEntry, loghubCatalog, type LoghubSystem, type SourceArchive } from "./catalog.ts"
import type { DownloadProgress } from "./Download.ts"
import type { ExtractLimits } from "./Extract.ts"
import { type FetchedSource, fetchSource } from "./Fetch.ts"
import { writeWhole } from "../runtime/Folders.ts"

const Hex64 = Schema.String.check(Schema.isPattern(/^[0-9a-f]{64}$/, { message: "Expected 64 lowercase hex digits (sha256)" }))
const Hex32 = Schema.String.check(Schema.isPattern(/^[0-9a-f]{32}$/, { message: "Expected 32 lowercase hex digits (md5)" }))

export const SourceParams = closedStruct({
  /** A file relative to the data root, and under it (unless `outside_data_root`). */
  path: Schema.optionalKey(Schema.NonEmptyString),
  /** A LogHub system whose full archive is fetched (see src/sources/catalog.ts). */
  archive: Schema.optionalKey(Schema.NonEmptyString),
  /** Any URL of a file or a .zip / .tar.gz archive. */
  url: Schema.optionalKey(Schema.String.check(Schema.isPattern(/^https?:\/\/\S+$/, { message: "Expected an http(s) URL" }))),
  /**
   * Checksums of what `url` serves (verified on download; also how a mirror copy is recognised);
   * with `archive`, they take the place of the catalog's.
   */
  url_sha256: Schema.optionalKey(Hex64),
  url_md5: Schema.optionalKey(Hex32),
  /** With `archive` or `url`: the file inside the fetched archive, e.g. "HDFS.log". */
  file: Schema.optionalKey(Schema.NonEmptyString),
  /** Expected sha256 of the file itself; a mismatch fails before any stage runs. */
  sha256: Schema.optionalKey(Hex64),
  /** With `path`: allow an absolute path, or one leaving the data root (`..`), read as given. */
  outside_data_root: Schema.optionalKey(Schema.Boolean),
  /** With `archive` or `url`: fetch without a checksum to verify the download against. */
  unchecked_download: Schema.optionalKey(Schema.Boolean)
}).check(
  Schema.makeFilter((p) => {
    const given = (["path", "archive", "url"] as const).filter((k) => p[k] !== undefined)
    if (given.length !== 1) return `give exactly one of path, archive or url (got ${given.length === 0 ? "none" : given.join(", ")})`
    if (p.path !== undefined && (p.file !== undefined || p.url_sha256 !== undefined || p.url_md5 !== undefined)) {
      return "file, url_sha256 and url_md5 go with archive or url, not with path"
    }
    if (p.path !== undefined && p.unchecked_download !== undefined) {
      return { path: ["unchecked_download"], issue: "unchecked_download goes with archive or url, not with path" }
    }
    if (p.path === undefined && p.outside_data_root !== undefined) {
      return { path: ["outside_data_root"], issue: "outside_data_root goes with path (a fetched archive's file always stays inside the archive)" }
    }
    const known = p.archive === undefined ? undefined : loghubCatalog.find((e) => e.system === p.archive)
    if (p.archive !== undefined && known === undefined) {
      return { path: ["archive"], issue: `unknown archive "${p.archive}" (known: ${loghubCatalog.map((e) => e.system).sort().join(", ")})` }
    }
    if (p.archive !== undefined && p.file === undefined) return { path: ["file"], issue: "archive sources need the file inside the archive" }
    const issues: Array<{ path: ReadonlyArray<PropertyKey>; issue: string }> = []
    const pathWhy = p.path === undefined || p.outside_data_root === true ? undefined : escapesRoot(p.path)
    if (pathWhy !== undefined) {
      issues.push({
        path: ["path"],
        issue: `"${p.path}" ${pathWhy}: a source path is relative to the data root and stays under it (outside_data_root = true reads it as given)`
      })
    }
    const fileWhy = p.file === undefined ? undefined : escapesRoot(p.file)
    if (fileWhy !== undefined) issues.push({ path: ["file"], issue: `"${p.file}" ${fileWhy}: file names a file inside the fetched archive` })
    const checksummed = p.url_sha256 !== undefined || p.url_md5 !== undefined ||
      (known !== undefined && (known.sha256 !== undefined || known.md5 !== undefined))
    if (p.path === undefined && !checksummed && p.unchecked_download !== true) {
      issues.push(
        p.url !== undefined
          ? { path: ["url"], issue: "a url source needs url_sha256 or url_md5 to verify the download (or unchecked_download = true to fetch it unverified)" }
          : {
            path: ["archive"],
            issue: `the catalog has no checksum for the ${p.archive} archive: give url_sha256 or url_md5 (or unchecked_download = true to fetch it unverified)`
          }
      )
    }
    return issues.length === 0 ? true : issues
  })
)
export type SourceParams = typeof SourceParams.Type

/**
 * Why a relative path from a config would leave the folder it is resolved in: it is absolute
 * (`/x`, `\\x`, `C:x`), has a `..` segment (either separator counts) or a NUL byte; undefined when
 * it stays inside.
 */
export const escapesRoot = (rel: string): string | undefined => {
  if (path.isAbsolute(rel) || rel.startsWith("/") || rel.startsWith("\\") || /^[A-Za-z]:/.test(rel)) return "is an absolute path"
  if (rel.split(/[\\/]/).includes("..")) return "has a .. segment"
  if (rel.includes("\0")) return "has a NUL byte"
  return undefined
}

/**
 * `rel` resolved against `root`, or undefined when the result is not `root` or below it. A plain
 * `path.resolve`: symlinks are not resolved, so a link under `root` pointing elsewhere passes.
 */
export const resolveUnder = (root: string, rel: string): string | undefined => {
  const base = path.resolve(root)
  const abs = path.resolve(base, rel)
  const r = path.relative(base, abs)
  return r === ".." || r.startsWith(`..${path.sep}`) || path.isAbsolute(r) ? undefined : abs
}

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
  /** Digests remembered across runs (see `fileDigest`); none: every file is hashed. */
  readonly digests?: DigestMemo | undefined
  /** Fetches in progress, shared by the sources resolved together (two files of one archive fetch it once). */
  readonly inflight?: Map<string, Promise<FetchedSource>> | undefined
  /** Overrides of the archive extraction limits (`--extract-limits` / `FLOW_EXTRACT_LIMITS`). */
  readonly extractLimits?: Partial<ExtractLimits> | undefined
  readonly onProgress?: ((name: string, p: DownloadProgress) => void) | undefined
}

interface KnownDigest {
  readonly size: number
  readonly mtimeMs: number
  /** The status-change time: an edit moves it even when the editor restores size and mtime. */
  readonly ctimeMs: number
  readonly ino: number
  readonly sha256: string
  /** When the file was hashed (ms since the epoch). */
  readonly hashedAt: number
}

/** Digests a memo keeps at most (those hashed longest ago are dropped first). */
export const MAX_DIGESTS = 10_000

/** A remembered digest is trusted only for a file last modified this long before it was hashed. */
const RACY_MS = 2000

/**
 * Remembered digests: per path, with the file's size, mtime and inode; loaded from and saved to
 * `file` (the flow's `<cache>/digests.json`) when given. One per cache folder, kept in the
 * process's warm state by the caller.
 */
export interface DigestMemo {
  readonly file: string | undefined
  readonly known: Map<string, KnownDigest>
}

/** A digest memo backed by `file` (read now; a missing or unreadable file starts it empty), or in memory only. */
export const digestMemo = (file?: string): DigestMemo => {
  const known = new Map<string, KnownDigest>()
  if (file !== undefined) {
    try {
      const raw = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, KnownDigest>
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v?.sha256 === "string" && typeof v.size === "number" && typeof v.mtimeMs === "number" && typeof v.ctimeMs === "number" && typeof v.ino === "number" && typeof v.hashedAt === "number") known.set(k, v)
      }
    } catch {
      // missing or unreadable: start empty (the memo only saves time)
    }
  }
  return { file, known }
}

/**
 * sha256 of a file. Given a memo, digests are remembered per path with the file's size, mtime,
 * ctime and inode, and (a memo with a file) across runs: a rerun over multi-GB logs does not read
 * them again. Like git, this trusts that a file whose size, mtime, ctime and inode are unchanged
 * has unchanged content (ctime, which no user can set, catches an edit that restored size and
 * mtime); to rule out an edit within the clock's resolution, a digest is trusted only if the file
 * last changed at least 2 s before it was hashed. A stage that reads a source checks its digest
 * again (readSourceBytes).
 */
export const fileDigest = (absPath: string, memo?: DigestMemo): { sha256: string; bytes: number } => {
  const st = regularFile(absPath)
  const known = rememberedDigest(absPath, st, memo)
  if (known !== undefined) return known
  const hashedAt = Date.now()
  const hash = createHash("sha256")
  // Most files checked are small (result files): read whole, in one allocation of their size.
  if (st.size <= SMALL_FILE) hash.update(fs.readFileSync(absPath))
  else {
    const fd = fs.openSync(absPath, "r")
    try {
      const buf = Buffer.allocUnsafe(1 << 20)
      let n: number
      while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) hash.update(buf.subarray(0, n))
    } finally {
      fs.closeSync(fd)
    }
  }
  return remember(absPath, st, hash.digest("hex"), hashedAt, memo)
}

const SMALL_FILE = 4 << 20

/**
 * `fileDigest` with asynchronous reads: the event loop runs between chunks (Ctrl-C is not held
 * up by a multi-GB file) and `signal` stops it (rejecting with its reason) at the next chunk.
 */
export const fileDigestAsync = async (absPath: string, memo?: DigestMemo, signal?: AbortSignal): Promise<{ sha256: string; bytes: number }> => {
  const st = regularFile(absPath)
  const known = rememberedDigest(absPath, st, memo)
  if (known !== undefined) return known
  const hashedAt = Date.now()
  const hash = createHash("sha256")
  const fh = await fsp.open(absPath, "r")
  try {
    const buf = Buffer.allocUnsafe(4 << 20)
    for (;;) {
      signal?.throwIfAborted()
      const { bytesRead } = await fh.read(buf, 0, buf.length, null)
      if (bytesRead === 0) break
      hash.update(buf.subarray(0, bytesRead))
    }
  } finally {
    await fh.close()
  }
  return remember(absPath, st, hash.digest("hex"), hashedAt, memo)
}

/** Whether the digest of a file is remembered (a digest then costs no read). */
export const digestRemembered = (absPath: string, memo: DigestMemo | undefined): boolean => {
  const st = fs.statSync(absPath, { throwIfNoEntry: false })
  return st !== undefined && st.isFile() && rememberedDigest(absPath, st, memo) !== undefined
}

const regularFile = (absPath: string): fs.Stats => {
  const st = fs.statSync(absPath)
  if (!st.isFile()) throw new Error(`${absPath} is not a regular file`)
  return st
}

/** The remembered digest of the file `st` describes, if it is still to be trusted. */
const rememberedDigest = (absPath: string, st: fs.Stats, memo: DigestMemo | undefined): { sha256: string; bytes: number } | undefined => {
  const known = memo?.known.get(absPath)
  if (
    known !== undefined && known.size === st.size && known.mtimeMs === st.mtimeMs && known.ctimeMs === st.ctimeMs && known.ino === st.ino &&
    Math.max(st.mtimeMs, st.ctimeMs) <= known.hashedAt - RACY_MS
  ) {
    return { sha256: known.sha256, bytes: st.size }
  }
  return undefined
}

/** Record a digest in the memo (and its file), and return it. */
const remember = (absPath: string, st: fs.Stats, sha256: string, hashedAt: number, memo: DigestMemo | undefined): { sha256: string; bytes: number } => {
  if (memo !== undefined) {
    // Newest last; beyond the bound the digests hashed longest ago are forgotten.
    memo.known.delete(absPath)
    memo.known.set(absPath, { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, sha256, hashedAt })
    for (const old of memo.known.keys()) {
      if (memo.known.size <= MAX_DIGESTS) break
      memo.known.delete(old)
    }
  }
  if (memo?.file !== undefined) {
    try {
      writeWhole(memo.file, JSON.stringify(Object.fromEntries(memo.known)))
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
  if (p.archive !== undefined) {
    // Checksums the config gives for a catalog archive take the place of the catalog's.
    const entry = catalogEntry(p.archive as LoghubSystem)
    return p.url_sha256 === undefined && p.url_md5 === undefined ? entry : { ...entry, sha256: p.url_sha256, md5: p.url_md5 }
  }
  if (p.url !== undefined) {
    const name = decodeURIComponent(new URL(p.url).pathname.split("/").at(-1) ?? "") || "download"
    return { name, url: p.url, sha256: p.url_sha256, md5: p.url_md5 }
  }
  return undefined
}

/** Whether a source must be fetched (an archive or a URL) before it can be read. */
export const isFetched = (params: SourceParams): boolean => archiveOf(params) !== undefined

/**
 * Resolve and digest a local source (`path` under the data root, or anywhere with
 * `outside_data_root = true`); throws a `SourceError` naming the file.
 */
export const resolveLocalSource = (ctx: SourceContext, params: SourceParams): SourceFile => {
  const abs = localPath(ctx, params)
  return digested(params, { path: params.path!, root: "data" }, abs, readDigest(() => fileDigest(abs, ctx.digests)))
}

/** `resolveLocalSource`, hashing asynchronously (see `fileDigestAsync`): `signal` stops it. */
export const resolveLocalSourceAsync = async (ctx: SourceContext, params: SourceParams, signal?: AbortSignal): Promise<SourceFile> => {
  const abs = localPath(ctx, params)
  return digested(params, { path: params.path!, root: "data" }, abs, await readDigestAsync(() => fileDigestAsync(abs, ctx.digests, signal)))
}

/** Whether a local source resolves without reading the file (its digest is remembered; errors too). */
export const localSourceKnown = (ctx: SourceContext, params: SourceParams): boolean => {
  try {
    return digestRemembered(localPath(ctx, params), ctx.digests)
  } catch {
    return true // fails at once, without reading: the synchronous path reports it
  }
}

/** The absolute path of a local source; a SourceError when it leaves the data root without `outside_data_root`. */
const localPath = (ctx: SourceContext, params: SourceParams): string => {
  const abs = params.outside_data_root === true ? path.resolve(ctx.dataRoot, params.path!) : resolveUnder(ctx.dataRoot, params.path!)
  if (abs === undefined) {
    throw new SourceError({
      path: describeSource(params),
      message: `source path "${params.path}" resolves outside the data root ${path.resolve(ctx.dataRoot)} (outside_data_root = true allows it)`
    })
  }
  return abs
}

/** Fetch (if needed), resolve and digest a source; rejects with a `SourceError` naming the file (and both digests on a mismatch). */
export const resolveSource = async (ctx: SourceContext, params: SourceParams, signal?: AbortSignal): Promise<SourceFile> => {
  const archive = archiveOf(params)
  if (archive === undefined) return resolveLocalSourceAsync(ctx, params, signal)
  const name = describeSource(params)
  let fetched: FetchedSource
  try {
    fetched = await fetchSource(archive, {
      cacheDir: ctx.sourcesDir,
      mirror: ctx.mirror,
      inflight: ctx.inflight,
      limits: ctx.extractLimits,
      signal,
      onProgress: ctx.onProgress === undefined ? undefined : (p) => ctx.onProgress!(archive.name, p)
    })
  } catch (e) {
    throw new SourceError({ path: name, message: `cannot fetch ${archive.url}: ${e instanceof Error ? e.message : String(e)}` })
  }
  const inside = fetched.files.length === 1 && params.file === undefined ? fetched.files[0]!.path : params.file
  if (inside === undefined) {
    throw new SourceError({
      path: name,
      message: `${archive.name} holds ${fetched.files.length} files; name one with file = "..." (${fetched.files.slice(0, 8).map((f) => f.path).join(", ")})`
    })
  }
  const isDir = fs.statSync(fetched.path).isDirectory()
  if (!isDir && inside !== path.basename(fetched.path)) {
    throw new SourceError({ path: name, message: `${archive.name} is a single file, not an archive; it holds no file "${inside}"` })
  }
  const base = isDir ? fetched.path : path.dirname(fetched.path)
  const abs = escapesRoot(inside) === undefined ? resolveUnder(base, path.join(...inside.split("/"))) : undefined
  if (abs === undefined || abs === path.resolve(base)) {
    throw new SourceError({ path: name, message: `source file "${inside}" is not inside the extracted ${archive.name} (${base})` })
  }
  return digested(
    params,
    { path: path.relative(path.resolve(ctx.sourcesDir), abs).split(path.sep).join("/"), root: "sources" },
    abs,
    await readDigestAsync(() => fileDigestAsync(abs, ctx.digests, signal))
  )
}

type DigestRead = { readonly ok: true; readonly digest: { sha256: string; bytes: number } } | { readonly ok: false; readonly error: unknown }
const readDigest = (f: () => { sha256: string; bytes: number }): DigestRead => {
  try {
    return { ok: true, digest: f() }
  } catch (error) {
    return { ok: false, error }
  }
}
const readDigestAsync = (f: () => Promise<{ sha256: string; bytes: number }>): Promise<DigestRead> =>
  f().then((digest) => ({ ok: true as const, digest }), (error: unknown) => ({ ok: false as const, error }))

/** The resolved file with its digest, checked against the sha256 the config gives. */
const digested = (params: SourceParams, file: Omit<SourceFile, "sha256" | "bytes">, abs: string, read: DigestRead): SourceFile => {
  const name = describeSource(params)
  if (!read.ok) {
    const e = read.error
    throw new SourceError({
      path: name,
      message: `cannot read source ${abs}: ${e instanceof Error ? e.message : String(e)}` +
        (file.root === "data" ? " (is the data root right? use --data-root or FLOW_DATA_ROOT)" : "")
    })
  }
  const d = read.digest
  if (params.sha256 !== undefined && params.sha256 !== d.sha256) {
    throw new SourceError({ path: name, message: `sha256 mismatch for ${name}: config expects ${params.sha256}, file has ${d.sha256}` })
  }
  return { ...file, sha256: d.sha256, bytes: d.bytes }
}

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

/**
 * Read a source file with `read` (given its path) without holding it: its digest is checked in
 * chunks first, and its size and modification time must be the same after `read`, else it
 * changed while the flow ran (an error, nothing of `read` kept).
 */
export const readSourceStreamed = <A>(roots: { readonly dataRoot: string; readonly sourcesDir: string }, source: SourceFile, read: (file: string) => A): A => {
  const file = sourcePath(roots, source)
  const before = fs.statSync(file)
  const now = fileDigest(file).sha256
  if (now !== source.sha256) throw new Error(`source ${source.path} changed while the flow ran: expected sha256 ${source.sha256}, now ${now}`)
  const out = read(file)
  const after = fs.statSync(file)
  if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
    throw new Error(`source ${source.path} changed while the flow ran: ${before.size} bytes when its digest was checked, ${after.size} after it was read`)
  }
  return out
}

/** Read a source file's text (UTF-8), checking its digest. */
export const readSourceText = (roots: { readonly dataRoot: string; readonly sourcesDir: string }, source: SourceFile): string =>
  readSourceBytes(roots, source).toString("utf8")
