/**
 * The group stage's four groupings, incremental: `StreamGrouper` takes a log chunk by chunk
 * (parsed rows with global line numbers and their template ids) and hands back the sequences each
 * chunk closed, so `flow detect` groups a log of any size with flat memory. Every sequence it
 * emits has the id, events and line numbers the batch function (`groupByEntity`, `groupByField`,
 * `fixedWindows`, `timeWindows`, `streamChunks`) gives on the whole log; only what open
 * sequences still need is kept:
 *
 * - entity (`pattern` or `field`): each chunk is grouped by the batch function and merged into one
 *   open sequence per entity, emitted by `finish()`, or earlier when `idleCloseMs` is finite and
 *   the entity has been quiet that long (a later row of it opens a new sequence with the same id).
 * - fixed windows: a window is emitted as soon as no later row can fall in it; only rows of
 *   windows not yet emitted are held (at most `window_size` positions).
 * - time windows: anchored at the first timestamp seen (the batch anchors at the smallest: the
 *   same for time-ordered input); a window is emitted when a row at or past its end arrives, rows
 *   that come after all their windows were emitted are counted as `late` and dropped.
 * - stream chunks: a chunk is emitted when its last row arrives; the context rows before the
 *   current chunk and its own rows are held.
 */
import type { ParsedLog, TemplatedLog } from "../artifacts/Log.ts"
import type { Sequences } from "../artifacts/Sequences.ts"
import { stringAt } from "../artifacts/Columns.ts"
import { captureGroupCount, groupByEntity, NoEntityError } from "./GroupByEntity.ts"
import { groupByField } from "./GroupByField.ts"
import { contextRows } from "./StreamChunks.ts"

/** A grouping as the group stage's params spell it (`GroupParams` is assignable to it). */
export type StreamGrouping =
  | { readonly type: "entity"; readonly pattern?: string; readonly field?: string }
  | {
    readonly type: "fixed_window"
    readonly window_size: number
    readonly step: number
    readonly basis: "parsed" | "raw"
    readonly window_alignment_offset: number
  }
  | { readonly type: "time_window"; readonly time_span_ms: number; readonly step_ms: number }
  | { readonly type: "stream_chunks"; readonly chunk_size: number; readonly continuous_context: boolean | number }

export interface StreamGroupOptions {
  /**
   * Entity grouping only: an entity's open sequence is closed when the log's clock passes its
   * last event's time by more than this many ms (Infinity = only at finish, the default). Rows
   * without a timestamp do not move the clock. Checked after each push.
   */
  readonly idleCloseMs?: number
}

/** Closed sequences, in the order they closed; per event its template id, raw line number and time. */
export interface ClosedSequences {
  readonly ids: ReadonlyArray<string>
  /** Sequence i covers [offsets[i], offsets[i+1]). */
  readonly offsets: Int32Array
  /** Template id per event. */
  readonly events: Int32Array
  /** 1-based raw line number of each event's row. */
  readonly lineNo: Int32Array
  /** Ms per event (NaN when the row has no timestamp or the log has none). */
  readonly times: Float64Array
  /** Stream chunks: leading context events per sequence (zeros without `continuous_context`). */
  readonly context?: Int32Array
}

export class StreamGrouper {
  private readonly impl: Grouper
  private lastLineNo = 0
  private rawSeen = 0

  constructor(grouping: StreamGrouping, options: StreamGroupOptions = {}) {
    switch (grouping.type) {
      case "entity":
        this.impl = new EntityGrouper(grouping, options.idleCloseMs ?? Number.POSITIVE_INFINITY)
        break
      case "fixed_window":
        this.impl = new FixedGrouper(grouping)
        break
      case "time_window":
        this.impl = new TimeGrouper(grouping)
        break
      case "stream_chunks":
        this.impl = new ChunkGrouper(grouping)
        break
    }
  }

