/**
 * Session windows: group parsed rows by the entity ids their content names (HDFS block ids,
 * OpenStack instance ids). Use it when labels are per entity. A row naming several entities
 * belongs to each of them; sequences come out in order of first appearance, which is
 * chronological because rows are scanned in log order. Two passes over flat typed arrays.
 *
 * The entity id is the whole match, or, when the pattern has a capturing group (numbered or
 * named; `(?:...)` does not count), the text of its first capturing group: `\[instance:
 * ([0-9a-f-]{36})\]` keys sessions by the bare UUID. A match in which that group took no part
 * is skipped.
 *
 * Fast path: a pattern that is an ASCII literal prefix followed by digits (`blk_-?\d+`,
 * `job_\d+`, `id=[0-9]+`) is matched by scanning the UTF-8 content blob bytes directly
 * (Boyer-Moore-Horspool on the prefix, row by row), and ids are hashed as byte ranges, so no
 * string is built per row. Any other pattern runs the RegExp per row. Both give the same result
 * (a test checks it on real HDFS data and on row-edge cases).
 */
import type { ParsedLog, TemplatedLog } from "../artifacts/Log.ts"
import type { Sequences } from "../artifacts/Sequences.ts"
import type { StringColumn } from "../artifacts/Columns.ts"
import { LABEL_UNKNOWN } from "../artifacts/Sequences.ts"
import { growInt32, packStrings } from "../artifacts/Columns.ts"
import { ByteInterner } from "../artifacts/ByteInterner.ts"

/** Options of `groupByEntity`; config spelling in brackets. */
export interface GroupByEntityOptions {
  /**
   * Regular expression source matching one entity id, e.g. `blk_-?\\d+` [`pattern`]; with a
   * capturing group, the first group's text is the id.
   */
  readonly pattern: string
}

/** The pattern found no entity in a non-empty log: the grouping does not fit the data (a config error, not a failure). */
export class NoEntityError extends Error {
  constructor(detail: string) {
    super(`groupByEntity: ${detail}`)
    this.name = "NoEntityError"
  }
}

/** A pattern the byte scanner handles: a literal ASCII prefix, an optional `-`, then one or more digits. */
export interface LiteralDigitsPattern {
  readonly prefix: string
  readonly optionalMinus: boolean
}

/**
 * One sequence per distinct entity matched by `opts.pattern` in the rows' content, rows in log
 * order, sequences ordered by their first row (ties: by position in that row). An entity named
 * twice in one row counts that row once. Ids are the matched strings (the first capturing
 * group's, when the pattern has one); labels are all LABEL_UNKNOWN. Throws naming `pattern` when
 * it is invalid, matches (or its first group captures) an empty string, or finds no entity in a
 * non-empty log.
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
  const grouped = captureGroupCount(opts.pattern) > 0
  // The byte scanner knows whole matches only: a pattern with a capturing group never takes it.
  const fast = grouped ? undefined : literalDigitsPattern(opts.pattern)
  const found = fast !== undefined ? scanLiteralDigits(parsed.content, fast) : scanRegex(parsed.content, regex, opts.pattern, grouped)
  if (found.count === 0 && n > 0) {
    const what = grouped ? "found no entity (its first capturing group took part in no match)" : "matched no line"
    throw new NoEntityError(`pattern ${JSON.stringify(opts.pattern)} ${what} of the ${n} parsed rows; check it against the log's content`)
  }

  // Counting sort of the (row, entity) pairs by entity; stable, so each entity's rows stay in log order.
  const { count, pairs, pairRows, pairEntities } = found
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
  return { ids: found.ids, offsets: seqOffsets, rows, events, labels: new Int8Array(count).fill(LABEL_UNKNOWN) }
}

/**
 * How many capturing groups `pattern` has (numbered and named; `(?:...)`, lookarounds and escaped
 * parentheses do not count), read from the RegExp engine itself: the alternative `|` matches the
 * empty string, and the match array has one slot per group. Throws if the pattern does not compile.
 */
export const captureGroupCount = (pattern: string): number => new RegExp(`${pattern}|`).exec("")!.length - 1

/**
 * The fast-path form of a pattern, or undefined: `<prefix>\d+`, `<prefix>-?\d+` (or `[0-9]+`),
 * where the prefix is non-empty ASCII made of literal characters and escaped punctuation.
 */
