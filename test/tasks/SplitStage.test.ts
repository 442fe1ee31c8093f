// Stage `split`: train / test / ignored per sequence (chronological, seeded random, raw-entry boundary, predefined).
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { packStrings } from "../../src/artifacts/Columns.ts"
import type { ParsedLog } from "../../src/artifacts/Log.ts"
import {
  LABEL_ANOMALY as A,
  LABEL_NORMAL as N,
  LABEL_UNKNOWN as U,
  type LabelledSequences,
  type Sequences,
  SPLIT_IGNORED as IGN,
  SPLIT_TEST as TEST,
  SPLIT_TRAIN as TRAIN,
  type SplitSequences
} from "../../src/artifacts/Sequences.ts"
import { splitStage } from "../../src/tasks/SplitStage.ts"

const decode = (raw: unknown) => Schema.decodeUnknownSync(splitStage.params)(raw)

/** Labelled sequences given as row lists (events = rows). */
const labelled = (rows: ReadonlyArray<ReadonlyArray<number>>, labels: ReadonlyArray<number>, extra: Partial<LabelledSequences> = {}): LabelledSequences => {
  const offsets = [0]
  for (const r of rows) offsets.push(offsets.at(-1)! + r.length)
  const sequences: Sequences = {
    ids: packStrings(rows.map((_, i) => `s${i}`)),
    offsets: Int32Array.from(offsets),
    rows: Int32Array.from(rows.flat()),
    events: Int32Array.from(rows.flat()),
    labels: Int8Array.from(labels)
  }
  return { sequences, unlabeled: labels.filter((l) => l === U).length, ...extra }
}

const parsedRows = (n: number): ParsedLog => ({
  rawLines: n,
  lineNo: Int32Array.from({ length: n }, (_, i) => i + 1),
  content: packStrings(Array.from({ length: n }, (_, i) => `row ${i}`)),
  fields: [],
  unparsed: { count: 0, samples: [] }
})

const run = (raw: unknown, inputs: Parameters<typeof splitStage.run>[1]) => splitStage.run(decode(raw), inputs, {} as never) as SplitSequences

/** Counts per split of the given labels, computed here. */
const summaryOf = (labels: ReadonlyArray<number>, split: ReadonlyArray<number>) => {
  const part = (tag: number) => {
    const l = labels.filter((_, i) => split[i] === tag)
    return { count: l.length, normal: l.filter((x) => x === N).length, anomaly: l.filter((x) => x === A).length, unknown: l.filter((x) => x === U).length }
  }
  return { train: part(TRAIN), test: part(TEST), ignored: part(IGN) }
}

const four = labelled([[0], [1], [2], [3]], [N, A, N, A])

describe("split stage run: chronological", () => {
  it("with train_fraction 0.5 on 4 sequences tags the first 2 train and the rest test", () => {
    const out = run({ train_fraction: 0.5 }, { labelled: four })
    expect(Array.from(out.split)).toEqual([TRAIN, TRAIN, TEST, TEST])
    expect(out.summary).toEqual(summaryOf([N, A, N, A], [TRAIN, TRAIN, TEST, TEST]))
    expect(out.sequences).toBeUndefined()
  })

  it("with a test_fraction, tests the last part and ignores the middle", () => {
    const out = run({ train_fraction: 0.5, test_fraction: 0.25 }, { labelled: four })
    expect(Array.from(out.split)).toEqual([TRAIN, TRAIN, IGN, TEST])
  })

  it("with train_on_normal_entities_only, ignores train-side sequences not known to be normal", () => {
    const mixed = labelled([[0], [1], [2], [3], [4], [5]], [N, A, U, N, A, N])
    const out = run({ train_fraction: 0.5, train_on_normal_entities_only: true }, { labelled: mixed })
    expect(Array.from(out.split)).toEqual([TRAIN, IGN, IGN, TEST, TEST, TEST])
    expect(out.summary).toEqual(summaryOf([N, A, U, N, A, N], [TRAIN, IGN, IGN, TEST, TEST, TEST]))
  })

  it("fails naming train_fraction when the test split would be empty", () => {
    expect(() => run({ train_fraction: 1 }, { labelled: four })).toThrow(/train_fraction 1 leaves the test split empty/)
  })
})

