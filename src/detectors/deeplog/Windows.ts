/**
 * DeepLog's training and scoring windows: every event of a sequence is predicted from the
 * `history` events before it. Template ids are mapped to a dense vocabulary of the keys seen in
 * training (indexes 0..K-1, the classes of the model's output); two more input indexes stand for
 * padding before a sequence's first event (PAD = K) and for a key never seen in training (UNSEEN =
 * K + 1), so the model's input size is K + 2.
 */
import { type SequenceView, firstOwnEvent } from "../base/Detector.ts"

/** The keys seen in training and the input indexes of padding and unseen keys. */
export interface Vocabulary {
  /** Template id of class k, ascending. */
  readonly keys: ReadonlyArray<number>
  /** Input index of padding (= keys.length). */
  readonly pad: number
  /** Input index of a key not in `keys` (= keys.length + 1); as a target, any index >= the class count means unseen. */
  readonly unseen: number
  /**
   * With an end marker: the output class "the sequence ends here" (= keys.length), predicted after
   * a sequence's last event, so a sequence cut short is a surprise like a wrong key. Never an input.
   */
  readonly end?: number | undefined
}

/** The number of output classes: the keys, plus the end marker when there is one. */
export const classCount = (vocab: Vocabulary): number => vocab.keys.length + (vocab.end === undefined ? 0 : 1)

/** The vocabulary of the keys in the sequences `rows` (their context events not included). */
export const vocabularyOf = (data: SequenceView, rows: Int32Array, endMarker = false): Vocabulary => {
  const seen = new Set<number>()
  for (const s of rows) for (let p = firstOwnEvent(data, s); p < data.offsets[s + 1]!; p++) seen.add(data.events[p]!)
  return vocabularyOfKeys([...seen].sort((a, b) => a - b), endMarker)
}

/** The vocabulary of these keys (ascending template ids). */
export const vocabularyOfKeys = (keys: ReadonlyArray<number>, endMarker: boolean): Vocabulary =>
  ({ keys, pad: keys.length, unseen: keys.length + 1, ...(endMarker ? { end: keys.length } : {}) })

/** Template id → class index (unseen keys are absent). */
export const indexOf = (vocab: Vocabulary): Map<number, number> => new Map(vocab.keys.map((k, i) => [k, i]))

/** Windows: `inputs` holds `history` input indexes per window, `targets` the next key's index (or UNSEEN). */
export interface Windows {
  readonly history: number
  readonly count: number
  /** [count, history] row-major. */
  readonly inputs: Int32Array
  /** [count]: the class of the true next key (or the end marker), or `vocab.unseen` when it was never seen in training. */
  readonly targets: Int32Array
  /** [count]: the sequence index each window belongs to. */
  readonly sequence: Int32Array
  /** [count]: 1 for a window whose target is the end marker (only with an end marker). */
  readonly isEnd?: Uint8Array
  /** [count]: the index in `data.events` of the window's target event (−1 for the end marker). */
  readonly event: Int32Array
}

/**
 * The windows of sequences `rows`, in order. With `padStart`, every event is a target (the
 * history before the first events is padded); without, only events with `history` events before
 * them. With an end marker in the vocabulary, each sequence adds one window whose target is the end.
 * Context events (`data.context`) are history only, never a target.
 */
export const windowsOf = (data: SequenceView, rows: Int32Array, vocab: Vocabulary, history: number, padStart: boolean): Windows => {
  const index = indexOf(vocab)
  const withEnd = vocab.end === undefined ? 0 : 1
  const firstTarget = (s: number) => Math.max(firstOwnEvent(data, s), padStart ? data.offsets[s]! : data.offsets[s]! + history)
  let count = 0
  for (const s of rows) count += Math.max(0, data.offsets[s + 1]! + withEnd - firstTarget(s))
  const inputs = new Int32Array(count * history)
  const targets = new Int32Array(count)
  const sequence = new Int32Array(count)
  const event = new Int32Array(count)
  const isEnd = withEnd === 1 ? new Uint8Array(count) : undefined
  let w = 0
  for (const s of rows) {
    const start = data.offsets[s]!
    const end = data.offsets[s + 1]!
    for (let t = firstTarget(s); t < end + withEnd; t++) {
      for (let j = 0; j < history; j++) {
        const p = t - history + j
        inputs[w * history + j] = p < start ? vocab.pad : (index.get(data.events[p]!) ?? vocab.unseen)
      }
      targets[w] = t === end ? vocab.end! : (index.get(data.events[t]!) ?? vocab.unseen)
      if (t === end) isEnd![w] = 1
      event[w] = t === end ? -1 : t
      sequence[w] = s
      w++
    }
  }
  return { history, count, inputs, targets, sequence, event, ...(isEnd === undefined ? {} : { isEnd }) }
}