  /**
   * The next chunk of the log: `parsed` holds consecutive raw lines whose `lineNo` values are
   * GLOBAL (continuing the previous chunk's numbering), `parsed.rawLines` is the number of raw
   * lines in this chunk, `templated.templateIds` has one id per parsed row. Returns the sequences
   * this chunk closed.
   */
  push(parsed: ParsedLog, templated: TemplatedLog): ClosedSequences {
    const n = parsed.lineNo.length
    if (templated.templateIds.length !== n) {
      throw new Error(`StreamGrouper: templateIds has ${templated.templateIds.length} rows but the parsed chunk has ${n}`)
    }
    if (parsed.timestamps !== undefined && parsed.timestamps.length !== n) {
      throw new Error(`StreamGrouper: timestamps has ${parsed.timestamps.length} rows but the parsed chunk has ${n}`)
    }
    if (!Number.isSafeInteger(parsed.rawLines) || parsed.rawLines < n) {
      throw new Error(`StreamGrouper: the chunk's rawLines (${String(parsed.rawLines)}) must be an integer >= its ${n} parsed rows`)
    }
    if (n > 0) {
      const first = parsed.lineNo[0]!
      const last = parsed.lineNo[n - 1]!
      if (first <= this.lastLineNo || last > this.rawSeen + parsed.rawLines) {
        throw new Error(
          `StreamGrouper: the chunk's line numbers ${first}..${last} do not continue the log (${this.rawSeen} raw lines so far, ` +
            `last parsed line ${this.lastLineNo}, ${parsed.rawLines} raw lines in this chunk); give global line numbers`
        )
      }
      this.lastLineNo = last
    }
    this.rawSeen += parsed.rawLines
    const out = new Emitter(this.impl.withContext)
    this.impl.push(parsed, templated, out)
    return out.build()
  }

  /** End of input: every open sequence (partial windows included, as the batch functions keep them). */
  finish(): ClosedSequences {
    const out = new Emitter(this.impl.withContext)
    this.impl.finish(out)
    return out.build()
  }

  /** Entity grouping: how many rows named at least one entity so far (the caller reports a pattern that finds none). */
  get rowsWithEntity(): number {
    return this.impl.rowsWithEntity
  }

  /** Time windows: rows without a timestamp so far (in no window). */
  get untimed(): number {
    return this.impl.untimed
  }

  /** Time windows: rows older than every still-open window (late, dropped). */
  get late(): number {
    return this.impl.late
  }

  /** Events currently held in open sequences (for memory checks). */
  get openEvents(): number {
    return this.impl.openEvents
  }

  /** The smallest line number an open sequence holds, Infinity when none: no later sequence holds an earlier line. */
  oldestLine(): number {
    return this.impl.oldestLine()
  }
}

/** What each grouping does with a chunk and at the end. */
interface Grouper {
  readonly withContext: boolean
  readonly rowsWithEntity: number
  readonly untimed: number
  readonly late: number
  readonly openEvents: number
  /** The smallest line number an open sequence holds (Infinity when none). */
  oldestLine(): number
  push(parsed: ParsedLog, templated: TemplatedLog, out: Emitter): void
  finish(out: Emitter): void
}

// ---------------------------------------------------------------------------------------------
// Entity

/** One entity's open sequence (plain arrays: most hold a few events, and small typed arrays cost more to make than to fill). */
class OpenEntity {
  readonly events: Array<number> = []
  readonly lineNo: Array<number> = []
  readonly times: Array<number> = []
  /** The latest time of its events (for an untimed event: the clock when it came); -Infinity: none yet. */
  lastTime = Number.NEGATIVE_INFINITY

  get length(): number {
    return this.events.length
  }

  add(event: number, line: number, time: number): void {
    this.events.push(event)
    this.lineNo.push(line)
    this.times.push(time)
  }
}

class EntityGrouper implements Grouper {
  readonly withContext = false
  readonly untimed = 0
  readonly late = 0
  rowsWithEntity = 0
  openEvents = 0
  /** Open sequences by entity id, in order of their first row (Map keeps insertion order). */
  private readonly open = new Map<string, OpenEntity>()

  oldestLine(): number {
    // The first open entity (insertion order) opened first, and its first event is its oldest line.
    for (const open of this.open.values()) return open.lineNo[0] ?? Number.POSITIVE_INFINITY
    return Number.POSITIVE_INFINITY
  }
  /** The largest timestamp seen (the log's clock), and the first one (when the clock started). */
  private clock = Number.NEGATIVE_INFINITY
  private firstTime = Number.NaN
  private readonly pattern: string | undefined
  private readonly field: string | undefined
  private readonly idle: number

