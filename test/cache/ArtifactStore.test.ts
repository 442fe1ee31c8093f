import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { open } from "lmdb"
import { ArtifactStore, CHUNK_BYTES, type Provenance } from "../../src/cache/ArtifactStore.ts"
import { Leases } from "../../src/cache/Leases.ts"
import * as LmdbCache from "../../src/cache/LmdbCache.ts"
import * as MemoryCache from "../../src/cache/MemoryCache.ts"
import { makeWarmState, WarmState } from "../../src/runtime/WarmState.ts"
import { sha256 } from "../../src/cache/CacheKey.ts"

const prov = (stage: string): Provenance => ({
  stage,
  version: "1",
  params: { a: 1 },
  inputs: ["k0"],
  computeMs: 12,
  summary: { rows: 3 }
})

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "logflow-store-"))

// One contract, every layer.
const layers: ReadonlyArray<[string, () => Layer.Layer<ArtifactStore | Leases, unknown>]> = [
  ["memory", () => MemoryCache.layer],
  ["lmdb", () => LmdbCache.layer(tmpDir())],
  ["lmdb, kept open (daemon)", () => kept(tmpDir(), makeWarmState())]
]

/** The cache layer as the daemon builds it: kept open in its warm state after release. */
const kept = (dir: string, warm: WarmState["Service"]) => LmdbCache.layer(dir).pipe(Layer.provide(Layer.succeed(WarmState, warm)))

