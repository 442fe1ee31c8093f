/**
 * Extraction of `.zip` and `.tar.gz`/`.tgz` archives into a folder, with no dependency beyond
 * `node:zlib`. Entries whose path escapes the target (`..`, absolute paths, writing through a
 * symlink, symlinks resolving outside) are refused with an error naming the entry. What an
 * archive may expand to is bounded (`ExtractLimits`), checked while the bytes stream, never after.
 * Everything is written to a temporary sibling that is renamed into place, so a failure (a
 * tripped limit included) leaves nothing behind.
 */
import { Schema } from "effect"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as fsp from "node:fs/promises"
import { makeFolders } from "../runtime/Folders.ts"
import * as path from "node:path"
import { Readable, Transform } from "node:stream"
import { pipeline } from "node:stream/promises"
import * as zlib from "node:zlib"

export type ArchiveKind = "zip" | "tar.gz"

/** One regular file written by `extract`, relative to the target folder ("/"-separated). */
export interface ExtractedFile {
  readonly path: string
  readonly bytes: number
}

export interface Extracted {
  readonly dir: string
  readonly files: ReadonlyArray<ExtractedFile>
}

/**
 * The archive is corrupt, unsupported, has an entry that would land outside the target, or
 * expands past one of the `ExtractLimits` (then `limit` names it and `value` is its value).
 */
export class ExtractError extends Schema.TaggedError<ExtractError>()("ExtractError", {
  archive: Schema.String,
  entry: Schema.optionalKey(Schema.String),
  limit: Schema.optionalKey(Schema.String),
  value: Schema.optionalKey(Schema.Number),
  message: Schema.String
}) {}

const MiB = 1024 ** 2
const GiB = 1024 ** 3

/**
 * Bounds on what one extraction may produce, so a hostile archive (a zip bomb, sizes that lie,
 * huge tar metadata) cannot fill the disk or the memory. Every one is checked while the data
 * streams: the extraction stops at the first byte past a limit, the partial extraction is removed
 * and an `ExtractError` names the archive, the entry, the limit, its value and the option that
 * raises it. Override any of them with `limits` in `extract`'s options or in `FetchOptions`;
 * `Infinity` switches one off. Defaults: `DEFAULT_EXTRACT_LIMITS`.
 *
 * The defaults are sized on the LogHub record, the largest archives in the catalog (sizes from the
 * LogHub README, not checked from this machine): HDFS_v1.zip (186 MB) expands to 1.5 GiB, BGL.zip
 * to 0.7 GiB, and the two largest, Thunderbird.tar.gz and Windows.tar.gz, to 29.6 GiB and
 * 26.1 GiB of logs (Thunderbird's in a single file). Real logs deflate 5 to 21 times (measured on
 * the LogHub 2k samples with gzip -9).
 */
export interface ExtractLimits {
  /**
   * Bytes of regular files written in all, hard-link copies included. Default 48 GiB: the largest
   * LogHub archive (Thunderbird, 29.6 GiB) with room to spare, but not the whole disk.
   */
  readonly maxTotalBytes: number
  /**
   * Entries of any kind (files, folders, links; tar pax/GNU metadata records are not entries).
   * Default 100,000: a LogHub archive holds a handful. A zip is refused before anything is written
   * when its central directory lists more.
   */
  readonly maxEntries: number
  /**
   * Bytes of one file. Default 40 GiB: Thunderbird's log is a single 29.6 GiB file. Independently
   * of this limit, no entry may write more than the size its headers declare (a zip's central or
   * local header, a tar header): a lying size is refused as soon as the data passes it.
   */
  readonly maxEntryBytes: number
  /**
   * Extracted bytes per compressed byte, checked as the bytes come: for a zip, each deflated
   * entry's output against the compressed bytes it consumed so far, and all files written against
   * the archive's size (overlapping-entry bombs); for a tar.gz, the whole decompressed tar stream
   * against the gzip bytes consumed so far. Default 200: about 10 times the most compressible
   * real log (21x), while a deflate bomb (about 1030x for zeros) is stopped just past
   * `ratioFloorBytes` instead of near its end.
   */
  readonly maxRatio: number
  /**
   * The ratio is checked only once this many bytes came out (of the entry, or of the archive for
   * the archive-wide ratio), so small, very compressible files never trip it. Default 1 MiB.
   */
  readonly ratioFloorBytes: number
  /**
   * Size of one tar metadata record (pax extended `x` / global `g` header, GNU long name `L` /
   * long link `K`), which is held in memory. Default 1 MiB: real ones are a few hundred bytes.
   * A larger one is refused from its header, before any of it is read.
   */
  readonly maxHeaderBytes: number
}

