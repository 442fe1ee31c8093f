/**
 * Timestamps from header fields. A `TimestampSpec` names the fields that carry the time and the
 * pattern each follows (`yyMMdd` + `HHmmss` for HDFS, `epoch` for BGL); `timestampColumn` turns
 * a parsed log's dictionary columns into milliseconds since the epoch per row, NaN where a value
 * does not fit its pattern. Every distinct field value is parsed once and rows combine the parts
 * with integer arithmetic, so no Date object is built per line. Wall-clock times are read as UTC.
 */
import type { DictColumn, StringColumn } from "../artifacts/Columns.ts"
import { packStrings, stringAt, stringCount } from "../artifacts/Columns.ts"

/** One header field that carries part of the time, and its pattern. */
export interface TimestampPart {
  readonly field: string
  /**
   * `yyyy` `yy` (2000-2069, else 19xx) year; `MM` `M` month number, `MMM` English month name;
   * `dd` `d` day; `HH` `H` hour (0-23); `mm` `m` minute; `ss` `s` second (one letter: one or two
   * digits); `S`×n (n >= 2) exactly n digits of fraction of a second; `S` alone milliseconds as an
   * unpadded number of 1-3 digits (HealthApp's `22:32:0:95`); `EEE` English weekday name (checked for shape, ignored); a space, one or
   * more spaces; anything else, itself. Or the whole pattern `epoch` (seconds since the epoch,
   * optionally with a decimal fraction) or `epoch_ms` (whole milliseconds).
   */
  readonly pattern: string
}

/** How to build a row's time from its header fields. */
export interface TimestampSpec {
  readonly parts: ReadonlyArray<TimestampPart>
  /**
   * For formats without a year (syslog's `Jun 14 15:16:01`, Android's `03-17`): the year of the
   * first row. A later row whose time would be more than 7 days before the previous timed row's
   * moves to the next year (a log running from December into January). Required exactly when no
   * part has a year.
   */
  readonly assumeYear?: number
}

/** A validated spec: its parts compiled. */
export interface CompiledTimestamp {
  readonly spec: TimestampSpec
  readonly parts: ReadonlyArray<{ readonly field: string; readonly pattern: CompiledPattern }>
}

/** Validate a spec: known pattern letters, a date (or an epoch) in all, a year or `assumeYear`. Throws naming the problem. */
export const compileTimestamp = (spec: TimestampSpec): CompiledTimestamp => {
  const fail = (why: string): never => {
    throw new Error(`Invalid timestamp spec ${JSON.stringify(spec)}: ${why}`)
  }
  if (spec.parts.length === 0) fail("it has no parts")
  const parts = spec.parts.map((p) => ({ field: p.field, pattern: compilePattern(p.pattern) }))
  const has = (u: Unit) => parts.filter((p) => p.pattern.units.includes(u)).length
  const epochs = has("epoch")
  if (epochs > 0) {
    if (parts.length > 1) fail("an `epoch` or `epoch_ms` part must be the only part")
  } else {
    for (const u of ["month", "day"] as const) if (has(u) === 0) fail(`no part gives the ${u}`)
    if (has("year") === 0 && spec.assumeYear === undefined) fail("no part gives the year: set assumeYear (and document why that year)")
    if (has("year") > 0 && spec.assumeYear !== undefined) fail("assumeYear is set but a part gives the year")
  }
  for (const u of ALL_UNITS) if (u !== "epoch" && has(u) > 1) fail(`more than one part gives the ${u}`)
  if (spec.assumeYear !== undefined && !(Number.isInteger(spec.assumeYear) && spec.assumeYear >= 1 && spec.assumeYear <= 9999)) {
    fail("assumeYear must be an integer year")
  }
  const fields = parts.map((p) => p.field)
  if (new Set(fields).size !== fields.length) fail("a field is named twice")
  return { spec, parts }
}

/**
 * Milliseconds since the epoch per row from the dictionary columns of the spec's fields (NaN
 * where a value does not fit, or a date does not exist). Throws if a field is missing.
 */
