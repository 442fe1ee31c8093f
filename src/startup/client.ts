/**
 * `flow` through the resident daemon: what bin/flow runs when the start-up snapshot is fresh.
 * Bundled alone into .build/client.cjs (Node built-ins only), it starts in ~40-60 ms where the
 * snapshot needs ~120-170 ms and a fully cached sweep's engine work ~100 ms more; a daemon that
 * stays up between commands (src/startup/Daemon.ts) keeps the engine loaded, its code compiled and
 * the cache open, so a rerun costs the client's start and a few milliseconds of lookups.
 *
 * The daemon is started on first use and stops after FLOW_DAEMON_IDLE seconds without a command
 * (default 900). The command runs in this process instead (the snapshot is exec'd in its place,
 * same pid) when FLOW_NO_DAEMON=1, when the daemon folder is not private to this user, when the
 * daemon is busy with another command or cannot be started, and for `--wizard` (it reads the
 * terminal). `flow daemon status|stop` never starts one.
 *
 * Usage (from bin/flow): node .build/client.cjs ROOT BUILD_DIR [flow arguments...]
 */
import * as path from "node:path"
import { connect, envRecord, request, startDaemon } from "./DaemonClient.ts"
import { daemonDir, daemonPathsOf, idleMsFrom, privateDir } from "./DaemonProtocol.ts"

const [root = "", build = "", ...args] = process.argv.slice(2)
const blob = path.join(build, "flow.blob")
const entry = path.join(root, "bin", "flow.js")

/** Run the command here: the snapshot replaces this process (same pid, same terminal). */
const runHere = (note?: string): never => {
  if (note !== undefined) process.stderr.write(`flow: ${note}; running without the daemon\n`)
  const argv = ["--snapshot-blob", blob, entry, ...args]
  if (process.execve !== undefined) process.execve(process.execPath, [process.execPath, ...argv], envRecord(process.env))
  // No execve on this platform: a child with the same terminal, and its exit status.
  const r = process.getBuiltinModule("node:child_process").spawnSync(process.execPath, argv, { stdio: "inherit" })
  process.exit(r.status ?? 1)
}

const main = async (): Promise<void> => {
  if (process.env.FLOW_NO_DAEMON === "1" || args.includes("--wizard")) runHere()
  const dir = daemonDir()
  const paths = daemonPathsOf(root, build, dir)
  if (paths === undefined) return runHere()
  if (idleMsFrom(process.env.FLOW_DAEMON_IDLE) === undefined) {
    process.stderr.write(`flow: FLOW_DAEMON_IDLE must be a number of seconds above 0 (got ${JSON.stringify(process.env.FLOW_DAEMON_IDLE)})\n`)
    process.exitCode = 2
    return
  }
  const unusable = privateDir(dir)
  if (unusable !== undefined) return runHere(unusable)
  let socket = await connect(paths.socket)
  if (socket === undefined) {
    if (args[0] === "daemon") return runHere() // status / stop: do not start one to ask it
    socket = await startDaemon({ paths, blob, entry })
    if (socket === undefined) return runHere(`the daemon did not start (its log: ${paths.log})`)
  }
  let interrupts = 0
  const answer = await request(
    socket,
    {
      argv: args,
      cwd: process.cwd(),
      env: envRecord(process.env),
      stdout: { isTTY: process.stdout.isTTY === true, columns: process.stdout.columns, rows: process.stdout.rows },
      stderr: { isTTY: process.stderr.isTTY === true, columns: process.stderr.columns, rows: process.stderr.rows },
      stdinIsTTY: process.stdin.isTTY === true,
      pid: process.pid
    },
    {
      out: (chunk) => process.stdout.write(chunk),
      err: (chunk) => process.stderr.write(chunk),
      // Ctrl-C (and SIGTERM, SIGHUP) interrupts the command in the daemon, which then cleans up
      // and answers 130 as the CLI would; a second one leaves at once.
      onInterrupt: (interrupt) => {
        for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
          process.on(sig, () => {
            if (++interrupts > 1) process.exit(130)
            interrupt()
          })
        }
      }
    }
  )
  if (answer.busy) return runHere()
  if (answer.code === undefined) {
    process.stderr.write(`flow: the daemon stopped without finishing this command (its log: ${paths.log})\n`)
    process.exitCode = 1
  } else {
    process.exitCode = answer.code
  }
  // Nothing else holds the event loop: the process ends once its output is written out (not
  // process.exit, which may cut a pipe short where pipe writes are asynchronous, as on macOS).
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.removeAllListeners(sig)
}

// A closed pipe (`flow cache ls | head`) ends the client quietly; the daemon sees it go.
process.stdout.on("error", () => process.exit(0))
main().catch((e: unknown) => {
  process.stderr.write(`flow: ${e instanceof Error ? e.message : String(e)}\n`)
  process.exit(1)
})
