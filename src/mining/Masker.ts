/**
 * Turns a log message into the tokens a template miner compares (Drain3's `LogMasker` plus
 * `get_content_as_tokens`): masking regexes in order, extra delimiters, Brain-style splits after
 * given characters, whitespace tokenising, and optionally numeric parametrisation. Every miner in
 * `src/mining` tokenises through it, so mining, matching and parameter extraction agree.
 */
import { growInt32 } from "../artifacts/Columns.ts"

/** The wildcard token of templates. */
export const PARAM_STR = "<*>"

/**
 * A masking instruction (Drain3's `MaskingInstruction`): every match of `pattern` (a JS regex
 * source, applied globally) is replaced by `replacement` when given (literal text; "" deletes),
 * else by `<:NAME:>` when `name` is given (Drain3's named masks, e.g. `<:IP:>`), else by `<*>`.
 */
export interface DrainMask {
  readonly pattern: string
  /** Mask name: letters, digits and `_`; the masked text becomes `<:NAME:>`. */
  readonly name?: string
  /** Literal replacement text (overrides `name`). */
  readonly replacement?: string
}

/** How content becomes tokens; all optional. */
export interface TokenizeOptions {
  /** Masks applied in order to each content before tokenising. */
  readonly masks?: ReadonlyArray<DrainMask>
  /** Extra token delimiters (besides whitespace), each replaced by a space (Drain3's `extra_delimiters`). */
  readonly extraDelimiters?: ReadonlyArray<string>
  /**
   * Strings after which a token is split, the string staying with the left part (Brain's
   * per-dataset delimiters, e.g. `=` makes `uid=0` the two tokens `uid=` and `0`). Default none.
   */
  readonly splitAfter?: ReadonlyArray<string>
  /**
   * Numeric parametrisation (default false): a token with a digit outside mask placeholders, or
   * made only of placeholders and punctuation (`-<*>`, `<*>.<*>`), becomes `<*>`, as Brain
   * renders digit tokens. Runs of `<*>` joined by `.`, `:`, `-` or `/` inside a token become one.
   */
  readonly numbersAsParams?: boolean
  /**
   * Contents longer than this many UTF-16 units are cut to it before masking (default 16384), so
   * a huge line costs bounded time even under backtracking-prone masks; the tail is ignored.
   */
  readonly maxContentLength?: number
}

/** Compiled tokeniser; construct once per miner (it validates and compiles the masks). */
export class LogMasker {
  readonly numbersAsParams: boolean
  readonly maxContentLength: number
  /**
   * Whether tokens and position values depend on digits only through where they are: numeric
   * parametrisation is on and no mask, split or delimiter names a particular digit (`0-9` as a
   * whole, `\\d` and counts are fine) or back-references a group. Then contents that differ only
   * in which digits they hold tokenise alike (`ShapeCache`).
   */
  readonly digitUniform: boolean
  private readonly masks: ReadonlyArray<CompiledMask>
  private readonly extraDelimiters: ReadonlyArray<string>
  private readonly splitAfter: ReadonlyArray<string>
  /** splitAfter as a table of ASCII codes, when it is only single characters and there are no extra delimiters. */
  private readonly splitChars: Uint8Array | undefined
  /** CLASSES with SPLIT set on the split characters, when `splitChars` is set. */
  private readonly classes: Uint8Array | undefined
  private readonly scratch = new TokenSpans()

