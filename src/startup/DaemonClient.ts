/**
 * The client side of the resident daemon (src/startup/Daemon.ts): connect to it, start it, and have
 * it run one command with this process's arguments, working folder, environment and terminal,
 * relaying its output and exit code. Node built-ins only (bundled alone into .build/client.cjs).
 */
import * as fs from "node:fs"
import * as net from "node:net"
import { ACCEPT_TIMEOUT_MS, encodeFrame, FrameReader, PROTOCOL_VERSION, type DaemonPaths, type DaemonRequest } from "./DaemonProtocol.ts"

/** A connected socket, or undefined when nothing listens there. */
export const connect = (socket: string): Promise<net.Socket | undefined> =>
  new Promise((resolve) => {
    const s = net.connect(socket)
    const onError = () => resolve(undefined)
    s.once("error", onError)
    s.once("connect", () => {
      s.off("error", onError)
      resolve(s)
    })
  })

/** Whether something listens on `socket`. */
export const answers = async (socket: string): Promise<boolean> => {
  const s = await connect(socket)
  s?.destroy()
  return s !== undefined
}

/**
 * Ask the daemon on `socket` to stop (once its current command ends, if it runs one); its answer
 * goes to `io`. Undefined when no daemon listens there.
 */
export const askToStop = async (
  socket: string,
  io: { readonly out: (chunk: Buffer) => void; readonly err: (chunk: Buffer) => void }
): Promise<Answer | undefined> => {
  const s = await connect(socket)
  if (s === undefined) return undefined
  return request(s, { argv: ["daemon", "stop"], cwd: "/", env: {}, pid: process.pid, stdinIsTTY: false, stdout: { isTTY: false }, stderr: { isTTY: false } }, io)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Start a daemon from the start-up snapshot `blob`, detached (its own session: a terminal's Ctrl-C
 * does not reach it) with its output appended to the log, and connect to it once it listens.
 * Undefined when it exits or does not listen within `timeoutMs`.
 */
export const startDaemon = async (input: {
  readonly paths: DaemonPaths
  readonly blob: string
  readonly entry: string
  readonly idleSeconds?: number | undefined
  readonly timeoutMs?: number | undefined
}): Promise<net.Socket | undefined> => {
  const log = fs.openSync(input.paths.log, "a", 0o600)
  let exited = false
  try {
    // Loaded here, not at the top: node:child_process costs ~5 ms, and most commands find a daemon.
    const { spawn } = process.getBuiltinModule("node:child_process")
    const child = spawn(process.execPath, ["--snapshot-blob", input.blob, input.entry], {
      detached: true,
      stdio: ["ignore", log, log],
      env: { ...process.env, FLOW_DAEMON_SOCKET: input.paths.socket },
      cwd: "/"
    })
    child.once("exit", () => {
      exited = true
    })
    child.once("error", () => {
      exited = true
    })
    child.unref()
  } finally {
    fs.closeSync(log)
  }
  const deadline = Date.now() + (input.timeoutMs ?? 10_000)
  for (let wait = 5; Date.now() < deadline; wait = Math.min(wait * 2, 50)) {
    await sleep(wait)
    // A daemon started by another client at the same time may be the one that answers.
    const s = await connect(input.paths.socket)
    if (s !== undefined) return s
    if (exited) return undefined
  }
  return undefined
}

export interface Answer {
  /** The daemon was serving another client, or did not answer in time: nothing ran. */
  readonly busy: boolean
  /** The command's exit code; undefined when the daemon went away without one. */
  readonly code: number | undefined
}

/**
 * Send one request on a connected socket and relay the answer: output frames to `out`/`err` as
 * they come, interrupt requests from `onInterrupt` (Ctrl-C) to the daemon.
 */
export const request = (
  socket: net.Socket,
  req: Omit<DaemonRequest, "v">,
  io: {
    readonly out: (chunk: Buffer) => void
    readonly err: (chunk: Buffer) => void
    readonly onInterrupt?: (interrupt: () => void) => void
  }
): Promise<Answer> =>
  new Promise((resolve) => {
    let busy = false
    let heard = false
    let code: number | undefined
    const silent = setTimeout(() => {
      busy = true
      socket.destroy()
    }, ACCEPT_TIMEOUT_MS)
    const reader = new FrameReader((type, payload) => {
      if (!heard) {
        heard = true
        clearTimeout(silent)
      }
      if (type === "o") io.out(payload)
      else if (type === "e") io.err(payload)
      else if (type === "x") code = Number(payload.toString("utf8"))
      else if (type === "b") busy = true
    })
    socket.on("data", (chunk: Buffer) => reader.push(chunk))
    socket.on("error", () => {})
    socket.on("close", () => resolve({ busy, code }))
    io.onInterrupt?.(() => {
      if (!socket.destroyed) socket.write(encodeFrame("i"))
    })
    socket.write(`${JSON.stringify({ v: PROTOCOL_VERSION, ...req } satisfies DaemonRequest)}\n`)
  })

/** The environment as plain strings. */
export const envRecord = (env: NodeJS.ProcessEnv): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v
  return out
}
