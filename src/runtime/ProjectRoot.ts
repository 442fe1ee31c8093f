/**
 * Where logflow's own files are (package.json, node_modules, src/) and how this process was
 * started, for the places that need them at run time: worker entry points, native modules, the
 * environment record. Everything here is derived from the process itself, never set: from source
 * the root is two folders above this file; the start-up snapshot has no module URL, and its
 * launcher's path (bin/flow.js, `process.argv[1]`) tells the root instead; a stage worker is told
 * it by its pool (`workerData.projectRoot`).
 */
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { isMainThread, workerData } from "node:worker_threads"

export const projectRoot = (): string => {
  const given: unknown = isMainThread ? undefined : (workerData as { projectRoot?: unknown } | null)?.projectRoot
  if (typeof given === "string") return given
  // import.meta is empty in the snapshot's CommonJS bundle.
  const here = (import.meta as { dirname?: string }).dirname
  if (here !== undefined) return path.resolve(here, "../..")
  return path.resolve(path.dirname(process.argv[1] ?? "."), "..")
}

/** The `--snapshot-blob` this process was started with (`--snapshot-blob FILE` or `--snapshot-blob=FILE`), if any. */
export const snapshotBlob = (): string | undefined => {
  const args = process.execArgv
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--snapshot-blob") return args[i + 1]
    if (args[i]!.startsWith("--snapshot-blob=")) return args[i]!.slice("--snapshot-blob=".length)
  }
  return undefined
}

/** The folder of the start-up snapshot this process started from (it also holds the stage worker bundle), if it did. */
export const snapshotDir = (): string | undefined => {
  const blob = snapshotBlob()
  return blob === undefined ? undefined : path.dirname(path.resolve(blob))
}

/**
 * `require` a native (or otherwise unbundled) package from logflow's node_modules. Native
 * addons cannot live in a V8 startup snapshot, and `import()` is unavailable in one, so lmdb
 * and onnxruntime-node are loaded through this on first use.
 */
export const requireNative = <A>(name: string): A => createRequire(path.join(projectRoot(), "package.json"))(name) as A

/** logflow's own package.json: its version and dependencies. */
export const ownPackage = (): { readonly version: string; readonly dependencies?: Readonly<Record<string, string>> } =>
  JSON.parse(readFileSync(path.join(projectRoot(), "package.json"), "utf8")) as { version: string; dependencies?: Record<string, string> }