  constructor(options: TokenizeOptions = {}) {
    this.masks = (options.masks ?? []).map(compileMask)
    this.extraDelimiters = (options.extraDelimiters ?? []).map((d, i) => {
      if (typeof d !== "string" || d.length === 0) throw new Error(`Drain: extraDelimiters[${i}] must be a non-empty string`)
      return d
    })
    this.splitAfter = (options.splitAfter ?? []).map((d, i) => {
      if (typeof d !== "string" || d.length === 0) throw new Error(`Drain: splitAfter[${i}] must be a non-empty string`)
      return d
    })
    // Single-character splits (every preset's but BGL's "..") are done while tokenising instead of
    // by rewriting the text: same tokens, two fewer strings per message.
    if (this.extraDelimiters.length === 0 && this.splitAfter.every((d) => d.length === 1 && d.charCodeAt(0) < 128 && !isSpace(d.charCodeAt(0)))) {
      this.splitChars = new Uint8Array(128)
      for (const d of this.splitAfter) this.splitChars[d.charCodeAt(0)] = 1
      this.classes = CLASSES.slice()
      for (const d of this.splitAfter) this.classes[d.charCodeAt(0)]! |= SPLIT
    }
    this.numbersAsParams = options.numbersAsParams ?? false
    this.digitUniform = this.numbersAsParams && (options.masks ?? []).every((m) => digitUniformPattern(m.pattern)) &&
      [...this.extraDelimiters, ...this.splitAfter].every((d) => !/[0-9]/.test(d))
    const max = options.maxContentLength ?? 16384
    if (!Number.isInteger(max) || max < 1) throw new Error(`Drain: maxContentLength must be an integer >= 1, got ${max}`)
    this.maxContentLength = max
  }

  /** The content after truncation, masks, extra delimiters and splits (the text that is tokenised). */
  mask(content: string): string {
    const text = this.applyMasks(content)
    if (this.extraDelimiters.length === 0 && this.splitAfter.length === 0) return text
    // Delimiters must not cut named placeholders such as `<:DATE:>` (":" is a common split).
    if (!text.includes("<:")) return this.split(text)
    let out = ""
    let last = 0
    for (const m of text.matchAll(NAMED_PLACEHOLDER)) {
      out += this.split(text.slice(last, m.index)) + m[0]
      last = m.index + m[0].length
    }
    return out + this.split(text.slice(last))
  }

  /** The content after truncation and masks. */
  private applyMasks(content: string): string {
    let text = content.length > this.maxContentLength ? content.slice(0, this.maxContentLength) : content
    for (const mask of this.masks) {
      if ((mask.literal === undefined || text.includes(mask.literal)) && hasChars(text, mask.chars)) text = text.replace(mask.regex, mask.replacement)
    }
    return text
  }

  private split(text: string): string {
    for (const d of this.extraDelimiters) if (text.includes(d)) text = text.replaceAll(d, " ")
    for (const d of this.splitAfter) if (text.includes(d)) text = text.replaceAll(d, d + " ")
    return text
  }

  /**
   * Tokens of a content. When `raw` is given it receives the tokens before numeric
   * parametrisation, position by position (the values a template position has shown).
   */
  tokens(content: string, raw?: Array<string>): Array<string> {
    const spans = this.scratch
    const tokens = this.spannedTokens(content, spans)
    if (raw !== undefined) for (let p = 0; p < tokens.length; p++) raw.push(spans.changed[p] === 1 ? spans.raw(p) : tokens[p]!)
    return tokens
  }

  /**
   * Tokens of a content, with where each lies in the masked text in `spans` (the miner's hot
   * path: a token's text before parametrisation is sliced only when asked for).
   */
  spannedTokens(content: string, spans: TokenSpans): Array<string> {
    const splits = this.splitChars
    // With single-character splits, a token also ends after a split character outside a named
    // placeholder: what splitting the text first (`mask`) and tokenising it gives.
    const text = splits === undefined ? this.mask(content) : this.applyMasks(content)
    const classes = splits === undefined ? CLASSES : this.classes!
    const numbersAsParams = this.numbersAsParams
    spans.reset(text)
    const tokens: Array<string> = []
    const n = text.length
    let i = 0
    while (i < n) {
      let c = text.charCodeAt(i)
      while (c < 128 ? (classes[c]! & SPACE) !== 0 : isSpace(c)) {
        if (++i >= n) return tokens
        c = text.charCodeAt(i)
      }
      const start = i
      // Bits of the classes seen (DIGIT, ALPHA, ANGLE, WIDE).
      let seen = 0
      let protectedTo = -1
      for (;;) {
        if (c < 128) {
          const k = classes[c]!
          if ((k & SPACE) !== 0) break
          seen |= k
          if (c === 60 && splits !== undefined && i >= protectedTo && text.charCodeAt(i + 1) === 58) protectedTo = namedPlaceholderEnd(text, i)
          i++
          if ((k & SPLIT) !== 0 && i > protectedTo) break
        } else {
          if (isSpace(c)) break
          seen |= WIDE | ALPHA
          i++
        }
        if (i >= n) break
        c = text.charCodeAt(i)
      }
      let token: string
      if (numbersAsParams && (seen & (DIGIT | ANGLE | WIDE)) === DIGIT) token = PARAM_STR
      else {
        token = text.slice(start, i)
        if (numbersAsParams) token = parametrize(token, (seen & DIGIT) !== 0, (seen & ALPHA) !== 0, (seen & ANGLE) !== 0, (seen & WIDE) !== 0)
      }
      spans.push(start, i, numbersAsParams && token !== PARAM_STR ? token.length !== i - start : numbersAsParams)
      tokens.push(token)
    }
    return tokens
  }
}

