/**
 * A mirror folder (`--mirror DIR` / `FLOW_MIRROR`) holds archives or files copied there by hand,
 * for machines without internet. A file is found by name (in the folder or a few levels below)
 * and used only if its checksum matches; a mismatch is an error naming both digests, never a
 * silent fallback to the network.
 */
import * as fs from "node:fs"
import * as fsp from "node:fs/promises"
import * as path from "node:path"
import { ChecksumError, type Checksum, type Digests, digestOf, fileDigests } from "./Download.ts"

/** How deep below the mirror folder a file is looked for (`mirror/loghub/BGL.zip` is depth 1). */
export const MIRROR_DEPTH = 3

export type MirrorLookup =
  | {
    readonly status: "hit"
    readonly path: string
    readonly digests: Digests
    /** `unchecked`: no checksum was given, so the file is used as it is. */
    readonly check: "verified" | "unchecked"
  }
  | { readonly status: "miss"; readonly looked: string }

/** The mirror folder from the flag, else `FLOW_MIRROR`, else none. */
export const resolveMirror = (flag?: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined => {
  const dir = flag ?? env.FLOW_MIRROR
  return dir === undefined || dir === "" ? undefined : path.resolve(dir)
}

/**
 * Find `name` in the mirror and verify it. Candidates are the folder's own `name` first, then
 * matches below it in sorted order; the first that verifies wins. Throws `ChecksumError` when
 * candidates exist and none has the expected digest.
 */
export const findInMirror = async (mirror: string, name: string, checksum?: Checksum | undefined): Promise<MirrorLookup> => {
  const root = path.resolve(mirror)
  if (path.basename(name) !== name || name === "" || name === "." || name === "..") {
    throw new Error(`mirror lookups are by plain file name, got "${name}"`)
  }
  const candidates = await findByName(root, name)
  if (candidates.length === 0) return { status: "miss", looked: root }
  if (checksum === undefined) {
    return { status: "hit", path: candidates[0]!, digests: await fileDigests(candidates[0]!), check: "unchecked" }
  }
  const expected = checksum.hex.toLowerCase()
  const mismatches: Array<{ file: string; actual: string }> = []
  for (const file of candidates) {
    const digests = await fileDigests(file)
    const actual = digestOf(digests, checksum.kind)
    if (actual === expected) return { status: "hit", path: file, digests, check: "verified" }
    mismatches.push({ file, actual })
  }
  const first = mismatches[0]!
  throw new ChecksumError({
    file: first.file,
    kind: checksum.kind,
    expected,
    actual: first.actual,
    message: `mirror copy of ${name} has the wrong ${checksum.kind}: expected ${expected}, ` +
      mismatches.map((m) => `${m.file} has ${m.actual}`).join("; ") +
      `. Replace the mirror file (or remove it to download instead).`
  })
}

// ---------------------------------------------------------------------------------------------

/** Regular files (or links to them) called `name`, the root's own first, then sorted. */
const findByName = async (root: string, name: string): Promise<Array<string>> => {
  const out: Array<string> = []
  const direct = path.join(root, name)
  if (isFile(direct)) out.push(direct)
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > MIRROR_DEPTH) return
    let entries: Array<fs.Dirent>
    try {
      entries = await fsp.readdir(dir, { withFileTypes: true })
    } catch {
      return
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const e of entries) {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) await walk(p, depth + 1)
      else if (depth > 0 && e.name === name && isFile(p)) out.push(p)
    }
  }
  await walk(root, 0)
  return out
}

const isFile = (p: string): boolean => {
  try {
    return fs.statSync(p).isFile()
  } catch {
    return false
  }
}
