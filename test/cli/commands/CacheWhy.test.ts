// `flow cache why`'s explain: a hit, or a miss explained against the nearest entry of the node's stage.
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import type { SourceFile } from "../../../src/artifacts/Source.ts"
import type { EntryMeta } from "../../../src/cache/ArtifactStore.ts"
import { describeChange, explain } from "../../../src/cli/commands/cacheWhy.ts"
import { mineStage } from "../../../src/tasks/MineStage.ts"
import { parseStage } from "../../../src/tasks/ParseStage.ts"
import { sourceStage } from "../../../src/tasks/SourceStage.ts"
import { node, type Node, upstreamKeys } from "../../../src/tasks/Task.ts"

const source = (salt: string) => node(sourceStage, Schema.decodeUnknownSync(sourceStage.params)({ path: "x.log" }), {}, salt)
const parse = (src: Node<SourceFile>, raw: unknown = { format: "<Content>" }) =>
  node(parseStage, Schema.decodeUnknownSync(parseStage.params)(raw), { source: src })
const mine = (parsed: ReturnType<typeof parse>, raw: unknown) => node(mineStage, Schema.decodeUnknownSync(mineStage.params)(raw), { parsed })

/** The metadata an entry stored for `n` would carry (its provenance as the runner writes it). */
const entryOf = (n: Node, overrides: Partial<EntryMeta> = {}): EntryMeta => ({
  key: n.key,
  stage: n.stage.name,
  version: n.stage.version,
  params: n.params,
  inputs: upstreamKeys(n.inputs),
  ...(n.salt === undefined ? {} : { salt: n.salt }),
  computeMs: 1,
  createdAt: 1000,
  lastUsedAt: 1000,
  hits: 0,
  bytes: 10,
  chunks: 1,
  checksum: "0".repeat(64),
  ...overrides
})

const srcA = source("sha-A")
const parseA = parse(srcA)
const mine04 = mine(parseA, { sim_th: 0.4 })
const mine05 = mine(parseA, { sim_th: 0.5 })

