/**
 * Hostile archives against the extraction limits (Extract.ts `ExtractLimits`). Every archive is
 * built here, small on disk: deflate streams of zeros are assembled from one full-flushed
 * compressed MiB repeated (so a 512 MiB stream costs 512 KB and no 512 MiB buffer), with
 * hand-written zip and tar headers. `node:fs` is wrapped to count the bytes handed to each file
 * the extraction writes, so "stopped while writing" is measured, not inferred from the result.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import * as zlib from "node:zlib"
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest"
import { DEFAULT_EXTRACT_LIMITS, extract, EXTRACT_LIMIT_NAMES, ExtractError, type ExtractLimits, parseExtractLimits } from "../../src/sources/Extract.ts"
import { hdfsLines, makeTarGz, makeZip, removeTempDirs, tarHeader, tempDir, zipWithDirectory } from "./fixtures.ts"

/** Bytes handed to `fs.createWriteStream(file).write` per file, across the test. */
const probe = vi.hoisted(() => ({ written: new Map<string, number>() }))

vi.mock("node:fs", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs")>()
  const createWriteStream = ((file: fs.PathLike, options?: Parameters<typeof real.createWriteStream>[1]) => {
    const ws = real.createWriteStream(file, options)
    const write = ws.write.bind(ws) as (...args: Array<unknown>) => boolean
    ws.write = ((chunk: Buffer, ...rest: Array<unknown>) => {
      const key = String(file)
      probe.written.set(key, (probe.written.get(key) ?? 0) + chunk.length)
      return write(chunk, ...rest)
    }) as typeof ws.write
    return ws
  }) as typeof real.createWriteStream
  return { ...real, createWriteStream, default: { ...real, createWriteStream } }
})

afterAll(removeTempDirs)
beforeEach(() => probe.written.clear())

const MiB = 1 << 20
const KiB = 1 << 10
/** Output chunk of node's inflate/gunzip streams (16 KiB), with room to spare. */
const CHUNK = 64 * KiB

/** Largest number of bytes written to any one file, and in all. */
const writes = () => {
  const counts = [...probe.written.values()]
  return { max: Math.max(0, ...counts), total: counts.reduce((a, b) => a + b, 0) }
}

// ---- deflate / gzip streams of mostly zeros, never materialised -----------------------------

type Piece = Buffer | { readonly zeros: number }

const ZERO_MIB = Buffer.alloc(MiB)
const FULL = { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH }
/** One MiB of zeros as a non-final, byte-aligned deflate block run (about 1 KB). */
const DEFLATED_ZERO_MIB = zlib.deflateRawSync(ZERO_MIB, FULL)
/** The final, empty deflate block. */
const DEFLATE_END = zlib.deflateRawSync(Buffer.alloc(0))

/** A raw deflate stream of the pieces, with their crc32 and total length. */
const deflatePieces = (pieces: ReadonlyArray<Piece>): { packed: Buffer; crc: number; size: number } => {
  const out: Array<Buffer> = []
  let crc = 0
  let size = 0
  for (const p of pieces) {
    if (Buffer.isBuffer(p)) {
      out.push(zlib.deflateRawSync(p, FULL))
      crc = zlib.crc32(p, crc)
      size += p.length
      continue
    }
    for (let left = p.zeros; left > 0; left -= MiB) {
      const n = Math.min(MiB, left)
      out.push(n === MiB ? DEFLATED_ZERO_MIB : zlib.deflateRawSync(ZERO_MIB.subarray(0, n), FULL))
      crc = zlib.crc32(ZERO_MIB.subarray(0, n), crc)
      size += n
    }
  }
  out.push(DEFLATE_END)
  return { packed: Buffer.concat(out), crc: crc >>> 0, size }
}

