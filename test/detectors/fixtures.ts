import * as fs from "node:fs"
import * as path from "node:path"
import { Schema } from "effect"
import type { Detector, SequenceView } from "../../src/detectors/base/Detector.ts"
import type { FitResult } from "../../src/artifacts/Model.ts"
import { readSessionFile } from "../../src/sequences/SessionFile.ts"

/** Builds a SequenceView from event lists and labels (default: all unknown). */
export const view = (sequences: ReadonlyArray<ReadonlyArray<number>>, labels?: ReadonlyArray<number>): SequenceView => {
  const offsets = new Int32Array(sequences.length + 1)
  sequences.forEach((s, i) => (offsets[i + 1] = offsets[i]! + s.length))
  return { offsets, events: Int32Array.from(sequences.flat()), labels: Int8Array.from(labels ?? sequences.map(() => -1)) }
}

/** A sequence holding template t `count` times for each [t, count]. */
export const counts = (...pairs: ReadonlyArray<readonly [template: number, count: number]>): Array<number> =>
  pairs.flatMap(([t, c]) => Array<number>(c).fill(t))

/** The indexes 0..n-1 (or from..to-1). */
export const range = (from: number, to?: number): Int32Array =>
  to === undefined ? Int32Array.from({ length: from }, (_, i) => i) : Int32Array.from({ length: to - from }, (_, i) => from + i)

/** Decode a config with the detector's schema. */
export const decodeConfig = <C, M>(detector: Detector<C, M>, input: unknown): C => Schema.decodeUnknownSync(detector.configSchema)(input)

/** Fit and return the model, throwing the reason if invalid. */
export const fitOk = <C, M>(detector: Detector<C, M>, data: SequenceView, train: ArrayLike<number>, config: unknown = {}): M => {
  const result: FitResult<M> = detector.fit(data, Int32Array.from(train), decodeConfig(detector, config))
  if (result.status !== "ok") throw new Error(result.reason)
  return result.model
}

/** HDFS_100k sessions (deep-loglizer), with train/test indexes. */
export const hdfs100k = () => {
  const root = process.env.FLOW_DATA_ROOT ?? path.resolve(import.meta.dirname, "../../../shared/data")
  const text = fs.readFileSync(path.join(root, "hdfs/sessions/deep-loglizer-HDFS_100k/HDFS_100k_sessions.csv"), "utf8")
  const file = readSessionFile(text, { format: "deeploglizer_csv" })
  const split = file.split!
  const tagged = (tag: number) => Int32Array.from({ length: split.length }, (_, i) => i).filter((i) => split[i] === tag)
  return { data: file.sequences, train: tagged(0), test: tagged(1) }
}
