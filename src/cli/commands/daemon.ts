/**
 * `flow daemon status|stop`: whether the resident daemon (src/startup/Daemon.ts) served this
 * command, its pid, uptime, socket and log; stop this checkout's daemon (the next command starts a
 * new one). Neither starts a daemon.
 */
import { Console, Effect } from "effect"
import { Command } from "effect/cli"
import { projectRoot, snapshotDir } from "../../runtime/ProjectRoot.ts"
import { Terminal } from "../../runtime/Terminal.ts"
import { answers, askToStop } from "../../startup/DaemonClient.ts"
import { daemonDir, daemonPathsOf, type DaemonPaths } from "../../startup/DaemonProtocol.ts"
import { DaemonSession } from "../../startup/DaemonSession.ts"
import { fail, handleErrors, json } from "./shared.ts"

/** Where this checkout's daemon listens, when this process started from the snapshot (the daemon serves only that). */
const localDaemonPaths = (): DaemonPaths | undefined => {
  const dir = snapshotDir()
  return dir === undefined ? undefined : daemonPathsOf(projectRoot(), dir, daemonDir())
}

const daemonStatus = Command.make(
  "status",
  { json },
  Effect.fn("cli.daemon.status")(function*(args) {
    const d = yield* DaemonSession
    const paths = d === undefined ? localDaemonPaths() : undefined
    const running = d !== undefined || (paths !== undefined && (yield* Effect.promise(() => answers(paths.socket))))
    const view = d !== undefined
      ? { running: true, served_this: true, pid: d.pid, uptime_s: Math.round((Date.now() - d.startedAt) / 1000), commands: d.served, idle_stop_s: d.idleMs / 1000, socket: d.socket, log: d.log }
      : { running, served_this: false, socket: paths?.socket ?? null, log: paths?.log ?? null, reason: paths === undefined ? "started from source: a daemon serves only a fresh start-up snapshot" : process.env.FLOW_NO_DAEMON === "1" ? "FLOW_NO_DAEMON=1" : running ? "the daemon was busy" : "no daemon is running" }
    if (args.json) return yield* Console.log(JSON.stringify(view, null, 2))
    yield* Console.log(d !== undefined
      ? `daemon pid ${d.pid}, up ${view.uptime_s} s, ${d.served} commands before this one, stops after ${d.idleMs / 1000} s idle\nsocket ${d.socket}\nlog    ${d.log}`
      : `this command ran without the daemon (${"reason" in view ? view.reason : ""})${paths === undefined ? "" : `\nsocket ${paths.socket}${running ? " (a daemon is running)" : ""}\nlog    ${paths.log}`}`)
  }, handleErrors)
).pipe(Command.withDescription("Whether a daemon served this command: its pid, uptime, socket and log"))

const daemonStop = Command.make(
  "stop",
  {},
  Effect.fn("cli.daemon.stop")(function*() {
    const session = yield* DaemonSession
    if (session !== undefined) {
      session.stopAfterThisCommand()
      return yield* Console.log(`stopping daemon pid ${process.pid}`)
    }
    const terminal = yield* Terminal
    const paths = localDaemonPaths()
    const answer = paths === undefined ? undefined : yield* Effect.promise(() =>
      askToStop(paths.socket, { out: (b) => terminal.stdout.write(b.toString("utf8")), err: (b) => terminal.stderr.write(b.toString("utf8")) }))
    if (answer === undefined) return yield* Console.log("no daemon is running")
    if (answer.busy) return yield* fail("the daemon did not answer within 1 s; try again when its current step ends")
  }, handleErrors)
).pipe(Command.withDescription("Stop this checkout's daemon (the next command starts a new one)"))

export const daemonCommand = Command.make("daemon").pipe(
  Command.withDescription("The resident process that keeps the engine loaded between commands (FLOW_NO_DAEMON=1: none)"),
  Command.withSubcommands([daemonStatus, daemonStop])
)
