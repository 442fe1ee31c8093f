/**
 * Reading a log as chunks of whole lines, for `flow detect`: a file read once (its last line may
 * lack a line break), or followed like `tail -F` (`follow`): after the end it waits for more,
 * reopens the path when the file was rotated (renamed away and created again, or truncated in
 * place) or appears late, and stops when `signal` aborts. A followed file's incomplete last line
 * (no line break yet) is held back until it is complete; at the stop it is reported, not read.
 * Memory is one chunk, whatever the file's size.
 */
import * as fs from "node:fs"
import { setTimeout as sleep } from "node:timers/promises"

export interface LogChunk {
  /** Whole lines (each ending in a line break, except a non-followed file's last line). */
  readonly bytes: Buffer
  /** Raw lines before this chunk in the current file. */
  readonly lineBase: number
  /** The file's generation: 0, then 1, 2, ... after each rotation (line numbers start over). */
  readonly generation: number
}

export interface ReadOptions {
  readonly follow?: boolean
  readonly signal?: AbortSignal
  /** Bytes read at a time (default 8 MiB). */
  readonly chunkBytes?: number
  /** How often a followed file is checked for growth or rotation (default 250 ms). */
  readonly pollMs?: number
}

/** What reading ended with: the incomplete line held back at a follow's stop, if any. */
export interface ReadEnd {
  readonly incomplete?: { readonly generation: number; readonly line: number; readonly bytes: number }
  readonly rotations: number
}

const countLines = (buf: Buffer, from: number, to: number): number => {
  let n = 0
  for (let i = buf.indexOf(10, from); i >= 0 && i < to; i = buf.indexOf(10, i + 1)) n++
  return n
}

/**
 * The chunks of `file`, in order; `end` is filled in when the generator returns. Throws (with the
 * path) when the file cannot be read, unless it is followed and does not exist yet.
 */
export async function* readLog(file: string, options: ReadOptions = {}, end: { value?: ReadEnd } = {}): AsyncGenerator<LogChunk> {
  const chunkBytes = options.chunkBytes ?? 8 << 20
  const follow = options.follow === true
  const pollMs = options.pollMs ?? 250
  let generation = 0
  let rotations = 0
  let fd: number | undefined
  let ino = -1
  let pos = 0
  let lineBase = 0
  /** Bytes of an incomplete line carried to the next read. */
  let carry: Buffer = Buffer.alloc(0)
  const open = (): boolean => {
    try {
      fd = fs.openSync(file, "r")
    } catch (e) {
      if (follow && (e as NodeJS.ErrnoException).code === "ENOENT") return false
      throw new Error(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
    }
    const st = fs.fstatSync(fd)
    if (st.isDirectory()) {
      fs.closeSync(fd)
      fd = undefined
      throw new Error(`cannot read ${file}: it is a folder`)
    }
    ino = st.ino
    pos = 0
    return true
  }
  /** Read what the file holds now; the whole lines of it as chunks (each in a buffer of its own: no copy of the lines). */
  const drain = function*(): Generator<LogChunk> {
    for (;;) {
      const data = Buffer.allocUnsafe(carry.length + chunkBytes)
      carry.copy(data, 0)
      const n = fs.readSync(fd!, data, carry.length, chunkBytes, pos)
      if (n === 0) return
      pos += n
      const filled = carry.length + n
      const last = data.lastIndexOf(10, filled - 1)
      if (last < 0) {
        carry = data.subarray(0, filled)
        continue
      }
      const whole = data.subarray(0, last + 1)
      carry = Buffer.from(data.subarray(last + 1, filled))
      const lines = countLines(whole, 0, whole.length)
      yield { bytes: whole, lineBase, generation }
      lineBase += lines
    }
  }
  try {
    if (!open()) {
      // Followed before it exists: wait for it.
      while (fd === undefined) {
        if (options.signal?.aborted) return
        await sleep(pollMs, undefined, { signal: options.signal }).catch(() => undefined)
        if (options.signal?.aborted) return
        open()
      }
    }
    for (;;) {
      yield* drain()
      if (!follow) {
        if (carry.length > 0) {
          yield { bytes: carry, lineBase, generation }
          carry = Buffer.alloc(0)
        }
        return
      }
      if (options.signal?.aborted) return
      await sleep(pollMs, undefined, { signal: options.signal }).catch(() => undefined)
      if (options.signal?.aborted) {
        yield* drain()
        return
      }
      // Rotation: the path now names another file (renamed away and created again), or this one
      // was truncated in place. Read what the old one still had, then start over on the new one.
      const st = fs.statSync(file, { throwIfNoEntry: false })
      const truncated = st !== undefined && st.ino === ino && st.size < pos
      if (st !== undefined && (st.ino !== ino || truncated)) {
        if (!truncated) yield* drain()
        if (carry.length > 0) {
          // The old file's unfinished last line: it will never be finished.
          yield { bytes: Buffer.concat([carry, Buffer.from("\n")]), lineBase, generation }
          carry = Buffer.alloc(0)
        }
        fs.closeSync(fd!)
        fd = undefined
        while (!open()) {
          // Gone again between the check and the open: wait for the new file.
          if (options.signal?.aborted) return
          await sleep(pollMs, undefined, { signal: options.signal }).catch(() => undefined)
        }
        generation++
        rotations++
        lineBase = 0
      }
    }
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
    end.value = {
      rotations,
      ...(follow && carry.length > 0 ? { incomplete: { generation, line: lineBase + 1, bytes: carry.length } } : {})
    }
  }
}