const gzipPieces = (pieces: ReadonlyArray<Piece>): Buffer => {
  const { packed, crc, size } = deflatePieces(pieces)
  const head = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])
  const tail = Buffer.alloc(8)
  tail.writeUInt32LE(crc, 0)
  tail.writeUInt32LE(size % 2 ** 32, 4)
  return Buffer.concat([head, packed, tail])
}

// ---- hand-written zip -----------------------------------------------------------------------

interface RawZipEntry {
  readonly name: string
  readonly packed: Buffer
  readonly crc: number
  /** What the central directory says. */
  readonly size: number
  /** What the local header says (default: `size`). */
  readonly localSize?: number
  /** Point the central entry at an earlier entry's local header (overlapping entries). */
  readonly sameDataAs?: number
}

/** A zip of deflated entries whose headers say what the test wants. */
const rawZip = (entries: ReadonlyArray<RawZipEntry>): Buffer => {
  const locals: Array<Buffer> = []
  const centrals: Array<Buffer> = []
  const offsets: Array<number> = []
  let offset = 0
  for (const e of entries) {
    const name = Buffer.from(e.name)
    let at = offset
    if (e.sameDataAs !== undefined) {
      at = offsets[e.sameDataAs]!
    } else {
      const local = Buffer.alloc(30)
      local.writeUInt32LE(0x04034b50, 0)
      local.writeUInt16LE(20, 4)
      local.writeUInt16LE(8, 8)
      local.writeUInt32LE(e.crc, 14)
      local.writeUInt32LE(e.packed.length, 18)
      local.writeUInt32LE(e.localSize ?? e.size, 22)
      local.writeUInt16LE(name.length, 26)
      locals.push(local, name, e.packed)
      offset += 30 + name.length + e.packed.length
    }
    offsets.push(at)
    const c = Buffer.alloc(46)
    c.writeUInt32LE(0x02014b50, 0)
    c.writeUInt16LE((3 << 8) | 20, 4)
    c.writeUInt16LE(20, 6)
    c.writeUInt16LE(8, 10)
    c.writeUInt32LE(e.crc, 16)
    c.writeUInt32LE(e.packed.length, 20)
    c.writeUInt32LE(e.size, 24)
    c.writeUInt16LE(name.length, 28)
    c.writeUInt32LE((0o100644 << 16) >>> 0, 38)
    c.writeUInt32LE(at, 42)
    centrals.push(c, name)
  }
  return zipWithDirectory(locals, centrals, entries.length, offset)
}

// ---- running the extraction -----------------------------------------------------------------

/** Write the archive in a fresh folder and extract it beside itself. */
const run = async (name: string, bytes: Buffer, limits?: Partial<ExtractLimits>) => {
  const dir = tempDir()
  const archive = path.join(dir, name)
  fs.writeFileSync(archive, bytes)
  const target = path.join(dir, "out")
  const result = await extract(archive, target, limits === undefined ? {} : { limits }).then(
    (ok) => ({ ok, err: undefined }),
    (err: unknown) => ({ ok: undefined, err })
  )
  return { dir, archive, target, ...result }
}

/**
 * The refusal, asserting it names the limit and how to raise it, and that neither the target
 * nor a temporary sibling is left.
 */
const refusedBy = async (limit: keyof ExtractLimits, name: string, bytes: Buffer, limits?: Partial<ExtractLimits>) => {
  const { dir, archive, err } = await run(name, bytes, limits)
  expect(err, `expected ${name} to be refused by ${limit}`).toBeInstanceOf(ExtractError)
  const e = err as ExtractError
  expect(e.limit, e.message).toBe(limit)
  expect(e.value).toBe(limits?.[limit] ?? DEFAULT_EXTRACT_LIMITS[limit])
  expect(e.archive).toBe(archive)
  expect(e.message).toContain(archive)
  expect(e.message).toContain(`"${e.entry}"`)
  expect(e.message).toContain(`raise it with --extract-limits ${EXTRACT_LIMIT_NAMES[limit]}=`)
  expect(fs.readdirSync(dir)).toEqual([name])
  return e
}