describe("split stage run: random", () => {
  /** mulberry32 and Fisher-Yates written out from their published definitions. */
  const permutation = (n: number, seed: number): Array<number> => {
    let state = seed | 0
    const next = () => {
      state = (state + 0x6d2b79f5) | 0
      let t = Math.imul(state ^ (state >>> 15), 1 | state)
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
    const order = Array.from({ length: n }, (_, i) => i)
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1))
      ;[order[i], order[j]] = [order[j]!, order[i]!]
    }
    return order
  }

  it("tags the first train_fraction of a seeded shuffle train and the rest test, the same for the same seed", () => {
    const ten = labelled(Array.from({ length: 10 }, (_, i) => [i]), Array.from({ length: 10 }, () => N))
    const out = run({ type: "random", train_fraction: 0.6, seed: 42 }, { labelled: ten })
    const order = permutation(10, 42)
    const expected = new Array<number>(10)
    order.forEach((seq, k) => (expected[seq] = k < 6 ? TRAIN : TEST))
    expect(Array.from(out.split)).toEqual(expected)
    expect(Array.from(run({ type: "random", train_fraction: 0.6, seed: 42 }, { labelled: ten }).split)).toEqual(expected)
    const other = run({ type: "random", train_fraction: 0.6, seed: 7 }, { labelled: ten })
    const otherOrder = permutation(10, 7)
    expect(Array.from(other.split)).toEqual(Array.from({ length: 10 }, (_, s) => (otherOrder.indexOf(s) < 6 ? TRAIN : TEST)))
  })
})

describe("split stage run: raw", () => {
  // Six parsed rows; s0 = rows 0, 1; s1 = rows 2, 4 (straddles a boundary at 3); s2 = rows 3, 5.
  const seqs = labelled([[0, 1], [2, 4], [3, 5]], [N, A, N])
  const parsed = parsedRows(6)

  it("puts a straddling sequence on the side its first or last event is on, or drops it", () => {
    const policy = (straddle_policy: string) => Array.from(run({ type: "raw", raw_first_n: 3, straddle_policy }, { labelled: seqs, parsed }).split)
    expect(policy("first_event")).toEqual([TRAIN, TRAIN, TEST])
    expect(policy("last_event")).toEqual([TRAIN, TEST, TEST])
    expect(policy("drop")).toEqual([TRAIN, IGN, TEST])
  })

  it("under split_partial cuts the straddler in two and returns the new sequences, ordered by first row", () => {
    const params = decode({ type: "raw", raw_first_n: 3, straddle_policy: "split_partial" })
    const out = splitStage.run(params, { labelled: seqs, parsed }, {} as never) as SplitSequences
    const s = out.sequences!
    const rowsOf = (i: number) => Array.from(s.rows.subarray(s.offsets[i]!, s.offsets[i + 1]!))
    // s1 becomes s1 (row 2, train) and s1 (row 4, test), placed after s2 (first row 3).
    expect([0, 1, 2, 3].map(rowsOf)).toEqual([[0, 1], [2], [3, 5], [4]])
    expect(Array.from(out.split)).toEqual([TRAIN, TRAIN, TEST, TEST])
    expect(Array.from(s.labels)).toEqual([N, A, N, A])
    expect(splitStage.summarize!(out, params)).toEqual({ split: params, summary: summaryOf([N, A, N, A], [TRAIN, TRAIN, TEST, TEST]), resplit_sequences: 4 })
  })

  it("with raw_first_fraction_of_normal, counts normal entries from the sequences' labels", () => {
    // Row labels from sequences: 0 N, 1 N, 2 A, 3 N, 4 A, 5 N: 4 normal rows; half = 2, the boundary after row 1.
    const out = run({ type: "raw", raw_first_fraction_of_normal: 0.5, straddle_policy: "first_event" }, { labelled: seqs, parsed })
    expect(Array.from(out.split)).toEqual([TRAIN, TEST, TEST])
  })

  it("needs a parsed log", () => {
    expect(() => run({ type: "raw", raw_first_n: 3, straddle_policy: "drop" }, { labelled: seqs })).toThrow(/split type "raw" needs a parsed log/)
  })
})

