// Checkpoints of long stages in the artifact store: keys, the writer's pruning, recovery from a corrupt newest one.
import { Effect, Option } from "effect"
import { describe, expect, it } from "vitest"
import { type ArtifactStore, CacheError, verify } from "../../src/cache/ArtifactStore.ts"
import * as MemoryCache from "../../src/cache/MemoryCache.ts"
import { CHECKPOINT_STAGE, checkpointKey, checkpointsOf, checkpointWriter, clearCheckpoints, latestCheckpoint } from "../../src/flows/Checkpoints.ts"

type Store = ArtifactStore["Service"]

const NODE = { key: "a".repeat(64), stage: { name: "fit", version: "4" } }
const OTHER = { key: "b".repeat(64), stage: { name: "fit", version: "4" } }
const bytesOf = (step: number) => Uint8Array.from({ length: 16 + step }, (_, i) => (i * 7 + step) & 0xff)

/** Write checkpoints `steps` of `node` through the writer and wait for them. */
const writeAll = async (store: Store, node: typeof NODE, steps: ReadonlyArray<number>, notes: Array<string> = []) => {
  const saved: Array<[number, number]> = []
  const writer = checkpointWriter(store, node, (step, bytes) => saved.push([step, bytes]), (line) => notes.push(line))
  for (const s of steps) writer.sink(s, bytesOf(s))
  await Effect.runPromise(writer.flush)
  return saved
}

const stepsOf = (store: Store, nodeKey: string) =>
  Effect.runSync(checkpointsOf(store, nodeKey)).map((m) => (m.params as { step: number }).step)

/** A store whose reads of `bad` keys return bytes that fail the entry's checksum; removals are recorded. */
const corrupting = (inner: Store, bad: ReadonlySet<string>, removed: Array<string>): Store => ({
  ...inner,
  get: (key) =>
    bad.has(key)
      ? Effect.flatMap(inner.meta(key), (m) => verify(key, Option.getOrUndefined(m), Uint8Array.from([1, 2, 3]), () => {}))
      : inner.get(key),
  remove: (key) => {
    removed.push(key)
    return inner.remove(key)
  }
})

describe("checkpointKey", () => {
  it("is stable and distinct per step and per node", () => {
    expect(checkpointKey(NODE.key, 3)).toBe(checkpointKey(NODE.key, 3))
    expect(checkpointKey(NODE.key, 3)).toMatch(/^[0-9a-f]{64}$/)
    const keys = new Set([1, 2, 3, 10].flatMap((s) => [checkpointKey(NODE.key, s), checkpointKey(OTHER.key, s)]))
    expect(keys.size).toBe(8)
    expect(keys.has(NODE.key)).toBe(false)
  })
})

describe("checkpointWriter", () => {
  it("stores checkpoints in order and keeps only the newest two", async () => {
    const { store } = MemoryCache.makeMemoryCache()
    const order: Array<number> = []
    const recording: Store = {
      ...store,
      put: (key, provenance, value) => {
        order.push((provenance.params as { step: number }).step)
        return store.put(key, provenance, value)
      }
    }
    const saved = await writeAll(recording, NODE, [1, 2, 3, 4])
    expect(order).toEqual([1, 2, 3, 4])
    expect(saved).toEqual([1, 2, 3, 4].map((s) => [s, bytesOf(s).length]))
    expect(stepsOf(store, NODE.key)).toEqual([4, 3])
    const entry = Effect.runSync(store.get(checkpointKey(NODE.key, 4)))
    expect(Option.isSome(entry)).toBe(true)
    const { meta, value } = Option.getOrThrow(entry)
    expect(Array.from(value)).toEqual(Array.from(bytesOf(4)))
    expect(meta).toMatchObject({ stage: CHECKPOINT_STAGE, version: "4", params: { step: 4 }, inputs: { node: NODE.key }, summary: { of: "fit", step: 4 } })
    // The pruned ones are gone from the store itself.
    expect(Effect.runSync(store.has(checkpointKey(NODE.key, 1)))).toBe(false)
    expect(Effect.runSync(store.has(checkpointKey(NODE.key, 2)))).toBe(false)
  })

  it("never prunes another node's checkpoints", async () => {
    const { store } = MemoryCache.makeMemoryCache()
    await writeAll(store, OTHER, [1, 2])
    await writeAll(store, NODE, [1, 2, 3])
    expect(stepsOf(store, OTHER.key)).toEqual([2, 1])
    expect(stepsOf(store, NODE.key)).toEqual([3, 2])
  })

  it("reports a failed write through note and does not fail", async () => {
    const { store } = MemoryCache.makeMemoryCache()
    const failing: Store = { ...store, put: (key) => Effect.fail(new CacheError({ operation: "put", key, message: "disk full" })) }
    const notes: Array<string> = []
    const saved = await writeAll(failing, NODE, [1, 2], notes)
    expect(saved).toEqual([])
    expect(notes).toEqual(["checkpoint at step 1 not stored: disk full", "checkpoint at step 2 not stored: disk full"])
  })
})