  constructor(grouping: { readonly pattern?: string; readonly field?: string }, idleCloseMs: number) {
    if ((grouping.pattern === undefined) === (grouping.field === undefined)) {
      throw new Error("StreamGrouper: an entity grouping needs exactly one of pattern or field")
    }
    if (!(idleCloseMs >= 0)) throw new Error(`StreamGrouper: idleCloseMs must be a number >= 0 or Infinity, got ${String(idleCloseMs)}`)
    this.idle = idleCloseMs
    this.pattern = grouping.pattern
    this.field = grouping.field
    // Fail now, not at the first chunk, on a pattern that does not compile.
    if (this.pattern !== undefined) {
      try {
        captureGroupCount(this.pattern)
      } catch (cause) {
        throw new Error(`StreamGrouper: pattern ${JSON.stringify(this.pattern)} is not a valid regular expression`, { cause })
      }
    }
  }

  push(parsed: ParsedLog, templated: TemplatedLog, out: Emitter): void {
    const n = parsed.lineNo.length
    if (n === 0) return
    const seqs = this.group(parsed, templated)
    if (this.field !== undefined) {
      this.rowsWithEntity += n
    } else {
      const named = new Uint8Array(n)
      let count = 0
      for (let p = 0; p < seqs.rows.length; p++) {
        const row = seqs.rows[p]!
        if (named[row] === 0) {
          named[row] = 1
          count++
        }
      }
      this.rowsWithEntity += count
    }

    const ts = parsed.timestamps
    const timed = this.idle !== Number.POSITIVE_INFINITY && ts !== undefined
    // The clock at each row (the largest timestamp up to and including it): an untimed event's time for idleness.
    const clockAt = timed ? new Float64Array(n) : undefined
    if (timed) {
      let c = this.clock
      for (let row = 0; row < n; row++) {
        const t = ts[row]!
        if (!Number.isNaN(t)) {
          if (Number.isNaN(this.firstTime)) this.firstTime = t
          if (t > c) c = t
        }
        clockAt![row] = c
      }
      this.clock = c
    }

    const lineNo = parsed.lineNo
    for (let i = 0; i + 1 < seqs.offsets.length; i++) {
      const id = stringAt(seqs.ids, i)
      let open = this.open.get(id)
      if (open === undefined) {
        open = new OpenEntity()
        this.open.set(id, open)
      }
      const from = seqs.offsets[i]!
      const to = seqs.offsets[i + 1]!
      for (let p = from; p < to; p++) {
        const row = seqs.rows[p]!
        const t = ts === undefined ? Number.NaN : ts[row]!
        open.add(seqs.events[p]!, lineNo[row]!, t)
        if (clockAt !== undefined) {
          const at = Number.isNaN(t) ? clockAt[row]! : t
          if (at > open.lastTime) open.lastTime = at
        }
      }
      this.openEvents += to - from
    }

    if (!timed || this.clock === Number.NEGATIVE_INFINITY) return
    for (const [id, open] of this.open) {
      // An entity seen only before the log's first timestamp counts from that timestamp.
      const last = open.lastTime === Number.NEGATIVE_INFINITY ? this.firstTime : open.lastTime
      if (last + this.idle < this.clock) this.close(id, open, out)
    }
  }

  finish(out: Emitter): void {
    for (const [id, open] of this.open) this.close(id, open, out)
  }

  private close(id: string, open: OpenEntity, out: Emitter): void {
    out.begin(id)
    out.addArrays(open.events, open.lineNo, open.times)
    out.end(0)
    this.openEvents -= open.length
    this.open.delete(id)
  }

