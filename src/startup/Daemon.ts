/**
 * The resident daemon: a `flow` process started from the start-up snapshot that stays up between
 * commands and runs each client's command (src/startup/client.ts) in itself, exactly as the CLI would
 * in the client's place: the client's arguments, working folder and environment, output to the
 * client's terminal (a live view when it is one), its exit code. The engine stays loaded and
 * compiled and the registry and digest memos stay warm, so a fully cached rerun costs the
 * client's start-up and a few milliseconds.
 *
 * One command at a time: a second client is told "busy" and runs the command itself, so two
 * sweeps started at once still run side by side as separate processes (and `flow status` never
 * waits behind a sweep). A client that goes away (Ctrl-C, kill -9) has its command interrupted:
 * the runner's finalizers release holds and nothing half-written is kept, as in a process that
 * is interrupted; stages already stored stay stored, so the rerun resumes from them.
 *
 * The daemon stops after `FLOW_DAEMON_IDLE` seconds without a command (default 900), on
 * `flow daemon stop`, when its socket is taken over or removed, and after a command that left it
 * larger than 2 GiB of memory. Its output (one line per command) goes to a log beside the socket.
 */
import { Cause, ConfigProvider, Console, Effect, Exit, Runtime, Stdio, Stream } from "effect"
import { CliOutput, TerminalCapabilities } from "effect/cli"
import { systemError } from "effect/PlatformError"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as NodeSink from "@effect/platform-node/NodeSink"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as util from "node:util"
import { Writable } from "node:stream"
import { prewarmWorkers } from "../executor/WorkerThreads.ts"
import { projectRoot } from "../runtime/ProjectRoot.ts"
import { CliStart, Terminal } from "../runtime/Terminal.ts"
import { WarmState, type WarmStateShape } from "../runtime/WarmState.ts"
import { DaemonSession } from "./DaemonSession.ts"
import { answers, askToStop } from "./DaemonClient.ts"
import { DEFAULT_IDLE_MS, encodeFrame, FrameReader, idleMsFrom, PROTOCOL_VERSION, type DaemonRequest, type FrameType, type StreamInfo } from "./DaemonProtocol.ts"

const MAX_RSS_BYTES = 2 * 2 ** 30
const LOG_MAX_BYTES = 1 << 20

/**
 * Serve `program` (the CLI, reading its arguments from `Stdio`) on the Unix socket `socket` until
 * idle, every command with `warm` as its warm state (closed when the daemon stops). Never
 * returns; exits the process when done.
 */