describe("extraction limits", () => {
  it("documents defaults that let the LogHub archives through", () => {
    // Thunderbird.log is one 29.6 GiB file; real logs deflate 5 to 21 times.
    expect(DEFAULT_EXTRACT_LIMITS.maxEntryBytes).toBeGreaterThanOrEqual(32 * 1024 ** 3)
    expect(DEFAULT_EXTRACT_LIMITS.maxTotalBytes).toBeGreaterThanOrEqual(DEFAULT_EXTRACT_LIMITS.maxEntryBytes)
    expect(DEFAULT_EXTRACT_LIMITS.maxRatio).toBeGreaterThanOrEqual(100)
    expect(DEFAULT_EXTRACT_LIMITS.maxRatio).toBeLessThan(1000)
    expect(DEFAULT_EXTRACT_LIMITS.ratioFloorBytes).toBe(MiB)
    expect(DEFAULT_EXTRACT_LIMITS.maxHeaderBytes).toBe(MiB)
    expect(DEFAULT_EXTRACT_LIMITS.maxEntries).toBe(100_000)
  })

  it("stops a zip bomb (64 MiB of zeros in 66 KB) by the ratio, just past the floor", async () => {
    const { packed, crc, size } = deflatePieces([{ zeros: 64 * MiB }])
    expect(packed.length).toBeLessThan(80 * KiB)
    const zip = rawZip([{ name: "bomb.log", packed, crc, size }])
    const err = await refusedBy("maxRatio", "bomb.zip", zip)
    expect(err.entry).toBe("bomb.log")
    expect(err.message).toContain("the entry expands more than 200 times")
    expect(writes().total).toBeLessThanOrEqual(DEFAULT_EXTRACT_LIMITS.ratioFloorBytes + CHUNK)
  })

  it("stops a zip bomb by the total size when the ratio is off", async () => {
    const { packed, crc, size } = deflatePieces([{ zeros: 64 * MiB }])
    const zip = rawZip([{ name: "bomb.log", packed, crc, size }])
    const limits = { maxRatio: Infinity, maxTotalBytes: 8 * MiB }
    const err = await refusedBy("maxTotalBytes", "bomb.zip", zip, limits)
    expect(err.message).toContain("8388608 bytes (8 MiB)")
    expect(writes().total).toBeLessThanOrEqual(8 * MiB)
  })

  it("stops a zip whose entries all point at one compressed MiB (overlapping bomb) by the archive ratio", async () => {
    // 64 central entries share one local entry: each alone is only 1 MiB (not past the floor).
    const { packed, crc, size } = deflatePieces([{ zeros: MiB }])
    const entries = Array.from({ length: 64 }, (_, i): RawZipEntry =>
      ({ name: `part-${i}.log`, packed, crc, size, ...(i > 0 ? { sameDataAs: 0 } : {}) }))
    const zip = rawZip(entries)
    expect(zip.length).toBeLessThan(8 * KiB)
    const err = await refusedBy("maxRatio", "overlap.zip", zip)
    expect(err.entry).toBe("part-1.log")
    expect(err.message).toContain("the archive expands more than 200 times")
    expect(writes().total).toBeLessThanOrEqual(MiB + CHUNK)
    // Without the ratio, the total stops it.
    probe.written.clear()
    await refusedBy("maxTotalBytes", "overlap.zip", zip, { maxRatio: Infinity, maxTotalBytes: 10 * MiB })
    expect(writes().total).toBeLessThanOrEqual(10 * MiB)
  })

  it("stops a tar.gz bomb (64 MiB of zeros) by the ratio of the decompressed stream", async () => {
    const tgz = gzipPieces([tarHeader("bomb.log", 64 * MiB, "0"), { zeros: 64 * MiB }, Buffer.alloc(1024)])
    expect(tgz.length).toBeLessThan(80 * KiB)
    const err = await refusedBy("maxRatio", "bomb.tar.gz", tgz)
    expect(err.entry).toBe("bomb.log")
    expect(err.message).toContain("the decompressed tar stream expands more than 200 times")
    expect(writes().total).toBeLessThanOrEqual(MiB + CHUNK)
    // Per-entry size limit, with the ratio off: refused from the header, nothing written.
    probe.written.clear()
    await refusedBy("maxEntryBytes", "bomb.tar.gz", tgz, { maxRatio: Infinity, maxEntryBytes: 4 * MiB })
    expect(writes().total).toBe(0)
  })

  it("refuses a zip entry whose data passes its declared size while writing it (central or local header)", async () => {
    // Real logs (ratio about 5x, so no other limit trips): 4 MiB declared as 64 KiB.
    const log = Buffer.concat(Array.from({ length: 15 }, () => hdfsLines(0, 2000))).subarray(0, 4 * MiB)
    const { packed, crc } = deflatePieces([log])
    const declared = 64 * KiB
    const cases: Array<[string, Partial<RawZipEntry>]> = [
      ["both headers", { size: declared, localSize: declared }],
      ["central header", { size: declared, localSize: log.length }],
      ["local header", { size: log.length, localSize: declared }]
    ]
    for (const [which, sizes] of cases) {
      probe.written.clear()
      const zip = rawZip([{ name: "liar.log", packed, crc, size: log.length, ...sizes }])
      const { dir, err } = await run("liar.zip", zip)
      expect(err, which).toBeInstanceOf(ExtractError)
      expect((err as ExtractError).entry).toBe("liar.log")
      expect((err as ExtractError).message, which).toContain(`longer than the ${declared} bytes its header declares`)
      expect(writes().max, which).toBeGreaterThan(0)
      expect(writes().max, which).toBeLessThanOrEqual(declared + CHUNK)
      expect(fs.readdirSync(dir), which).toEqual(["liar.zip"])
    }
  })

  it("refuses too many entries (zip from its central directory, before writing anything; tar.gz as it reads)", async () => {
    const items = Array.from({ length: 11 }, (_, i) => ({ name: `f${i}.log`, data: Buffer.from(`line ${i}\n`) }))
    const err = await refusedBy("maxEntries", "many.zip", makeZip(items), { maxEntries: 10 })
    expect(err.entry).toBe("f10.log")
    expect(writes().total).toBe(0)
    const err2 = await refusedBy("maxEntries", "many.tar.gz", makeTarGz(items), { maxEntries: 10 })
    expect(err2.entry).toBe("f10.log")
    expect(probe.written.size).toBe(10)
  })

  it("refuses tar metadata records larger than the header limit without reading them into memory", async () => {
    const declared = 512 * MiB
    const cases: Array<[string, Buffer]> = [
      // The realistic attack: a huge declared size and a few KB of data.
      ["pax, 512 MiB declared, 4 KB sent", gzipPieces([tarHeader("PaxHeaders/x", declared, "x"), Buffer.alloc(4096, 0x41)])],
      // The reviewer's case: the 512 MiB are really there (as 512 KB of gzip).
      ["pax, 512 MiB of zeros", gzipPieces([tarHeader("PaxHeaders/x", declared, "x"), { zeros: declared }, tarHeader("a.log", 0, "0"), Buffer.alloc(1024)])],
      ["GNU long name, 512 MiB of zeros", gzipPieces([tarHeader("././@LongLink", declared, "L"), { zeros: declared }, Buffer.alloc(1024)])],
      ["pax global header", gzipPieces([tarHeader("pax_global_header", 2 * MiB, "g"), Buffer.alloc(4096, 0x41)])]
    ]
    for (const [which, tgz] of cases) {
      expect(tgz.length, which).toBeLessThan(600 * KiB)
      globalThis.gc?.()
      const before = process.memoryUsage()
      let peak = before.arrayBuffers
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().arrayBuffers)
      }, 1)
      let err: ExtractError
      try {
        err = await refusedBy("maxHeaderBytes", "meta.tar.gz", tgz)
      } finally {
        clearInterval(sampler)
      }
      peak = Math.max(peak, process.memoryUsage().arrayBuffers)
      expect(err.message, which).toMatch(/declares \d+ bytes/)
      expect(peak - before.arrayBuffers, which).toBeLessThan(32 * MiB)
      expect(process.memoryUsage().rss - before.rss, which).toBeLessThan(128 * MiB)
    }
  })

  it("extracts normal archives identically, with limits exactly at their size, and refuses them one under", async () => {
    const a = hdfsLines(0, 2000)
    const b = Buffer.concat(Array.from({ length: 8 }, () => hdfsLines(0, 2000))) // past the ratio floor
    const zip = makeZip([{ name: "logs/" }, { name: "logs/a.log", data: a }, { name: "logs/b.log", data: b, method: 8 }])
    const tgz = makeTarGz([{ name: "logs", type: "dir" }, { name: "logs/a.log", data: a }, { name: "logs/b.log", data: b }])
    const exact = { maxEntries: 3, maxTotalBytes: a.length + b.length, maxEntryBytes: b.length }
    for (const [name, bytes] of [["ok.zip", zip], ["ok.tar.gz", tgz]] as const) {
      for (const limits of [undefined, exact]) {
        const { target, ok, err } = await run(name, bytes, limits)
        expect(err, name).toBeUndefined()
        expect(ok!.files).toEqual([{ path: "logs/a.log", bytes: a.length }, { path: "logs/b.log", bytes: b.length }])
        expect(fs.readFileSync(path.join(target, "logs/a.log")).equals(a)).toBe(true)
        expect(fs.readFileSync(path.join(target, "logs/b.log")).equals(b)).toBe(true)
      }
      await refusedBy("maxEntries", name, bytes, { ...exact, maxEntries: 2 })
      await refusedBy("maxTotalBytes", name, bytes, { ...exact, maxTotalBytes: exact.maxTotalBytes - 1 })
      await refusedBy("maxEntryBytes", name, bytes, { ...exact, maxEntryBytes: b.length - 1 })
    }
  })

  it("rejects invalid limits", async () => {
    for (const bad of [{ maxRatio: -1 }, { maxEntries: Number.NaN }, { maxTotal: 1 } as Partial<ExtractLimits>]) {
      const { err } = await run("ok.zip", makeZip([{ name: "a.log", data: Buffer.from("a\n") }]), bad)
      expect(err).toBeInstanceOf(ExtractError)
      expect((err as ExtractError).message).toMatch(/limits\.\w+/)
    }
  })
})

describe("parseExtractLimits (--extract-limits, FLOW_EXTRACT_LIMITS)", () => {
  it("reads names, sizes with units and off", () => {
    expect(parseExtractLimits("max_total_bytes=64GiB, max_ratio=500,max_entries=10,max_header_bytes=off,ratio_floor_bytes=2MB,max_entry_bytes=1024"))
      .toEqual({ maxTotalBytes: 64 * 2 ** 30, maxRatio: 500, maxEntries: 10, maxHeaderBytes: Infinity, ratioFloorBytes: 2e6, maxEntryBytes: 1024 })
    expect(parseExtractLimits("")).toEqual({})
  })

  it("refuses an unknown name or a bad value, naming it", () => {
    expect(() => parseExtractLimits("max_ratios=5")).toThrow(/unknown extraction limit "max_ratios" \(known: max_total_bytes/)
    expect(() => parseExtractLimits("max_ratio=5GiB")).toThrow(/max_ratio: expected a number, or off; got "5GiB"/)
    expect(() => parseExtractLimits("max_total_bytes=-1")).toThrow(/max_total_bytes: expected a size/)
    expect(() => parseExtractLimits("max_total_bytes")).toThrow(/got ""/)
  })
})
