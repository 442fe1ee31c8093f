/**
 * Run while the start-up snapshot is built, after every module has loaded: exercises the paths
 * every `flow run` takes before its first stage (TOML parsing, the registry's Schema decoders),
 * so the parsers effect builds on first use, the functions compiled on the way, and the
 * registry's decoded inputs (in the snapshot's warm state) are part of the snapshot rather than
 * rebuilt at each start. Reads only the repository's own configs.
 */
import { Effect } from "effect"
import * as path from "node:path"
import * as v8 from "node:v8"
import { loadRegistry } from "../config/Registry.ts"
import { WarmState } from "../runtime/WarmState.ts"
import { recordLibc, snapshotState } from "./Start.ts"

if (v8.startupSnapshot.isBuildingSnapshot()) {
  recordLibc(process.env.FLOW_SNAPSHOT_LIBC || undefined)
  Effect.runSync(Effect.ignore(loadRegistry(path.join(process.cwd(), "configs", "registry.toml")).pipe(Effect.provideService(WarmState, snapshotState))))
}
