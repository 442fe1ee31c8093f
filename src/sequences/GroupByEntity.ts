/**
 * Session windows: group parsed rows by the entity ids their content names (HDFS block ids,
 * OpenStack instance ids). Use it when labels are per entity. A row naming several entities
 * belongs to each of them; sequences come out in order of first appearance, which is
 * chronological because rows are scanned in log order. Two passes over flat typed arrays.
 */
import type { ParsedLog, Sequences, TemplatedLog } from "../tasks/Artifacts.ts"
import { LABEL_UNKNOWN } from "../tasks/Artifacts.ts"
import { packStrings } from "../tasks/StringColumn.ts"

/** Options of `groupByEntity`. */
export interface GroupByEntityOptions {
  /** Regular expression source matching one entity id, e.g. `blk_-?\\d+`. */
  readonly pattern: string
}

/**
 * One sequence per distinct entity matched by `opts.pattern` in the rows' content, rows in log
 * order, sequences ordered by their first row. An entity named twice in one row counts that row
 * once. Ids are the matched strings; labels are all LABEL_UNKNOWN.
 */
export const groupByEntity = (parsed: ParsedLog, templated: TemplatedLog, opts: GroupByEntityOptions): Sequences => {
  const regex = compilePattern(opts.pattern)
  const n = parsed.lineNo.length
  if (parsed.content.offsets.length !== n + 1) {
    throw new Error(`groupByEntity: content has ${parsed.content.offsets.length - 1} rows but lineNo has ${n}`)
  }
  if (templated.templateIds.length !== n) {
    throw new Error(`groupByEntity: templateIds has ${templated.templateIds.length} rows but the parsed log has ${n}`)
  }

  // Pass 1: (row, entity) pairs in row order; entities numbered by first appearance.
  const entityIndex = new Map<string, number>()
  const entityIds: Array<string> = []
  let lastRow = new Int32Array(1024)
  let pairRows = new Int32Array(1024)
  let pairEntities = new Int32Array(1024)
  let pairs = 0
  const decoder = new TextDecoder()
  const { blob, offsets } = parsed.content
  for (let row = 0; row < n; row++) {
    const text = decoder.decode(blob.subarray(offsets[row]!, offsets[row + 1]!))
    regex.lastIndex = 0
    for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
      const id = m[0]
      if (id.length === 0) {
        throw new Error(`groupByEntity: pattern ${JSON.stringify(opts.pattern)} matched an empty string; it must match a non-empty entity id`)
      }
      let entity = entityIndex.get(id)
      if (entity === undefined) {
        entity = entityIds.length
        entityIndex.set(id, entity)
        entityIds.push(id)
        if (entity >= lastRow.length) lastRow = grow(lastRow)
        lastRow[entity] = -1
      }
      if (lastRow[entity] === row) continue
      lastRow[entity] = row
      if (pairs === pairRows.length) {
        pairRows = grow(pairRows)
        pairEntities = grow(pairEntities)
      }
      pairRows[pairs] = row
      pairEntities[pairs] = entity
      pairs++
    }
  }

  // Pass 2: counting sort of the pairs by entity; stable, so each entity's rows stay in log order.
  const count = entityIds.length
  const seqOffsets = new Int32Array(count + 1)
  for (let p = 0; p < pairs; p++) seqOffsets[pairEntities[p]! + 1]++
  for (let e = 0; e < count; e++) seqOffsets[e + 1] += seqOffsets[e]!
  const cursor = seqOffsets.slice(0, count)
  const rows = new Int32Array(pairs)
  const events = new Int32Array(pairs)
  const templateIds = templated.templateIds
  for (let p = 0; p < pairs; p++) {
    const at = cursor[pairEntities[p]!]!++
    const row = pairRows[p]!
    rows[at] = row
    events[at] = templateIds[row]!
  }

  return {
    ids: packStrings(entityIds),
    offsets: seqOffsets,
    rows,
    events,
    labels: new Int8Array(count).fill(LABEL_UNKNOWN)
  }
}

const compilePattern = (pattern: string): RegExp => {
  if (pattern.length === 0) throw new Error("groupByEntity: option pattern must be a non-empty regular expression")
  try {
    return new RegExp(pattern, "g")
  } catch (cause) {
    throw new Error(`groupByEntity: option pattern ${JSON.stringify(pattern)} is not a valid regular expression`, { cause })
  }
}

const grow = (a: Int32Array): Int32Array<ArrayBuffer> => {
  const next = new Int32Array(a.length * 2)
  next.set(a)
  return next
}
