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
