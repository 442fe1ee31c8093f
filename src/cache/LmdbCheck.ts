/**
 * Guarding the LMDB cache file before it is mapped: a damaged `data.mdb` (truncated, flipped bits
 * in its pages) would otherwise crash the process natively (SIGSEGV, SIGBUS) or fail with errors
 * that name nothing. Before a process opens a cache:
 * - the two meta pages are read and checked (magic, version, page size, last page within the
 *   file): a truncated file is caught here, at the cost of reading 8 KiB;
 * - if the file is not the one the last process that used it left (`verified.json` beside it: its
 *   inode, size, mtime and transaction id, written when a process is done with the cache), its
 *   B-trees are walked in a child process first (every metadata record decoded, every key
 *   listed), so a crash or an exception there is damage detected, not a crash of this process.
 * A damaged cache is moved aside to `damaged-<date>/` in the cache folder and a new one is started.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { projectRoot } from "../runtime/ProjectRoot.ts"
import { makeFolders, writeWhole } from "../runtime/Folders.ts"

const MAGIC = 0xbeefc0de
/**
 * Offsets in a meta page of the LMDB lmdb-js builds (a 24-byte page header, then the meta record:
 * magic, version, address, map size, the free-page and main databases (48 bytes each, the first
 * one's `md_pad` holding the page size), the last page number and the transaction id).
 */
const MAGIC_AT = 24
const PAGE_SIZE_AT = 48
const LAST_PAGE_AT = 144
const TXNID_AT = 152

/** What the meta pages say of the file. */
export interface LmdbHeader {
  readonly pageSize: number
  readonly lastPage: number
  readonly txnid: number
}

/** The newest valid meta page of `data.mdb`, or why the file cannot be an intact LMDB file. */
export const readHeader = (file: string): LmdbHeader | string => {
  const fd = fs.openSync(file, "r")
  try {
    const size = fs.fstatSync(fd).size
    const first = Buffer.alloc(4096)
    if (fs.readSync(fd, first, 0, first.length, 0) < TXNID_AT + 8) return `the file is ${size} bytes, shorter than its header`
    const metaAt = (page: Buffer): LmdbHeader | undefined => {
      if (page.readUInt32LE(MAGIC_AT) !== MAGIC) return undefined
      const pageSize = page.readUInt32LE(PAGE_SIZE_AT)
      if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return undefined
      return { pageSize, lastPage: Number(page.readBigUInt64LE(LAST_PAGE_AT)), txnid: Number(page.readBigUInt64LE(TXNID_AT)) }
    }
    const m0 = metaAt(first)
    const pageSize = m0?.pageSize ?? 4096
    const second = Buffer.alloc(TXNID_AT + 8)
    const m1 = fs.readSync(fd, second, 0, second.length, pageSize) === second.length ? metaAt(second) : undefined
    const metas = [m0, m1].filter((m): m is LmdbHeader => m !== undefined)
    if (metas.length === 0) return "neither meta page is valid (bad magic or page size)"
    const newest = metas.reduce((a, b) => (b.txnid > a.txnid ? b : a))
    const needed = (newest.lastPage + 1) * newest.pageSize
    if (size < needed) return `the file is truncated: ${size} bytes, its header needs ${needed}`
    return newest
  } finally {
    fs.closeSync(fd)
  }
}

/** What `verified.json` records of the file a process left. */
interface Seal {
  readonly ino: number
  readonly size: number
  readonly mtimeMs: number
  readonly txnid: number
}

const sealFile = (dir: string) => path.join(dir, "verified.json")

const sealOf = (dir: string, header: LmdbHeader): Seal | undefined => {
  const st = fs.statSync(path.join(dir, "data.mdb"), { throwIfNoEntry: false })
  return st === undefined ? undefined : { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, txnid: header.txnid }
}

/** Record the file as this process leaves it (call once its writes are committed). */
export const seal = (dir: string): void => {
  try {
    const header = readHeader(path.join(dir, "data.mdb"))
    if (typeof header === "string") return
    const s = sealOf(dir, header)
    if (s === undefined) return
    writeWhole(sealFile(dir), JSON.stringify(s))
  } catch {
    // a seal that cannot be written only costs the next process a check
  }
}

