import { describe, expect, it } from "vitest"
import { countVectors, denseCounts } from "../../src/representations/CountVectors.ts"
import { eventColumns } from "../../src/representations/EventSequences.ts"
import { buildVocabulary, columnOf, vocabularyOf } from "../../src/representations/Vocabulary.ts"
import { groupByEntity } from "../../src/sequences/GroupByEntity.ts"
import { hdfsLog } from "../sequences/fixtures.ts"
import { eventSequences } from "./fixtures.ts"

describe("vocabulary and template-id sequences", () => {
  const seqs = eventSequences([[5, 2, 5], [9], [2, 7, 7, 7]])

  it("numbers the template ids ascending; train-only vocabularies leave test templates out", () => {
    const all = buildVocabulary(seqs)
    expect(Array.from(all.templateIds)).toEqual([2, 5, 7, 9])
    expect([2, 5, 7, 9, 3, 100, -1].map((t) => columnOf(all, t))).toEqual([0, 1, 2, 3, -1, -1, -1])
    const train = buildVocabulary(seqs, { split: Uint8Array.from([0, 1, 1]), tag: 0 })
    expect(Array.from(train.templateIds)).toEqual([2, 5])
    expect(() => vocabularyOf([1, -2])).toThrow(/template id -2/)
    expect(() => buildVocabulary(seqs, { split: new Uint8Array(2), tag: 0 })).toThrow(/split/)
  })

  it("maps events to columns, out-of-vocabulary to a code", () => {
    const train = buildVocabulary(seqs, { split: Uint8Array.from([0, 1, 1]), tag: 0 })
    const cols = eventColumns(seqs, train)
    expect(Array.from(cols.columns)).toEqual([1, 0, 1, -1, 0, -1, -1, -1])
    expect(cols.oov).toBe(4)
    expect(cols.offsets).toBe(seqs.offsets)
    expect(Array.from(eventColumns(seqs, train, 99).columns)).toEqual([1, 0, 1, 99, 0, 99, 99, 99])
  })
})

describe("countVectors", () => {
  it("counts per sequence in CSR with ascending columns; dense expansion", () => {
    const seqs = eventSequences([[5, 2, 5], [9], [], [7, 2, 7, 7, 3]])
    const vocab = vocabularyOf([2, 5, 7])
    const m = countVectors(seqs, vocab)
    expect(m.rows).toBe(4)
    expect(m.cols).toBe(3)
    expect(Array.from(m.indptr)).toEqual([0, 2, 2, 2, 4])
    expect(Array.from(m.indices)).toEqual([0, 1, 0, 2])
    expect(Array.from(m.data)).toEqual([1, 2, 1, 3])
    expect(Array.from(m.oov)).toEqual([0, 1, 0, 1])
    expect(Array.from(denseCounts(m))).toEqual([1, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 3])
  })

  it("matches a Map-based count over HDFS_20000 blocks", () => {
    const { parsed, templated } = hdfsLog("hdfs/raw/HDFS_20000.log")
    const seqs = groupByEntity(parsed, templated, { pattern: "blk_-?\\d+" })
    const vocab = buildVocabulary(seqs)
    const m = countVectors(seqs, vocab)
    const dense = denseCounts(m)
    for (const i of [0, 1, 500, 1781]) {
      const counts = new Map<number, number>()
      for (let p = seqs.offsets[i]!; p < seqs.offsets[i + 1]!; p++) counts.set(seqs.events[p]!, (counts.get(seqs.events[p]!) ?? 0) + 1)
      for (let c = 0; c < m.cols; c++) expect(dense[i * m.cols + c]).toBe(counts.get(vocab.templateIds[c]!) ?? 0)
    }
    expect(m.data.reduce((a, b) => a + b, 0)).toBe(seqs.events.length)
  })
})