/** The defaults; see `ExtractLimits` for why each value. */
export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = Object.freeze({
  maxTotalBytes: 48 * GiB,
  maxEntries: 100_000,
  maxEntryBytes: 40 * GiB,
  maxRatio: 200,
  ratioFloorBytes: 1 * MiB,
  maxHeaderBytes: 1 * MiB
})

export interface ExtractOptions {
  /** Overrides of `DEFAULT_EXTRACT_LIMITS`, one field at a time (undefined fields keep the default). */
  readonly limits?: Partial<ExtractLimits> | undefined
}

/** `DEFAULT_EXTRACT_LIMITS` with `overrides` applied; each value must be a number >= 0 (or Infinity). */
export const resolveExtractLimits = (overrides: Partial<ExtractLimits> | undefined, archive = "(archive)"): ExtractLimits => {
  const out: Record<string, number> = { ...DEFAULT_EXTRACT_LIMITS }
  for (const [key, value] of Object.entries(overrides ?? {}) as Array<[string, unknown]>) {
    if (!(key in DEFAULT_EXTRACT_LIMITS)) {
      throw new ExtractError({ archive, message: `unknown extraction limit limits.${key} (known: ${Object.keys(DEFAULT_EXTRACT_LIMITS).join(", ")})` })
    }
    if (value === undefined) continue
    if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
      throw new ExtractError({ archive, message: `invalid extraction limit limits.${key} = ${String(value)}: expected a number >= 0 (Infinity for no limit)` })
    }
    out[key] = value
  }
  return out as unknown as ExtractLimits
}

/** The archive kind its file name says (`.zip`, `.tar.gz`, `.tgz`), if any. */
export const archiveKind = (file: string): ArchiveKind | undefined => {
  const lower = file.toLowerCase()
  if (lower.endsWith(".zip")) return "zip"
  if (lower.endsWith(".tar.gz") || lower.endsWith(".tgz")) return "tar.gz"
  return undefined
}

/**
 * Extract `archive` into `target`, which must not exist yet. The kind is read from the file's
 * first bytes (zip or gzip), so a misnamed archive still extracts. `options.limits` overrides
 * `DEFAULT_EXTRACT_LIMITS`; a tripped limit throws `ExtractError` (with `limit` and `value` set)
 * and leaves nothing behind.
 */
export const extract = async (archive: string, target: string, options: ExtractOptions = {}): Promise<Extracted> => {
  const limits = resolveExtractLimits(options.limits, archive)
  const dir = path.resolve(target)
  if (fs.existsSync(dir)) {
    throw new ExtractError({ archive, message: `cannot extract ${archive}: ${dir} already exists (remove it first)` })
  }
  const kind = await sniff(archive)
  makeFolders(path.dirname(dir))
  await removeStaleTemps(dir)
  const tmp = path.join(path.dirname(dir), `.${path.basename(dir)}${TEMP_MARK}${process.pid}-${randomBytes(4).toString("hex")}`)
  await fsp.mkdir(tmp)
  try {
    const sink = new Sink(archive, tmp, limits)
    if (kind === "zip") await extractZip(archive, sink)
    else await extractTarGz(archive, sink)
    sink.checkLinks()
    await fsp.rename(tmp, dir)
    return { dir, files: sink.files }
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true })
    if (e instanceof ExtractError) throw e
    throw new ExtractError({ archive, message: `cannot extract ${archive}: ${e instanceof Error ? e.message : String(e)}` })
  }
}

// ---------------------------------------------------------------------------------------------

const TEMP_MARK = ".extract-"
const MAX_LINK_HOPS = 40

/** How `Sink.file` bounds one entry's data beyond the archive-wide limits. */
interface FileBounds {
  /** The size the archive's headers declare: one byte more is refused before it is written. */
  readonly declared?: number | undefined
  /** Compressed bytes this entry has consumed so far, when it is compressed on its own (zip deflate). */
  readonly compressedIn?: (() => number) | undefined
}

/**
 * Writes entries under the temporary root, refusing any that would land outside it, and keeps
 * the count of entries and bytes that the limits bound.
 */
