/**
 * Creating a folder and its missing parents, one level at a time. Node's recursive `mkdir` never
 * returns for some paths (under /proc, for one: it retries forever); this fails instead, with an
 * error naming the path, so a command given an impossible output folder stops. And writing a file
 * whole: under a temporary name beside it, then renamed into place.
 */
import * as fs from "node:fs"
import * as path from "node:path"

/** Create `dir` and its missing parents (like `mkdir -p`); throws naming the path that cannot be made. */
export const makeFolders = (dir: string, options: { readonly mode?: number } = {}): void => {
  const target = path.resolve(dir)
  const missing: Array<string> = []
  let at = target
  for (;;) {
    const st = fs.statSync(at, { throwIfNoEntry: false })
    if (st !== undefined) {
      if (!st.isDirectory()) throw new Error(`cannot create folder ${target}: ${at} is not a folder`)
      break
    }
    const parent = path.dirname(at)
    if (parent === at) break
    missing.push(at)
    at = parent
  }
  for (const d of missing.reverse()) {
    try {
      fs.mkdirSync(d, options.mode === undefined ? undefined : { mode: options.mode })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST" && fs.statSync(d).isDirectory()) continue // made meanwhile by another process
      throw new Error(`cannot create folder ${target}: ${(e as NodeJS.ErrnoException).code ?? String(e)} at ${d}`)
    }
  }
}

/**
 * Write `file` under a temporary name beside it (its folder made first), then rename it into place:
 * the file is whole or absent, never half-written. Returns `file`.
 */
export const writeWhole = (file: string, data: string | Uint8Array): string => {
  makeFolders(path.dirname(path.resolve(file)))
  const tmp = `${file}.tmp-${process.pid}`
  try {
    fs.writeFileSync(tmp, data)
    fs.renameSync(tmp, file)
  } finally {
    fs.rmSync(tmp, { force: true })
  }
  return file
}

/**
 * Write the folder `dir` whole: its `files` (name -> content) into a temporary sibling, which then
 * replaces `dir` (a folder already there is removed first). A failure leaves no temporary folder
 * and, before the swap, the old folder untouched.
 */
export const writeFolderWhole = (dir: string, files: Readonly<Record<string, string | Uint8Array>>): string => {
  makeFolders(path.dirname(path.resolve(dir)))
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`
  fs.mkdirSync(tmp)
  try {
    for (const [name, data] of Object.entries(files)) fs.writeFileSync(path.join(tmp, name), data)
    fs.rmSync(dir, { recursive: true, force: true })
    fs.renameSync(tmp, dir)
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  return dir
}

/**
 * A folder written over time and made visible whole: files are appended into a temporary sibling
 * (`dir.tmp-…`), and `commit` replaces `dir` with it; `abort` (or a failure before `commit`)
 * removes the temporary folder and leaves `dir` as it was. For outputs too large to hold in memory.
 */
export class FolderWriter {
  readonly dir: string
  readonly tmp: string
  private readonly fds = new Map<string, number>()
  private readonly pending = new Map<string, Array<string>>()
  private readonly pendingBytes = new Map<string, number>()
  private done = false

  constructor(dir: string) {
    this.dir = dir
    makeFolders(path.dirname(path.resolve(dir)))
    this.tmp = `${dir}.tmp-${process.pid}-${Date.now()}`
    fs.mkdirSync(this.tmp)
  }

  /** Append `text` to file `name` (buffered; created on first use). */
  append(name: string, text: string): void {
    let parts = this.pending.get(name)
    if (parts === undefined) {
      this.pending.set(name, (parts = []))
      this.fds.set(name, fs.openSync(path.join(this.tmp, name), "w"))
    }
    parts.push(text)
    const bytes = (this.pendingBytes.get(name) ?? 0) + text.length
    this.pendingBytes.set(name, bytes)
    if (bytes >= 1 << 16) this.flush(name)
  }

  private flush(name: string): void {
    const parts = this.pending.get(name)
    if (parts === undefined || parts.length === 0) return
    fs.writeSync(this.fds.get(name)!, parts.join(""))
    parts.length = 0
    this.pendingBytes.set(name, 0)
  }

  /** Make every appended file (`names` too, empty, when never appended to), write `files` whole, and swap the folder into place. */
  commit(files: Readonly<Record<string, string | Uint8Array>> = {}, names: ReadonlyArray<string> = []): string {
    try {
      for (const name of names) if (!this.fds.has(name)) this.append(name, "")
      for (const name of this.fds.keys()) this.flush(name)
      this.closeAll()
      for (const [name, data] of Object.entries(files)) fs.writeFileSync(path.join(this.tmp, name), data)
      fs.rmSync(this.dir, { recursive: true, force: true })
      fs.renameSync(this.tmp, this.dir)
      this.done = true
      return this.dir
    } finally {
      this.abort()
    }
  }

  /** Drop the temporary folder (nothing of it becomes visible); a no-op after `commit`. */
  abort(): void {
    this.closeAll()
    if (!this.done) fs.rmSync(this.tmp, { recursive: true, force: true })
    this.done = true
  }

  private closeAll(): void {
    for (const fd of this.fds.values()) fs.closeSync(fd)
    this.fds.clear()
  }
}

/** The objects of a JSON-lines file, in order: none for a missing file; blank and unreadable lines left out. */
export const readJsonl = (file: string): Array<Record<string, unknown>> => {
  if (!fs.existsSync(file)) return []
  return fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "").flatMap((l) => {
    try {
      const v: unknown = JSON.parse(l)
      return v !== null && typeof v === "object" ? [v as Record<string, unknown>] : []
    } catch {
      return []
    }
  })
}