describe("explain", () => {
  it("calls a node whose key is among the entries a hit, in node order", () => {
    const entries = [srcA, parseA, mine04].map((n) => entryOf(n))
    expect(explain([srcA, parseA, mine04], entries)).toEqual([
      { stage: "source", key: srcA.key, state: "hit" },
      { stage: "parse", key: parseA.key, state: "hit" },
      { stage: "mine", key: mine04.key, state: "hit" }
    ])
  })

  it("explains a miss by the changed param against the nearest entry of its stage", () => {
    const entries = [srcA, parseA, mine04].map((n) => entryOf(n))
    expect(mine05.key).not.toBe(mine04.key)
    expect(explain([parseA, mine05], entries)).toEqual([
      { stage: "parse", key: parseA.key, state: "hit" },
      { stage: "mine", key: mine05.key, state: "miss", nearest: mine04.key, changes: [{ kind: "param", path: "sim_th", before: 0.4, after: 0.5 }] }
    ])
  })

  it("names a nested param by its dotted path, and a param given on one side only", () => {
    const ts = (year: number) => ({ format: "<Date> <Content>", timestamp: { parts: [{ field: "Date", pattern: "MM-dd" }], assume_year: year } })
    const before = parse(srcA, ts(2000))
    const after = parse(srcA, ts(2001))
    const [why] = explain([after], [entryOf(before)])
    expect(why).toEqual({ stage: "parse", key: after.key, state: "miss", nearest: before.key, changes: [{ kind: "param", path: "timestamp.assume_year", before: 2000, after: 2001 }] })

    const preset = mine(parseA, { sim_th: 0.4, preset: "HDFS" })
    expect(explain([preset], [entryOf(mine04)])[0]).toMatchObject({ nearest: mine04.key, changes: [{ kind: "param", path: "preset", before: undefined, after: "HDFS" }] })
  })

  it("explains a miss by a changed code version", () => {
    const old = entryOf(mine05, { key: "f".repeat(64), version: "2" })
    expect(explain([mine05], [old])).toEqual([
      { stage: "mine", key: mine05.key, state: "miss", nearest: old.key, changes: [{ kind: "version", before: "2", after: mineStage.version }] }
    ])
    expect(describeChange({ kind: "version", before: "2", after: "3" })).toBe("code version 2 -> 3")
  })

  it("explains a miss by a changed named input, and a changed source by its content digest", () => {
    const srcB = source("sha-B")
    const parseB = parse(srcB)
    const mineB = mine(parseB, { sim_th: 0.4 })
    const entries = [srcA, parseA, mine04].map((n) => entryOf(n))
    const [s, p, m] = explain([srcB, parseB, mineB], entries)
    expect(s).toEqual({ stage: "source", key: srcB.key, state: "miss", nearest: srcA.key, changes: [{ kind: "param", path: "<content digest>", before: "sha-A", after: "sha-B" }] })
    expect(p).toEqual({ stage: "parse", key: parseB.key, state: "miss", nearest: parseA.key, changes: [{ kind: "input", stage: "source", before: srcA.key, after: srcB.key }] })
    // The input is named "parsed", the upstream stage "parse": the change names both.
    expect(m).toEqual({ stage: "mine", key: mineB.key, state: "miss", nearest: mine04.key, changes: [{ kind: "input", stage: "parsed (parse)", before: parseA.key, after: parseB.key }] })
    if (m?.state !== "miss") throw new Error("expected a miss")
    expect(describeChange(m.changes[0]!)).toBe(`upstream parsed (parse): ${parseA.key.slice(0, 12)} -> ${parseB.key.slice(0, 12)}`)
  })

  it("takes the entry with the fewest changes as nearest, the newest of equals", () => {
    const parseB = parse(source("sha-B"))
    const twoChanges = entryOf(mine(parseB, { sim_th: 0.6 }), { createdAt: 5000 })
    const oneChangeOld = entryOf(mine04, { createdAt: 1000 })
    const oneChangeNew = entryOf(mine(parseA, { sim_th: 0.45 }), { createdAt: 2000 })
    const [why] = explain([mine05], [twoChanges, oneChangeOld, oneChangeNew])
    expect(why).toMatchObject({ state: "miss", nearest: oneChangeNew.key, changes: [{ kind: "param", path: "sim_th", before: 0.45, after: 0.5 }] })
    const [without] = explain([mine05], [twoChanges, oneChangeOld])
    expect(without).toMatchObject({ nearest: oneChangeOld.key })
  })

  it("gives nearest null and no changes when no entry of the stage exists", () => {
    const entries = [srcA, parseA].map((n) => entryOf(n))
    expect(explain([mine05], entries)).toEqual([{ stage: "mine", key: mine05.key, state: "miss", nearest: null, changes: [] }])
    expect(explain([mine05], [])).toEqual([{ stage: "mine", key: mine05.key, state: "miss", nearest: null, changes: [] }])
  })

  it("matches an entry from before inputs were named by the upstream entry's stage", () => {
    const parseB = parse(source("sha-B"))
    const legacy = entryOf(mine(parseB, { sim_th: 0.5 }), { inputs: [parseB.key] })
    const [why] = explain([mine05], [entryOf(parseB), legacy])
    expect(why).toEqual({ stage: "mine", key: mine05.key, state: "miss", nearest: legacy.key, changes: [{ kind: "input", stage: "parse", before: parseB.key, after: parseA.key }] })
  })

  it("names an input the entry read and the node no longer does, and a content digest the node no longer has", () => {
    const withLabels = entryOf(parseA, { key: "k-old", inputs: { ...upstreamKeys(parseA.inputs), extra: "k-gone" } })
    const [parsed] = explain([parseA], [withLabels])
    expect(parsed).toMatchObject({ state: "miss", changes: [{ kind: "input", stage: "extra (no longer read)", before: "k-gone", after: "none" }] })
    const unsalted = node(sourceStage, Schema.decodeUnknownSync(sourceStage.params)({ path: "x.log" }), {})
    const [src] = explain([unsalted], [entryOf(srcA)])
    expect(src).toMatchObject({ state: "miss", changes: [{ kind: "param", path: "<content digest>", before: "sha-A", after: undefined }] })
  })
})