class Sink {
  readonly archive: string
  readonly root: string
  readonly limits: ExtractLimits
  readonly files: Array<ExtractedFile> = []
  /** Symlinks this extraction created: relative path → link text. */
  readonly links = new Map<string, string>()
  /** Entries seen so far (any kind). */
  entries = 0
  /** Bytes of regular files written so far. */
  total = 0
  /** The archive's size, when all written bytes are to be held to `maxRatio` against it (zip). */
  archiveBytes: number | undefined = undefined
  constructor(archive: string, root: string, limits: ExtractLimits) {
    this.archive = archive
    this.root = root
    this.limits = limits
  }

  refuse(entry: string, why: string): ExtractError {
    return new ExtractError({ archive: this.archive, entry, message: `refusing entry "${entry}" of ${this.archive}: ${why}` })
  }

  /** The error for a tripped limit: what went over, the limit's value, and how to raise it. */
  overLimit(entry: string, limit: keyof ExtractLimits, what: string): ExtractError {
    const value = this.limits[limit]
    return new ExtractError({
      archive: this.archive,
      entry,
      limit,
      value,
      message: `refusing entry "${entry}" of ${this.archive}: ${what}, over the limit ${EXTRACT_LIMIT_NAMES[limit]} = ${showLimit(limit, value)}; ` +
        `extraction stopped and nothing was kept. If the archive is trusted, raise it with --extract-limits ${EXTRACT_LIMIT_NAMES[limit]}=... ` +
        "(or FLOW_EXTRACT_LIMITS)"
    })
  }

  /** Count one entry (of any kind) against `maxEntries`. */
  entry(entry: string): void {
    if (++this.entries > this.limits.maxEntries) {
      throw this.overLimit(entry, "maxEntries", `the archive has more than ${this.limits.maxEntries} entries`)
    }
  }

  /** Hold `out` bytes produced from `input` compressed bytes to `maxRatio` (past `ratioFloorBytes`). */
  ratio(entry: string, out: number, input: number, of: string): void {
    const { maxRatio, ratioFloorBytes } = this.limits
    if (out > ratioFloorBytes && out > maxRatio * input) {
      throw this.overLimit(entry, "maxRatio", `${of} expands more than ${maxRatio} times (${out} bytes out of ${input} compressed bytes so far)`)
    }
  }

  /** Refuse `n` more bytes of `entry` (which has `before` already) if they pass a bound; else count them. */
  private admit(entry: string, before: number, n: number, bounds: FileBounds): void {
    const next = before + n
    if (bounds.declared !== undefined && next > bounds.declared) {
      throw this.refuse(entry, `its data is longer than the ${bounds.declared} bytes its header declares ` +
        `(stopped after writing ${before} bytes; corrupt or hostile archive)`)
    }
    if (next > this.limits.maxEntryBytes) {
      throw this.overLimit(entry, "maxEntryBytes", `the file is larger than ${showLimit("maxEntryBytes", this.limits.maxEntryBytes)}`)
    }
    if (this.total + n > this.limits.maxTotalBytes) {
      throw this.overLimit(entry, "maxTotalBytes", `the archive expands to more than ${showLimit("maxTotalBytes", this.limits.maxTotalBytes)}`)
    }
    if (bounds.compressedIn !== undefined) this.ratio(entry, next, bounds.compressedIn(), "the entry")
    if (this.archiveBytes !== undefined) this.ratio(entry, this.total + n, this.archiveBytes, "the archive")
    this.total += n
  }

  /** Refuse a declared size that passes a limit before anything of it is written. */
  private declared(entry: string, size: number): void {
    if (size > this.limits.maxEntryBytes) {
      throw this.overLimit(entry, "maxEntryBytes", `its header declares ${size} bytes`)
    }
    if (this.total + size > this.limits.maxTotalBytes) {
      throw this.overLimit(entry, "maxTotalBytes", `its header declares ${size} bytes after ${this.total} bytes already extracted`)
    }
  }