/**
 * Where the tokens of one content lie in its masked text, filled by `LogMasker.spannedTokens`
 * and reused from call to call: a token's raw text (before numeric parametrisation) and the
 * value it counts toward a template position's variable threshold, made only when asked for.
 */
export class TokenSpans {
  text = ""
  count = 0
  starts = new Int32Array(64)
  ends = new Int32Array(64)
  /** 1 where numeric parametrisation changed the token (its raw text is another string). */
  changed = new Uint8Array(64)

  reset(text: string): void {
    this.text = text
    this.count = 0
  }

  push(start: number, end: number, changed: boolean): void {
    const p = this.count++
    if (p === this.starts.length) {
      this.starts = growInt32(this.starts)
      this.ends = growInt32(this.ends)
      const c = new Uint8Array(this.changed.length * 2)
      c.set(this.changed)
      this.changed = c
    }
    this.starts[p] = start
    this.ends[p] = end
    this.changed[p] = changed ? 1 : 0
  }

  /** The raw token at position p. */
  raw(p: number): string {
    return this.text.slice(this.starts[p]!, this.ends[p]!)
  }

  /**
   * The value position p counts toward the variable threshold, given its token: the raw token,
   * except that a parameter counts by its shape, each run of ASCII digits one `0` (`blk_123`
   * and `blk_456` are one value, `blk_123` and `lr:123` two).
   */
  value(p: number, token: string): string {
    if (token !== PARAM_STR) return this.changed[p] === 1 ? this.raw(p) : token
    const text = this.text
    const end = this.ends[p]!
    let i = this.starts[p]!
    let digitsOnly = true
    for (let k = i; k < end; k++) {
      const c = text.charCodeAt(k)
      if (c < 48 || c > 57) {
        digitsOnly = false
        break
      }
    }
    if (digitsOnly) return i === end ? "" : "0"
    let out = ""
    while (i < end) {
      const c = text.charCodeAt(i)
      if (c >= 48 && c <= 57) {
        out += "0"
        while (i < end && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++
      } else {
        let j = i + 1
        while (j < end && (text.charCodeAt(j) < 48 || text.charCodeAt(j) > 57)) j++
        out += text.slice(i, j)
        i = j
      }
    }
    return out
  }
}


/** Character classes of ASCII for the tokeniser: whitespace, digit, letter, `<`, split-after. */
const SPACE = 1
const DIGIT = 2
const ALPHA = 4
const ANGLE = 8
const WIDE = 16
const SPLIT = 32
const CLASSES = ((): Uint8Array => {
  const t = new Uint8Array(128)
  for (let c = 0; c < 128; c++) {
    if (c === 32 || (c >= 9 && c <= 13)) t[c] = SPACE
    else if (c >= 48 && c <= 57) t[c] = DIGIT
    else if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) t[c] = ALPHA
    else if (c === 60) t[c] = ANGLE
  }
  return t
})()

// ---------------------------------------------------------------------------------------------