describe("split stage run: predefined", () => {
  const seqs = labelled([[0], [1], [2], [3]], [N, A, N, A])

  it("copies the session file's split, ignoring non-normal train sequences under train_on_normal_entities_only", () => {
    const predefined = { split: Uint8Array.from([TRAIN, TRAIN, TEST, TEST]) }
    expect(Array.from(run({ type: "predefined" }, { labelled: seqs, predefined }).split)).toEqual([TRAIN, TRAIN, TEST, TEST])
    const normalOnly = run({ type: "predefined", train_on_normal_entities_only: true }, { labelled: seqs, predefined })
    expect(Array.from(normalOnly.split)).toEqual([TRAIN, IGN, TEST, TEST])
    expect(normalOnly.summary).toEqual(summaryOf([N, A, N, A], [TRAIN, IGN, TEST, TEST]))
    // The input split is not modified.
    expect(Array.from(predefined.split)).toEqual([TRAIN, TRAIN, TEST, TEST])
  })

  it("fails when the sessions give no split", () => {
    expect(() => run({ type: "predefined" }, { labelled: seqs, predefined: { split: undefined } })).toThrow(/needs a session dataset whose file gives the split/)
    expect(() => run({ type: "predefined" }, { labelled: seqs })).toThrow(/needs a session dataset/)
  })
})

describe("split stage summarize", () => {
  it("reports the params and the per-split counts", () => {
    const params = decode({ train_fraction: 0.5 })
    const out = splitStage.run(params, { labelled: four }, {} as never) as SplitSequences
    expect(splitStage.summarize!(out, params)).toEqual({
      split: { type: "chronological", train_fraction: 0.5, train_on_normal_entities_only: false },
      summary: {
        train: { count: 2, normal: 1, anomaly: 1, unknown: 0 },
        test: { count: 2, normal: 1, anomaly: 1, unknown: 0 },
        ignored: { count: 0, normal: 0, anomaly: 0, unknown: 0 }
      }
    })
  })
})

describe("split stage params", () => {
  it("defaults type to chronological and train_on_normal_entities_only to false", () => {
    expect(decode({ train_fraction: 0.8 })).toEqual({ type: "chronological", train_fraction: 0.8, train_on_normal_entities_only: false })
    expect(decode({ type: "predefined" })).toEqual({ type: "predefined", train_on_normal_entities_only: false })
  })

  it("rejects an unknown key, naming it", () => {
    expect(() => decode({ train_fraction: 0.8, train_frac: 0.2 })).toThrow(/unknown key "train_frac"/)
  })

  it("rejects bad or misplaced values naming their key", () => {
    expect(() => decode({})).toThrow(/needs train_fraction[\s\S]*\["train_fraction"\]/)
    expect(() => decode({ train_fraction: 0 })).toThrow(/\["train_fraction"\]/)
    expect(() => decode({ train_fraction: 0.5, seed: 1 })).toThrow(/not used by split type "chronological"[\s\S]*\["seed"\]/)
    expect(() => decode({ type: "random", train_fraction: 0.5 })).toThrow(/a random split needs a seed[\s\S]*\["seed"\]/)
    expect(() => decode({ train_fraction: 0.7, test_fraction: 0.4 })).toThrow(/at most 1[\s\S]*\["test_fraction"\]/)
    expect(() => decode({ type: "raw", raw_first_n: 10 })).toThrow(/needs straddle_policy[\s\S]*\["straddle_policy"\]/)
    expect(() => decode({ type: "raw", raw_first_n: 10, raw_first_fraction: 0.5, straddle_policy: "drop" })).toThrow(/exactly one of[\s\S]*\["raw_first_n"\]/)
    expect(() => decode({ type: "raw", raw_first_n: 10, straddle_policy: "middle" })).toThrow(/\["straddle_policy"\]/)
    expect(() => decode({ type: "predefined", train_fraction: 0.5 })).toThrow(/not used by split type "predefined"[\s\S]*\["train_fraction"\]/)
  })
})