for (const [name, layer] of layers) {
  describe(`ArtifactStore (${name})`, () => {
    it.effect("put then get returns the same bytes and provenance", () =>
      Effect.gen(function*() {
        const store = yield* ArtifactStore
        const value = new Uint8Array([1, 2, 3, 4, 5])
        assert.isFalse(yield* store.has("k1"))
        const meta = yield* store.put("k1", prov("parse"), value)
        assert.strictEqual(meta.bytes, 5)
        assert.strictEqual(meta.checksum, sha256(value))
        const got = yield* store.get("k1")
        assert.isTrue(Option.isSome(got))
        const entry = Option.getOrThrow(got)
        assert.deepStrictEqual(Array.from(entry.value), [1, 2, 3, 4, 5])
        assert.strictEqual(entry.meta.stage, "parse")
        assert.deepStrictEqual(entry.meta.params, { a: 1 })
        assert.deepStrictEqual(entry.meta.inputs, ["k0"])
        assert.deepStrictEqual(entry.meta.summary, { rows: 3 })
        assert.strictEqual(entry.meta.computeMs, 12)
        assert.isTrue(yield* store.has("k1"))
      }).pipe(Effect.provide(layer())))

    it.effect("the stored value is a copy: mutating the input after put changes nothing", () =>
      Effect.gen(function*() {
        const store = yield* ArtifactStore
        const value = new Uint8Array([9, 9, 9])
        yield* store.put("k", prov("s"), value)
        value[0] = 0
        const entry = Option.getOrThrow(yield* store.get("k"))
        assert.strictEqual(entry.value[0], 9)
      }).pipe(Effect.provide(layer())))

    it.effect("values larger than a chunk round-trip", () =>
      Effect.gen(function*() {
        const store = yield* ArtifactStore
        const value = new Uint8Array(CHUNK_BYTES * 2 + 17)
        for (let i = 0; i < value.length; i++) value[i] = (i * 31) & 0xff
        const meta = yield* store.put("big", prov("mine"), value)
        assert.strictEqual(meta.chunks, 3)
        const entry = Option.getOrThrow(yield* store.get("big"))
        assert.strictEqual(sha256(entry.value), sha256(value))
      }).pipe(Effect.provide(layer())))

    it.effect("list, touch and remove", () =>
      Effect.gen(function*() {
        const store = yield* ArtifactStore
        yield* store.put("a", prov("parse"), new Uint8Array([1]))
        yield* store.put("b", prov("mine"), new Uint8Array([2]))
        const stages = (yield* store.list()).map((m) => m.stage).sort()
        assert.deepStrictEqual(stages, ["mine", "parse"])
        yield* store.touch("a")
        yield* store.touch("a")
        const meta = Option.getOrThrow(yield* store.meta("a"))
        assert.strictEqual(meta.hits, 2)
        assert.isTrue(yield* store.remove("a"))
        assert.isFalse(yield* store.remove("a"))
        assert.isTrue(Option.isNone(yield* store.get("a")))
        assert.strictEqual((yield* store.list()).length, 1)
      }).pipe(Effect.provide(layer())))

    it.effect("holds are registered, listed and released", () =>
      Effect.gen(function*() {
        const store = yield* Leases
        const h = { holder: "h1", pid: 1, host: "x", startedAt: 1, heartbeatAt: 2, keys: ["a", "b"] }
        yield* store.hold(h)
        yield* store.hold({ ...h, holder: "h2", keys: ["c"] })
        assert.deepStrictEqual((yield* store.holds()).map((x) => x.holder).sort(), ["h1", "h2"])
        yield* store.hold({ ...h, heartbeatAt: 5 })
        assert.strictEqual((yield* store.holds()).find((x) => x.holder === "h1")?.heartbeatAt, 5)
        yield* store.release("h1")
        assert.deepStrictEqual((yield* store.holds()).map((x) => x.keys), [["c"]])
      }).pipe(Effect.provide(layer())))

    it.effect("a claim lets one live flow compute a key; the others wait until it is put, a dead flow's claim is taken over", () =>
      Effect.gen(function*() {
        const store = yield* Leases
        const artifacts = yield* ArtifactStore
        const hold = (holder: string, pid: number) => ({ holder, pid, host: os.hostname(), startedAt: 1, heartbeatAt: Date.now(), keys: ["k"] })
        yield* store.hold(hold("me", process.pid))
        yield* store.hold(hold("other", process.pid)) // another flow of a live process (the daemon and a client, say)
        assert.deepStrictEqual(yield* store.claim("k", "me", false), { _tag: "Claimed" })
        assert.deepStrictEqual(yield* store.claim("k", "me", false), { _tag: "Claimed" }) // again: still ours
        const busy = yield* store.claim("k", "other", false)
        assert.strictEqual(busy._tag, "Busy")
        assert.strictEqual(busy._tag === "Busy" ? busy.by.holder : "", "me")
        yield* artifacts.put("k", prov("parse"), new Uint8Array([1]))
        assert.deepStrictEqual(yield* store.claim("k", "other", false), { _tag: "Present" })
        assert.deepStrictEqual(yield* store.claim("k", "other", true), { _tag: "Claimed" }) // a forced recompute
        yield* store.unclaim("k", "me") // not its claim: nothing happens
        assert.strictEqual((yield* store.claim("k", "me", true))._tag, "Busy")
        yield* store.unclaim("k", "other")
        assert.deepStrictEqual(yield* store.claim("k", "me", true), { _tag: "Claimed" })
        // The claimant's process died (no such pid on this host), or its hold is gone: taken over.
        yield* store.hold(hold("dead", 2 ** 22 + 17))
        assert.deepStrictEqual(yield* store.claim("d", "dead", false), { _tag: "Claimed" })
        assert.deepStrictEqual(yield* store.claim("d", "me", false), { _tag: "Claimed" })
        yield* store.release("me")
        assert.deepStrictEqual(yield* store.claim("d", "other", false), { _tag: "Claimed" })
      }).pipe(Effect.provide(layer())))

    it.effect("a missing key is none", () =>
      Effect.gen(function*() {
        const store = yield* ArtifactStore
        assert.isTrue(Option.isNone(yield* store.get("nope")))
        assert.isTrue(Option.isNone(yield* store.meta("nope")))
      }).pipe(Effect.provide(layer())))
  })
}