export const serveDaemon = (socket: string, program: Effect.Effect<void, unknown, NodeServices.NodeServices | WarmState>, warm: WarmStateShape): void => {
  const log = socket.replace(/\.sock$/, ".log")
  const about = socket.replace(/\.sock$/, ".json")
  try {
    if (fs.statSync(log).size > LOG_MAX_BYTES) fs.truncateSync(log, 0)
  } catch {
    // no log yet
  }
  // What every command finds warm (`warm`): registries, digests, plans, open caches, idle workers.
  const state = { socket, log, startedAt: Date.now(), idleMs: idleMsFrom(process.env.FLOW_DAEMON_IDLE) ?? DEFAULT_IDLE_MS, served: 0, stopAfterThis: false }
  const home = process.cwd()
  const daemonEnv = { ...process.env }
  let busy = false
  let inode: number | undefined
  let idle: NodeJS.Timeout | undefined

  const say = (line: string) => process.stdout.write(`${new Date().toISOString()} [${process.pid}] ${line}\n`)
  const ownsSocket = (): boolean => {
    try {
      return inode !== undefined && fs.statSync(socket).ino === inode
    } catch {
      return false
    }
  }
  const shutdown = (why: string): void => {
    say(`stopping: ${why}`)
    if (ownsSocket()) {
      fs.rmSync(socket, { force: true })
      fs.rmSync(about, { force: true })
    }
    server.close()
    void warm.close().finally(() => process.exit(0))
  }
  const armIdle = (): void => {
    clearTimeout(idle)
    idle = setTimeout(() => {
      if (!busy) shutdown(`idle for ${state.idleMs / 1000} s`)
    }, state.idleMs)
  }

  const server = net.createServer((conn) => {
    conn.on("error", () => {})
    let handled = false
    let buffered = ""
    const onData = (chunk: Buffer) => {
      if (handled) return
      buffered += chunk.toString("utf8")
      const nl = buffered.indexOf("\n")
      if (nl < 0) return
      handled = true
      conn.off("data", onData)
      const rest = Buffer.from(buffered.slice(nl + 1), "utf8")
      let req: DaemonRequest
      try {
        req = JSON.parse(buffered.slice(0, nl)) as DaemonRequest
        if (req.v !== PROTOCOL_VERSION || !Array.isArray(req.argv)) throw new Error(`protocol ${String(req.v)}`)
      } catch (e) {
        conn.end(Buffer.concat([encodeFrame("e", `flow daemon: bad request (${e instanceof Error ? e.message : String(e)})\n`), encodeFrame("x", "2")]))
        return
      }
      if (busy) {
        if (req.argv.length === 2 && req.argv[0] === "daemon" && req.argv[1] === "stop") {
          state.stopAfterThis = true
          conn.end(Buffer.concat([encodeFrame("o", `daemon pid ${process.pid} stops when its current command ends\n`), encodeFrame("x", "0")]))
          return
        }
        conn.end(encodeFrame("b"))
        return
      }
      busy = true
      clearTimeout(idle)
      conn.write(encodeFrame("a"))
      serve(req, conn, rest)
    }
    conn.on("data", onData)
  })

  const serve = (req: DaemonRequest, conn: net.Socket, early: Buffer): void => {
    const started = Date.now()
    // Frames written in one turn of the event loop go out in one write.
    let queued: Array<Buffer> = []
    const flush = () => {
      if (queued.length > 0 && !conn.destroyed) conn.write(queued.length === 1 ? queued[0]! : Buffer.concat(queued))
      queued = []
    }
    const send = (type: FrameType, payload: string | Uint8Array) => {
      if (queued.length === 0) setImmediate(flush)
      queued.push(encodeFrame(type, payload))
    }
    const out = frameStream(req.stdout, (chunk) => send("o", chunk))
    const err = frameStream(req.stderr, (chunk) => send("e", chunk))
    // The command sees the client's world. One command at a time, so process-wide state is safe.
    replaceEnv(req.env)
    try {
      process.chdir(req.cwd)
    } catch (e) {
      replaceEnv(daemonEnv)
      busy = false
      conn.end(Buffer.concat([encodeFrame("e", `flow: cannot enter ${req.cwd}: ${e instanceof Error ? e.message : String(e)}\n`), encodeFrame("x", "2")]))
      armIdle()
      return
    }
    process.exitCode = undefined
    const stdio = Stdio.make({
      args: Effect.succeed(req.argv),
      stdinIsTerminal: Effect.succeed(req.stdinIsTTY),
      stdoutIsTerminal: Effect.succeed(req.stdout.isTTY),
      stderrIsTerminal: Effect.succeed(req.stderr.isTTY),
      stdout: () => NodeSink.fromWritable({ evaluate: () => out, onError: (cause) => systemError({ module: "Stdio", method: "stdout", _tag: "Unknown", cause }) }),
      stderr: () => NodeSink.fromWritable({ evaluate: () => err, onError: (cause) => systemError({ module: "Stdio", method: "stderr", _tag: "Unknown", cause }) }),
      stdin: Stream.empty
    })
    const main = program.pipe(
      // As NodeRuntime.runMain does: a failure is logged unless its error is marked as reported.
      Effect.tapCause((cause) =>
        Cause.hasInterruptsOnly(cause) || !Runtime.getErrorReported(Cause.squash(cause)) ? Effect.void : Effect.logError(cause)
      ),
      // What Effect otherwise computes once per process from its own env and terminal.
      Effect.provide(TerminalCapabilities.layer),
      Effect.provideService(CliOutput.Formatter, CliOutput.defaultFormatter({ colors: req.stdout.isTTY && !req.env.NO_COLOR })),
      Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env: req.env })),
      Effect.provideService(Stdio.Stdio, stdio),
      Effect.provideService(Console.Console, streamConsole(out, err, req.stdout.isTTY)),
      Effect.provideService(WarmState, warm),
      Effect.provideService(Terminal, { stdout: out, stderr: err }),
      Effect.provideService(CliStart, "daemon"),
      Effect.provideService(DaemonSession, {
        pid: process.pid,
        socket,
        log,
        startedAt: state.startedAt,
        idleMs: state.idleMs,
        served: state.served,
        stopAfterThisCommand: () => void (state.stopAfterThis = true)
      }),
      Effect.provide(NodeServices.layer)
    )
    const fiber = Effect.runFork(main)
    let interrupted = false
    const interrupt = () => {
      if (interrupted) return
      interrupted = true
      fiber.interruptUnsafe(fiber.id)
    }
    const reader = new FrameReader((type) => {
      if (type === "i") interrupt()
    })
    conn.on("data", (chunk: Buffer) => reader.push(chunk))
    if (early.length > 0) reader.push(early)
    conn.on("close", interrupt)
    fiber.addObserver((exit) => {
      const code = Exit.isSuccess(exit)
        ? Number(process.exitCode ?? 0) || 0
        : Cause.hasInterruptsOnly(exit.cause)
        ? 130
        : Runtime.getErrorExitCode(Cause.squash(exit.cause))
      replaceEnv(daemonEnv)
      process.chdir(home)
      process.exitCode = undefined
      conn.off("close", interrupt)
      flush()
      if (!conn.destroyed) conn.end(encodeFrame("x", String(code)))
      state.served++
      busy = false
      say(`${JSON.stringify(req.argv)} in ${req.cwd}: exit ${code}, ${Date.now() - started} ms${interrupted ? " (interrupted by its client)" : ""}`)
      if (state.stopAfterThis) return shutdown("flow daemon stop")
      if (process.memoryUsage().rss > MAX_RSS_BYTES) return shutdown(`memory ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`)
      armIdle()
    })
  }

  // Listen on a name of our own, then link it to the shared name: the link fails if another
  // daemon got there first (then the one that answers serves, and this one leaves).
  const tmp = `${socket}.${process.pid}.tmp`
  fs.rmSync(tmp, { force: true })
  server.listen(tmp, () => {
    const claim = (): boolean => {
      try {
        fs.linkSync(tmp, socket)
        return true
      } catch {
        return false
      }
    }
    void (async () => {
      let claimed = claim()
      if (!claimed && !(await answers(socket))) {
        fs.rmSync(socket, { force: true }) // left by a daemon that died
        claimed = claim()
      }
      fs.rmSync(tmp, { force: true })
      if (!claimed) {
        say("another daemon serves this socket")
        process.exit(0)
      }
      inode = fs.statSync(socket).ino
      say(`serving ${socket} (node ${process.version}, idle stop after ${state.idleMs / 1000} s)`)
      // Workers for the first flow, loaded while it plans; a flow that wants more starts the rest.
      prewarmWorkers(warm, Math.min(os.availableParallelism(), 4))
      armIdle()
      fs.writeFileSync(about, JSON.stringify({ pid: process.pid, root: projectRoot(), socket, startedAt: state.startedAt }))
      void retireOthers(socket, projectRoot(), say)
      setInterval(() => {
        if (!ownsSocket() && !busy) shutdown("its socket was removed or taken over")
      }, 30_000).unref()
    })()
  })
  server.on("error", (e) => {
    say(`cannot listen: ${e.message}`)
    process.exit(1)
  })
  process.on("SIGTERM", () => shutdown("SIGTERM"))
  process.on("SIGINT", () => shutdown("SIGINT"))
}

