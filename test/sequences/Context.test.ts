// Stream chunks' context events are history only: detectors that read context (DeepLog, Markov)
// never predict or train on them, and every other detector never sees them.
import { describe, expect, it } from "vitest"
import { markov } from "../../src/detectors/Markov.ts"
import { getDetector } from "../../src/detectors/registry.ts"
import { vocabularyOf, windowsOf } from "../../src/detectors/deeplog/Windows.ts"
import { withoutContext } from "../../src/sequences/Context.ts"
import { LABEL_NORMAL, type Sequences } from "../../src/artifacts/Sequences.ts"
import { detectorView } from "../../src/tasks/FitStage.ts"
import { packStrings } from "../../src/artifacts/Columns.ts"
import { decodeConfig } from "../detectors/fixtures.ts"

/** Sequences of template ids; rows number the events in order. */
const sequences = (seqs: ReadonlyArray<ReadonlyArray<number>>): Sequences => {
  const offsets = new Int32Array(seqs.length + 1)
  seqs.forEach((s, i) => (offsets[i + 1] = offsets[i]! + s.length))
  const events = Int32Array.from(seqs.flat())
  return { ids: packStrings(seqs.map((_, i) => `c${i}`)), offsets, rows: Int32Array.from(events, (_, i) => i), events, labels: new Int8Array(seqs.length).fill(LABEL_NORMAL) }
}
const eventsOf = (s: Sequences, i: number) => Array.from(s.events.subarray(s.offsets[i]!, s.offsets[i + 1]!))

describe("withoutContext", () => {
  it("drops each sequence's leading context events, rows with them", () => {
    const seqs = sequences([[1, 2, 3], [3, 4, 5, 6], [7]])
    const trimmed = withoutContext(seqs, Int32Array.of(0, 2, 1))
    expect([0, 1, 2].map((i) => eventsOf(trimmed, i))).toEqual([[1, 2, 3], [5, 6], []])
    expect(Array.from(trimmed.rows)).toEqual([0, 1, 2, 5, 6])
    expect(trimmed.labels).toBe(seqs.labels)
    expect(() => withoutContext(seqs, Int32Array.of(0, 5, 0))).toThrow(/sequence 1 has 4 events, so 5 cannot be context/)
  })

  it("is what a detector that does not read context gets; one that does gets the context beside the events", () => {
    const seqs = sequences([[1, 2], [2, 9, 1, 2]])
    const labelled = { sequences: seqs, unlabeled: 0, context: Int32Array.of(0, 2) }
    const split = { split: Uint8Array.of(0, 1), summary: { train: { count: 1, normal: 1, anomaly: 0, unknown: 0 }, test: { count: 1, normal: 1, anomaly: 0, unknown: 0 }, ignored: { count: 0, normal: 0, anomaly: 0, unknown: 0 } } }
    const plain = detectorView(labelled, split, getDetector("template_frequency"))
    expect(eventsOf(plain, 1)).toEqual([1, 2])
    expect(plain.context).toBeUndefined()
    const history = detectorView(labelled, split, getDetector("markov"))
    expect(eventsOf(history, 1)).toEqual([2, 9, 1, 2])
    expect(Array.from(history.context!)).toEqual([0, 2])
    expect(() => detectorView(labelled, { ...split, sequences: seqs }, getDetector("markov"))).toThrow(/straddle_policy split_partial/)
  })
})

describe("detectors that read context", () => {
  it("Markov scores a chunk by the transitions into its own events, with its context as their history", () => {
    const train = sequences(Array.from({ length: 20 }, () => [1, 2, 3, 1, 2, 3]))
    const config = decodeConfig(markov, { order: 1 })
    const fit = markov.fit(train, Int32Array.from({ length: 20 }, (_, i) => i), config)
    if (fit.status !== "ok") throw new Error(fit.reason)
    // Context [1, 3] then own [1, 2, 3]: 1 -> 3 never occurs in training, but it ends on a context event.
    const chunk = sequences([[1, 3, 1, 2, 3]])
    const withContext = markov.score(fit.model, { ...chunk, context: Int32Array.of(2) }, Int32Array.of(0), config).scores[0]!
    const asOwn = markov.score(fit.model, chunk, Int32Array.of(0), config).scores[0]!
    const normal = markov.score(fit.model, sequences([[1, 2, 3]]), Int32Array.of(0), config).scores[0]!
    expect(withContext).toBeLessThan(asOwn)
    expect(withContext).toBeCloseTo(normal, 9)
    // Next-event accuracy counts the own events only (3 of them, plus no END).
    expect(markov.predictNext!(fit.model, { ...chunk, context: Int32Array.of(2) }, Int32Array.of(0), [1]).events).toBe(3)
  })

  it("DeepLog's windows take context events as history, never as targets; its vocabulary ignores them", () => {
    const data = { ...sequences([[1, 2, 3, 4, 5]]), context: Int32Array.of(2) }
    const vocab = vocabularyOf(data, Int32Array.of(0))
    expect(vocab.keys).toEqual([3, 4, 5])
    const noContext = sequences([[1, 2, 3, 4, 5]])
    const full = vocabularyOf(noContext, Int32Array.of(0))
    const targetsOf = (history: number, padStart: boolean, d: typeof noContext = data) => {
      const w = windowsOf(d, Int32Array.of(0), full, history, padStart)
      return { count: w.count, targets: Array.from(w.targets, (t) => full.keys[t]), firstInputs: Array.from(w.inputs.subarray(0, history), (t) => full.keys[t] ?? "pad") }
    }
    expect(targetsOf(1, false)).toEqual({ count: 3, targets: [3, 4, 5], firstInputs: [2] })
    expect(targetsOf(1, true)).toEqual({ count: 3, targets: [3, 4, 5], firstInputs: [2] })
    expect(targetsOf(3, false)).toEqual({ count: 2, targets: [4, 5], firstInputs: [1, 2, 3] })
    expect(targetsOf(3, true)).toEqual({ count: 3, targets: [3, 4, 5], firstInputs: ["pad", 1, 2] })
    expect(targetsOf(1, true, noContext).count).toBe(5)
  })
})