  /** The entry's normalised relative path ("" for the root) and absolute path under the root. */
  place(entry: string): { rel: string; abs: string } {
    if (entry.includes("\0")) throw this.refuse(entry, "its name contains a NUL byte")
    const slashed = entry.replace(/\\/g, "/")
    if (slashed.startsWith("/") || /^[A-Za-z]:/.test(slashed)) throw this.refuse(entry, "it is an absolute path")
    const norm = path.posix.normalize(slashed).replace(/\/+$/, "")
    const rel = norm === "." ? "" : norm
    if (rel === ".." || rel.startsWith("../")) throw this.refuse(entry, "its path escapes the target folder")
    const parts = rel === "" ? [] : rel.split("/")
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join("/")
      if (this.links.has(prefix)) throw this.refuse(entry, `it would be written through the symlink "${prefix}"`)
    }
    const abs = path.join(this.root, ...parts)
    if (abs !== this.root && !abs.startsWith(this.root + path.sep)) throw this.refuse(entry, "its path escapes the target folder")
    return { rel, abs }
  }

  async dir(entry: string): Promise<void> {
    makeFolders(this.place(entry).abs)
  }

  /**
   * Write a regular file from a chain of streams (source first). Each chunk is held to the limits
   * (and to `bounds`) before it reaches the file; one that passes them fails the pipeline.
   */
  async file(
    entry: string,
    streams: ReadonlyArray<NodeJS.ReadableStream | NodeJS.ReadWriteStream>,
    bounds: FileBounds = {}
  ): Promise<number> {
    const { rel, abs } = this.place(entry)
    if (rel === "") throw this.refuse(entry, "a file entry has no name")
    if (bounds.declared !== undefined) this.declared(entry, bounds.declared)
    makeFolders(path.dirname(abs))
    let bytes = 0
    const admit = (chunk: Buffer): void => this.admit(entry, bytes, chunk.length, bounds)
    const count = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        try {
          admit(chunk)
        } catch (e) {
          cb(e as Error)
          return
        }
        bytes += chunk.length
        cb(null, chunk)
      }
    })
    await pipeline([...streams, count, fs.createWriteStream(abs)])
    this.files.push({ path: rel, bytes })
    return bytes
  }

  async symlink(entry: string, target: string): Promise<void> {
    const { rel, abs } = this.place(entry)
    if (rel === "") throw this.refuse(entry, "a symlink entry has no name")
    if (target === "" || target.includes("\0")) throw this.refuse(entry, "its symlink target is empty or has a NUL byte")
    if (target.startsWith("/") || /^[A-Za-z]:/.test(target)) {
      throw this.refuse(entry, `it is a symlink to the absolute path "${target}"`)
    }
    this.links.set(rel, target)
    if (resolveLinks(rel, this.links) === undefined) {
      throw this.refuse(entry, `it is a symlink to "${target}", which points outside the target folder`)
    }
    makeFolders(path.dirname(abs))
    await fsp.symlink(target, abs)
  }

  /** A tar hard link becomes a copy of the earlier entry it names. */
  async hardlink(entry: string, target: string): Promise<void> {
    let from: { rel: string; abs: string }
    try {
      from = this.place(target)
    } catch {
      throw this.refuse(entry, `it is a hard link to "${target}", outside the target folder or through a symlink`)
    }
    const known = this.files.find((f) => f.path === from.rel)
    if (known === undefined) throw this.refuse(entry, `it is a hard link to "${target}", which is not an earlier file of the archive`)
    const { rel, abs } = this.place(entry)
    if (this.total + known.bytes > this.limits.maxTotalBytes) {
      throw this.overLimit(entry, "maxTotalBytes", `its copy of "${target}" (${known.bytes} bytes) would take the archive past ${showLimit("maxTotalBytes", this.limits.maxTotalBytes)}`)
    }
    this.total += known.bytes
    makeFolders(path.dirname(abs))
    await fsp.copyFile(from.abs, abs)
    this.files.push({ path: rel, bytes: known.bytes })
  }

  /** Links made later can redirect earlier ones: resolve every link again once all exist. */
  checkLinks(): void {
    for (const [rel, target] of this.links) {
      if (resolveLinks(rel, this.links) === undefined) {
        throw this.refuse(rel, `it is a symlink to "${target}", which resolves outside the target folder`)
      }
    }
  }
}

/** A limit's value for a message: bytes with their size in MiB/GiB, counts and ratios as they are. */
/** The limits' names as a user writes them (`--extract-limits max_ratio=500,max_total_bytes=64GiB`). */
export const EXTRACT_LIMIT_NAMES: Readonly<Record<keyof ExtractLimits, string>> = Object.freeze({
  maxTotalBytes: "max_total_bytes",
  maxEntries: "max_entries",
  maxEntryBytes: "max_entry_bytes",
  maxRatio: "max_ratio",
  ratioFloorBytes: "ratio_floor_bytes",
  maxHeaderBytes: "max_header_bytes"
})

const SIZE_UNITS: Readonly<Record<string, number>> = { "": 1, B: 1, KiB: 1024, MiB: MiB, GiB: GiB, TiB: 1024 * GiB, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 }

/**
 * Limits as a user writes them: comma-separated `name=value` with the names of
 * `EXTRACT_LIMIT_NAMES`, sizes with an optional unit (`64GiB`, `500MB`), and `off` for no limit.
 * Throws an Error naming the item that is wrong.
 */
