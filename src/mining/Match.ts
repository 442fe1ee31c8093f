/**
 * Match-only inference against a mined model (Drain3's `match`, over logflow's templates): each
 * line is tokenised exactly as the miner did and gets the template whose pattern covers it
 * (same length, every constant token equal, `<*>` any token); the most specific cover wins (most
 * constant tokens, then lowest id). With "param-runs" merging, a line no pattern covers token for
 * token may still match a pattern whose collapsed `<*>` stands for one or more tokens. A line no
 * template covers is unseen (-1). The state is only read, never changed.
 *
 * When the masker cannot tell digits apart (`LogMasker.digitUniform`: numbers are parameters and
 * no mask or split names a digit), a content's tokens depend only on its shape (every ASCII digit
 * made `0`), and so does its template: the cache is keyed by shape, so a line whose numbers
 * changed is matched without masking or tokenising it (tested against the content-keyed cache).
 */
import { Buffer, isAscii } from "node:buffer"
import type { StringColumn } from "../artifacts/Columns.ts"
import { ContentCache } from "./ContentCache.ts"
import { LogMasker, PARAM_STR } from "./Masker.ts"
import { checkState, type MinerState } from "./MinerState.ts"
import { collapseParamRuns } from "./TemplateTable.ts"

/** Template id per line (-1 = unseen) and the number of unseen lines. */
export interface MatchResult {
  readonly templateIds: Int32Array
  readonly unseen: number
}

/** A compiled matcher over a state's live templates. */
export class TemplateMatcher {
  private readonly masker: LogMasker
  /** Patterns by `length + "\0" + first token` (first token `<*>` for a leading wildcard). */
  private readonly index = new Map<string, Array<Pattern>>()
  /** With "param-runs": collapsed patterns by first token, where `<*>` stands for 1+ tokens. */
  private readonly runs: Map<string, Array<Pattern>> | undefined
  private readonly cache = new ContentCache(1 << 16)
  /** Shape-keyed lookups (digit-uniform maskers), and the scratch a shape is written into. */
  private readonly byShape: boolean
  private readonly shape = new Uint8Array(MAX_SHAPE_BYTES)

  /** `internal.shapes: false` keys the cache by content only (tests: the results are the same). */
  constructor(state: MinerState, internal: { readonly shapes?: boolean } = {}) {
    const s = checkState(state)
    this.masker = new LogMasker(s.options)
    this.byShape = this.masker.digitUniform && internal.shapes !== false
    this.runs = s.options.templateMerge === "param-runs" ? new Map() : undefined
    const seen = new Set<string>()
    for (const p of s.patterns) {
      add(this.index, indexKey(p.tokens.length, p.tokens[0] ?? ""), pattern(p.templateId, p.tokens))
      if (this.runs === undefined) continue
      const collapsed = collapseParamRuns(p.tokens)
      const key = `${p.templateId}\u0000${collapsed.join(" ")}`
      if (seen.has(key)) continue
      seen.add(key)
      add(this.runs, collapsed[0] ?? "", pattern(p.templateId, collapsed))
    }
  }

  /** The template id covering `content`, or -1. */
  match(content: string): number {
    // The cache stores id + 1, so that "unseen" (-1) is remembered too.
    const cached = this.cache.getString(content)
    if (cached >= 0) return cached - 1
    const id = this.matchTokens(content)
    this.cache.setString(content, id + 1)
    return id
  }

  /** `match` for `bytes[start, end)` of a column blob; `decode` gives the content on a cache miss. */
  matchBytes(bytes: Uint8Array, start: number, end: number, decode: () => string): number {
    if (this.byShape && end - start <= MAX_SHAPE_BYTES) {
      const shape = this.shape
      let ascii = true
      for (let i = start, j = 0; i < end; i++, j++) {
        const b = bytes[i]!
        if (b >= 0x80) {
          ascii = false
          break
        }
        shape[j] = b >= 48 && b <= 57 ? 48 : b
      }
      if (ascii) {
        // ASCII contents are looked up by shape only, the others by content: a key holding a
        // byte >= 0x80 is never a shape, so the two kinds of key cannot be confused.
        const hit = this.cache.get(shape, 0, end - start)
        if (hit >= 0) return hit - 1
        const id = this.matchTokens(decode())
        this.cache.set(shape, 0, end - start, id + 1)
        return id
      }
    }
    const cached = this.cache.get(bytes, start, end)
    if (cached >= 0) return cached - 1
    const id = this.matchTokens(decode())
    this.cache.set(bytes, start, end, id + 1)
    return id
  }