export const timestampColumn = (
  fields: ReadonlyArray<{ readonly name: string; readonly column: DictColumn }>,
  spec: TimestampSpec | CompiledTimestamp
): Float64Array => {
  const compiled = "spec" in spec ? spec : compileTimestamp(spec)
  const columns = compiled.parts.map((p) => {
    const f = fields.find((x) => x.name === p.field)
    if (f === undefined) {
      throw new Error(`timestamp: the parsed log has no field "${p.field}" (fields: ${fields.map((x) => x.name).join(", ") || "none"})`)
    }
    return f.column
  })
  const n = columns[0]!.codes.length
  const out = new Float64Array(n)
  // Per part and distinct value: its units, parsed once.
  const tables = compiled.parts.map((p, k) => valueTable(p.pattern, columns[k]!.values))
  const unitPart = (u: Unit): number => compiled.parts.findIndex((p) => p.pattern.units.includes(u))
  const epochPart = unitPart("epoch")
  if (epochPart >= 0) {
    const codes = columns[epochPart]!.codes
    const epoch = tables[epochPart]!.epoch
    for (let i = 0; i < n; i++) out[i] = epoch[codes[i]!]!
    return out
  }
  const yearPart = unitPart("year")
  const monthPart = unitPart("month")
  const dayPart = unitPart("day")
  const timeParts = compiled.parts.map((_, k) => k).filter((k) => compiled.parts[k]!.pattern.units.some((u) => TIME_UNITS.includes(u)))
  const yearCodes = yearPart >= 0 ? columns[yearPart]!.codes : undefined
  const years = yearPart >= 0 ? tables[yearPart]!.year : undefined
  const monthCodes = columns[monthPart]!.codes
  const months = tables[monthPart]!.month
  const dayCodes = columns[dayPart]!.codes
  const days = tables[dayPart]!.day
  const okCodes = columns.map((c) => c.codes)
  const ok = tables.map((t) => t.ok)
  let year = compiled.spec.assumeYear ?? 1970
  let prev = NaN
  for (let i = 0; i < n; i++) {
    let valid = true
    for (let k = 0; k < ok.length; k++) if (ok[k]![okCodes[k]![i]!] === 0) valid = false
    if (!valid) {
      out[i] = NaN
      continue
    }
    let tod = 0
    for (const k of timeParts) tod += tables[k]!.timeOfDay[columns[k]!.codes[i]!]!
    const m = months[monthCodes[i]!]!
    const d = days[dayCodes[i]!]!
    if (years !== undefined) {
      const y = years[yearCodes![i]!]!
      out[i] = d <= daysInMonth(y, m) ? daysFromCivil(y, m, d) * DAY_MS + tod : NaN
      continue
    }
    let t = d <= daysInMonth(year, m) ? daysFromCivil(year, m, d) * DAY_MS + tod : NaN
    if (t < prev - ROLLOVER_MS) {
      year++
      t = d <= daysInMonth(year, m) ? daysFromCivil(year, m, d) * DAY_MS + tod : NaN
    }
    out[i] = t
    if (!Number.isNaN(t)) prev = t
  }
  return out
}

/** The time of a single row given its field values by name (no year rollover: one row). */
export const timestampOf = (spec: TimestampSpec, values: Readonly<Record<string, string>>): number => {
  const compiled = compileTimestamp(spec)
  const fields = compiled.parts.map((p) => {
    const v = values[p.field]
    if (v === undefined) throw new Error(`timestampOf: no value for field "${p.field}"`)
    return { name: p.field, column: { values: packStrings([v]), codes: Int32Array.of(0) } }
  })
  return timestampColumn(fields, compiled)[0]!
}

