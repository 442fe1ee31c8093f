import { describe, expect, it } from "vitest"
import { applyLineLabels } from "../../src/sequences/Labels.ts"
import { streamChunks } from "../../src/sequences/StreamChunks.ts"
import { unpackStrings } from "../../src/artifacts/Columns.ts"
import { parsedLog, seqRows, templatedLog } from "./fixtures.ts"

const parsed = parsedLog(["a", "b", "c", "d", "e", "f", "g"], { Label: ["-", "-", "-", "X", "-", "-", "-"] })
const templated = templatedLog([0, 1, 2, 3, 4, 5, 6])

describe("streamChunks", () => {
  it("cuts the rows into consecutive chunks without context", () => {
    const { sequences, context } = streamChunks(parsed, templated, { chunkSize: 3 })
    expect(unpackStrings(sequences.ids)).toEqual(["c0", "c3", "c6"])
    expect(Array.from(sequences.offsets)).toEqual([0, 3, 6, 7])
    expect(Array.from(sequences.rows)).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect(Array.from(context)).toEqual([0, 0, 0])
  })

  it("prefixes each chunk with the k rows before it as context (continuous_context)", () => {
    const { sequences, context } = streamChunks(parsed, templated, { chunkSize: 3, continuousContext: 2 })
    expect(Array.from(context)).toEqual([0, 2, 2])
    expect([0, 1, 2].map((i) => seqRows(sequences, i))).toEqual([[0, 1, 2], [1, 2, 3, 4, 5], [4, 5, 6]])
    expect(Array.from(sequences.events)).toEqual([0, 1, 2, 1, 2, 3, 4, 5, 4, 5, 6])
    const whole = streamChunks(parsed, templated, { chunkSize: 3, continuousContext: true })
    expect(Array.from(whole.context)).toEqual([0, 3, 3])
    expect(seqRows(whole.sequences, 2)).toEqual([3, 4, 5, 6])
    const long = streamChunks(parsed, templated, { chunkSize: 2, continuousContext: 5 })
    expect(Array.from(long.context)).toEqual([0, 2, 4, 5])
  })

  it("labels a chunk from its own rows only, not its context", () => {
    const { sequences, context } = streamChunks(parsed, templated, { chunkSize: 3, continuousContext: 2 })
    // row 3 (X) is in chunk c3; chunk c6 carries rows 4 5 as context, not row 3
    expect(Array.from(applyLineLabels(sequences, parsed, { field: "Label", normalValue: "-", context }).labels)).toEqual([0, 1, 0])
    const ctx1 = streamChunks(parsed, templated, { chunkSize: 2, continuousContext: 1 })
    // chunks [0 1] [1 | 2 3] [3 | 4 5] [5 | 6]: the X in row 3 is context of chunk c4
    expect(Array.from(applyLineLabels(ctx1.sequences, parsed, { field: "Label", normalValue: "-", context: ctx1.context }).labels)).toEqual([0, 1, 0, 0])
    expect(Array.from(applyLineLabels(ctx1.sequences, parsed, { field: "Label", normalValue: "-" }).labels)).toEqual([0, 1, 1, 0])
  })

  it("rejects chunk_size <= 0 and a bad continuous_context", () => {
    expect(() => streamChunks(parsed, templated, { chunkSize: 0 })).toThrow(/chunk_size must be an integer >= 1/)
    expect(() => streamChunks(parsed, templated, { chunkSize: -2 })).toThrow(/chunk_size/)
    expect(() => streamChunks(parsed, templated, { chunkSize: 2, continuousContext: -1 })).toThrow(/continuous_context/)
    expect(() => streamChunks(parsed, templated, { chunkSize: 2, continuousContext: 1.5 })).toThrow(/continuous_context/)
  })
})
