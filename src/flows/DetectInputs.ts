/**
 * The representations a detector reads beside the events (`Detector.needs`: DeepLog's
 * parameter-value model), built for `flow detect`'s batches of closed sequences as the represent
 * stage builds them for a run: parameter values extracted from each line with its template's text
 * (the miner's token-level text, as the run did), laid out per template in log order, and elapsed
 * times between consecutive events of a sequence. Lines are read chunk by chunk while their
 * sequences are open: `keep` stores a chunk's values by line number, `inputs` builds a batch's,
 * `forget` drops the lines no open sequence can hold any more.
 */
import { packStrings } from "../artifacts/Columns.ts"
import type { ParsedLog, Template } from "../artifacts/Log.ts"
import type { DetectorInputs, DetectorNeed } from "../detectors/base/Detector.ts"
import { extractParameterColumn } from "../mining/Parameters.ts"
import type { MinerState } from "../mining/MinerState.ts"
import { parameterMatrices } from "../representations/ParameterValues.ts"
import type { ClosedSequences } from "../sequences/StreamGroup.ts"

export class DetectInputs {
  readonly needs: ReadonlySet<DetectorNeed>
  private readonly state: MinerState
  /** Parameter values by line number, for lines open sequences may still hold. */
  private readonly values = new Map<number, ReadonlyArray<string>>()

  constructor(needs: ReadonlyArray<DetectorNeed>, state: MinerState) {
    this.needs = new Set(needs)
    this.state = state
  }

  /** The token-level template table by id: the miner's, then `extra` (provisional templates). */
  private table(extra: ReadonlyMap<number, string>): Array<Template> {
    const table: Array<Template> = []
    for (const t of this.state.templates) table[t.id] = { id: t.id, text: t.text, count: t.count }
    for (const [id, text] of extra) table[id] ??= { id, text, count: 0 }
    return table
  }

  /** A chunk's rows (global `lineNo`) with their template ids: their parameter values, kept. */
  keep(parsed: ParsedLog, templateIds: Int32Array, provisional: ReadonlyMap<number, string>): void {
    if (!this.needs.has("parameters")) return
    const column = extractParameterColumn(parsed.content, { templateIds, templates: this.table(provisional) }, this.state.options)
    const blob = Buffer.from(column.values.blob.buffer, column.values.blob.byteOffset, column.values.blob.byteLength)
    for (let r = 0; r < templateIds.length; r++) {
      const row: Array<string> = []
      for (let v = column.offsets[r]!; v < column.offsets[r + 1]!; v++) row.push(blob.toString("utf8", column.values.offsets[v]!, column.values.offsets[v + 1]!))
      this.values.set(parsed.lineNo[r]!, row)
    }
  }

  /** Drop the values of lines before `line` (no open sequence holds them). */
  forget(line: number): void {
    for (const l of this.values.keys()) {
      if (l >= line) break // inserted in line order
      this.values.delete(l)
    }
  }

  /** What the detector reads for a batch: one row per distinct line, in line order. */
  inputs(batch: ClosedSequences, provisional: ReadonlyMap<number, string>): DetectorInputs {
    const lines = [...new Set(batch.lineNo)].sort((a, b) => a - b)
    const rowOf = new Map(lines.map((l, r) => [l, r]))
    const eventRows = Int32Array.from(batch.lineNo, (l) => rowOf.get(l)!)
    const representations: Partial<Record<DetectorNeed, unknown>> = {}
    if (this.needs.has("parameters")) {
      // The template of each row (every event of a line has the line's template).
      const templateIds = new Int32Array(lines.length)
      batch.events.forEach((id, p) => { templateIds[eventRows[p]!] = id })
      const offsets = new Int32Array(lines.length + 1)
      const values: Array<string> = []
      lines.forEach((l, r) => {
        offsets[r] = values.length
        for (const v of this.values.get(l) ?? []) values.push(v)
      })
      offsets[lines.length] = values.length
      const column = { offsets, values: packStrings(values) }
      representations.parameters = { ...parameterMatrices({ templateIds, templates: this.table(provisional) }, column), values: column.values }
    }
    if (this.needs.has("elapsed_time")) {
      const elapsed = new Float64Array(batch.events.length)
      for (let s = 0; s + 1 < batch.offsets.length; s++) {
        for (let p = batch.offsets[s]!; p < batch.offsets[s + 1]!; p++) {
          elapsed[p] = p === batch.offsets[s]! ? (Number.isNaN(batch.times[p]!) ? Number.NaN : 0) : batch.times[p]! - batch.times[p - 1]!
        }
      }
      representations.elapsed_time = { offsets: batch.offsets, elapsed }
    }
    return { eventRows, representations }
  }
}
