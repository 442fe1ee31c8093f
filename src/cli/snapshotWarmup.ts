/**
 * Run while the start-up snapshot is built, after every module has loaded: exercises the paths
 * every `flow run` takes before its first stage (TOML parsing, the registry's Schema decoders,
 * module resolution of native packages), so the parsers effect builds on first use and the
 * compiled functions are part of the snapshot rather than rebuilt at each start. Reads only
 * the repository's own configs; nothing it computes is kept except those caches.
 */
import { Effect } from "effect"
import { createRequire } from "node:module"
import * as path from "node:path"
import * as v8 from "node:v8"
import { loadRegistry } from "../flows/Registry.ts"
import { setNativeLibc } from "../runtime/ProjectRoot.ts"

if (v8.startupSnapshot.isBuildingSnapshot()) {
  const root = process.cwd()
  setNativeLibc(process.env.FLOW_SNAPSHOT_LIBC || undefined)
  Effect.runSync(Effect.ignore(loadRegistry(path.join(root, "configs", "registry.toml"))))
  try {
    createRequire(path.join(root, "package.json")).resolve("lmdb")
  } catch {
    // resolution is only a warm-up
  }
}