/** Days from 1970-01-01 to the proleptic Gregorian date y-m-d (Hinnant's days_from_civil). */
export const daysFromCivil = (y: number, m: number, d: number): number => {
  const yy = m <= 2 ? y - 1 : y
  const era = Math.floor(yy / 400)
  const yoe = yy - era * 400
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

// ---------------------------------------------------------------------------------------------

type Unit = "year" | "month" | "day" | "hour" | "minute" | "second" | "fraction" | "epoch"
const ALL_UNITS: ReadonlyArray<Unit> = ["year", "month", "day", "hour", "minute", "second", "fraction", "epoch"]
const TIME_UNITS: ReadonlyArray<Unit> = ["hour", "minute", "second", "fraction"]

type Token =
  | { readonly kind: "number"; readonly unit: Unit; readonly minDigits: number; readonly maxDigits: number }
  | { readonly kind: "fraction"; readonly digits: number }
  | { readonly kind: "monthName" }
  | { readonly kind: "weekday" }
  | { readonly kind: "spaces" }
  | { readonly kind: "literal"; readonly code: number }
  | { readonly kind: "epoch"; readonly scale: number; readonly fraction: boolean }

/** A compiled value pattern: its tokens and the units it gives. */
export interface CompiledPattern {
  readonly source: string
  readonly tokens: ReadonlyArray<Token>
  readonly units: ReadonlyArray<Unit>
  /** `yy`: add a century. */
  readonly twoDigitYear: boolean
  /** Every literal is ASCII: values are parsed from their UTF-8 bytes. */
  readonly ascii: boolean
}

const LETTER_TOKENS: Readonly<Record<string, ReadonlyArray<number>>> = {
  y: [2, 4], M: [1, 2, 3], d: [1, 2], H: [1, 2], m: [1, 2], s: [1, 2], E: [3]
}

const compilePattern = (source: string): CompiledPattern => {
  if (source === "epoch") return { source, tokens: [{ kind: "epoch", scale: 1000, fraction: true }], units: ["epoch"], twoDigitYear: false, ascii: true }
  if (source === "epoch_ms") return { source, tokens: [{ kind: "epoch", scale: 1, fraction: false }], units: ["epoch"], twoDigitYear: false, ascii: true }
  const tokens: Array<Token> = []
  const units: Array<Unit> = []
  let twoDigitYear = false
  let i = 0
  while (i < source.length) {
    const c = source[i]!
    let j = i
    while (source[j] === c) j++
    const run = j - i
    if (c === "S" && run === 1) {
      tokens.push({ kind: "number", unit: "fraction", minDigits: 1, maxDigits: 3 })
      units.push("fraction")
    } else if (c === "S") {
      tokens.push({ kind: "fraction", digits: run })
      units.push("fraction")
    } else if (c in LETTER_TOKENS) {
      if (!LETTER_TOKENS[c]!.includes(run)) {
        throw new Error(`Invalid timestamp pattern ${JSON.stringify(source)}: "${c.repeat(run)}" is not a pattern letter run (use ${LETTER_TOKENS[c]!.map((k) => c.repeat(k)).join(", ")})`)
      }
      if (c === "E") tokens.push({ kind: "weekday" })
      else if (c === "M" && run === 3) {
        tokens.push({ kind: "monthName" })
        units.push("month")
      } else {
        const unit: Unit = c === "y" ? "year" : c === "M" ? "month" : c === "d" ? "day" : c === "H" ? "hour" : c === "m" ? "minute" : "second"
        if (c === "y" && run === 2) twoDigitYear = true
        tokens.push({ kind: "number", unit, minDigits: run === 1 ? 1 : run, maxDigits: run === 1 ? 2 : run })
        units.push(unit)
      }
    } else if (c === " ") {
      tokens.push({ kind: "spaces" })
    } else {
      for (let k = 0; k < run; k++) tokens.push({ kind: "literal", code: c.charCodeAt(0) })
    }
    i = j
  }
  if (new Set(units).size !== units.length) throw new Error(`Invalid timestamp pattern ${JSON.stringify(source)}: a unit appears twice`)
  return { source, tokens, units, twoDigitYear, ascii: tokens.every((t) => t.kind !== "literal" || t.code < 0x80) }
}

interface ValueTable {
  /** 1 where the value fits the pattern. */
  readonly ok: Uint8Array
  readonly year: Float64Array
  readonly month: Float64Array
  readonly day: Float64Array
  /** Milliseconds since midnight given by this part (hour, minute, second, fraction). */
  readonly timeOfDay: Float64Array
  readonly epoch: Float64Array
}

const valueTable = (pattern: CompiledPattern, values: StringColumn): ValueTable => {
  const n = stringCount(values)
  const t: ValueTable = {
    ok: new Uint8Array(n),
    year: new Float64Array(n),
    month: new Float64Array(n),
    day: new Float64Array(n),
    timeOfDay: new Float64Array(n),
    epoch: new Float64Array(n).fill(NaN)
  }
  if (pattern.ascii) {
    const { blob, offsets } = values
    for (let k = 0; k < n; k++) parseValue(pattern, blob, offsets[k]!, offsets[k + 1]!, t, k)
  } else {
    for (let k = 0; k < n; k++) {
      const s = stringAt(values, k)
      const units = new Uint16Array(s.length)
      for (let q = 0; q < s.length; q++) units[q] = s.charCodeAt(q)
      parseValue(pattern, units, 0, units.length, t, k)
    }
  }
  return t
}

/**
 * Parse one value, the character codes `c[from, to)`, into row k of the table; leaves ok[k] = 0
 * when it does not fit. The codes are a field's UTF-8 bytes for a pattern of ASCII literals (no
 * string is built per value; a non-ASCII byte then fits no token, as its character would not),
 * else the value's UTF-16 code units.
 */
const parseValue = (pattern: CompiledPattern, c: ArrayLike<number>, from: number, to: number, t: ValueTable, k: number): void => {
  const at = (q: number): number => (q < to ? c[q]! : -1)
  const lower = (q: number): number => {
    const x = at(q)
    return x >= 65 && x <= 90 ? x + 32 : x
  }
  const name3 = (q: number): string => String.fromCharCode(lower(q), lower(q + 1), lower(q + 2))
  let p = from
  let hour = 0
  let minute = 0
  let second = 0
  let fraction = 0
  for (const tok of pattern.tokens) {
    switch (tok.kind) {
      case "literal":
        if (at(p) !== tok.code) return
        p++
        break
      case "spaces":
        if (at(p) !== 32) return
        while (at(p) === 32) p++
        break
      case "number": {
        let v = 0
        let digits = 0
        while (digits < tok.maxDigits && isDigit(at(p))) {
          v = v * 10 + at(p) - 48
          p++
          digits++
        }
        if (digits < tok.minDigits) return
        switch (tok.unit) {
          case "year":
            t.year[k] = pattern.twoDigitYear ? (v < 70 ? 2000 + v : 1900 + v) : v
            break
          case "month":
            if (v < 1 || v > 12) return
            t.month[k] = v
            break
          case "day":
            if (v < 1 || v > 31) return
            t.day[k] = v
            break
          case "hour":
            if (v > 23) return
            hour = v
            break
          case "minute":
            if (v > 59) return
            minute = v
            break
          case "fraction":
            fraction = v
            break
          default:
            if (v > 60) return
            second = v
        }
        break
      }
      case "fraction": {
        let v = 0
        for (let d = 0; d < tok.digits; d++) {
          if (!isDigit(at(p))) return
          v = v * 10 + at(p) - 48
          p++
        }
        fraction = (v * 1000) / 10 ** tok.digits
        break
      }
      case "monthName": {
        const m = MONTHS.indexOf(name3(p))
        if (m < 0) return
        t.month[k] = m + 1
        p += 3
        break
      }
      case "weekday":
        if (!WEEKDAYS.includes(name3(p))) return
        p += 3
        break
      case "epoch": {
        let s = ""
        for (let q = from; q < to; q++) s += String.fromCharCode(c[q]!)
        const m = (tok.fraction ? EPOCH_SECONDS : EPOCH_INTEGER).exec(s)
        if (m === null) return
        t.epoch[k] = Number(s) * tok.scale
        p = to
        break
      }
    }
  }
  if (p !== to) return
  t.timeOfDay[k] = ((hour * 60 + minute) * 60 + second) * 1000 + fraction
  t.ok[k] = 1
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
const EPOCH_SECONDS = /^-?\d+(\.\d+)?$/
const EPOCH_INTEGER = /^-?\d+$/
const DAY_MS = 86_400_000
const ROLLOVER_MS = 7 * DAY_MS

const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
const daysInMonth = (y: number, m: number): number =>
  m === 2 ? (isLeap(y) ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31