  /** The chunk's sequences by the batch function; a chunk naming no entity has none. */
  private group(parsed: ParsedLog, templated: TemplatedLog): Sequences {
    if (this.field !== undefined) return groupByField(parsed, templated, this.field)
    try {
      return groupByEntity(parsed, templated, { pattern: this.pattern! })
    } catch (e) {
      if (e instanceof NoEntityError) return { ids: { blob: new Uint8Array(0), offsets: new Int32Array(1) }, offsets: new Int32Array(1), rows: new Int32Array(0), events: new Int32Array(0), labels: new Int8Array(0) }
      throw e
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Fixed windows

class FixedGrouper implements Grouper {
  readonly withContext = false
  readonly rowsWithEntity = 0
  readonly untimed = 0
  readonly late = 0
  private readonly size: number
  private readonly step: number
  private readonly offset: number
  private readonly raw: boolean
  /** Index of the next window to emit: it starts at offset + k·step. */
  private k = 0
  /** Parsed rows and raw lines seen. */
  private rows = 0
  private rawLines = 0
  /** Rows that windows k, k+1, ... still need, keyed by position (ascending). */
  private readonly held = new RowBuffer()

  constructor(g: { readonly window_size: number; readonly step: number; readonly basis: "parsed" | "raw"; readonly window_alignment_offset: number }) {
    for (const [key, v, min] of [["window_size", g.window_size, 1], ["step", g.step, 1], ["window_alignment_offset", g.window_alignment_offset, 0]] as const) {
      if (!Number.isSafeInteger(v) || v < min) throw new Error(`StreamGrouper: ${key} must be an integer >= ${min}, got ${String(v)}`)
    }
    if (g.basis !== "parsed" && g.basis !== "raw") throw new Error(`StreamGrouper: basis must be "parsed" or "raw", got ${JSON.stringify(g.basis)}`)
    this.size = g.window_size
    this.step = g.step
    this.offset = g.window_alignment_offset
    this.raw = g.basis === "raw"
  }

  get openEvents(): number {
    return this.held.length
  }

  oldestLine(): number {
    return this.held.minLine()
  }

  private start(k: number): number {
    return this.offset + k * this.step
  }

  push(parsed: ParsedLog, templated: TemplatedLog, out: Emitter): void {
    const n = parsed.lineNo.length
    const { size, step, offset } = this
    const from = this.start(this.k)
    const ts = parsed.timestamps
    for (let row = 0; row < n; row++) {
      const pos = this.raw ? parsed.lineNo[row]! - 1 : this.rows + row
      // Only rows inside some window not yet emitted (none between windows when step > size).
      if (pos < from || pos < offset || (pos - offset) % step >= size) continue
      this.held.add(pos, templated.templateIds[row]!, parsed.lineNo[row]!, ts === undefined ? Number.NaN : ts[row]!)
    }
    this.rows += n
    this.rawLines += parsed.rawLines
    this.emit(out, this.raw ? this.rawLines : this.rows, false)
  }

  finish(out: Emitter): void {
    const end = this.raw ? this.rawLines : this.rows
    if (this.rows > 0 && this.offset >= end) {
      throw new Error(
        `StreamGrouper: window_alignment_offset ${this.offset} is at or past the end of the log (${end} ${this.raw ? "raw lines" : "parsed rows"})`
      )
    }
    this.emit(out, end, true)
  }

  /**
   * Emit the windows that are complete once `end` positions were seen (start + size <= end), or,
   * `final`, every window starting before `end`; empty windows are skipped, not emitted.
   */
  private emit(out: Emitter, end: number, final: boolean): void {
    const { size, step, offset, held } = this
    for (;;) {
      const s = this.start(this.k)
      if (final ? s >= end : s + size > end) return
      if (held.length === 0) {
        // Every complete window is empty: jump past them.
        if (!final) this.k = Math.max(this.k, Math.floor((end - size - offset) / step) + 1)
        return
      }
      const first = held.keyAt(0)
      if (s + size <= first) {
        this.k = Math.max(this.k + 1, Math.floor((first - size - offset) / step) + 1)
        continue
      }
      out.begin(`w${s}`)
      for (let i = 0; i < held.length && held.keyAt(i) < s + size; i++) held.emitTo(out, i)
      out.end(0)
      this.k++
      held.dropBelow(this.start(this.k))
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Time windows

class TimeGrouper implements Grouper {
  readonly withContext = false
  readonly rowsWithEntity = 0
  untimed = 0
  late = 0
  private readonly span: number
  private readonly step: number
  /** The first timestamp seen: window k covers [t0 + k·step, t0 + k·step + span). */
  private t0 = Number.NaN
  /** Index of the next window to emit. */
  private k = 0
  private rows = 0
  /** Timed rows that windows k, k+1, ... still need, keyed by time, in row order. */
  private readonly held = new RowBuffer()

  constructor(g: { readonly time_span_ms: number; readonly step_ms: number }) {
    for (const [key, v] of [["time_span_ms", g.time_span_ms], ["step_ms", g.step_ms]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new Error(`StreamGrouper: ${key} must be an integer >= 1 (milliseconds), got ${String(v)}`)
    }
    this.span = g.time_span_ms
    this.step = g.step_ms
  }

  get openEvents(): number {
    return this.held.length
  }

  oldestLine(): number {
    return this.held.minLine()
  }

  /** Start of window k, computed as `timeWindows` does. */
  private start(k: number): number {
    return this.t0 + k * this.step
  }

  /** The first window index whose end is past `t`. */
  private firstEndingAfter(t: number): number {
    let k = Math.max(0, Math.floor((t - this.t0 - this.span) / this.step) + 1)
    while (k > 0 && this.start(k - 1) + this.span > t) k--
    while (this.start(k) + this.span <= t) k++
    return k
  }

  push(parsed: ParsedLog, templated: TemplatedLog, out: Emitter): void {
    const n = parsed.lineNo.length
    const ts = parsed.timestamps
    if (ts === undefined) {
      throw new Error("StreamGrouper: time_span_ms needs per-row timestamps, but this parsed log has none (its format has no time field)")
    }
    this.rows += n
    for (let row = 0; row < n; row++) {
      const t = ts[row]!
      if (Number.isNaN(t)) {
        this.untimed++
        continue
      }
      if (Number.isNaN(this.t0)) this.t0 = t
      if (t < this.t0) {
        this.late++
        continue
      }
      this.emitEndingBy(t, out)
      // The last window starting at or before t; the row is in a window iff it is in that one.
      let last = Math.floor((t - this.t0) / this.step)
      while (this.start(last + 1) <= t) last++
      while (last > 0 && this.start(last) > t) last--
      if (t >= this.start(last) + this.span) continue // between windows (step > span): in none, as in the batch
      if (last < this.k) {
        this.late++
        continue
      }
      this.held.add(t, templated.templateIds[row]!, parsed.lineNo[row]!, t)
    }
  }

  finish(out: Emitter): void {
    if (this.rows > 0 && this.rows === this.untimed) {
      throw new Error(`StreamGrouper: time_span_ms needs timestamps, but none of the ${this.rows} parsed rows has a parseable time`)
    }
    this.emitEndingBy(Number.POSITIVE_INFINITY, out)
  }

  /** Emit every window whose end is at or before `t` (all, for Infinity); empty ones are skipped. */
  private emitEndingBy(t: number, out: Emitter): void {
    const { span, held } = this
    while (this.start(this.k) + span <= t) {
      if (held.length === 0) {
        if (t !== Number.POSITIVE_INFINITY) this.k = Math.max(this.k, this.firstEndingAfter(t))
        return
      }
      // Windows ending by the earliest held row are empty; only those ending by t are complete.
      const m = Math.min(held.minKey(), t)
      const s = this.start(this.k)
      if (s + span <= m) {
        this.k = Math.max(this.k + 1, this.firstEndingAfter(m))
        continue
      }
      out.begin(`t${Math.floor(s)}`)
      for (let i = 0; i < held.length; i++) {
        const key = held.keyAt(i)
        if (key >= s && key < s + span) held.emitTo(out, i)
      }
      out.end(0)
      this.k++
      held.retainFrom(this.start(this.k))
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Stream chunks

class ChunkGrouper implements Grouper {
  readonly withContext = true
  readonly rowsWithEntity = 0
  readonly untimed = 0
  readonly late = 0
  private readonly size: number
  private readonly context: number
  /** Parsed rows seen, and the first row of the chunk being filled. */
  private rows = 0
  private chunkStart = 0
  /** The context rows before the current chunk and its own rows, keyed by global row index. */
  private readonly held = new RowBuffer()

  constructor(g: { readonly chunk_size: number; readonly continuous_context: boolean | number }) {
    const size = g.chunk_size
    if (!Number.isSafeInteger(size) || size < 1) throw new Error(`StreamGrouper: chunk_size must be an integer >= 1, got ${String(size)}`)
    const k = contextRows(g.continuous_context, size)
    if (!Number.isSafeInteger(k) || k < 0) {
      throw new Error(`StreamGrouper: continuous_context must be true, false or an integer >= 0 (context rows), got ${String(g.continuous_context)}`)
    }
    this.size = size
    this.context = k
  }

  get openEvents(): number {
    return this.held.length
  }

  oldestLine(): number {
    return this.held.minLine()
  }

  push(parsed: ParsedLog, templated: TemplatedLog, out: Emitter): void {
    const n = parsed.lineNo.length
    const ts = parsed.timestamps
    for (let row = 0; row < n; row++) {
      this.held.add(this.rows, templated.templateIds[row]!, parsed.lineNo[row]!, ts === undefined ? Number.NaN : ts[row]!)
      this.rows++
      if (this.rows - this.chunkStart === this.size) this.emitChunk(out)
    }
  }

  finish(out: Emitter): void {
    if (this.rows > this.chunkStart) this.emitChunk(out)
    this.held.dropBelow(Number.POSITIVE_INFINITY)
  }

  private emitChunk(out: Emitter): void {
    const { held } = this
    const ctx = Math.min(this.context, this.chunkStart)
    const from = this.chunkStart - ctx
    out.begin(`c${this.chunkStart}`)
    for (let i = 0; i < held.length; i++) if (held.keyAt(i) >= from) held.emitTo(out, i)
    out.end(ctx)
    this.chunkStart = this.rows
    held.dropBelow(this.chunkStart - this.context)
  }
}

// ---------------------------------------------------------------------------------------------
// Buffers

/** Held rows (key, template id, line number, time) as a queue over growable typed arrays. */
class RowBuffer {
  private keys = new Float64Array(64)
  private events = new Int32Array(64)
  private lineNo = new Int32Array(64)
  private times = new Float64Array(64)
  private head = 0
  private tail = 0

  get length(): number {
    return this.tail - this.head
  }

  keyAt(i: number): number {
    return this.keys[this.head + i]!
  }

  minLine(): number {
    let m = Number.POSITIVE_INFINITY
    for (let i = this.head; i < this.tail; i++) if (this.lineNo[i]! < m) m = this.lineNo[i]!
    return m
  }

  minKey(): number {
    let m = Number.POSITIVE_INFINITY
    for (let i = this.head; i < this.tail; i++) if (this.keys[i]! < m) m = this.keys[i]!
    return m
  }

  emitTo(out: Emitter, i: number): void {
    const at = this.head + i
    out.add(this.events[at]!, this.lineNo[at]!, this.times[at]!)
  }

  add(key: number, event: number, line: number, time: number): void {
    if (this.tail === this.keys.length) this.makeRoom()
    const at = this.tail++
    this.keys[at] = key
    this.events[at] = event
    this.lineNo[at] = line
    this.times[at] = time
  }

  /** Drop the leading rows whose key is below `min` (keys ascending). */
  dropBelow(min: number): void {
    while (this.head < this.tail && this.keys[this.head]! < min) this.head++
    if (this.head === this.tail) this.head = this.tail = 0
  }

  /** Keep only the rows whose key is at least `min`, in their order (keys in any order). */
  retainFrom(min: number): void {
    let to = 0
    for (let i = this.head; i < this.tail; i++) {
      if (this.keys[i]! < min) continue
      this.keys[to] = this.keys[i]!
      this.events[to] = this.events[i]!
      this.lineNo[to] = this.lineNo[i]!
      this.times[to] = this.times[i]!
      to++
    }
    this.head = 0
    this.tail = to
  }

  /** Slide the rows to the front, or grow when they fill more than half. */
  private makeRoom(): void {
    const n = this.length
    const cap = n * 2 > this.keys.length ? this.keys.length * 2 : this.keys.length
    if (cap === this.keys.length) {
      this.keys.copyWithin(0, this.head, this.tail)
      this.events.copyWithin(0, this.head, this.tail)
      this.lineNo.copyWithin(0, this.head, this.tail)
      this.times.copyWithin(0, this.head, this.tail)
    } else {
      this.keys = grownF64(this.keys.subarray(this.head, this.tail), cap)
      this.events = grownInt32(this.events.subarray(this.head, this.tail), cap)
      this.lineNo = grownInt32(this.lineNo.subarray(this.head, this.tail), cap)
      this.times = grownF64(this.times.subarray(this.head, this.tail), cap)
    }
    this.head = 0
    this.tail = n
  }
}

/** The sequences one call closes, built column by column. */
class Emitter {
  private readonly ids: Array<string> = []
  private offsets = new Int32Array(16)
  private context: Int32Array | undefined
  private events = new Int32Array(256)
  private lineNo = new Int32Array(256)
  private times = new Float64Array(256)
  private length = 0

  constructor(withContext: boolean) {
    if (withContext) this.context = new Int32Array(16)
  }

  begin(id: string): void {
    this.ids.push(id)
  }

  add(event: number, line: number, time: number): void {
    if (this.length === this.events.length) this.grow(this.length + 1)
    this.events[this.length] = event
    this.lineNo[this.length] = line
    this.times[this.length] = time
    this.length++
  }

  addMany(events: Int32Array, lineNo: Int32Array, times: Float64Array, from: number, to: number): void {
    const count = to - from
    if (this.length + count > this.events.length) this.grow(this.length + count)
    if (count <= 64) {
      // Short runs (most entities' sequences): a loop beats making three subarrays.
      for (let i = from, j = this.length; i < to; i++, j++) {
        this.events[j] = events[i]!
        this.lineNo[j] = lineNo[i]!
        this.times[j] = times[i]!
      }
    } else {
      this.events.set(events.subarray(from, to), this.length)
      this.lineNo.set(lineNo.subarray(from, to), this.length)
      this.times.set(times.subarray(from, to), this.length)
    }
    this.length += count
  }

  /** Events from plain arrays (an open entity's). */
  addArrays(events: ReadonlyArray<number>, lineNo: ReadonlyArray<number>, times: ReadonlyArray<number>): void {
    const count = events.length
    if (this.length + count > this.events.length) this.grow(this.length + count)
    for (let i = 0, j = this.length; i < count; i++, j++) {
      this.events[j] = events[i]!
      this.lineNo[j] = lineNo[i]!
      this.times[j] = times[i]!
    }
    this.length += count
  }

  /** Close the sequence begun last, with `context` leading context events. */
  end(context: number): void {
    const count = this.ids.length
    if (count >= this.offsets.length) this.offsets = grownInt32(this.offsets, this.offsets.length * 2)
    this.offsets[count] = this.length
    if (this.context !== undefined) {
      if (count > this.context.length) this.context = grownInt32(this.context, this.context.length * 2)
      this.context[count - 1] = context
    }
  }

  build(): ClosedSequences {
    const count = this.ids.length
    const base = {
      ids: this.ids,
      offsets: this.offsets.slice(0, count + 1),
      events: this.events.slice(0, this.length),
      lineNo: this.lineNo.slice(0, this.length),
      times: this.times.slice(0, this.length)
    }
    return this.context === undefined ? base : { ...base, context: this.context.slice(0, count) }
  }

  private grow(need: number): void {
    const cap = Math.max(need, this.events.length * 2)
    this.events = grownInt32(this.events, cap)
    this.lineNo = grownInt32(this.lineNo, cap)
    this.times = grownF64(this.times, cap)
  }
}

const grownInt32 = (a: Int32Array, size: number): Int32Array<ArrayBuffer> => {
  const next = new Int32Array(size)
  next.set(a)
  return next
}

const grownF64 = (a: Float64Array, size: number): Float64Array<ArrayBuffer> => {
  const next = new Float64Array(size)
  next.set(a)
  return next
}
