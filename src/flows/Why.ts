/**
 * `flow cache why`: for each stage of a run, a hit, or a miss explained against the nearest
 * earlier entry of the same stage: which code version, which param (dotted path, before and
 * after) or which upstream key changed. Pure over the plan's nodes and the entries' metadata.
 */
import type { EntryMeta } from "../cache/ArtifactStore.ts"
import type { Node } from "../tasks/Task.ts"

/** One difference between a node and a cache entry of its stage. */
export type Change =
  | { readonly kind: "version"; readonly before: string; readonly after: string }
  | { readonly kind: "param"; readonly path: string; readonly before: unknown; readonly after: unknown }
  | { readonly kind: "input"; readonly stage: string; readonly before: string | null; readonly after: string }

export type Explanation =
  | { readonly stage: string; readonly key: string; readonly state: "hit" }
  | { readonly stage: string; readonly key: string; readonly state: "miss"; readonly nearest: string | null; readonly changes: ReadonlyArray<Change> }

/** Explain every node of a run (upstream first) against the cache's entries. */
export const explain = (nodes: ReadonlyArray<Node>, entries: ReadonlyArray<EntryMeta>): Array<Explanation> => {
  const byKey = new Map(entries.map((e) => [e.key, e]))
  return nodes.map((n): Explanation => {
    if (byKey.has(n.key)) return { stage: n.stage.name, key: n.key, state: "hit" }
    const candidates = entries.filter((e) => e.stage === n.stage.name)
    let best: { entry: EntryMeta; changes: Array<Change> } | undefined
    for (const e of candidates) {
      const changes = diffEntry(n, e, byKey)
      if (best === undefined || changes.length < best.changes.length || (changes.length === best.changes.length && e.createdAt > best.entry.createdAt)) {
        best = { entry: e, changes }
      }
    }
    return {
      stage: n.stage.name,
      key: n.key,
      state: "miss",
      nearest: best?.entry.key ?? null,
      changes: best?.changes ?? []
    }
  })
}

const diffEntry = (n: Node, e: EntryMeta, byKey: ReadonlyMap<string, EntryMeta>): Array<Change> => {
  const changes: Array<Change> = []
  if (e.version !== n.stage.version) changes.push({ kind: "version", before: e.version, after: n.stage.version })
  const nodeParams = n.salt === undefined ? n.params : { params: n.params, salt: n.salt }
  for (const d of diffValues(e.params, nodeParams, "")) changes.push({ kind: "param", ...d })
  // Upstream keys: match by stage name; a key the entry did not have is a changed input.
  const before = new Map<string, Array<string>>()
  for (const k of e.inputs) {
    const stage = byKey.get(k)?.stage ?? "?"
    before.set(stage, [...(before.get(stage) ?? []), k])
  }
  for (const i of n.inputs) {
    if (e.inputs.includes(i.key)) continue
    const old = before.get(i.stage.name)?.find((k) => !n.inputs.some((x) => x.key === k)) ?? null
    changes.push({ kind: "input", stage: i.stage.name, before: old, after: i.key })
  }
  return changes
}

/** Dotted paths where two JSON values differ. */
export const diffValues = (a: unknown, b: unknown, prefix: string): Array<{ path: string; before: unknown; after: unknown }> => {
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v)
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
    return keys.flatMap((k) => diffValues(a[k], b[k], prefix === "" ? k : `${prefix}.${k}`))
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ path: prefix === "" ? "<root>" : prefix, before: a, after: b }]
}

/** One line per change, for the terminal. */
export const describeChange = (c: Change): string => {
  switch (c.kind) {
    case "version":
      return `code version ${c.before} -> ${c.after}`
    case "param":
      return `param ${c.path}: ${JSON.stringify(c.before) ?? "absent"} -> ${JSON.stringify(c.after) ?? "absent"}`
    case "input":
      return `upstream ${c.stage}: ${c.before === null ? "new" : c.before.slice(0, 12)} -> ${c.after.slice(0, 12)}`
  }
}
