/**
 * Extraction of `.zip` and `.tar.gz`/`.tgz` archives into a folder, with no dependency beyond
 * `node:zlib`. Entries whose path escapes the target (`..`, absolute paths, writing through a
 * symlink, symlinks resolving outside) are refused with an error naming the entry. Everything is
 * written to a temporary sibling that is renamed into place, so a failure leaves nothing behind.
 */
import { Schema } from "effect"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as fsp from "node:fs/promises"
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

/** The archive is corrupt, unsupported, or has an entry that would land outside the target. */
export class ExtractError extends Schema.TaggedError<ExtractError>()("ExtractError", {
  archive: Schema.String,
  entry: Schema.optionalKey(Schema.String),
  message: Schema.String
}) {}

/** The archive kind its file name says (`.zip`, `.tar.gz`, `.tgz`), if any. */
export const archiveKind = (file: string): ArchiveKind | undefined => {
  const lower = file.toLowerCase()
  if (lower.endsWith(".zip")) return "zip"
  if (lower.endsWith(".tar.gz") || lower.endsWith(".tgz")) return "tar.gz"
  return undefined
}

/**
 * Extract `archive` into `target`, which must not exist yet. The kind is read from the file's
 * first bytes (zip or gzip), so a misnamed archive still extracts.
 */
export const extract = async (archive: string, target: string): Promise<Extracted> => {
  const dir = path.resolve(target)
  if (fs.existsSync(dir)) {
    throw new ExtractError({ archive, message: `cannot extract ${archive}: ${dir} already exists (remove it first)` })
  }
  const kind = await sniff(archive)
  await fsp.mkdir(path.dirname(dir), { recursive: true })
  await removeStaleTemps(dir)
  const tmp = path.join(path.dirname(dir), `.${path.basename(dir)}${TEMP_MARK}${process.pid}-${randomBytes(4).toString("hex")}`)
  await fsp.mkdir(tmp)
  try {
    const sink = new Sink(archive, tmp)
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

/** Writes entries under the temporary root, refusing any that would land outside it. */
class Sink {
  readonly archive: string
  readonly root: string
  readonly files: Array<ExtractedFile> = []
  /** Symlinks this extraction created: relative path → link text. */
  readonly links = new Map<string, string>()
  constructor(archive: string, root: string) {
    this.archive = archive
    this.root = root
  }

  refuse(entry: string, why: string): ExtractError {
    return new ExtractError({ archive: this.archive, entry, message: `refusing entry "${entry}" of ${this.archive}: ${why}` })
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
    await fsp.mkdir(this.place(entry).abs, { recursive: true })
  }

  /** Write a regular file from a chain of streams (source first). */
  async file(entry: string, streams: ReadonlyArray<NodeJS.ReadableStream | NodeJS.ReadWriteStream>): Promise<number> {
    const { rel, abs } = this.place(entry)
    if (rel === "") throw this.refuse(entry, "a file entry has no name")
    await fsp.mkdir(path.dirname(abs), { recursive: true })
    let bytes = 0
    const count = new Transform({
      transform(chunk: Buffer, _enc, cb) {
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
    await fsp.mkdir(path.dirname(abs), { recursive: true })
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
    await fsp.mkdir(path.dirname(abs), { recursive: true })
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

const zipEntries = async (fh: fsp.FileHandle): Promise<Array<ZipEntry>> => {
  const { size } = await fh.stat()
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
  const cd = await readAt(fh, cdOffset, cdSize)
  const entries: Array<ZipEntry> = []
  let p = 0
  for (let i = 0; i < count; i++) {
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
  return entries
}

const extractZip = async (archive: string, sink: Sink): Promise<void> => {
  const fh = await fsp.open(archive, "r")
  try {
    for (const e of await zipEntries(fh)) {
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
        if (e.size > 4096) throw sink.refuse(e.name, "its symlink target is longer than 4096 bytes")
        const data = e.compressedSize === 0 ? Buffer.alloc(0) : await readAt(fh, start, e.compressedSize)
        await sink.symlink(e.name, (e.method === 8 ? zlib.inflateRawSync(data) : data).toString("utf8"))
        continue
      }
      const raw = e.compressedSize === 0
        ? Readable.from([])
        : fs.createReadStream(archive, { start, end: start + e.compressedSize - 1 })
      const stages: Array<NodeJS.ReadableStream | NodeJS.ReadWriteStream> = e.method === 8 ? [raw, zlib.createInflateRaw()] : [raw]
      let crc = 0
      stages.push(
        new Transform({
          transform(chunk: Buffer, _enc, cb) {
            crc = zlib.crc32(chunk, crc)
            cb(null, chunk)
          }
        })
      )
      const bytes = await sink.file(e.name, stages)
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

const extractTarGz = async (archive: string, sink: Sink): Promise<void> => {
  await pipeline(fs.createReadStream(archive, { highWaterMark: 1 << 20 }), zlib.createGunzip(), async (source: AsyncIterable<Buffer>) => {
    const r = new ByteReader(source[Symbol.asyncIterator]())
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
      const padded = size + ((512 - (size % 512)) % 512)
      offset += 512 + padded
      if (type === "x" || type === "g" || type === "L" || type === "K") {
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
      if ((type === "0" || type === "\0" || type === "7") && !name.endsWith("/")) {
        await sink.file(name, [Readable.from(r.take(size))])
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
    await r.drain()
  })
}
