/**
 * Cache garbage collection policy: which entries `flow cache gc` removes. Pure: given every
 * entry's metadata and the holds of running flows, it picks entries older (by last use) than a
 * cut-off and then the least recently used ones until the cache fits a size budget. An entry a
 * live hold names (`liveHeldKeys` in Leases.ts) is never picked.
 */
import type { EntryMeta } from "./ArtifactStore.ts"

export interface GcPolicy {
  /** Remove entries not used for this many days. */
  readonly olderThanDays?: number
  /** Then remove least recently used entries until the total is at most this many bytes. */
  readonly maxSizeBytes?: number
  /** Now, in ms since the epoch. */
  readonly now: number
}

/** Keys to remove, with the reason for each, least recently used first. */
export const selectGarbage = (
  entries: ReadonlyArray<EntryMeta>,
  heldKeys: ReadonlySet<string>,
  policy: GcPolicy
): Array<{ readonly meta: EntryMeta; readonly reason: "older_than" | "max_size" }> => {
  const candidates = entries.filter((e) => !heldKeys.has(e.key)).toSorted((a, b) => a.lastUsedAt - b.lastUsedAt)
  const out: Array<{ meta: EntryMeta; reason: "older_than" | "max_size" }> = []
  const picked = new Set<string>()
  if (policy.olderThanDays !== undefined) {
    const cutoff = policy.now - policy.olderThanDays * 86_400_000
    for (const e of candidates) {
      if (e.lastUsedAt < cutoff) {
        out.push({ meta: e, reason: "older_than" })
        picked.add(e.key)
      }
    }
  }
  if (policy.maxSizeBytes !== undefined) {
    let total = entries.reduce((s, e) => s + (picked.has(e.key) ? 0 : e.bytes), 0)
    for (const e of candidates) {
      if (total <= policy.maxSizeBytes) break
      if (picked.has(e.key)) continue
      out.push({ meta: e, reason: "max_size" })
      picked.add(e.key)
      total -= e.bytes
    }
  }
  return out
}