export const parseExtractLimits = (text: string): Partial<ExtractLimits> => {
  const byName = new Map(Object.entries(EXTRACT_LIMIT_NAMES).map(([k, v]) => [v, k as keyof ExtractLimits]))
  const out: Partial<Record<keyof ExtractLimits, number>> = {}
  for (const item of text.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const eq = item.indexOf("=")
    const name = eq < 0 ? item : item.slice(0, eq).trim()
    const key = byName.get(name)
    if (key === undefined) throw new Error(`unknown extraction limit "${name}" (known: ${[...byName.keys()].join(", ")})`)
    const raw = eq < 0 ? "" : item.slice(eq + 1).trim()
    const m = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(raw)
    const unit = m === null ? undefined : SIZE_UNITS[m[2]!]
    const bytesLike = key !== "maxEntries" && key !== "maxRatio"
    if (raw === "off") out[key] = Infinity
    else if (m !== null && unit !== undefined && (bytesLike || unit === 1)) out[key] = Math.floor(Number(m[1]) * unit)
    else {
      throw new Error(`extraction limit ${name}: expected ${bytesLike ? "a size such as 64GiB or 500MB" : "a number"}, or off; got "${raw}"`)
    }
  }
  return out
}

const showLimit = (limit: keyof ExtractLimits, value: number): string => {
  if (limit === "maxEntries" || limit === "maxRatio" || !Number.isFinite(value)) return String(value)
  const unit = value >= GiB ? `${+(value / GiB).toFixed(2)} GiB` : value >= MiB ? `${+(value / MiB).toFixed(2)} MiB` : undefined
  return unit === undefined ? `${value} bytes` : `${value} bytes (${unit})`
}

/**
 * Resolve a relative path through the archive's own symlinks the way the kernel would;
 * `undefined` if it leaves the root (or loops). Nothing else exists in the fresh temp folder.
 */
const resolveLinks = (rel: string, links: ReadonlyMap<string, string>): string | undefined => {
  let todo = rel.split("/")
  const done: Array<string> = []
  let hops = 0
  while (todo.length > 0) {
    const part = todo[0]!
    todo = todo.slice(1)
    if (part === "" || part === ".") continue
    if (part === "..") {
      if (done.length === 0) return undefined
      done.pop()
      continue
    }
    done.push(part)
    const link = links.get(done.join("/"))
    if (link !== undefined) {
      if (++hops > MAX_LINK_HOPS || link.startsWith("/")) return undefined
      done.pop()
      todo = [...link.split("/"), ...todo]
    }
  }
  return done.join("/")
}

const sniff = async (archive: string): Promise<ArchiveKind> => {
  const fh = await fsp.open(archive, "r")
  try {
    const head = Buffer.alloc(4)
    const { bytesRead } = await fh.read(head, 0, 4, 0)
    if (bytesRead >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5)) return "zip"
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "tar.gz"
  } finally {
    await fh.close()
  }
  throw new ExtractError({ archive, message: `cannot extract ${archive}: it is neither a zip nor a gzip-compressed tar` })
}

