/**
 * Test helpers for the source download tests: real HDFS log lines from the data root, a small
 * zip and tar.gz writer (independent of the readers under test), and a loopback HTTP server on
 * 127.0.0.1 that records every request.
 */
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as zlib from "node:zlib"

const dataRoot = process.env.FLOW_DATA_ROOT ?? ""

/** The first `n` lines (CRLF stripped) of the HDFS 2k sample, newline-terminated. */
export const hdfsLines = (from: number, n: number): Buffer => {
  const text = fs.readFileSync(path.join(dataRoot, "loghub-2k/HDFS/HDFS_2k.log"), "utf8")
  const lines = text.replace(/\r/g, "").split("\n").slice(from, from + n)
  return Buffer.from(lines.join("\n") + "\n")
}

const made: Array<string> = []

/** A fresh folder under the OS temp dir, removed by `removeTempDirs`. */
export const tempDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "logflow-sources-"))
  made.push(dir)
  return dir
}

export const removeTempDirs = (): void => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
}

// ---- zip writer -----------------------------------------------------------------------------

export interface ZipItem {
  readonly name: string
  readonly data?: Buffer
  /** 0 stored, 8 deflate (default). */
  readonly method?: 0 | 8
  /** Make the entry a Unix symlink to this target. */
  readonly symlink?: string
}

export const makeZip = (items: ReadonlyArray<ZipItem>): Buffer => {
  const locals: Array<Buffer> = []
  const centrals: Array<Buffer> = []
  let offset = 0
  for (const it of items) {
    const data = it.symlink !== undefined ? Buffer.from(it.symlink) : (it.data ?? Buffer.alloc(0))
    const method = it.method ?? 8
    const packed = method === 8 ? zlib.deflateRawSync(data) : data
    const crc = zlib.crc32(data)
    const name = Buffer.from(it.name, "utf8")
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt16LE(0x800, 6)
    local.writeUInt16LE(method, 8)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(packed.length, 18)
    local.writeUInt32LE(data.length, 22)
    local.writeUInt16LE(name.length, 26)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE((3 << 8) | 20, 4)
    central.writeUInt16LE(20, 6)
    central.writeUInt16LE(0x800, 8)
    central.writeUInt16LE(method, 10)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(packed.length, 20)
    central.writeUInt32LE(data.length, 24)
    central.writeUInt16LE(name.length, 28)
    const mode = it.symlink !== undefined ? 0o120777 : it.name.endsWith("/") ? 0o040755 : 0o100644
    central.writeUInt32LE((mode << 16) >>> 0, 38)
    central.writeUInt32LE(offset, 42)
    locals.push(local, name, packed)
    centrals.push(central, name)
    offset += local.length + name.length + packed.length
  }
  return zipWithDirectory(locals, centrals, items.length, offset)
}

/** The local parts, then the central directory and its end record (`count` entries, `offset` = where the directory starts). */
export const zipWithDirectory = (locals: ReadonlyArray<Buffer>, centrals: ReadonlyArray<Buffer>, count: number, offset: number): Buffer => {
  const cd = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(count, 8)
  end.writeUInt16LE(count, 10)
  end.writeUInt32LE(cd.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, cd, end])
}

// ---- tar writer -----------------------------------------------------------------------------

export interface TarItem {
  readonly name: string
  readonly data?: Buffer
  readonly type?: "file" | "dir" | "symlink" | "hardlink"
  readonly linkname?: string
  /** Write the size field in GNU base-256 form. */
  readonly base256?: boolean
}

const TYPE = { file: "0", dir: "5", symlink: "2", hardlink: "1" } as const

/** A ustar header (`type` is the one-letter type flag); the size in GNU base-256 form when `base256`. */
export const tarHeader = (name: string, size: number, type: string, linkname = "", base256 = size >= 8 * 1024 ** 3): Buffer => {
  const h = Buffer.alloc(512)
  h.write(name, 0, 100, "utf8")
  h.write("0000644\0", 100, "latin1")
  h.write("0000000\0", 108, "latin1")
  h.write("0000000\0", 116, "latin1")
  if (base256) {
    h[124] = 0x80
    h.writeUIntBE(size, 131, 5)
  } else {
    h.write(size.toString(8).padStart(11, "0") + "\0", 124, "latin1")
  }
  h.write("00000000000\0", 136, "latin1")
  h.fill(0x20, 148, 156)
  h.write(type, 156, "latin1")
  h.write(linkname, 157, 100, "utf8")
  h.write("ustar\0", 257, "latin1")
  h.write("00", 263, "latin1")
  let sum = 0
  for (const b of h) sum += b
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "latin1")
  return h
}

const pad = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)])

/** A pax record `"<len> key=value\n"`, where len counts the whole record. */
const paxRecord = (key: string, value: string): string => {
  const body = ` ${key}=${value}\n`
  let len = body.length + 1
  while (String(len).length + body.length !== len) len = String(len).length + body.length
  return `${len}${body}`
}

export const makeTarGz = (items: ReadonlyArray<TarItem>): Buffer => {
  const parts: Array<Buffer> = []
  for (const it of items) {
    const data = it.data ?? Buffer.alloc(0)
    let name = it.name
    if (Buffer.byteLength(name) > 100) {
      const pax = Buffer.from(paxRecord("path", name))
      parts.push(tarHeader("PaxHeaders/long", pax.length, "x", "", false), pad(pax))
      name = name.slice(0, 99)
    }
    const type = TYPE[it.type ?? "file"]
    parts.push(tarHeader(name, type === "0" ? data.length : 0, type, it.linkname ?? "", it.base256 === true))
    if (type === "0") parts.push(pad(data))
  }
  parts.push(Buffer.alloc(1024))
  return zlib.gzipSync(Buffer.concat(parts))
}

// ---- loopback server ------------------------------------------------------------------------

export interface Recorded {
  readonly url: string
  readonly range: string | undefined
}

export interface Server {
  readonly base: string
  readonly requests: Array<Recorded>
  close(): Promise<void>
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, index: number) => void

/** An HTTP server on 127.0.0.1 (ephemeral port) that records requests and calls `handler`. */
export const startServer = async (handler: Handler): Promise<Server> => {
  const requests: Array<Recorded> = []
  const server = http.createServer((req, res) => {
    const index = requests.length
    requests.push({ url: req.url ?? "", range: req.headers.range })
    handler(req, res, index)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    base: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/** Serve `body`, honouring `Range: bytes=N-` with 206 (or 416 past the end) unless told not to. */
export const sendBody = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, honourRange = true): void => {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? "")
  if (honourRange && m !== null) {
    const start = Number(m[1])
    if (start >= body.length) {
      res.writeHead(416, { "content-range": `bytes */${body.length}` })
      res.end()
      return
    }
    res.writeHead(206, {
      "content-length": body.length - start,
      "content-range": `bytes ${start}-${body.length - 1}/${body.length}`
    })
    res.end(body.subarray(start))
    return
  }
  res.writeHead(200, { "content-length": body.length })
  res.end(body)
}

/** Announce the whole body, send the first `n` bytes, then drop the connection. */
export const sendTruncated = (res: http.ServerResponse, body: Buffer, n: number): void => {
  res.writeHead(200, { "content-length": body.length })
  res.write(body.subarray(0, n), () => {
    setTimeout(() => res.socket?.destroy(), 20)
  })
}
