/**
 * The input of DeepLog's parameter-value model, built from the represent stage's outputs: for
 * each template, the vectors of its log rows in log order (its numeric parameter values, plus
 * the elapsed time since the previous event of the row's sequence when asked), each tagged with a
 * role: learnt from (rows of the training sequences), scored (rows of the sequences to score) or
 * history only (every other row).
 */
import type { ParameterMatrices } from "../../representations/ParameterValues.ts"
import { type DetectorInputs, type SequenceView, firstOwnEvent } from "../base/Detector.ts"
import { type ParameterSeries, ROLE_CONTEXT } from "./ParameterModel.ts"

const isMatrices = (v: unknown): v is ParameterMatrices =>
  typeof v === "object" && v !== null && "templateIds" in v && v.templateIds instanceof Int32Array &&
  "rowOffsets" in v && v.rowOffsets instanceof Int32Array && "numeric" in v && v.numeric instanceof Float64Array

const isElapsed = (v: unknown): v is { readonly elapsed: Float64Array } =>
  typeof v === "object" && v !== null && "elapsed" in v && v.elapsed instanceof Float64Array

/**
 * One series per template that has parameters (or elapsed times). `roles` assigns a role to the
 * rows of some sequences (e.g. 1 for the training sequences); other rows get ROLE_CONTEXT.
 */
export const parameterSeries = (
  data: SequenceView,
  inputs: DetectorInputs | undefined,
  roles: ReadonlyArray<{ readonly sequences: Int32Array; readonly role: number }>,
  withElapsed: boolean
): Array<ParameterSeries> => {
  const matrices = inputs?.representations.parameters
  if (!isMatrices(matrices)) throw new Error("deeplog: parameter_detection_enabled needs the parameters representation (a raw-log dataset); none was given")
  const elapsedRep = inputs?.representations.elapsed_time
  if (withElapsed && !isElapsed(elapsedRep)) throw new Error("deeplog: parameter_elapsed_time needs the elapsed_time representation (timestamps); none was given")
  const eventRows = inputs!.eventRows
  let maxRow = -1
  for (const r of matrices.rows) if (r > maxRow) maxRow = r
  for (const r of eventRows) if (r > maxRow) maxRow = r
  const roleOfRow = new Uint8Array(maxRow + 1).fill(ROLE_CONTEXT)
  for (const { sequences, role } of roles) {
    for (const s of sequences) {
      // A context event's row is its own chunk's (the one before): its role is that chunk's.
      for (let p = firstOwnEvent(data, s); p < data.offsets[s + 1]!; p++) {
        const r = eventRows[p]!
        if (r >= 0) roleOfRow[r] = role
      }
    }
  }
  // Elapsed time of a row: that of its first event in the sequences (ms since the previous event).
  const elapsedOfRow = new Float64Array(maxRow + 1).fill(Number.NaN)
  if (withElapsed && isElapsed(elapsedRep)) {
    const seen = new Uint8Array(maxRow + 1)
    eventRows.forEach((r, p) => {
      if (r >= 0 && seen[r] === 0) {
        seen[r] = 1
        elapsedOfRow[r] = elapsedRep.elapsed[p]!
      }
    })
  }
  const out: Array<ParameterSeries> = []
  for (let k = 0; k < matrices.templateIds.length; k++) {
    const arity = matrices.arity[k]!
    const dims = arity + (withElapsed ? 1 : 0)
    if (dims === 0) continue
    const rows = matrices.rows.slice(matrices.rowOffsets[k]!, matrices.rowOffsets[k + 1]!)
    const values = new Float64Array(rows.length * dims)
    const role = new Uint8Array(rows.length)
    const base = matrices.valueOffsets[k]!
    for (let m = 0; m < rows.length; m++) {
      for (let j = 0; j < arity; j++) values[m * dims + j] = matrices.numeric[base + m * arity + j]!
      if (withElapsed) values[m * dims + arity] = elapsedOfRow[rows[m]!]!
      role[m] = roleOfRow[rows[m]!]!
    }
    out.push({ templateId: matrices.templateIds[k]!, rows, dims, values, role })
  }
  return out
}

/** Sequences among `which` that hold a flagged row: position j of `which` -> 1. */
export const sequencesWithRows = (data: SequenceView, eventRows: Int32Array, which: Int32Array, flaggedRows: ReadonlySet<number>): Uint8Array =>
  Uint8Array.from(which, (s) => {
    for (let p = firstOwnEvent(data, s); p < data.offsets[s + 1]!; p++) if (flaggedRows.has(eventRows[p]!)) return 1
    return 0
  })
