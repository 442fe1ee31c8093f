import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { canonicalJson, ENGINE_VERSION, stageKey } from "../../src/cache/CacheKey.ts"

const base = { stage: "parse", version: "1", params: { format: "<Date> <Content>", n: 3, nested: { a: 1, b: [1, 2] } } as Record<string, unknown>, inputs: { labels: "k2", parsed: "k1" } as Record<string, string | ReadonlyArray<string>> }

describe("canonicalJson", () => {
  it("sorts object keys at every depth and keeps array order", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}')
  })
  it("drops undefined members and rejects values JSON cannot hold", () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}')
    expect(() => canonicalJson({ a: NaN })).toThrow(/non-finite number at \.a/)
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/cannot hash a function at \.f/)
  })
})

describe("stageKey", () => {
  it("is sha256 of the canonical JSON of the engine and codec versions, stage, version, params and named upstream keys", () => {
    const expected = createHash("sha256")
      .update(`{"codec":"LFB1","engine":"${ENGINE_VERSION}","inputs":{"labels":"k2","parsed":"k1"},"params":{"format":"<Date> <Content>","n":3,"nested":{"a":1,"b":[1,2]}},"stage":"parse","version":"1"}`)
      .digest("hex")
    expect(stageKey(base)).toBe(expected)
  })
  it("ignores object key order, and the order inputs are named in", () => {
    const reordered = { inputs: { parsed: "k1", labels: "k2" }, version: "1", params: { nested: { b: [1, 2], a: 1 }, n: 3, format: "<Date> <Content>" }, stage: "parse" }
    expect(stageKey(reordered)).toBe(stageKey(base))
  })
  it("changes when any param, the version, the stage, the salt, an upstream key or an input's role changes", () => {
    const k = stageKey(base)
    expect(stageKey({ ...base, params: { ...base.params, n: 4 } })).not.toBe(k)
    expect(stageKey({ ...base, params: { ...base.params, nested: { a: 1, b: [2, 1] } } })).not.toBe(k)
    expect(stageKey({ ...base, version: "2" })).not.toBe(k)
    expect(stageKey({ ...base, stage: "mine" })).not.toBe(k)
    expect(stageKey({ ...base, salt: "abc" })).not.toBe(k)
    expect(stageKey({ ...base, inputs: { labels: "k2", parsed: "k3" } })).not.toBe(k)
    expect(stageKey({ ...base, inputs: { parsed: "k1" } })).not.toBe(k)
    // The same upstream keys in swapped roles are another computation.
    expect(stageKey({ ...base, inputs: { labels: "k1", parsed: "k2" } })).not.toBe(k)
    // A list input keeps its order.
    expect(stageKey({ ...base, inputs: { files: ["k1", "k2"] } })).not.toBe(stageKey({ ...base, inputs: { files: ["k2", "k1"] } }))
  })
  it("throws naming the parameter when a param cannot be hashed exactly", () => {
    expect(() => stageKey({ ...base, params: { threshold: Infinity } })).toThrow(/non-finite number at \.params\.threshold/)
    expect(() => stageKey({ ...base, params: { n: 10n } })).toThrow(/cannot hash a bigint at \.params\.n/)
  })
  it("is the same in another process", () => {
    const src = path.resolve(import.meta.dirname, "../../src/cache/CacheKey.ts")
    const r = spawnSync(process.execPath, ["--input-type=module", "-e",
      `import { stageKey } from ${JSON.stringify(src)}; process.stdout.write(stageKey(${JSON.stringify(base)}))`], { encoding: "utf8" })
    expect(r.stdout).toBe(stageKey(base))
  })
})