describe("ArtifactStore (lmdb) durability", () => {
  it.effect("a cache folder whose name has a dot (my.cache) is a folder, not a file", () =>
    Effect.gen(function*() {
      const dir = path.join(tmpDir(), "my.cache")
      yield* Effect.flatMap(ArtifactStore, (s) => s.put("k", prov("parse"), new Uint8Array([1]))).pipe(Effect.provide(LmdbCache.layer(dir)))
      assert.isTrue(fs.statSync(dir).isDirectory())
      assert.isTrue(fs.existsSync(path.join(dir, "data.mdb")))
    }))

  it.effect("a corrupted chunk reads as a miss, not a wrong value", () => {
    const dir = tmpDir()
    return Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const store = yield* ArtifactStore
        yield* store.put("k", prov("parse"), new Uint8Array([1, 2, 3]))
      }).pipe(Effect.provide(LmdbCache.layer(dir)))
      // Corrupt the stored chunk behind the store's back.
      const root = open({ path: dir, maxDbs: 8, compression: false })
      const chunks = root.openDB<Buffer, string>({ name: "chunks", encoding: "binary" })
      chunks.putSync("k/000000", Buffer.from([1, 2, 4]))
      yield* Effect.promise(() => root.close())
      const got = yield* Effect.gen(function*() {
        const store = yield* ArtifactStore
        return yield* store.get("k")
      }).pipe(Effect.provide(LmdbCache.layer(dir)))
      assert.isTrue(Option.isNone(got))
    })
  })

  it("a writer killed with SIGKILL mid-stream leaves only complete, valid entries", async () => {
    const dir = tmpDir()
    const script = path.resolve(import.meta.dirname, "fixtures/killedWriter.ts")
    const child = spawn(process.execPath, [script, path.join(dir, "db")], { stdio: ["ignore", "pipe", "inherit"] })
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", () => resolve())
      child.on("exit", (code) => reject(new Error(`writer exited early with ${code}`)))
    })
    await new Promise((r) => setTimeout(r, 150))
    child.kill("SIGKILL")
    await new Promise((r) => child.on("exit", r))

    const entries = await Effect.runPromise(
      Effect.gen(function*() {
        const store = yield* ArtifactStore
        const metas = yield* store.list()
        const reads = yield* Effect.forEach(metas, (m) => store.get(m.key))
        return { metas, reads }
      }).pipe(Effect.scoped, Effect.provide(LmdbCache.layer(path.join(dir, "db"))))
    )
    assert.isAtLeast(entries.metas.length, 3)
    for (const [i, r] of entries.reads.entries()) {
      assert.isTrue(Option.isSome(r), `entry ${entries.metas[i]!.key} is listed but does not read back`)
      const v = Option.getOrThrow(r).value
      const n = Number(entries.metas[i]!.key.slice(1))
      assert.strictEqual(v.length, 3 * 1024 * 1024 + n)
      assert.strictEqual(v[v.length - 1], n & 0xff)
    }
  })
})

describe("LmdbCache kept open between commands", () => {
  it.effect("the next command finds the last one's hits, and a removed cache folder is opened afresh", () =>
    Effect.gen(function*() {
      const dir = tmpDir()
      const warm = makeWarmState()
      const first = yield* Effect.gen(function*() {
        const store = yield* ArtifactStore
        yield* store.put("a", prov("parse"), new Uint8Array([1]))
        yield* store.touch("a") // committed in the background
        return store
      }).pipe(Effect.provide(kept(dir, warm)))
      const second = yield* Effect.gen(function*() {
        const store = yield* ArtifactStore
        assert.strictEqual(Option.getOrThrow(yield* store.meta("a")).hits, 1)
        return store
      }).pipe(Effect.provide(kept(dir, warm)))
      assert.strictEqual(second, first) // the same open store
      fs.rmSync(dir, { recursive: true, force: true })
      yield* Effect.gen(function*() {
        const store = yield* ArtifactStore
        assert.notStrictEqual(store, first)
        assert.isFalse(yield* store.has("a"))
        yield* store.put("b", prov("mine"), new Uint8Array([2]))
      }).pipe(Effect.provide(kept(dir, warm)))
      yield* Effect.promise(() => warm.close())
      // Closed: what was written is on disk for any other process.
      const db = open({ path: dir, maxDbs: 8 })
      try {
        assert.isTrue(db.openDB({ name: "meta", encoding: "json" }).doesExist("b"))
      } finally {
        yield* Effect.promise(() => db.close())
      }
    }))
})