const sealed = (dir: string, header: LmdbHeader): boolean => {
  try {
    const known = JSON.parse(fs.readFileSync(sealFile(dir), "utf8")) as Partial<Seal>
    const now = sealOf(dir, header)
    return now !== undefined && known.ino === now.ino && known.size === now.size && known.mtimeMs === now.mtimeMs && known.txnid === now.txnid
  } catch {
    return false
  }
}

const SCAN_TIMEOUT_MS = 120_000
const UNVERIFIED = "unverified"

/**
 * Walk the cache's B-trees in a child process: undefined when it read every record, UNVERIFIED
 * when it did not finish in SCAN_TIMEOUT_MS, else what went wrong. Throws when it was interrupted.
 */
const scanInChild = (dir: string): string | undefined => {
  const script = path.join(projectRoot(), "src", "cache", "lmdbScan.ts")
  const r = spawnSync(process.execPath, ["--no-warnings", script, dir], {
    encoding: "utf8",
    timeout: SCAN_TIMEOUT_MS,
    killSignal: "SIGKILL",
    env: { ...process.env, FLOW_PROJECT_ROOT: projectRoot() }
  })
  if (r.status === 0) return undefined
  // Too slow to finish is no verdict either: the file is used unverified (and not sealed).
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ETIMEDOUT") return UNVERIFIED
  // Ctrl-C reaches the reader too: that is no verdict on the file, which must not be moved aside.
  if (r.signal === "SIGINT" || r.signal === "SIGTERM" || r.signal === "SIGHUP") throw new Error(`checking the cache file was interrupted (${r.signal})`)
  if (r.signal !== null) return `reading it crashed the reader (${r.signal})`
  return (r.stderr || r.stdout).trim().split("\n").at(-1) ?? `the reader exited with ${r.status}`
}

/** How long a cache file changed in the last few seconds may take to read as intact. */
const CREATING_MS = 3000

/** Whether the file changed in the last 10 s (it may be in the middle of being created). */
const young = (file: string): boolean => {
  const st = fs.statSync(file, { throwIfNoEntry: false })
  return st !== undefined && Date.now() - Math.max(st.mtimeMs, st.ctimeMs) < 10_000
}

/** What guarding a cache folder found. */
export type Guard =
  | { readonly status: "new" | "intact" }
  | { readonly status: "damaged"; readonly reason: string; readonly movedTo: string }

/** Check the cache in `dir` before it is opened; a damaged one is moved aside (see the module comment). */
export const guard = (dir: string): Guard => {
  const data = path.join(dir, "data.mdb")
  if (!fs.existsSync(data)) return { status: "new" }
  const judge = (): { header: LmdbHeader | string; reason: string | undefined } => {
    const header = readHeader(data)
    return { header, reason: typeof header === "string" ? header : sealed(dir, header) ? undefined : scanInChild(dir) }
  }
  let { header, reason } = judge()
  // A file another process is creating this instant has no meta pages yet: a young file is given
  // up to CREATING_MS to become intact before it is judged damaged (and moved from under its maker).
  for (const until = Date.now() + CREATING_MS; reason !== undefined && young(data) && Date.now() < until;) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50)
    ;({ header, reason } = judge())
  }
  if (reason === UNVERIFIED) return { status: "intact" }
  if (reason === undefined) {
    if (typeof header !== "string") seal(dir) // checked: no need to walk it again until it changes
    return { status: "intact" }
  }
  const movedTo = path.join(dir, `damaged-${new Date().toISOString().replaceAll(":", "-")}`)
  makeFolders(movedTo)
  for (const f of ["data.mdb", "lock.mdb", "verified.json"]) {
    try {
      fs.renameSync(path.join(dir, f), path.join(movedTo, f))
    } catch {
      // another process moved it first, or it does not exist
    }
  }
  return { status: "damaged", reason, movedTo }
}
