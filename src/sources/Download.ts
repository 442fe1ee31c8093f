/**
 * HTTP(S) download of one file with resume and checksum verification. Bytes stream into
 * `dest + ".part"`; a later call resumes that file with a Range request, and only a transfer
 * whose digest matches the expected checksum is renamed to `dest`. Plain async code (Node's
 * `http`/`https`); the source stage wraps it. Use `fetchSource` (Fetch.ts) for catalog entries.
 */
import { Schema } from "effect"
import { createHash, type Hash } from "node:crypto"
import * as fs from "node:fs"
import * as fsp from "node:fs/promises"
import { makeFolders } from "../runtime/Folders.ts"
import type * as http from "node:http"
import * as path from "node:path"
import { Transform } from "node:stream"
import { pipeline } from "node:stream/promises"

/** An expected digest: sha256 where known, md5 where only that is published (Zenodo). */
export interface Checksum {
  readonly kind: "sha256" | "md5"
  /** Lower- or upper-case hex. */
  readonly hex: string
}

/** Both digests of a file, so a first download can fill in either kind. */
export interface Digests {
  readonly sha256: string
  readonly md5: string
  readonly bytes: number
}

/** Reported while bytes arrive: at the start, at most every `PROGRESS_INTERVAL_MS`, at the end. */
export interface DownloadProgress {
  readonly url: string
  readonly dest: string
  /** Bytes in the `.part` file so far, a resumed prefix included. */
  readonly received: number
  /** Full size when the server says it (Content-Length / Content-Range). */
  readonly total: number | undefined
  /** Where this transfer started (0 unless resumed). */
  readonly resumedFrom: number
}

export interface DownloadOptions {
  readonly url: string
  readonly dest: string
  readonly checksum?: Checksum | undefined
  readonly onProgress?: ((p: DownloadProgress) => void) | undefined
  readonly signal?: AbortSignal | undefined
  /** Redirects followed before giving up (default 10). */
  readonly maxRedirects?: number | undefined
  /** A socket idle this long fails the transfer, keeping the `.part` (default 60 s). */
  readonly idleTimeoutMs?: number | undefined
  /**
   * Bytes the file may have (default: no limit): a larger declared length is refused before any
   * byte is written, a stream that passes it is stopped there; the `.part` is removed either way.
   */
  readonly maxBytes?: number | undefined
  /** How the limit is named in the error (default "maxBytes"). */
  readonly maxBytesName?: string | undefined
}

export interface Downloaded extends Digests {
  readonly path: string
  /** `present`: `dest` already held the expected checksum; nothing was requested. */
  readonly status: "downloaded" | "resumed" | "present"
  /** Whether a checksum was given and matched (`unchecked` when none was given). */
  readonly check: "verified" | "unchecked"
}

/** The transfer failed; `partial` names the kept `.part` file a later call resumes. */
export class DownloadError extends Schema.TaggedError<DownloadError>()("DownloadError", {
  url: Schema.String,
  reason: Schema.Literals(["http", "truncated", "redirects", "network", "timeout", "aborted", "too_large"]),
  status: Schema.optionalKey(Schema.Number),
  partial: Schema.optionalKey(Schema.String),
  message: Schema.String
}) {}

/** A file's digest is not the expected one; the file was removed (download) or left alone (mirror). */
export class ChecksumError extends Schema.TaggedError<ChecksumError>()("ChecksumError", {
  file: Schema.String,
  kind: Schema.Literals(["sha256", "md5"]),
  expected: Schema.String,
  actual: Schema.String,
  message: Schema.String
}) {}

export const PROGRESS_INTERVAL_MS = 100

/**
 * Download `url` to `dest`, resuming `dest.part` if present, verifying `checksum` if given.
 * Throws `DownloadError` (the `.part` is kept) or `ChecksumError` (nothing is left behind).
 */