const MASK_NAME = /^[A-Za-z0-9_]+$/
const PLACEHOLDER = /<\*>|<:[A-Za-z0-9_]+:>/g
/** A named mask's placeholder, `<:NAME:>`. */
export const NAMED_PLACEHOLDER = /<:[A-Za-z0-9_]+:>/g
const PARAM_RUN = /<\*>(?:[.:\-/]<\*>)+/g

interface CompiledMask {
  readonly regex: RegExp
  readonly replacement: string
  /** A substring every match contains (a cheap test before running the regex), when one is evident. */
  readonly literal: string | undefined
  /** Characters every match contains at least this many times (another cheap test), from `requiredChars`. */
  readonly chars: ReadonlyArray<readonly [string, number]>
}

const compileMask = (mask: DrainMask, i: number): CompiledMask => {
  const label = `masks[${i}]${mask.name === undefined ? "" : ` (${mask.name})`}`
  if (typeof mask.pattern !== "string" || mask.pattern.length === 0) throw new Error(`Drain: ${label}.pattern must be a non-empty regex source`)
  if (mask.name !== undefined && !MASK_NAME.test(mask.name)) {
    throw new Error(`Drain: ${label}.name must be letters, digits and _ (it becomes <:NAME:>), got ${JSON.stringify(mask.name)}`)
  }
  let regex: RegExp
  try {
    regex = new RegExp(mask.pattern, "g")
  } catch (cause) {
    throw new Error(`Drain: ${label}.pattern ${JSON.stringify(mask.pattern)} is not a valid regex: ${cause instanceof Error ? cause.message : String(cause)}`)
  }
  if (new RegExp(`^(?:${mask.pattern})`).test("")) {
    throw new Error(`Drain: ${label}.pattern ${JSON.stringify(mask.pattern)} matches the empty string (it would insert a mask between every character)`)
  }
  const text = mask.replacement ?? (mask.name === undefined ? PARAM_STR : `<:${mask.name}:>`)
  // String replacements treat `$` specially; escape it so the replacement is literal.
  const literal = requiredPrefix(mask.pattern)
  // Characters the literal already guarantees need no second look.
  const chars = requiredChars(mask.pattern).filter(([c, k]) => literal === undefined || literal.split(c).length - 1 < k)
  const fast = fasterEquivalent(mask.pattern)
  return {
    regex: fast === undefined ? regex : new RegExp(fast, "g"),
    replacement: text.replaceAll("$", "$$$$"),
    literal,
    chars
  }
}

/**
 * Regexes that backtrack quadratically on long digit runs, each with an equivalent that does not
 * (the same matches, replaced the same; property-tested against the original). An IPv4 pattern
 * `(\d+\.){3}\d+` retries `\d+` from every digit of a run (a 19-digit block id costs ~190
 * steps); a match can never start right after a digit (it would have started one digit earlier,
 * and a previous match ends where its last greedy `\d+` stops, before a non-digit), so the
 * `(?<!\d)` guard drops no match and the retries go.
 */
const FASTER_EQUIVALENTS: ReadonlyMap<string, string> = new Map([
  ["(\\d+\\.){3}\\d+", "(?<!\\d)\\d+\\.\\d+\\.\\d+\\.\\d+"],
  ["(\\d+\\.){3}\\d+(:\\d+)?", "(?<!\\d)\\d+\\.\\d+\\.\\d+\\.\\d+(?::\\d+)?"]
])

/** The faster equivalent regex source of a mask pattern, when `FASTER_EQUIVALENTS` has one. */
export const fasterEquivalent = (pattern: string): string | undefined => FASTER_EQUIVALENTS.get(pattern)

/**
 * Whether the regex `source` treats every ASCII digit alike (conservatively): no digit outside
 * `{n,m}` counts except in the class range `0-9`, no back-reference, octal, hex or Unicode escape.
 */
