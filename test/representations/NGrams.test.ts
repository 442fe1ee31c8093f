import { describe, expect, it } from "vitest"
import { ngramPhrases, phraseText } from "../../src/representations/NGrams.ts"
import { eventSequences } from "./fixtures.ts"

describe("ngramPhrases", () => {
  const seqs = eventSequences([[1, 2, 1, 2], [2], [2, 1, 2]])

  it("lists n-grams by n then start, interning phrases by first appearance", () => {
    const out = ngramPhrases(seqs, { nMin: 1, nMax: 2 })
    const texts = Array.from(out.phrases, (p) => phraseText(out.table, p))
    // seq 0: 1 2 1 2 | 1-2 2-1 1-2; seq 1: 2; seq 2: 2 1 2 | 2-1 1-2
    expect(texts).toEqual(["1", "2", "1", "2", "1 2", "2 1", "1 2", "2", "2", "1", "2", "2 1", "1 2"])
    expect(Array.from(out.offsets)).toEqual([0, 7, 8, 13])
    expect(Array.from(out.phrases)).toEqual([0, 1, 0, 1, 2, 3, 2, 1, 1, 0, 1, 3, 2])
    expect(Array.from(out.table.offsets)).toEqual([0, 1, 2, 4, 6])
    expect(phraseText(out.table, 3, "_")).toBe("2_1")
  })

  it("only n_max-grams, sequences shorter than n give none", () => {
    const out = ngramPhrases(seqs, { nMin: 3, nMax: 3 })
    expect(Array.from(out.offsets)).toEqual([0, 2, 2, 3])
    expect(Array.from(out.phrases, (p) => phraseText(out.table, p))).toEqual(["1 2 1", "2 1 2", "2 1 2"])
  })

  it("interns many phrases (table growth) consistently", () => {
    const long = eventSequences([Array.from({ length: 5000 }, (_, i) => (i * 7919) % 1009)])
    const out = ngramPhrases(long, { nMin: 2, nMax: 4 })
    const seen = new Map<string, number>()
    const events = Array.from(long.events)
    let at = 0
    for (let n = 2; n <= 4; n++) {
      for (let s = 0; s + n <= events.length; s++, at++) {
        const key = events.slice(s, s + n).join(" ")
        if (!seen.has(key)) seen.set(key, seen.size)
        expect(out.phrases[at]).toBe(seen.get(key))
      }
    }
    expect(out.table.offsets.length - 1).toBe(seen.size)
  })

  it("rejects n_min < 1 and n_max < n_min", () => {
    expect(() => ngramPhrases(seqs, { nMin: 0, nMax: 2 })).toThrow(/n_min must be an integer >= 1/)
    expect(() => ngramPhrases(seqs, { nMin: 1.5, nMax: 2 })).toThrow(/n_min/)
    expect(() => ngramPhrases(seqs, { nMin: 3, nMax: 2 })).toThrow(/n_max must be an integer >= n_min/)
  })
})