export const literalDigitsPattern = (pattern: string): LiteralDigitsPattern | undefined => {
  const m = /^((?:[A-Za-z0-9_:=/#@%,;'"<>~ !&-]|\\[^A-Za-z0-9\s])+?)(-\?)?(?:\\d|\[0-9\])\+$/.exec(pattern)
  if (m === null) return undefined
  return { prefix: m[1]!.replace(/\\(.)/g, "$1"), optionalMinus: m[2] !== undefined }
}

/** (row, entity) pairs in row order, entities numbered by first appearance, and the entity ids. */
interface Found {
  readonly count: number
  readonly ids: StringColumn
  readonly pairs: number
  readonly pairRows: Int32Array
  readonly pairEntities: Int32Array
}

/** Growable (row, entity) pair list that skips a repeat of an entity within one row. */
class PairList {
  pairRows: Int32Array
  pairEntities: Int32Array
  pairs = 0
  private lastRow = new Int32Array(1024).fill(-1)
  constructor(capacity: number) {
    this.pairRows = new Int32Array(Math.max(1024, capacity))
    this.pairEntities = new Int32Array(Math.max(1024, capacity))
  }
  add(row: number, entity: number): void {
    if (entity >= this.lastRow.length) {
      const next = new Int32Array(this.lastRow.length * 2).fill(-1)
      next.set(this.lastRow)
      this.lastRow = next
    }
    if (this.lastRow[entity] === row) return
    this.lastRow[entity] = row
    if (this.pairs === this.pairRows.length) {
      this.pairRows = growInt32(this.pairRows)
      this.pairEntities = growInt32(this.pairEntities)
    }
    this.pairRows[this.pairs] = row
    this.pairEntities[this.pairs] = entity
    this.pairs++
  }
}

/** Every match of `regex` in each row; the id is the whole match, or the first group's text when `grouped`. */
const scanRegex = (content: StringColumn, regex: RegExp, pattern: string, grouped: boolean): Found => {
  const entityIndex = new Map<string, number>()
  const entityIds: Array<string> = []
  const n = content.offsets.length - 1
  const list = new PairList(n)
  const decoder = new TextDecoder()
  const { blob, offsets } = content
  for (let row = 0; row < n; row++) {
    const text = decoder.decode(blob.subarray(offsets[row]!, offsets[row + 1]!))
    regex.lastIndex = 0
    for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
      const id = grouped ? m[1] : m[0]
      // An empty match (a lookahead holding the group) would be found again at the same place.
      if (grouped && m[0].length === 0) regex.lastIndex++
      // The first group took no part in this match: no entity here.
      if (id === undefined) continue
      if (id.length === 0) {
        const what = grouped ? "'s first capturing group captured an empty string" : " matched an empty string"
        throw new Error(`groupByEntity: pattern ${JSON.stringify(pattern)}${what}; it must match a non-empty entity id`)
      }
      let entity = entityIndex.get(id)
      if (entity === undefined) {
        entity = entityIds.length
        entityIndex.set(id, entity)
        entityIds.push(id)
      }
      list.add(row, entity)
    }
  }
  return { count: entityIds.length, ids: packStrings(entityIds), pairs: list.pairs, pairRows: list.pairRows, pairEntities: list.pairEntities }
}

const scanLiteralDigits = (content: StringColumn, spec: LiteralDigitsPattern): Found => {
  const { blob, offsets } = content
  const n = offsets.length - 1
  const prefix = new TextEncoder().encode(spec.prefix)
  const plen = prefix.length
  const lastByte = prefix[plen - 1]!
  // Boyer-Moore-Horspool: look at the byte under the prefix's last position and skip by its shift.
  const shift = new Int32Array(256).fill(plen)
  for (let k = 0; k < plen - 1; k++) shift[prefix[k]!] = plen - 1 - k
  const minus = spec.optionalMinus
  const list = new PairList(n)
  const table = new ByteInterner(1024, 1 << 16)
  for (let row = 0; row < n; row++) {
    const rowEnd = offsets[row + 1]!
    const lastStart = rowEnd - plen
    let i = offsets[row]!
    while (i <= lastStart) {
      const c = blob[i + plen - 1]!
      if (c !== lastByte) {
        i += shift[c]!
        continue
      }
      let k = 0
      while (k < plen - 1 && blob[i + k] === prefix[k]) k++
      let d = i + plen
      if (k === plen - 1 && minus && d + 1 < rowEnd && blob[d] === 0x2d && isDigit(blob[d + 1]!)) d++
      if (k < plen - 1 || d >= rowEnd || !isDigit(blob[d]!)) {
        i += shift[c]!
        continue
      }
      while (d < rowEnd && isDigit(blob[d]!)) d++
      list.add(row, table.intern(blob, i, d))
      i = d
    }
  }
  return { count: table.count, ids: table.column(), pairs: list.pairs, pairRows: list.pairRows, pairEntities: list.pairEntities }
}

const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39

const compilePattern = (pattern: string): RegExp => {
  if (pattern.length === 0) throw new Error("groupByEntity: pattern must be a non-empty regular expression")
  try {
    return new RegExp(pattern, "g")
  } catch (cause) {
    throw new Error(`groupByEntity: pattern ${JSON.stringify(pattern)} is not a valid regular expression`, { cause })
  }
}