describe("latestCheckpoint", () => {
  it("returns the newest intact checkpoint, or undefined when there is none", async () => {
    const { store } = MemoryCache.makeMemoryCache()
    const notes: Array<string> = []
    expect(Effect.runSync(latestCheckpoint(store, NODE.key, (l) => notes.push(l)))).toBeUndefined()
    await writeAll(store, NODE, [1, 2, 3])
    const latest = Effect.runSync(latestCheckpoint(store, NODE.key, (l) => notes.push(l)))
    expect(latest?.step).toBe(3)
    expect(Array.from(latest!.bytes)).toEqual(Array.from(bytesOf(3)))
    expect(notes).toEqual([])
  })

  it("discards a newest checkpoint that fails its checksum (note, removal) and returns the one before", async () => {
    const { store } = MemoryCache.makeMemoryCache()
    await writeAll(store, NODE, [1, 2, 3])
    const bad = checkpointKey(NODE.key, 3)
    const removed: Array<string> = []
    const notes: Array<string> = []
    const latest = Effect.runSync(latestCheckpoint(corrupting(store, new Set([bad]), removed), NODE.key, (l) => notes.push(l)))
    expect(latest?.step).toBe(2)
    expect(Array.from(latest!.bytes)).toEqual(Array.from(bytesOf(2)))
    expect(notes).toHaveLength(1)
    expect(notes[0]).toContain(`checkpoint at step 3 [${bad.slice(0, 12)}] is corrupt`)
    expect(removed).toEqual([bad])
    expect(Effect.runSync(store.has(bad))).toBe(false)
    expect(stepsOf(store, NODE.key)).toEqual([2])
  })

  it("discards a missing newest checkpoint too, and returns undefined when none reads back", async () => {
    const { store } = MemoryCache.makeMemoryCache()
    await writeAll(store, NODE, [1, 2])
    const keys = [checkpointKey(NODE.key, 2), checkpointKey(NODE.key, 1)]
    const removed: Array<string> = []
    const notes: Array<string> = []
    // A store whose get finds nothing for either key (chunks lost).
    const missing: Store = { ...corrupting(store, new Set(), removed), get: () => Effect.succeed(Option.none()) }
    expect(Effect.runSync(latestCheckpoint(missing, NODE.key, (l) => notes.push(l)))).toBeUndefined()
    expect(notes).toHaveLength(2)
    expect(notes[0]).toMatch(/^checkpoint at step 2 .* is corrupt/)
    expect(notes[1]).toMatch(/^checkpoint at step 1 .* is corrupt/)
    expect(removed).toEqual(keys)
    expect(stepsOf(store, NODE.key)).toEqual([])
  })
})

describe("clearCheckpoints", () => {
  it("removes every checkpoint of the node and nothing else", async () => {
    const { store } = MemoryCache.makeMemoryCache()
    await writeAll(store, NODE, [1, 2, 3])
    await writeAll(store, OTHER, [5])
    Effect.runSync(store.put(NODE.key, { stage: "fit", version: "4", params: {}, inputs: {}, computeMs: 1 }, Uint8Array.from([1])))
    Effect.runSync(clearCheckpoints(store, NODE.key))
    expect(stepsOf(store, NODE.key)).toEqual([])
    expect(stepsOf(store, OTHER.key)).toEqual([5])
    expect(Effect.runSync(store.has(NODE.key))).toBe(true)
    expect(Effect.runSync(store.list()).map((m) => m.stage).sort()).toEqual([CHECKPOINT_STAGE, "fit"])
  })
})
