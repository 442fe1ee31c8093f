/**
 * Parameter values per template position: for each template, a matrix with one row per log row
 * of that template (in log order) and one column per parameter position (`<*>` slot), holding
 * the value's index in the parameter column and its numeric reading. This is the input of
 * DeepLog's parameter-value model and of per-slot statistics. The per-row parameters come from
 * the parameter extractor (src/mining), in the minimal columnar form `RowParameters`.
 */
import type { StringColumn } from "../artifacts/Columns.ts"
import type { TemplatedLog } from "../artifacts/Log.ts"

/** Parameters of every parsed row: row r's values are `values[offsets[r] .. offsets[r+1])`, in slot order. */
export interface RowParameters {
  readonly offsets: Int32Array
  readonly values: StringColumn
}

/** Options of `parameterMatrices`. */
export interface ParameterMatrixOptions {
  /** Only these parsed rows (e.g. the rows of the training sequences); default all rows. */
  readonly rows?: Int32Array
}

/**
 * One matrix per template, concatenated. Template k (id `templateIds[k]`, `arity[k]` positions)
 * has rows `rows[rowOffsets[k] .. rowOffsets[k+1])`; its values are row-major at
 * `valueOffsets[k] ..`: the value of position j of its m-th row is at `valueOffsets[k] + m·arity[k] + j`.
 */
export interface ParameterMatrices {
  readonly templateIds: Int32Array
  readonly arity: Int32Array
  readonly rowOffsets: Int32Array
  readonly rows: Int32Array
  readonly valueOffsets: Int32Array
  /** Index of the value in `RowParameters.values`. */
  readonly valueIndex: Int32Array
  /** The value as a decimal number (`[+-]digits[.digits]`), NaN when it is not one. */
  readonly numeric: Float64Array
  /** Selected rows whose parameter count differs from their template's arity; left out. */
  readonly mismatched: number
}

/**
 * Group the (selected) rows by template and lay out their parameter values per position. A
 * template's arity is the number of `<*>` in its text in `templated.templates`, or, for an id not
 * in the table, the parameter count of its first row. Templates with no selected row are absent.
 */
export const parameterMatrices = (templated: TemplatedLog, params: RowParameters, opts: ParameterMatrixOptions = {}): ParameterMatrices => {
  const { templateIds } = templated
  const n = templateIds.length
  if (params.offsets.length !== n + 1) throw new Error(`parameterMatrices: parameters cover ${params.offsets.length - 1} rows but the log has ${n}`)
  const selected = opts.rows ?? identity(n)
  let maxId = -1
  for (let k = 0; k < selected.length; k++) {
    const row = selected[k]!
    if (row < 0 || row >= n) throw new Error(`parameterMatrices: row ${row} is outside the log (${n} rows)`)
    if (templateIds[row]! > maxId) maxId = templateIds[row]!
  }
  const textArity = new Map<number, number>()
  for (const t of templated.templates) textArity.set(t.id, t.text.split("<*>").length - 1)

  // Arity per template id, then the rows that fit it, grouped by template (counting sort).
  const arityOf = new Int32Array(maxId + 1).fill(-1)
  const rowCount = new Int32Array(maxId + 2)
  let mismatched = 0
  const fits = new Uint8Array(selected.length)
  for (let k = 0; k < selected.length; k++) {
    const row = selected[k]!
    const t = templateIds[row]!
    const count = params.offsets[row + 1]! - params.offsets[row]!
    if (arityOf[t] === -1) arityOf[t] = textArity.get(t) ?? count
    if (count !== arityOf[t]) {
      mismatched++
      continue
    }
    fits[k] = 1
    rowCount[t + 1]++
  }
  const present: Array<number> = []
  for (let t = 0; t <= maxId; t++) if (rowCount[t + 1]! > 0) present.push(t)
  const K = present.length
  const ids = Int32Array.from(present)
  const arity = new Int32Array(K)
  const rowOffsets = new Int32Array(K + 1)
  const valueOffsets = new Int32Array(K + 1)
  const slotOf = new Int32Array(maxId + 1).fill(-1)
  for (let k = 0; k < K; k++) {
    const t = present[k]!
    slotOf[t] = k
    arity[k] = arityOf[t]!
    rowOffsets[k + 1] = rowOffsets[k]! + rowCount[t + 1]!
    valueOffsets[k + 1] = valueOffsets[k]! + rowCount[t + 1]! * arity[k]!
  }
  const rows = new Int32Array(rowOffsets[K]!)
  const valueIndex = new Int32Array(valueOffsets[K]!)
  const numeric = new Float64Array(valueOffsets[K]!)
  const cursor = rowOffsets.slice(0, K)
  const { blob, offsets: vOff } = params.values
  for (let k = 0; k < selected.length; k++) {
    if (fits[k] !== 1) continue
    const row = selected[k]!
    const slot = slotOf[templateIds[row]!]!
    const m = cursor[slot]!++
    rows[m] = row
    const a = arity[slot]!
    const base = valueOffsets[slot]! + (m - rowOffsets[slot]!) * a
    for (let j = 0; j < a; j++) {
      const v = params.offsets[row]! + j
      valueIndex[base + j] = v
      numeric[base + j] = parseDecimal(blob, vOff[v]!, vOff[v + 1]!)
    }
  }
  return { templateIds: ids, arity, rowOffsets, rows, valueOffsets, valueIndex, numeric, mismatched }
}

/** The numeric values of one template position, in log order (NaN where not a number). */
export const positionValues = (m: ParameterMatrices, templateId: number, position: number): { rows: Int32Array; numeric: Float64Array } => {
  const k = m.templateIds.indexOf(templateId)
  if (k < 0) return { rows: new Int32Array(0), numeric: new Float64Array(0) }
  const a = m.arity[k]!
  if (!Number.isInteger(position) || position < 0 || position >= a) {
    throw new Error(`positionValues: template ${templateId} has ${a} parameter positions, not position ${String(position)}`)
  }
  const rows = m.rows.subarray(m.rowOffsets[k]!, m.rowOffsets[k + 1]!)
  const numeric = new Float64Array(rows.length)
  for (let r = 0; r < rows.length; r++) numeric[r] = m.numeric[m.valueOffsets[k]! + r * a + position]!
  return { rows, numeric }
}

const identity = (n: number): Int32Array => {
  const out = new Int32Array(n)
  for (let i = 0; i < n; i++) out[i] = i
  return out
}

/** `[+-]?\d+(\.\d+)?` read from UTF-8 bytes, else NaN. */
const parseDecimal = (blob: Uint8Array, from: number, end: number): number => {
  let i = from
  let sign = 1
  if (i < end && (blob[i] === 0x2d || blob[i] === 0x2b)) {
    if (blob[i] === 0x2d) sign = -1
    i++
  }
  if (i === end) return Number.NaN
  let value = 0
  let digits = 0
  for (; i < end && blob[i]! >= 0x30 && blob[i]! <= 0x39; i++, digits++) value = value * 10 + (blob[i]! - 0x30)
  if (digits === 0) return Number.NaN
  if (i === end) return sign * value
  if (blob[i] !== 0x2e) return Number.NaN
  i++
  let scale = 1
  let frac = 0
  let fracDigits = 0
  for (; i < end && blob[i]! >= 0x30 && blob[i]! <= 0x39; i++, fracDigits++) {
    frac = frac * 10 + (blob[i]! - 0x30)
    scale *= 10
  }
  if (i !== end || fracDigits === 0) return Number.NaN
  return sign * (value + frac / scale)
}
