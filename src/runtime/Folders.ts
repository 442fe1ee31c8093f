/**
 * Creating a folder and its missing parents, one level at a time. Node's recursive `mkdir` never
 * returns for some paths (under /proc, for one: it retries forever); this fails instead, with an
 * error naming the path, so a command given an impossible output folder stops.
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