export const download = async (opts: DownloadOptions): Promise<Downloaded> => {
  const dest = path.resolve(opts.dest)
  const part = dest + ".part"
  const maxRedirects = opts.maxRedirects ?? 10
  const idleTimeoutMs = opts.idleTimeoutMs ?? 60_000
  makeFolders(path.dirname(dest))

  if (opts.checksum !== undefined && fs.existsSync(dest)) {
    const d = await fileDigests(dest)
    if (digestOf(d, opts.checksum.kind) === opts.checksum.hex.toLowerCase()) {
      return { ...d, path: dest, status: "present", check: "verified" }
    }
  }

  let url = new URL(opts.url)
  let redirects = 0
  let resume = true
  // Bounded: each pass either follows a redirect (capped) or turns resume off (once).
  for (let pass = 0; pass <= maxRedirects + 2; pass++) {
    checkProtocol(url, opts.url)
    const offset = resume ? sizeOf(part) : 0
    const { res, state } = await get(url, offset, opts.signal, idleTimeoutMs, part)
    const status = res.statusCode ?? 0

    if (status >= 300 && status < 400 && res.headers.location !== undefined) {
      discard(res)
      if (++redirects > maxRedirects) {
        throw new DownloadError({
          url: opts.url,
          reason: "redirects",
          message: `too many redirects (more than ${maxRedirects}) downloading ${opts.url}; last was ${url.href}`
        })
      }
      url = new URL(res.headers.location, url)
      continue
    }

    if (status === 416 && offset > 0) {
      discard(res)
      const range = parseContentRange(res.headers["content-range"])
      if (range?.total === offset) return finish(opts, dest, part, await fileDigests(part), "resumed")
      await fsp.rm(part, { force: true })
      resume = false
      continue
    }

    let resumedFrom = 0
    if (status === 206) {
      const range = parseContentRange(res.headers["content-range"])
      if (range === undefined || range.start !== offset) {
        // A range we did not ask for: start over from byte 0 without Range.
        discard(res)
        await fsp.rm(part, { force: true })
        resume = false
        continue
      }
      resumedFrom = offset
    } else if (status !== 200) {
      discard(res)
      throw new DownloadError({
        url: opts.url,
        reason: "http",
        status,
        ...(offset > 0 ? { partial: part } : {}),
        message: `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ""} for ${url.href}` +
          (url.href !== opts.url ? ` (redirected from ${opts.url})` : "") +
          (status >= 400 && status < 500 ? `; check the URL, or put the file in a mirror folder (${MIRROR_HINT})` : "")
      })
    }
    // status 200 (a server that ignores Range restarts the file) or a matching 206.
    const digests = await receive(opts, url, res, state, dest, part, resumedFrom)
    return finish(opts, dest, part, digests, resumedFrom > 0 ? "resumed" : "downloaded")
  }
  throw new DownloadError({
    url: opts.url,
    reason: "redirects",
    message: `gave up downloading ${opts.url}: the server kept answering with redirects or unusable ranges`
  })
}

/** sha256 and md5 of a file in one pass. */
export const fileDigests = async (file: string): Promise<Digests> => {
  const h = new Hashes()
  await pipeline(fs.createReadStream(file, { highWaterMark: 1 << 20 }), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) h.update(chunk)
  })
  return h.digest()
}

/** The digest of the given kind. */
export const digestOf = (d: Digests, kind: Checksum["kind"]): string => (kind === "sha256" ? d.sha256 : d.md5)

/** One line for a terminal progress bar: `name [#####-----]  45%  12.3 / 27.1 MiB`. */
export const formatProgress = (p: DownloadProgress, width = 24): string => {
  const name = path.basename(p.dest)
  if (p.total === undefined || p.total <= 0) return `${name} ${mib(p.received)} MiB`
  const frac = Math.min(1, p.received / p.total)
  const filled = Math.round(frac * width)
  const pct = String(Math.floor(frac * 100)).padStart(3)
  return `${name} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${pct}%  ${mib(p.received)} / ${mib(p.total)} MiB`
}

