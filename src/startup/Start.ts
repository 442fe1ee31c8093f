/**
 * How the CLI starts: from source (bin/flow.js imports src/cli/main.ts, which calls `start`), or
 * from the V8 start-up snapshot built by scripts/build.ts, whose deserialised heap already holds
 * every module and the warm state filled while building (SnapshotWarmup.ts); the same entry then
 * either serves as the resident daemon (FLOW_DAEMON_SOCKET) or runs the one command it was
 * started for. The warm state a command uses is made here: one per process, closed when the
 * command ends, or, in the daemon, kept between commands.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect, Layer } from "effect"
import * as module from "node:module"
import * as v8 from "node:v8"
import { makeWarmState, WarmState, type WarmStateShape } from "../runtime/WarmState.ts"
import { serveDaemon } from "./Daemon.ts"
import { watchLauncher } from "./ParentWatch.ts"

/** The CLI as a program: arguments from `Stdio`, output through `Console`, state from `WarmState`. */
export type CliProgram = Effect.Effect<void, unknown, NodeServices.NodeServices | WarmState>

/**
 * The warm state built into the start-up snapshot (the decoders and registry the warm-up filled),
 * handed to the command of a process started from it, or to every command of the daemon. Module
 * state is allowed in this folder only; everything else a process keeps lives in a `WarmState`.
 */
export const snapshotState: WarmStateShape = makeWarmState()

/** The C library family native packages were built for, recorded while the snapshot is built. */
const buildTime: { libc: string | undefined } = { libc: undefined }

/** While building the snapshot: what the native-module loader should be told at each start. */
export const recordLibc = (family: string | undefined): void => {
  buildTime.libc = family
}

/** Run `program` for this process's command (its warm state closed when it ends). */
const runCli = (program: CliProgram, state: WarmStateShape): void => {
  watchLauncher()
  const warm = Layer.effect(WarmState, Effect.acquireRelease(Effect.succeed(state), (s) => Effect.promise(() => s.close())))
  program.pipe(Effect.provide(Layer.mergeAll(NodeServices.layer, warm)), NodeRuntime.runMain)
}

/** Start the CLI: now (from source), or when the snapshot being built is deserialised. */
export const start = (program: CliProgram): void => {
  if (!v8.startupSnapshot.isBuildingSnapshot()) return runCli(program, makeWarmState())
  // Built into a V8 start-up snapshot: a start only deserialises the heap and runs this. The
  // launcher passes bin/flow.js as the first argument, so process.argv has its usual shape.
  v8.startupSnapshot.setDeserializeMainFunction(() => {
    // node-gyp-build asks detect-libc which C library this is (~10 ms) unless LIBC says so.
    if (buildTime.libc !== undefined && process.env.LIBC === undefined) process.env.LIBC = buildTime.libc
    // Native packages (lmdb) are still loaded from node_modules at run time: cache their compiled code.
    module.enableCompileCache?.()
    const socket = process.env.FLOW_DAEMON_SOCKET
    if (socket !== undefined && socket !== "") {
      delete process.env.FLOW_DAEMON_SOCKET
      serveDaemon(socket, program, snapshotState)
    } else {
      runCli(program, snapshotState)
    }
  })
}