export const digitUniformPattern = (source: string): boolean => {
  let inClass = false
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!
    if (c === "\\") {
      const e = source[i + 1] ?? ""
      if (/[A-Za-z0-9]/.test(e) && !"dDwWsSbBtnrfv".includes(e)) return false
      i++
    } else if (inClass) {
      if (c === "]") inClass = false
      else if (c === "0" && source[i + 1] === "-" && source[i + 2] === "9") i += 2
      else if (c >= "0" && c <= "9") return false
    } else if (c === "[") inClass = true
    else if (c === "{") {
      const m = /^\{\d+(,\d*)?\}/.exec(source.slice(i))
      if (m !== null) i += m[0].length - 1
    } else if (c === "(" && source.startsWith("(?<", i) && source[i + 3] !== "=" && source[i + 3] !== "!") {
      // A named group: its name is not text to match.
      const close = source.indexOf(">", i)
      if (close < 0) return false
      i = close
    } else if (c >= "0" && c <= "9") return false
  }
  return true
}

/**
 * The literal text every match of `source` starts with (after an optional `\b`), or undefined
 * when none is evident: no top-level `|`, then plain or escaped punctuation characters up to the
 * first class, group or quantified character.
 */
export const requiredPrefix = (source: string): string | undefined => {
  let depth = 0
  let inClass = false
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!
    if (c === "\\") i++
    else if (inClass) {
      if (c === "]") inClass = false
    } else if (c === "[") inClass = true
    else if (c === "(") depth++
    else if (c === ")") depth--
    else if (c === "|" && depth === 0) return undefined
  }
  let i = source.startsWith("\\b") ? 2 : 0
  let literal = ""
  while (i < source.length) {
    let ch: string
    let width: number
    const c = source[i]!
    if (c === "\\") {
      const e = source[i + 1]
      if (e === undefined || !/[^A-Za-z0-9]/.test(e)) break
      ch = e
      width = 2
    } else if (/[A-Za-z0-9_ =:<>/,@"'#%&!~-]/.test(c)) {
      ch = c
      width = 1
    } else break
    const q = source[i + width]
    if (q === "?" || q === "*" || q === "{") break
    literal += ch
    i += width
    if (q === "+") break
  }
  return literal.length > 0 ? literal : undefined
}

/**
 * Characters every match of the regex `source` contains, with how many times at least (a UUID
 * pattern needs four `-`, an IPv4 pattern three `.`): literal characters at the top level or in
 * groups, times the minimum of each quantifier. Conservative: classes, escapes such as `\d`,
 * lookarounds, groups with flags and alternations (beyond what all branches share) count nothing,
 * so a count is never more than every match holds.
 */