// ---------------------------------------------------------------------------------------------

class Hashes {
  readonly sha256: Hash = createHash("sha256")
  readonly md5: Hash = createHash("md5")
  bytes = 0
  update(b: Buffer): void {
    this.sha256.update(b)
    this.md5.update(b)
    this.bytes += b.length
  }
  digest(): Digests {
    return { sha256: this.sha256.digest("hex"), md5: this.md5.digest("hex"), bytes: this.bytes }
  }
}

/** Drop a response body we will not use (errors on it no longer matter). */
const discard = (res: http.IncomingMessage): void => {
  res.on("error", () => {})
  res.destroy()
}

const MIRROR_HINT = "--mirror DIR or FLOW_MIRROR"

const mib = (n: number): string => (n / (1 << 20)).toFixed(1)

const sizeOf = (file: string): number => {
  try {
    return fs.statSync(file).size
  } catch {
    return 0
  }
}

const checkProtocol = (url: URL, original: string): void => {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new DownloadError({
      url: original,
      reason: "network",
      message: `cannot download ${url.href}: only http and https URLs are supported`
    })
  }
}

/** `bytes start-end/total` or `bytes *\/total`. */
const parseContentRange = (h: string | undefined): { start: number | undefined; total: number | undefined } | undefined => {
  const m = /^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)$/.exec(h?.trim() ?? "")
  if (m === null) return undefined
  return {
    start: m[1] === undefined ? undefined : Number(m[1]),
    total: m[2] === "*" || m[2] === undefined ? undefined : Number(m[2])
  }
}

const get = (
  url: URL,
  offset: number,
  signal: AbortSignal | undefined,
  idleTimeoutMs: number,
  part: string
): Promise<Response> =>
  new Promise((resolve, reject) => {
    const state: { failure: DownloadError | undefined } = { failure: undefined }
    const headers: Record<string, string> = { "accept-encoding": "identity", "user-agent": "logflow" }
    if (offset > 0) headers.range = `bytes=${offset}-`
    // Loaded on use: the HTTP parser cannot be part of the CLI's start-up snapshot.
    const mod = process.getBuiltinModule(url.protocol === "https:" ? "node:https" : "node:http")
    const req = mod.get(url, { headers, ...(signal !== undefined ? { signal } : {}) }, (res) => resolve({ res, state }))
    req.setTimeout(idleTimeoutMs, () => {
      state.failure = new DownloadError({
        url: url.href,
        reason: "timeout",
        ...(sizeOf(part) > 0 ? { partial: part } : {}),
        message: `no data from ${url.host} for ${idleTimeoutMs} ms downloading ${url.href}` +
          (sizeOf(part) > 0 ? `; ${part} is kept and the next try resumes it` : "")
      })
      req.destroy(state.failure)
    })
    req.on("error", (e) => reject(state.failure ?? transferError(e, url, part, signal)))
  })

/** A response, and the failure (timeout) the request was destroyed with, if any. */
interface Response {
  readonly res: http.IncomingMessage
  readonly state: { readonly failure: DownloadError | undefined }
}