/**
 * A console writing to the client's streams. (node:console's Console class cannot be constructed
 * in a process started from a user-land start-up snapshot, so this is the few lines it takes.)
 */
const streamConsole = (out: Writable, err: Writable, colors: boolean): Console.Console => {
  let indent = ""
  const counts = new Map<string, number>()
  const timers = new Map<string, number>()
  const line = (to: Writable, args: ReadonlyArray<unknown>) => {
    const text = util.formatWithOptions({ colors }, ...args)
    to.write(`${indent === "" ? text : text.replace(/^/gm, indent)}\n`)
  }
  const elapsed = (label: string) => `${label}: ${(performance.now() - (timers.get(label) ?? performance.now())).toFixed(3)}ms`
  return {
    assert: (condition, ...args) => {
      if (!condition) line(err, ["Assertion failed", ...args])
    },
    clear: () => {},
    count: (label = "default") => {
      const n = (counts.get(label) ?? 0) + 1
      counts.set(label, n)
      line(out, [`${label}: ${n}`])
    },
    countReset: (label = "default") => void counts.delete(label),
    debug: (...args) => line(out, args),
    dir: (item, options) => line(out, [util.inspect(item, { colors, ...(options as util.InspectOptions | undefined) })]),
    dirxml: (...args) => line(out, args),
    error: (...args) => line(err, args),
    group: (...args) => {
      if (args.length > 0) line(out, args)
      indent += "  "
    },
    groupCollapsed: (...args) => {
      if (args.length > 0) line(out, args)
      indent += "  "
    },
    groupEnd: () => {
      indent = indent.slice(2)
    },
    info: (...args) => line(out, args),
    log: (...args) => line(out, args),
    table: (data) => line(out, [data]),
    time: (label = "default") => void timers.set(label, performance.now()),
    timeEnd: (label = "default") => {
      line(out, [elapsed(label)])
      timers.delete(label)
    },
    timeLog: (label = "default", ...args) => line(out, [elapsed(label), ...args]),
    trace: (...args) => line(err, ["Trace:", ...args]),
    warn: (...args) => line(err, args)
  }
}