export const requiredChars = (source: string): ReadonlyArray<readonly [string, number]> => {
  let i = 0
  /** Minimum of a quantifier at i (1 when there is none), advancing past it. */
  const quantifier = (): number => {
    const c = source[i]
    let min = 1
    if (c === "*" || c === "?") {
      min = 0
      i++
    } else if (c === "+") i++
    else if (c === "{") {
      const m = /^\{(\d+)(,\d*)?\}/.exec(source.slice(i))
      if (m === null) return 1
      min = Number(m[1])
      i += m[0].length
    } else return 1
    if (source[i] === "?") i++
    return min
  }
  const add = (into: Map<string, number>, from: ReadonlyMap<string, number>, times: number) => {
    if (times > 0) for (const [k, v] of from) into.set(k, (into.get(k) ?? 0) + v * times)
  }
  /** A sequence with alternatives, up to an unmatched `)` or the end. */
  const alternatives = (): Map<string, number> => {
    const branches: Array<Map<string, number>> = []
    let current = new Map<string, number>()
    while (i < source.length && source[i] !== ")") {
      const c = source[i]!
      if (c === "|") {
        branches.push(current)
        current = new Map()
        i++
        continue
      }
      let element = new Map<string, number>()
      if (c === "(") {
        i++
        let counts = true
        if (source[i] === "?") {
          // (?: counts; lookarounds, named groups' names and flag groups are skipped conservatively.
          if (source[i + 1] === ":") i += 2
          else if (source[i + 1] === "<" && source[i + 2] !== "=" && source[i + 2] !== "!") {
            const close = source.indexOf(">", i)
            i = close < 0 ? source.length : close + 1
          } else {
            counts = false
            i += 2
          }
        }
        const inner = alternatives()
        if (source[i] === ")") i++
        if (counts) element = inner
      } else if (c === "[") {
        i++
        if (source[i] === "^") i++
        if (source[i] === "]") i++
        while (i < source.length && source[i] !== "]") i += source[i] === "\\" ? 2 : 1
        i++
      } else if (c === "\\") {
        const e = source[i + 1] ?? ""
        i += 2
        if (/[A-Za-z0-9]/.test(e)) {
          // A class, anchor, back-reference or code escape: counts nothing; skip its argument.
          if ((e === "p" || e === "P" || e === "u") && source[i] === "{") i = Math.max(i, source.indexOf("}", i) + 1)
          else if (e === "k" && source[i] === "<") i = Math.max(i, source.indexOf(">", i) + 1)
          else if (e === "u") i += 4
          else if (e === "x") i += 2
          else if (e === "c") i += 1
        } else element.set(e, 1)
      } else {
        i++
        if (c !== "^" && c !== "$" && c !== ".") element.set(c, 1)
      }
      add(current, element, quantifier())
    }
    branches.push(current)
    const [first, ...rest] = branches
    const out = new Map<string, number>()
    for (const [k, v] of first!) {
      let n = v
      for (const b of rest) n = Math.min(n, b.get(k) ?? 0)
      if (n > 0) out.set(k, n)
    }
    return out
  }
  const all = new Map<string, number>()
  while (i < source.length) {
    add(all, alternatives(), 1)
    if (source[i] === ")") i++ // unbalanced: the regex would not compile anyway
  }
  return [...all]
}

/** The index just past the named placeholder `<:NAME:>` starting at `at`, or -1 when none starts there. */
const namedPlaceholderEnd = (text: string, at: number): number => {
  let k = at + 2
  while (k < text.length) {
    const c = text.charCodeAt(k)
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95) k++
    else break
  }
  return k > at + 2 && text.charCodeAt(k) === 58 && text.charCodeAt(k + 1) === 62 ? k + 2 : -1
}

/** Whether `text` holds each character at least its count of times. */
const hasChars = (text: string, chars: ReadonlyArray<readonly [string, number]>): boolean => {
  for (const [c, n] of chars) {
    let at = -1
    for (let k = 0; k < n; k++) if ((at = text.indexOf(c, at + 1)) < 0) return false
  }
  return true
}

/** JavaScript's `\s` on one UTF-16 unit (the same set `split(/\s+/)` uses). */
const isSpace = (c: number): boolean =>
  c === 32 || (c >= 9 && c <= 13) ||
  (c >= 0xa0 && (c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 ||
    c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff))

const UNICODE_DIGIT = /\p{Nd}/u

/** Numeric parametrisation of one token (see `TokenizeOptions.numbersAsParams`). */
const parametrize = (token: string, digits: boolean, alnum: boolean, angle: boolean, wide: boolean): string => {
  if (token === PARAM_STR) return token
  if (!angle) {
    if (digits) return PARAM_STR
    if (!alnum) return token
    // Non-ASCII characters may be Unicode digits.
    return wide && UNICODE_DIGIT.test(token) ? PARAM_STR : token
  }
  // The token holds `<`: judge what is left once mask placeholders are removed.
  const rest = token.replace(PLACEHOLDER, "")
  if (rest.length === token.length) return digits || UNICODE_DIGIT.test(token) ? PARAM_STR : token
  if (/[0-9]/.test(rest) || UNICODE_DIGIT.test(rest)) return PARAM_STR
  if (!/[A-Za-z\u0080-\uffff]/.test(rest) && !isOnePlaceholder(token)) return PARAM_STR
  return token.includes("<*>") ? token.replace(PARAM_RUN, PARAM_STR) : token
}

const isOnePlaceholder = (token: string): boolean => token === PARAM_STR || /^<:[A-Za-z0-9_]+:>$/.test(token)
