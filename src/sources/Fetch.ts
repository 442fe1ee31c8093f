/**
 * One entry point to bring an upstream source to disk: the mirror folder first, else a download
 * (resumed and retried), then extraction for archives. A marker file beside the result records
 * the archive's digests and the extracted files' sizes, so a second call reuses a complete,
 * verified result without touching the network. Layout under `cacheDir`: `downloads/<name>`,
 * `extracted/<stem>/`, `extracted/<name>.json` (marker).
 */
import * as fs from "node:fs"
import * as fsp from "node:fs/promises"
import { makeFolders } from "../runtime/Folders.ts"
import * as path from "node:path"
import { archiveChecksum, type SourceArchive } from "./catalog.ts"
import { type Digests, digestOf, download, DownloadError, type DownloadProgress, fileDigests } from "./Download.ts"
import { archiveKind, extract, EXTRACT_LIMIT_NAMES, type ExtractedFile, type ExtractLimits, resolveExtractLimits } from "./Extract.ts"
import { findInMirror } from "./Mirror.ts"

export interface FetchOptions {
  /** Folder for downloads and extracted results (created if missing). */
  readonly cacheDir: string
  /** Mirror folder (`--mirror` / `FLOW_MIRROR`, see `resolveMirror`). */
  readonly mirror?: string | undefined
  readonly onProgress?: ((p: DownloadProgress) => void) | undefined
  readonly signal?: AbortSignal | undefined
  /** Download attempts; a truncated or dropped transfer resumes on the next (default 3). */
  readonly attempts?: number | undefined
  /** Wait before attempt k+1 is k times this (default 1000 ms). */
  readonly retryDelayMs?: number | undefined
  /** Passed to `download` (default 60 s). */
  readonly idleTimeoutMs?: number | undefined
  /** Fetches in progress: callers that share this map share the fetch of the same archive. */
  readonly inflight?: Map<string, Promise<FetchedSource>> | undefined
  /**
   * Bounds on what an archive may expand to, field by field over `DEFAULT_EXTRACT_LIMITS`
   * (Extract.ts); a tripped limit throws `ExtractError` and keeps nothing of the extraction.
   */
  readonly limits?: Partial<ExtractLimits> | undefined
}

export interface FetchedSource extends Digests {
  /** The extracted folder (archives) or the file itself (anything else). */
  readonly path: string
  /** Where the bytes came from this time. */
  readonly via: "cache" | "mirror" | "download"
  /** `unchecked`: the entry has no checksum; fill one in from `sha256` / `md5` here. */
  readonly check: "verified" | "unchecked"
  /** Regular files of the result, relative to `path` for archives (a plain file lists itself). */
  readonly files: ReadonlyArray<ExtractedFile>
}

/**
 * Bring `entry` to disk and return where it lies. Throws `ChecksumError` (download or mirror
 * copy with the wrong digest), `DownloadError` (after the last attempt) or `ExtractError`.
 */
export const fetchSource = (entry: SourceArchive, opts: FetchOptions): Promise<FetchedSource> => {
  // Callers sharing `inflight` and asking for the same result share one fetch (one .part, one extraction).
  const inflight = opts.inflight
  if (inflight === undefined) return fetchOnce(entry, opts)
  const key = `${path.resolve(opts.cacheDir)}\0${entry.name}`
  const running = inflight.get(key)
  if (running !== undefined) return running
  const started = fetchOnce(entry, opts).finally(() => inflight.delete(key))
  inflight.set(key, started)
  return started
}

// ---------------------------------------------------------------------------------------------

