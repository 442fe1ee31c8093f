import { describe, expect, it } from "vitest"
import type { EntryMeta } from "../../src/cache/ArtifactStore.ts"
import { selectGarbage } from "../../src/cache/Gc.ts"
import { type Hold, isLiveHold, STALE_HOLD_MS } from "../../src/cache/Leases.ts"

const DAY = 86_400_000
const now = 100 * DAY
const entry = (key: string, lastUsedDaysAgo: number, bytes: number): EntryMeta => ({
  key, stage: "s", version: "1", params: {}, inputs: [], computeMs: 0, createdAt: 0,
  lastUsedAt: now - lastUsedDaysAgo * DAY, hits: 0, bytes, chunks: 1, checksum: ""
})
const entries = [entry("a", 30, 100), entry("b", 10, 200), entry("c", 1, 300), entry("d", 40, 400)]

describe("selectGarbage", () => {
  it("removes entries unused for longer than the cut-off, oldest first", () => {
    expect(selectGarbage(entries, new Set(), { now, olderThanDays: 20 }).map((g) => [g.meta.key, g.reason])).toEqual([
      ["d", "older_than"],
      ["a", "older_than"]
    ])
  })
  it("then removes least recently used entries until the total fits", () => {
    // total 1000; budget 450: drop d (400) then a (100) -> 500 left, then b (200) -> 300.
    expect(selectGarbage(entries, new Set(), { now, maxSizeBytes: 450 }).map((g) => g.meta.key)).toEqual(["d", "a", "b"])
    expect(selectGarbage(entries, new Set(), { now, maxSizeBytes: 1000 })).toEqual([])
  })
  it("never picks a held entry, even when it is the oldest", () => {
    const picked = selectGarbage(entries, new Set(["d"]), { now, olderThanDays: 5, maxSizeBytes: 0 }).map((g) => g.meta.key)
    expect(picked).not.toContain("d")
    expect(picked.sort()).toEqual(["a", "b", "c"])
  })
})

describe("isLiveHold", () => {
  const hold: Hold = { holder: "h", pid: 42, host: "here", startedAt: 0, heartbeatAt: now, keys: [] }
  it("on this host, follows whether the process runs", () => {
    expect(isLiveHold(hold, now, "here", (pid) => pid === 42)).toBe(true)
    expect(isLiveHold(hold, now, "here", () => false)).toBe(false)
  })
  it("on another host, follows the heartbeat", () => {
    expect(isLiveHold(hold, now + STALE_HOLD_MS - 1, "elsewhere", () => false)).toBe(true)
    expect(isLiveHold(hold, now + STALE_HOLD_MS + 1, "elsewhere", () => false)).toBe(false)
  })
})
