// Shared inputs of the fit and score stage tests: tiny labelled, split sequences and detector params.
import { Schema } from "effect"
import * as os from "node:os"
import { packStrings } from "../../src/artifacts/Columns.ts"
import type { LabelledSequences, SplitSequences } from "../../src/artifacts/Sequences.ts"
import { getDetector } from "../../src/detectors/registry.ts"
import { DetectorParams } from "../../src/tasks/FitStage.ts"
import type { StageContext } from "../../src/tasks/Task.ts"

export const ctx: StageContext = { dataRoot: os.tmpdir(), sourcesDir: os.tmpdir(), progress: () => {} }

/** Labelled sequences of template ids with their split. */
export const dataset = (seqs: ReadonlyArray<{ events: ReadonlyArray<number>; label: number; split: number }>): { labelled: LabelledSequences; split: SplitSequences } => {
  const offsets = [0]
  for (const s of seqs) offsets.push(offsets.at(-1)! + s.events.length)
  const events = Int32Array.from(seqs.flatMap((s) => s.events))
  const empty = { count: 0, normal: 0, anomaly: 0, unknown: 0 }
  return {
    labelled: {
      sequences: {
        ids: packStrings(seqs.map((_, i) => `s${i}`)),
        offsets: Int32Array.from(offsets),
        rows: Int32Array.from(events, (_, p) => p),
        events,
        labels: Int8Array.from(seqs, (s) => s.label)
      },
      unlabeled: 0
    },
    split: { split: Uint8Array.from(seqs, (s) => s.split), summary: { train: empty, test: empty, ignored: empty } }
  }
}

/** Fit and score params of `detector` with its config decoded by the detector's own schema. */
export const paramsFor = (detector: string, config: unknown, extra: Record<string, unknown> = {}) =>
  Schema.decodeUnknownSync(DetectorParams)({ detector, detector_version: "1", config: Schema.decodeUnknownSync(getDetector(detector).configSchema)(config), seed: 0, ...extra })