/** Remove temp siblings left by a killed extraction (their process is gone). */
const removeStaleTemps = async (dir: string): Promise<void> => {
  const prefix = `.${path.basename(dir)}${TEMP_MARK}`
  for (const name of await fsp.readdir(path.dirname(dir))) {
    if (!name.startsWith(prefix)) continue
    const pid = Number(name.slice(prefix.length).split("-")[0])
    if (pid === process.pid || (Number.isInteger(pid) && pid > 0 && isAlive(pid))) continue
    await fsp.rm(path.join(path.dirname(dir), name), { recursive: true, force: true })
  }
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

// ---- zip ------------------------------------------------------------------------------------

interface ZipEntry {
  readonly name: string
  readonly flags: number
  readonly method: number
  readonly crc: number
  readonly compressedSize: number
  readonly size: number
  readonly localOffset: number
  readonly isSymlink: boolean
}

const readAt = async (fh: fsp.FileHandle, pos: number, len: number): Promise<Buffer> => {
  const buf = Buffer.alloc(len)
  const { bytesRead } = await fh.read(buf, 0, len, pos)
  if (bytesRead !== len) throw new Error(`unexpected end of file at byte ${pos + bytesRead} (truncated archive?)`)
  return buf
}

/**
 * The central directory: how many entries it declares and the first `cap` of them. Nothing is
 * read that the file does not hold (a declared directory size past the end is corrupt).
 */
const zipEntries = async (fh: fsp.FileHandle, size: number, cap: number): Promise<{ count: number; entries: Array<ZipEntry> }> => {
  const tailLen = Math.min(size, 22 + 0xffff)
  const tail = await readAt(fh, size - tailLen, tailLen)
  let eocd = -1
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50) {
      eocd = i
      break
    }
  }
  if (eocd < 0) throw new Error("no zip end-of-central-directory record (truncated or not a zip)")
  let count = tail.readUInt16LE(eocd + 10)
  let cdSize = tail.readUInt32LE(eocd + 12)
  let cdOffset = tail.readUInt32LE(eocd + 16)
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20
    if (loc < 0 || tail.readUInt32LE(loc) !== 0x07064b50) throw new Error("zip64 locator missing")
    const e64 = await readAt(fh, Number(tail.readBigUInt64LE(loc + 8)), 56)
    if (e64.readUInt32LE(0) !== 0x06064b50) throw new Error("zip64 end-of-central-directory record missing")
    count = Number(e64.readBigUInt64LE(32))
    cdSize = Number(e64.readBigUInt64LE(40))
    cdOffset = Number(e64.readBigUInt64LE(48))
  }
  if (!(cdOffset >= 0 && cdSize >= 0 && cdOffset + cdSize <= size)) {
    throw new Error(`corrupt zip: its central directory (${cdSize} bytes at ${cdOffset}) lies past the end of the ${size}-byte file`)
  }
  const cd = await readAt(fh, cdOffset, cdSize)
  const entries: Array<ZipEntry> = []
  let p = 0
  for (let i = 0; i < Math.min(count, cap); i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50) throw new Error(`corrupt central directory at entry ${i}`)
    const madeBy = cd.readUInt16LE(p + 4)
    const flags = cd.readUInt16LE(p + 8)
    const nameLen = cd.readUInt16LE(p + 28)
    const extraLen = cd.readUInt16LE(p + 30)
    const commentLen = cd.readUInt16LE(p + 32)
    const attrs = cd.readUInt32LE(p + 38)
    let compressedSize = cd.readUInt32LE(p + 20)
    let entrySize = cd.readUInt32LE(p + 24)
    let localOffset = cd.readUInt32LE(p + 42)
    const name = cd.toString((flags & 0x800) !== 0 ? "utf8" : "latin1", p + 46, p + 46 + nameLen)
    // Zip64 extended information: only the fields whose 32-bit value is saturated, in order.
    let x = p + 46 + nameLen
    const xEnd = x + extraLen
    while (x + 4 <= xEnd) {
      const id = cd.readUInt16LE(x)
      const len = cd.readUInt16LE(x + 2)
      if (id === 0x0001) {
        let q = x + 4
        if (entrySize === 0xffffffff) {
          entrySize = Number(cd.readBigUInt64LE(q))
          q += 8
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = Number(cd.readBigUInt64LE(q))
          q += 8
        }
        if (localOffset === 0xffffffff) localOffset = Number(cd.readBigUInt64LE(q))
      }
      x += 4 + len
    }
    const unixMode = madeBy >> 8 === 3 ? attrs >>> 16 : 0
    entries.push({
      name,
      flags,
      method: cd.readUInt16LE(p + 10),
      crc: cd.readUInt32LE(p + 16),
      compressedSize,
      size: entrySize,
      localOffset,
      isSymlink: (unixMode & 0o170000) === 0o120000
    })
    p = xEnd + commentLen
  }
  return { count, entries }
}

const MAX_SYMLINK_BYTES = 4096

