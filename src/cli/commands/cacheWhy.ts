/**
 * `flow cache why`: for each stage of a run, a hit, or a miss explained against the nearest
 * earlier entry of the same stage: which code version, which param (dotted path, before and
 * after) or which named input changed. `explain` is pure over the plan's nodes and the entries'
 * metadata.
 */
import { Console, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { ArtifactStore, type EntryMeta } from "../../cache/ArtifactStore.ts"
import { prepareFlow } from "../../flows/Flow.ts"
import { runNodeList } from "../../flows/Plan.ts"
import { type Node, stageVersion, upstream, upstreamKeys } from "../../tasks/Task.ts"
import { cacheDir, dataRoot, extractLimits, fail, flowOptions, handleErrors, json, mirror, registryArg, resultsDir, withCache } from "./shared.ts"

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
  if (e.version !== stageVersion(n)) changes.push({ kind: "version", before: e.version, after: stageVersion(n) })
  for (const d of diffValues(e.params, n.params, "")) changes.push({ kind: "param", ...d })
  if ((n.salt !== undefined || e.salt !== undefined) && JSON.stringify(e.salt) !== JSON.stringify(n.salt)) {
    changes.push({ kind: "param", path: "<content digest>", before: e.salt, after: n.salt })
  }
  if (Array.isArray(e.inputs)) {
    // An entry from before inputs were named: match upstream keys by stage name.
    const before = new Map<string, Array<string>>()
    for (const k of e.inputs) {
      const stage = byKey.get(k)?.stage ?? "?"
      before.set(stage, [...(before.get(stage) ?? []), k])
    }
    const now = upstream(n)
    for (const i of now) {
      if (e.inputs.includes(i.key)) continue
      const old = before.get(i.stage.name)?.find((k) => !now.some((x) => x.key === k)) ?? null
      changes.push({ kind: "input", stage: i.stage.name, before: old, after: i.key })
    }
    return changes
  }
  // Named inputs: compare each input (the node's and the entry's) with its namesake.
  const was = e.inputs as Readonly<Record<string, string | ReadonlyArray<string>>>
  const keys = upstreamKeys(n.inputs)
  const flat = (x: string | ReadonlyArray<string> | undefined) => (x === undefined ? null : typeof x === "string" ? x : x.join(","))
  for (const name of [...new Set([...Object.keys(keys), ...Object.keys(was)])].sort()) {
    if (JSON.stringify(was[name]) === JSON.stringify(keys[name])) continue
    const v = n.inputs[name]
    const stage = v === undefined ? undefined : (Array.isArray(v) ? (v as ReadonlyArray<Node>)[0] : (v as Node))?.stage.name
    changes.push({
      kind: "input",
      stage: stage === undefined ? `${name} (no longer read)` : name === stage ? stage : `${name} (${stage})`,
      before: flat(was[name]),
      after: flat(keys[name]) ?? "none"
    })
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

export const cacheWhy = Command.make(
  "why",
  { registry: registryArg, cacheDir, resultsDir, dataRoot, mirror, extractLimits, run: Flag.String("run").pipe(Flag.withDescription("The concrete run to explain")), json },
  Effect.fn("cli.cache.why")(function*(args) {
    const { plan } = yield* prepareFlow(flowOptions({ ...args, runs: [args.run], groups: [], experiments: [] }))
    const run = plan.runs.find((r) => r.spec.name === args.run)
    if (run === undefined) return yield* fail(`unknown run "${args.run}"`)
    const entries = yield* withCache(args.cacheDir, Effect.flatMap(ArtifactStore, (s) => s.list()))
    const explained = explain(runNodeList(run), entries)
    if (args.json) {
      yield* Console.log(JSON.stringify(explained, null, 2))
      return
    }
    const lines: Array<string> = []
    for (const e of explained) {
      if (e.state === "hit") {
        lines.push(`hit   ${e.stage.padEnd(9)} ${e.key.slice(0, 12)}`)
      } else {
        lines.push(`miss  ${e.stage.padEnd(9)} ${e.key.slice(0, 12)}${e.nearest === null ? "  (no earlier entry of this stage)" : `  nearest ${e.nearest.slice(0, 12)}:`}`)
        for (const c of e.changes) lines.push(`        ${describeChange(c)}`)
      }
    }
    yield* Console.log(lines.join("\n"))
  }, handleErrors)
).pipe(Command.withDescription("For each stage of a run: hit, or miss and what changed against the nearest cached entry"))