/**
 * Ask the daemons of this checkout started from an earlier snapshot build (or another Node) to
 * stop once they are idle: no client reaches them any more, and each holds 150-200 MiB.
 */
const retireOthers = async (socket: string, root: string, say: (line: string) => void): Promise<void> => {
  const dir = path.dirname(socket)
  for (const f of fs.readdirSync(dir)) {
    if (!f.endsWith(".json")) continue
    try {
      const other = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as { pid: number; root: string; socket: string }
      if (other.root !== root || other.socket === socket) continue
      if ((await askToStop(other.socket, { out: () => {}, err: () => {} })) === undefined) {
        fs.rmSync(path.join(dir, f), { force: true }) // left by a daemon that died
        continue
      }
      say(`asked the daemon of an older build (pid ${other.pid}) to stop`)
    } catch {
      // not ours to clean up, or gone meanwhile
    }
  }
}

/** A writable that sends what is written as frames, dressed as the client's terminal or pipe. */
const frameStream = (info: StreamInfo, send: (chunk: Uint8Array) => void): Writable & { isTTY: boolean; columns: number | undefined; rows: number | undefined } =>
  Object.assign(
    new Writable({
      write(chunk: Buffer | string, _encoding, callback) {
        send(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk)
        callback()
      }
    }),
    { isTTY: info.isTTY, columns: info.columns, rows: info.rows }
  )

/** Make process.env equal `env` (in place: modules keep their reference to it). */
const replaceEnv = (env: Readonly<Record<string, string | undefined>>): void => {
  for (const k of Object.keys(process.env)) if (!(k in env)) delete process.env[k]
  for (const [k, v] of Object.entries(env)) if (v !== undefined && process.env[k] !== v) process.env[k] = v
}