const extractZip = async (archive: string, sink: Sink): Promise<void> => {
  const fh = await fsp.open(archive, "r")
  try {
    const { size } = await fh.stat()
    sink.archiveBytes = size
    const { maxEntries } = sink.limits
    const { count, entries } = await zipEntries(fh, size, maxEntries + 1)
    if (count > maxEntries) {
      // Refused from the central directory, before anything is written.
      throw sink.overLimit(entries[maxEntries]?.name ?? `#${maxEntries + 1}`, "maxEntries", `the archive has ${count} entries, more than ${maxEntries}`)
    }
    for (const e of entries) {
      sink.entry(e.name)
      if (e.name.endsWith("/") || e.name.endsWith("\\")) {
        await sink.dir(e.name)
        continue
      }
      sink.place(e.name) // refuse before reading any data
      if ((e.flags & 1) !== 0) throw sink.refuse(e.name, "it is encrypted")
      if (e.method !== 0 && e.method !== 8) throw sink.refuse(e.name, `compression method ${e.method} is not supported (only stored and deflate)`)
      const local = await readAt(fh, e.localOffset, 30)
      if (local.readUInt32LE(0) !== 0x04034b50) throw sink.refuse(e.name, "its local header is missing (corrupt archive)")
      const start = e.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28)
      if (e.isSymlink) {
        // The target is read whole: bound what is read and what it inflates to.
        if (e.size > MAX_SYMLINK_BYTES || e.compressedSize > 2 * MAX_SYMLINK_BYTES) {
          throw sink.refuse(e.name, `its symlink target is longer than ${MAX_SYMLINK_BYTES} bytes`)
        }
        const data = e.compressedSize === 0 ? Buffer.alloc(0) : await readAt(fh, start, e.compressedSize)
        const text = e.method === 8 ? zlib.inflateRawSync(data, { maxOutputLength: MAX_SYMLINK_BYTES }) : data
        await sink.symlink(e.name, text.toString("utf8"))
        continue
      }
      // The size to hold the data to: the central directory's, or the local header's if smaller
      // (it is meaningful unless a data descriptor follows the data or it defers to zip64).
      const localSize = local.readUInt32LE(22)
      const localFlags = local.readUInt16LE(6)
      const declared = (localFlags & 8) === 0 && localSize !== 0xffffffff ? Math.min(e.size, localSize) : e.size
      const raw = e.compressedSize === 0
        ? Readable.from([])
        : fs.createReadStream(archive, { start, end: start + e.compressedSize - 1 })
      const inflate = e.method === 8 ? zlib.createInflateRaw() : undefined
      const stages: Array<NodeJS.ReadableStream | NodeJS.ReadWriteStream> = inflate !== undefined ? [raw, inflate] : [raw]
      let crc = 0
      stages.push(
        new Transform({
          transform(chunk: Buffer, _enc, cb) {
            crc = zlib.crc32(chunk, crc)
            cb(null, chunk)
          }
        })
      )
      const bytes = await sink.file(e.name, stages, {
        declared,
        compressedIn: inflate === undefined ? undefined : () => inflate.bytesWritten
      })
      if (bytes !== e.size || crc >>> 0 !== e.crc >>> 0) {
        throw sink.refuse(e.name, `its data is corrupt (size ${bytes}, expected ${e.size}; crc32 ${hex8(crc)}, expected ${hex8(e.crc)})`)
      }
    }
  } finally {
    await fh.close()
  }
}

const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, "0")

// ---- tar.gz ---------------------------------------------------------------------------------

/** Exact-length reads over an async byte stream. */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0)
  private readonly it: AsyncIterator<Buffer>
  constructor(it: AsyncIterator<Buffer>) {
    this.it = it
  }

  /** `n` bytes, or `undefined` at a clean end of stream. */
  async read(n: number): Promise<Buffer | undefined> {
    while (this.buf.length < n) {
      const r = await this.it.next()
      if (r.done === true) {
        if (this.buf.length === 0) return undefined
        throw new Error("unexpected end of data (truncated archive?)")
      }
      this.buf = this.buf.length === 0 ? r.value : Buffer.concat([this.buf, r.value])
    }
    const out = this.buf.subarray(0, n)
    this.buf = this.buf.subarray(n)
    return out
  }

  /** The next `n` bytes in pieces. */
  async *take(n: number): AsyncGenerator<Buffer> {
    let left = n
    while (left > 0) {
      if (this.buf.length === 0) {
        const r = await this.it.next()
        if (r.done === true) throw new Error("unexpected end of data (truncated archive?)")
        this.buf = r.value
      }
      const k = Math.min(left, this.buf.length)
      const piece = this.buf.subarray(0, k)
      this.buf = this.buf.subarray(k)
      left -= k
      yield piece
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.take(n)) {
      // discard
    }
  }

  async drain(): Promise<void> {
    while ((await this.it.next()).done !== true) {
      // discard trailing padding
    }
  }
}

const cstr = (h: Buffer, off: number, len: number): string => {
  const end = h.indexOf(0, off)
  return h.toString("utf8", off, end < 0 || end > off + len ? off + len : end)
}

/** An octal field, or GNU base-256 (high bit set) for sizes of 8 GiB and more. */
const tarNumber = (h: Buffer, off: number, len: number): number => {
  if ((h[off]! & 0x80) !== 0) {
    let v = BigInt(h[off]! & 0x7f)
    for (let i = 1; i < len; i++) v = (v << 8n) | BigInt(h[off + i]!)
    return Number(v)
  }
  const s = h.toString("latin1", off, off + len).replace(/[\0 ]+$/g, "").trim()
  return s === "" ? 0 : parseInt(s, 8)
}