const fetchOnce = async (entry: SourceArchive, opts: FetchOptions): Promise<FetchedSource> => {
  if (path.basename(entry.name) !== entry.name || entry.name.startsWith(".")) {
    throw new Error(`source name must be a plain file name, got "${entry.name}"`)
  }
  const cacheDir = path.resolve(opts.cacheDir)
  const checksum = archiveChecksum(entry)
  const kind = archiveKind(entry.name)
  const markerPath = path.join(cacheDir, "extracted", `${entry.name}.json`)
  const target = kind === undefined ? undefined : path.join(cacheDir, "extracted", stem(entry.name))

  const reused = readMarker(markerPath, entry, target)
  if (reused !== undefined) return { ...reused, via: "cache" }

  let source: { path: string; digests: Digests; check: "verified" | "unchecked"; via: "mirror" | "download" }
  const inMirror = opts.mirror === undefined ? undefined : await findInMirror(opts.mirror, entry.name, checksum)
  if (inMirror?.status === "hit") {
    source = { path: inMirror.path, digests: inMirror.digests, check: inMirror.check, via: "mirror" }
  } else {
    const dest = path.join(cacheDir, "downloads", entry.name)
    // Without a checksum a finished download (renamed only when complete) is the best we have.
    const kept = checksum === undefined && fs.existsSync(dest) ? await fileDigests(dest) : undefined
    const got = kept !== undefined
      ? { ...kept, path: dest, check: "unchecked" as const }
      : await downloadWithRetries(entry, dest, opts)
    source = { path: got.path, digests: got, check: got.check, via: "download" }
  }

  let result: Marker
  if (target === undefined) {
    result = { name: entry.name, ...pick(source.digests), check: source.check, path: source.path, files: [{ path: entry.name, bytes: source.digests.bytes }] }
  } else {
    await fsp.rm(target, { recursive: true, force: true })
    const out = await extract(source.path, target, { limits: opts.limits })
    result = { name: entry.name, ...pick(source.digests), check: source.check, path: out.dir, files: out.files }
  }
  await writeMarker(markerPath, result)
  return { ...result, via: source.via }
}

interface Marker extends Digests {
  readonly name: string
  readonly check: "verified" | "unchecked"
  readonly path: string
  readonly files: ReadonlyArray<ExtractedFile>
}

const stem = (name: string): string => name.replace(/\.(zip|tar\.gz|tgz)$/i, "")

const pick = (d: Digests): Digests => ({ sha256: d.sha256, md5: d.md5, bytes: d.bytes })

/** A previous result, if its marker matches the entry and every recorded file still has its size. */
const readMarker = (markerPath: string, entry: SourceArchive, target: string | undefined): Marker | undefined => {
  let m: Marker
  try {
    m = JSON.parse(fs.readFileSync(markerPath, "utf8")) as Marker
  } catch {
    return undefined
  }
  if (m.name !== entry.name || typeof m.path !== "string" || !Array.isArray(m.files)) return undefined
  if (target !== undefined && m.path !== target) return undefined
  const checksum = archiveChecksum(entry)
  if (checksum !== undefined && digestOf(m, checksum.kind) !== checksum.hex.toLowerCase()) return undefined
  const check = checksum !== undefined ? "verified" : m.check
  for (const f of m.files) {
    const abs = target === undefined ? m.path : path.join(m.path, ...f.path.split("/"))
    try {
      if (fs.statSync(abs).size !== f.bytes) return undefined
    } catch {
      return undefined
    }
  }
  return { ...m, check }
}

const writeMarker = async (markerPath: string, m: Marker): Promise<void> => {
  makeFolders(path.dirname(markerPath))
  const tmp = `${markerPath}.${process.pid}.tmp`
  await fsp.writeFile(tmp, JSON.stringify(m, null, 2) + "\n")
  await fsp.rename(tmp, markerPath)
}

const RETRYABLE: ReadonlySet<string> = new Set(["truncated", "network", "timeout"])

const downloadWithRetries = async (entry: SourceArchive, dest: string, opts: FetchOptions) => {
  const attempts = Math.max(1, opts.attempts ?? 3)
  for (let attempt = 1;; attempt++) {
    try {
      return await download({
        url: entry.url,
        dest,
        checksum: archiveChecksum(entry),
        onProgress: opts.onProgress,
        signal: opts.signal,
        idleTimeoutMs: opts.idleTimeoutMs,
        // What is downloaded is at most what it may extract to (a plain file is not extracted).
        maxBytes: resolveExtractLimits(opts.limits, entry.name).maxTotalBytes,
        maxBytesName: EXTRACT_LIMIT_NAMES.maxTotalBytes
      })
    } catch (e) {
      if (!(e instanceof DownloadError) || !RETRYABLE.has(e.reason) || attempt >= attempts) throw e
      await new Promise((resolve) => setTimeout(resolve, attempt * (opts.retryDelayMs ?? 1000)))
    }
  }
}
