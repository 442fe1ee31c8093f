/**
 * Where logflow's own files are (package.json, node_modules, src/), for the places that need
 * them at run time: worker entry points, native modules, the environment record. Running from
 * source this is two folders above this file; the start-up snapshot (`src/cli/snapshot.ts`)
 * has no module URL and sets it from the launcher's path instead, and a bundled stage worker is
 * told it by the pool.
 */
import { createRequire } from "node:module"
import * as path from "node:path"

let root: string | undefined
let snapshot: string | undefined

/** Set where there is no module URL to go by: the snapshot's start, a bundled worker. */
export const setProjectRoot = (dir: string): void => {
  root = dir
}

/** Set by the snapshot's start: the folder of the blob, which also holds the bundled stage worker. */
export const setSnapshotDir = (dir: string | undefined): void => {
  snapshot = dir
}

let daemon = false

/** Called by the daemon (src/cli/Daemon.ts) when it starts serving. */
export const setDaemon = (): void => {
  daemon = true
}

/** How this process's CLI started (recorded in environment.json): the daemon, the start-up snapshot, or source. */
export const cliStart = (): "daemon" | "snapshot" | "source" => (daemon ? "daemon" : snapshot !== undefined ? "snapshot" : "source")

/** The folder of the start-up snapshot this process started from, if it did. */
export const snapshotDir = (): string | undefined => snapshot

export const projectRoot = (): string => root ?? path.resolve(import.meta.dirname, "../..")

/**
 * `require` a native (or otherwise unbundled) package from logflow's node_modules. Native
 * addons cannot live in a V8 startup snapshot, and `import()` is unavailable in one, so lmdb
 * and onnxruntime-node are loaded through this on first use.
 */
export const requireNative = <A>(name: string): A => {
  // node-gyp-build asks detect-libc which C library this is (~10 ms) unless LIBC says so; the
  // snapshot knows it from its build on this machine.
  if (libc !== undefined && process.env.LIBC === undefined) process.env.LIBC = libc
  return createRequire(path.join(projectRoot(), "package.json"))(name) as A
}

let libc: string | undefined

/** Called while the snapshot is built: the C library family (glibc or musl) native packages are built for. */
export const setNativeLibc = (family: string | undefined): void => {
  libc = family
}