const paxRecords = (data: Buffer): Map<string, string> => {
  const out = new Map<string, string>()
  let p = 0
  while (p < data.length) {
    const sp = data.indexOf(0x20, p)
    if (sp < 0) break
    const len = Number(data.toString("latin1", p, sp))
    if (!Number.isInteger(len) || len <= 0) break
    const rec = data.toString("utf8", sp + 1, p + len - 1)
    const eq = rec.indexOf("=")
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1))
    p += len
  }
  return out
}

/** Tar metadata record types, which are held in memory (so bounded by `maxHeaderBytes`). */
const TAR_META: ReadonlyMap<string, string> = new Map([
  ["x", "pax extended header"],
  ["g", "pax global header"],
  ["L", "GNU long name record"],
  ["K", "GNU long link record"]
])

const extractTarGz = async (archive: string, sink: Sink): Promise<void> => {
  const gunzip = zlib.createGunzip()
  // The entry being read, for errors raised while reading the stream.
  let at = "(tar header)"
  /** The decompressed stream, held to `maxRatio` against the gzip bytes consumed so far. */
  async function* metered(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    let out = 0
    for await (const chunk of source) {
      out += chunk.length
      sink.ratio(at, out, gunzip.bytesWritten, "the decompressed tar stream")
      yield chunk
    }
  }
  await pipeline(fs.createReadStream(archive, { highWaterMark: 1 << 20 }), gunzip, async (source: AsyncIterable<Buffer>) => {
    const r = new ByteReader(metered(source))
    let longName: string | undefined
    let longLink: string | undefined
    let pax = new Map<string, string>()
    for (let offset = 0;; ) {
      const h = await r.read(512)
      if (h === undefined || h.every((b) => b === 0)) break
      const stored = tarNumber(h, 148, 8)
      let sum = 0
      for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!
      if (sum !== stored) throw new Error(`corrupt tar header at byte ${offset} (not a tar archive?)`)
      const type = String.fromCharCode(h[156]!)
      const ustar = h.toString("latin1", 257, 263) === "ustar\0"
      const prefix = ustar ? cstr(h, 345, 155) : ""
      const name = pax.get("path") ?? longName ?? (prefix !== "" ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100))
      const linkName = pax.get("linkpath") ?? longLink ?? cstr(h, 157, 100)
      const paxSize = pax.get("size")
      const size = paxSize !== undefined ? Number(paxSize) : tarNumber(h, 124, 12)
      if (!Number.isSafeInteger(size) || size < 0) {
        throw new Error(`corrupt tar header at byte ${offset}: entry "${name}" has size ${paxSize ?? "field"} ${size}`)
      }
      const padded = size + ((512 - (size % 512)) % 512)
      offset += 512 + padded
      const meta = TAR_META.get(type)
      if (meta !== undefined) {
        at = cstr(h, 0, 100)
        // Held in memory: refused from its header, before any of it is read.
        if (size > sink.limits.maxHeaderBytes) {
          throw sink.overLimit(at, "maxHeaderBytes", `its ${meta} declares ${size} bytes`)
        }
        const pieces: Array<Buffer> = []
        for await (const piece of r.take(size)) pieces.push(piece)
        const data = Buffer.concat(pieces)
        await r.skip(padded - size)
        if (type === "x") pax = paxRecords(data)
        else if (type === "L") longName = cstr(data, 0, data.length)
        else if (type === "K") longLink = cstr(data, 0, data.length)
        continue // "g" (global pax) carries nothing an extraction needs
      }
      longName = undefined
      longLink = undefined
      pax = new Map()
      at = name
      sink.entry(name)
      if ((type === "0" || type === "\0" || type === "7") && !name.endsWith("/")) {
        await sink.file(name, [Readable.from(r.take(size))], { declared: size })
      } else if (type === "5" || type === "0" || type === "\0") {
        await sink.dir(name)
        await r.skip(size)
      } else if (type === "2") {
        await sink.symlink(name, linkName)
        await r.skip(size)
      } else if (type === "1") {
        await sink.hardlink(name, linkName)
        await r.skip(size)
      } else {
        throw sink.refuse(name, `tar entry type "${type}" (device, fifo or sparse file) is not supported`)
      }
      await r.skip(padded - size)
    }
    at = "(end of archive)"
    await r.drain()
  })
}