/** Stream the body into the `.part` file; a short or broken body keeps the `.part`. */
const receive = async (
  opts: DownloadOptions,
  url: URL,
  res: http.IncomingMessage,
  state: Response["state"],
  dest: string,
  part: string,
  resumedFrom: number
): Promise<Digests> => {
  const hashes = new Hashes()
  if (resumedFrom > 0) {
    await pipeline(fs.createReadStream(part, { end: resumedFrom - 1, highWaterMark: 1 << 20 }), async (s: AsyncIterable<Buffer>) => {
      for await (const chunk of s) hashes.update(chunk)
    })
  }
  const length = res.headers["content-length"] === undefined ? undefined : Number(res.headers["content-length"])
  const total = length === undefined || !Number.isFinite(length) ? undefined : resumedFrom + length
  const maxBytes = opts.maxBytes ?? Infinity
  const tooLarge = (what: string) => {
    const name = opts.maxBytesName ?? "maxBytes"
    return new DownloadError({
      url: url.href,
      reason: "too_large",
      message: `refusing the download of ${url.href}: ${what}, over the limit ${name} = ${maxBytes} bytes; nothing was kept. If the source is trusted, raise ${name}`
    })
  }
  if (total !== undefined && total > maxBytes) {
    discard(res)
    await fsp.rm(part, { force: true })
    throw tooLarge(`the server declares ${total} bytes`)
  }
  let over: DownloadError | undefined
  let last = 0
  const report = (force: boolean) => {
    if (opts.onProgress === undefined) return
    const now = Date.now()
    if (!force && now - last < PROGRESS_INTERVAL_MS) return
    last = now
    opts.onProgress({ url: opts.url, dest, received: hashes.bytes, total, resumedFrom })
  }
  report(true)
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (hashes.bytes + chunk.length > maxBytes) {
        over = tooLarge(`the transfer passed ${maxBytes} bytes`)
        cb(over)
        return
      }
      hashes.update(chunk)
      report(false)
      cb(null, chunk)
    }
  })
  try {
    await pipeline(res, meter, fs.createWriteStream(part, { flags: resumedFrom > 0 ? "a" : "w" }))
  } catch (e) {
    if (over !== undefined) {
      await fsp.rm(part, { force: true })
      throw over
    }
    throw state.failure ?? transferError(e, url, part, opts.signal, hashes.bytes, total)
  }
  report(true)
  if (total !== undefined && hashes.bytes !== total) {
    throw new DownloadError({
      url: url.href,
      reason: "truncated",
      partial: part,
      message: `transfer of ${url.href} ended at ${hashes.bytes} of ${total} bytes; ` +
        `${part} is kept and the next try resumes it`
    })
  }
  return hashes.digest()
}

const transferError = (
  e: unknown,
  url: URL,
  part: string,
  signal: AbortSignal | undefined,
  received?: number,
  total?: number
): DownloadError => {
  if (e instanceof DownloadError) return e
  const kept = sizeOf(part) > 0 ? { partial: part } : {}
  if (signal?.aborted === true) {
    return new DownloadError({ url: url.href, reason: "aborted", ...kept, message: `download of ${url.href} was cancelled` })
  }
  const detail = e instanceof Error ? e.message : String(e)
  if (received !== undefined) {
    return new DownloadError({
      url: url.href,
      reason: "truncated",
      ...kept,
      message: `connection closed early downloading ${url.href} after ${received}` +
        `${total !== undefined ? ` of ${total}` : ""} bytes (${detail}); ${part} is kept and the next try resumes it`
    })
  }
  return new DownloadError({
    url: url.href,
    reason: "network",
    ...kept,
    message: `cannot reach ${url.href}: ${detail}; without internet, put the file in a mirror folder (${MIRROR_HINT})`
  })
}

/** Verify the finished `.part` and rename it into place, or remove it and fail. */
const finish = async (
  opts: DownloadOptions,
  dest: string,
  part: string,
  digests: Digests,
  status: "downloaded" | "resumed"
): Promise<Downloaded> => {
  if (opts.checksum !== undefined) {
    const expected = opts.checksum.hex.toLowerCase()
    const actual = digestOf(digests, opts.checksum.kind)
    if (actual !== expected) {
      await fsp.rm(part, { force: true })
      throw new ChecksumError({
        file: dest,
        kind: opts.checksum.kind,
        expected,
        actual,
        message: `${opts.checksum.kind} mismatch for ${path.basename(dest)} from ${opts.url}: ` +
          `expected ${expected}, got ${actual}; the download was removed (a changed upstream file ` +
          `or a wrong checksum in the catalog)`
      })
    }
  }
  await fsp.rename(part, dest)
  return { ...digests, path: dest, status, check: opts.checksum !== undefined ? "verified" : "unchecked" }
}
