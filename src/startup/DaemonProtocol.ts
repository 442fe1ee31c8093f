/**
 * What the `flow` client (src/startup/client.ts) and the resident daemon (src/startup/Daemon.ts) share:
 * where a daemon listens, and how they talk. Node built-ins only: the client is bundled alone and
 * must start in tens of milliseconds.
 *
 * One daemon serves one checkout started from one start-up snapshot: its socket's name is a hash
 * of the project root, the Node binary and the snapshot's build stamp, so a rebuilt snapshot (or a
 * new Node) gets a new daemon and the old one idles out. Sockets and logs live in a folder only
 * this user can open (`FLOW_DAEMON_DIR`, default `<tmp>/logflow-<uid>`): whoever can connect can
 * run flows as this user.
 *
 * The conversation: the client writes one JSON line (a `DaemonRequest`); the daemon answers with
 * frames, each a type byte, a 4-byte big-endian length and a payload: `a` accepted (first, at
 * once), `o` standard output, `e` standard error, `x` the exit code (decimal text; the last
 * frame), `b` busy (serving another client: run it yourself). A client that hears nothing within
 * `ACCEPT_TIMEOUT_MS` (a daemon whose event loop is held by a long synchronous step) goes away and
 * runs the command itself. The client may send an `i` frame (interrupt, as Ctrl-C would); if it
 * goes away, the daemon interrupts what it was running for it.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { makeFolders } from "../runtime/Folders.ts"

export const PROTOCOL_VERSION = 1

export interface StreamInfo {
  readonly isTTY: boolean
  readonly columns?: number | undefined
  readonly rows?: number | undefined
}

export interface DaemonRequest {
  readonly v: number
  /** The arguments after `flow`. */
  readonly argv: ReadonlyArray<string>
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
  readonly stdout: StreamInfo
  readonly stderr: StreamInfo
  readonly stdinIsTTY: boolean
  readonly pid: number
}

export type FrameType = "a" | "o" | "e" | "x" | "b" | "i"

/** How long a client waits for the daemon's first frame before running the command itself. */
export const ACCEPT_TIMEOUT_MS = 1000

export interface DaemonPaths {
  readonly dir: string
  readonly socket: string
  readonly log: string
}

export const DEFAULT_IDLE_MS = 900_000

/**
 * The daemon's idle time from `FLOW_DAEMON_IDLE` (seconds, > 0): the default when unset or empty,
 * undefined when it is not such a number (the client refuses it, naming the variable).
 */
export const idleMsFrom = (value: string | undefined): number | undefined => {
  if (value === undefined || value.trim() === "") return DEFAULT_IDLE_MS
  const n = Number(value)
  return Number.isFinite(n) && n > 0 ? n * 1000 : undefined
}

/** The daemon folder of this user (not created). */
export const daemonDir = (env: NodeJS.ProcessEnv = process.env): string =>
  env.FLOW_DAEMON_DIR !== undefined && env.FLOW_DAEMON_DIR !== ""
    ? path.resolve(env.FLOW_DAEMON_DIR)
    : path.join(os.tmpdir(), `logflow-${typeof process.getuid === "function" ? process.getuid() : "user"}`)

/**
 * Where the daemon for this checkout, Node binary and snapshot build listens and logs. The socket
 * path stays under the 104-108 bytes Unix sockets allow as long as the folder's path does.
 */
export const daemonPaths = (input: { readonly root: string; readonly execPath: string; readonly stampMtimeMs: number; readonly dir: string }): DaemonPaths => {
  const id = nameHash(`${input.root}\0${input.execPath}\0${input.stampMtimeMs}`)
  return { dir: input.dir, socket: path.join(input.dir, `${id}.sock`), log: path.join(input.dir, `${id}.log`) }
}

/** `daemonPaths` for the checkout `root` and the snapshot built in `buildDir` (undefined when it has no stamp). */
export const daemonPathsOf = (root: string, buildDir: string, dir: string): DaemonPaths | undefined => {
  const stamp = fs.statSync(path.join(buildDir, "stamp"), { throwIfNoEntry: false })
  return stamp === undefined ? undefined : daemonPaths({ root, execPath: process.execPath, stampMtimeMs: stamp.mtimeMs, dir })
}

/**
 * 64 bits of FNV-1a (two 32-bit lanes) as 16 hex digits: a name, not a digest (node:crypto would
 * add ~9 ms to the client's start).
 */
export const nameHash = (text: string): string => {
  let a = 0x811c9dc5
  let b = 0x9dc5811c
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x01000193) ^ (a >>> 15)
  }
  return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0")
}

/**
 * Create the daemon folder if needed and check that only this user can use it; the reason it is
 * unusable otherwise (then no daemon is used).
 */
export const privateDir = (dir: string): string | undefined => {
  try {
    makeFolders(dir, { mode: 0o700 })
    const st = fs.lstatSync(dir)
    if (!st.isDirectory()) return `${dir} is not a folder`
    if (typeof process.getuid === "function" && st.uid !== process.getuid()) return `${dir} belongs to another user`
    if ((st.mode & 0o077) !== 0) return `${dir} can be opened by other users (mode ${(st.mode & 0o777).toString(8)})`
    return undefined
  } catch (e) {
    return `cannot use ${dir}: ${e instanceof Error ? e.message : String(e)}`
  }
}

/** One frame. */
export const encodeFrame = (type: FrameType, payload: string | Uint8Array = ""): Buffer => {
  const body = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload
  const frame = Buffer.allocUnsafe(5 + body.length)
  frame.write(type, 0, "latin1")
  frame.writeUInt32BE(body.length, 1)
  frame.set(body, 5)
  return frame
}

/** Cuts a byte stream into frames; bytes of an incomplete frame wait for the next chunk. */
export class FrameReader {
  #pending: Buffer = Buffer.alloc(0)
  readonly #onFrame: (type: string, payload: Buffer) => void

  constructor(onFrame: (type: string, payload: Buffer) => void) {
    this.#onFrame = onFrame
  }

  push(chunk: Buffer): void {
    let buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk])
    while (buf.length >= 5) {
      const length = buf.readUInt32BE(1)
      if (buf.length < 5 + length) break
      this.#onFrame(String.fromCharCode(buf[0]!), buf.subarray(5, 5 + length))
      buf = buf.subarray(5 + length)
    }
    this.#pending = buf
  }

  /** Bytes received that do not complete a frame. */
  get pendingBytes(): number {
    return this.#pending.length
  }
}
