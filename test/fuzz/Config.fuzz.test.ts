// Fuzzing config decoding (fast-check, fixed seed): the repo's registry, dataset and model files,
// mutated (a key removed, renamed or given a value of another kind, path-like and huge strings,
// bytes inserted into the text), then loaded, expanded and planned. Every case ends in a plan or
// a ConfigError whose issues name a config file; never another exception.
// FLOW_FUZZ_RUNS / FLOW_FUZZ_SEED change the budget and seed (docs/RELIABILITY.md has a long run).
import { Cause, Effect, Exit } from "effect"
import fc from "fast-check"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parse, stringify } from "smol-toml"
import { describe, expect, it } from "vitest"
import type { SourceFile } from "../../src/artifacts/Source.ts"
import { ConfigError, issuesOf } from "../../src/config/ConfigError.ts"
import { loadRegistry, selectRuns } from "../../src/config/Registry.ts"
import { sourcesOf } from "../../src/config/Sources.ts"
import { buildPlan } from "../../src/flows/Plan.ts"
import { describeSource } from "../../src/sources/Source.ts"
import { repoRoot } from "../cli/helpers.ts"

export const FUZZ_SEED = Number(process.env.FLOW_FUZZ_SEED ?? 20261203)
const RUNS = Number(process.env.FLOW_FUZZ_RUNS ?? 150)

const configs = path.join(repoRoot, "configs")
const files = ["registry.toml", ...["datasets", "models"].flatMap((d) => fs.readdirSync(path.join(configs, d)).map((f) => `${d}/${f}`))]
const originals = new Map(files.map((f) => [f, fs.readFileSync(path.join(configs, f), "utf8")]))

type Tree = Record<string, unknown>
/** Every key path of a parsed TOML document (tables and arrays included). */
const keyPaths = (v: unknown, at: ReadonlyArray<string | number> = []): Array<ReadonlyArray<string | number>> => {
  if (Array.isArray(v)) return [at, ...v.flatMap((x, i) => keyPaths(x, [...at, i]))]
  if (v !== null && typeof v === "object" && !(v instanceof Date)) return [at, ...Object.entries(v).flatMap(([k, x]) => keyPaths(x, [...at, k]))]
  return [at]
}
const parentOf = (tree: unknown, p: ReadonlyArray<string | number>): Record<string | number, unknown> | undefined => {
  let node: unknown = tree
  for (const k of p.slice(0, -1)) node = (node as Record<string | number, unknown>)[k]
  return node !== null && typeof node === "object" ? node as Record<string | number, unknown> : undefined
}

/** Values a careless or hostile user might write. */
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.string(),
    fc.constantFrom("../../../etc/passwd", "/etc/passwd", "a/b", "..", ".", "", "blk_-?\\d+", "(\\d+)+x", "x".repeat(5000), "Ünïcødé ✓", "\u0000"),
    fc.integer(),
    fc.constantFrom(0, -1, 1e308, -0, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY),
    fc.double(),
    fc.boolean(),
    fc.array(tie("v"), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie("v"), { maxKeys: 3 })
  )
})).v

type Mutation =
  | { readonly op: "remove"; readonly pick: number }
  | { readonly op: "set"; readonly pick: number; readonly value: unknown }
  | { readonly op: "rename"; readonly pick: number; readonly name: string }
  | { readonly op: "bytes"; readonly at: number; readonly text: string }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("remove" as const), pick: fc.nat() }),
  fc.record({ op: fc.constant("set" as const), pick: fc.nat(), value }),
  fc.record({ op: fc.constant("rename" as const), pick: fc.nat(), name: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("../x", "a.b", "type", "extends")) }),
  fc.record({ op: fc.constant("bytes" as const), at: fc.nat(), text: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("[", "]", "=", "\"", "\n[x]\n", "\r", "'''")) })
)

/** The file's text after the mutations (undefined when the mutated tree cannot be written as TOML). */
const mutate = (text: string, ms: ReadonlyArray<Mutation>): string | undefined => {
  let tree = parse(text) as Tree
  let out: string | undefined
  for (const m of ms) {
    if (m.op === "bytes") {
      const base = out ?? stringify(tree)
      const at = m.at % (base.length + 1)
      out = base.slice(0, at) + m.text + base.slice(at)
      continue
    }
    if (out !== undefined) return out // a text edit makes the rest moot
    const paths = keyPaths(tree).filter((p) => p.length > 0)
    if (paths.length === 0) continue
    const p = paths[m.pick % paths.length]!
    const parent = parentOf(tree, p)
    const last = p[p.length - 1]!
    if (parent === undefined) continue
    if (m.op === "remove") {
      if (Array.isArray(parent)) parent.splice(Number(last), 1)
      else delete parent[last]
    } else if (m.op === "set") parent[last] = structuredClone(m.value)
    else if (!Array.isArray(parent)) {
      const v = parent[last]
      delete parent[last]
      parent[m.name] = v
    }
    tree = structuredClone(tree)
  }
  try {
    return out ?? stringify(tree)
  } catch {
    return undefined
  }
}

/** Load, expand, select and plan the configs in `dir` (every source given a stand-in digest). */
const loadAndPlan = (dir: string) =>
  Effect.gen(function*() {
    const registry = yield* loadRegistry(path.join(dir, "registry.toml"))
    const runs = yield* selectRuns(registry, { groups: [], experiments: [], runs: [] })
    const digests = new Map<string, SourceFile>(sourcesOf(runs).map((s) => [describeSource(s), { path: s.path ?? "x", root: "data", sha256: "0".repeat(64), bytes: 0 }]))
    return buildPlan(runs, digests)
  })

describe("config decoding, fuzzed", () => {
  it(`ends in a plan or a ConfigError naming a config file (${RUNS} cases, seed ${FUZZ_SEED})`, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "logflow-fuzz-configs-"))
    fs.cpSync(configs, dir, { recursive: true })
    const outcomes = { planned: 0, refused: 0, unwritable: 0 }
    fc.assert(
      fc.property(fc.constantFrom(...files), fc.array(mutation, { minLength: 1, maxLength: 3 }), (file, ms) => {
        const text = mutate(originals.get(file)!, ms)
        if (text === undefined) {
          outcomes.unwritable++
          return
        }
        fs.writeFileSync(path.join(dir, file), text)
        try {
          const exit = Effect.runSyncExit(loadAndPlan(dir))
          if (Exit.isSuccess(exit)) {
            outcomes.planned++
            return
          }
          const failures = exit.cause.reasons.filter(Cause.isFailReason)
          expect(failures.length === 1 && exit.cause.reasons.length === 1, `not one plain failure:\n${Cause.pretty(exit.cause)}`).toBe(true)
          const e = failures[0]!.error
          expect(e).toBeInstanceOf(ConfigError)
          for (const issue of issuesOf(e as ConfigError)) {
            expect(issue.file.startsWith(dir), issue.file).toBe(true)
            expect(issue.detail.length).toBeGreaterThan(0)
          }
          outcomes.refused++
        } finally {
          fs.writeFileSync(path.join(dir, file), originals.get(file)!)
        }
      }),
      { seed: FUZZ_SEED, numRuns: RUNS }
    )
    // The mutations reach both outcomes (a fuzzer that only ever refuses tests little).
    expect(outcomes.planned).toBeGreaterThan(0)
    expect(outcomes.refused).toBeGreaterThan(0)
    if (process.env.FLOW_FUZZ_REPORT !== undefined) fs.writeFileSync(process.env.FLOW_FUZZ_REPORT, JSON.stringify({ runs: RUNS, seed: FUZZ_SEED, ...outcomes }))
  })
})