  private matchTokens(content: string): number {
    const tokens = this.masker.tokens(content)
    const first = tokens[0] ?? ""
    let best: Pattern | undefined
    for (const key of first === PARAM_STR ? [indexKey(tokens.length, PARAM_STR)] : [indexKey(tokens.length, first), indexKey(tokens.length, PARAM_STR)]) {
      for (const p of this.index.get(key) ?? []) if (better(p, best) && covers(p.tokens, tokens)) best = p
    }
    if (best === undefined && this.runs !== undefined) {
      for (const key of first === PARAM_STR ? [PARAM_STR] : [first, PARAM_STR]) {
        for (const p of this.runs.get(key) ?? []) if (better(p, best) && p.tokens.length <= tokens.length && coversRuns(p.tokens, 0, tokens, 0)) best = p
      }
    }
    return best === undefined ? -1 : best.templateId
  }
}

/** Contents longer than this are matched by content, not by shape. */
const MAX_SHAPE_BYTES = 1024

/**
 * Match every content of a column against a state's templates, without learning; give `matcher`
 * (over the same state) to keep its cache across calls (a log matched chunk by chunk).
 */
export const matchTemplates = (contents: StringColumn, state: MinerState, matcher: TemplateMatcher = new TemplateMatcher(state)): MatchResult => {
  const n = contents.offsets.length - 1
  const templateIds = new Int32Array(n)
  const { blob, offsets } = contents
  const buffer = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength)
  const whole = isAscii(blob) ? buffer.toString("latin1") : undefined
  let unseen = 0
  for (let i = 0; i < n; i++) {
    const s = offsets[i]!
    const e = offsets[i + 1]!
    const id = matcher.matchBytes(blob, s, e, () => (whole !== undefined ? whole.slice(s, e) : buffer.toString("utf8", s, e)))
    templateIds[i] = id
    if (id < 0) unseen++
  }
  return { templateIds, unseen }
}

// ---------------------------------------------------------------------------------------------

interface Pattern {
  readonly templateId: number
  readonly tokens: ReadonlyArray<string>
  readonly constants: number
}

const pattern = (templateId: number, tokens: ReadonlyArray<string>): Pattern => ({
  templateId,
  tokens: [...tokens],
  constants: tokens.reduce((n, t) => (t === PARAM_STR ? n : n + 1), 0)
})

const add = (map: Map<string, Array<Pattern>>, key: string, p: Pattern): void => {
  const list = map.get(key)
  if (list === undefined) map.set(key, [p])
  else list.push(p)
}

const indexKey = (length: number, first: string): string => `${length}\u0000${first}`

/** Whether `p` would beat the current best: more constant tokens, then a lower id. */
const better = (p: Pattern, best: Pattern | undefined): boolean =>
  best === undefined || p.constants > best.constants || (p.constants === best.constants && p.templateId < best.templateId)

const covers = (pattern: ReadonlyArray<string>, tokens: ReadonlyArray<string>): boolean => {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!
    if (p !== PARAM_STR && p !== tokens[i]) return false
  }
  return true
}

/** Glob-style cover: each `<*>` of the pattern takes one or more tokens. */
const coversRuns = (pattern: ReadonlyArray<string>, i: number, tokens: ReadonlyArray<string>, j: number): boolean => {
  for (; i < pattern.length; i++, j++) {
    if (j >= tokens.length) return false
    const p = pattern[i]!
    if (p === PARAM_STR) {
      if (i === pattern.length - 1) return true
      for (let k = j + 1; k <= tokens.length - (pattern.length - i - 1); k++) if (coversRuns(pattern, i + 1, tokens, k)) return true
      return false
    }
    if (p !== tokens[j]) return false
  }
  return j === tokens.length
}
