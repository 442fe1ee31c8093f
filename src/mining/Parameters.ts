/**
 * Parameter extraction (Drain3's `extract_parameters`): the text each `<*>` or `<:NAME:>` of a
 * template stands for in a log line. The template becomes an anchored regex (constant text
 * escaped, each placeholder a lazy group, or the named mask's own pattern when exact, token gaps
 * matching whitespace and the miner's delimiters); masks with literal replacements are applied
 * to the line first, as the miner did. `extractParameterColumn` does it for a whole mined column.
 */
import { Buffer, isAscii } from "node:buffer"
import type { StringColumn } from "../artifacts/Columns.ts"
import type { TemplatedLog } from "../artifacts/Log.ts"
import { packStrings } from "../artifacts/Columns.ts"
import type { TokenizeOptions } from "./Masker.ts"

/** One parameter: its text, and the mask name (`*` for `<*>`). */
export interface ExtractedParameter {
  readonly value: string
  readonly mask: string
}

/** Parameters of many lines: line i's values are `values[offsets[i] .. offsets[i + 1])`. */
export interface ParameterColumn {
  readonly offsets: Int32Array
  readonly values: StringColumn
  /** Lines whose template did not match their text (they have no parameters). */
  readonly unmatched: number
}

/** Extracts parameters with the tokenising options the templates were mined with; caches one regex per template. */
export class ParameterExtractor {
  /** When true (default), a `<:NAME:>` only matches its mask's pattern; else any text, like `<*>`. */
  readonly exact: boolean
  private readonly options: TokenizeOptions
  private readonly literalMasks: ReadonlyArray<{ readonly regex: RegExp; readonly replacement: string }>
  private readonly named = new Map<string, string>()
  private readonly gap: string
  private readonly compiled = new Map<string, Compiled>()
  private readonly tokens = new Map<string, ReadonlyArray<string>>()

  constructor(options: TokenizeOptions = {}, exact = true) {
    this.options = options
    this.exact = exact
    this.literalMasks = (options.masks ?? [])
      .filter((m) => m.replacement !== undefined)
      .map((m) => ({ regex: new RegExp(m.pattern, "g"), replacement: m.replacement!.replaceAll("$", "$$$$") }))
    for (const m of options.masks ?? []) if (m.name !== undefined && m.replacement === undefined && !this.named.has(m.name)) this.named.set(m.name, m.pattern)
    const delimiters = (options.extraDelimiters ?? []).map(escapeRegex)
    this.gap = delimiters.length === 0 ? "\\s" : `(?:\\s|${delimiters.join("|")})`
  }

  /** The parameters of `content` under `template` (a template text), or undefined when it does not match. */
  extract(template: string, content: string): Array<ExtractedParameter> | undefined {
    const text = this.asMined(content)
    const { regex, masks } = this.compile(template)
    const match = regex.exec(text)
    if (match === null) return undefined
    const out: Array<ExtractedParameter> = []
    for (let k = 0; k < masks.length; k++) out.push({ value: match.groups![`p${k}`] ?? "", mask: masks[k]! })
    return out
  }

  /**
   * `content` cut at its parameters under `template`: the text before, between and after them
   * (`literals`, one more than `values`, holding the line's own spacing and delimiters) and each
   * parameter's text; undefined when the template does not match.
   */
  split(template: string, content: string): { readonly literals: Array<string>; readonly values: Array<string> } | undefined {
    const text = this.asMined(content)
    if (this.gap === "\\s") {
      // Most lines need no regex (nor compiling one): see `alignedSplit`.
      const aligned = alignedSplit(this.tokensOf(template), text, this.options.splitAfter ?? [])
      if (aligned !== undefined) return aligned
    }
    const compiled = this.compile(template)
    // The same pattern with every gap captured too: the literals are the template's own text and
    // the line's gaps, read from the groups (faster than match indices).
    compiled.splitter ??= new RegExp(patternOf(compiled.pieces, true), "s")
    const match = compiled.splitter.exec(text)
    if (match === null) return undefined
    const groups = match.groups!
    const literals: Array<string> = []
    const values: Array<string> = []
    let literal = ""
    compiled.pieces.forEach((p, i) => {
      if (typeof p === "string") {
        literal += p
      } else if (p.gap !== undefined) {
        literal += groups[`g${i}`] ?? ""
      } else {
        literals.push(literal)
        values.push(groups[`p${values.length}`] ?? "")
        literal = ""
      }
    })
    literals.push(literal)
    return { literals, values }
  }

  /** The content as the miner saw it: cut to `maxContentLength`, masks with a replacement applied. */
  private asMined(content: string): string {
    const max = this.options.maxContentLength ?? 16384
    let text = content.length > max ? content.slice(0, max) : content
    for (const m of this.literalMasks) text = text.replace(m.regex, m.replacement)
    return text
  }

  /** A template text's tokens (remembered). */
  private tokensOf(template: string): ReadonlyArray<string> {
    let tokens = this.tokens.get(template)
    if (tokens === undefined) {
      tokens = template.split(" ").filter((t) => t.length > 0)
      this.tokens.set(template, tokens)
    }
    return tokens
  }

  private compile(template: string): Compiled {
    const hit = this.compiled.get(template)
    if (hit !== undefined) return hit
    const masks: Array<string> = []
    const splitAfter = this.options.splitAfter ?? []
    const tokens = this.tokensOf(template)
    // The pattern in pieces: regex text (escaped literals), gaps and parameters.
    const pieces: Array<Piece> = [{ gap: `${this.gap}*` }]
    tokens.forEach((token, i) => {
      if (i > 0) {
        // After a Brain-style split point the line may have had no whitespace at all, and a
        // placeholder may stand for a token that ended in one (`3,` in `policy=3,wakefulness=1`).
        const prev = tokens[i - 1]!
        const glued = splitAfter.length > 0 && (prev.endsWith(">") || splitAfter.some((d) => prev.endsWith(d)))
        pieces.push({ gap: `${this.gap}${glued ? "*" : "+"}` })
      }
      let last = 0
      for (const m of token.matchAll(PLACEHOLDER)) {
        pieces.push(token.slice(last, m.index))
        const name = m[1] ?? "*"
        const pattern = name === "*" || !this.exact ? undefined : this.named.get(name)
        pieces.push({ param: `(?<p${masks.length}>${pattern === undefined ? ".+?" : `(?:${pattern})`})` })
        masks.push(name)
        last = m.index + m[0].length
      }
      pieces.push(token.slice(last))
    })
    pieces.push({ gap: `${this.gap}*` })
    let regex: RegExp
    try {
      regex = new RegExp(patternOf(pieces, false), "s")
    } catch {
      // A mask pattern that cannot be embedded (e.g. its own named groups): fall back to lazy groups.
      return new ParameterExtractor(this.options, false).compile(template)
    }
    const out: Compiled = { regex, masks, pieces }
    this.compiled.set(template, out)
    return out
  }
}

/** A piece of a template's pattern: literal text, a gap between tokens, or a parameter group. */
type Piece = string | { readonly gap: string; readonly param?: undefined } | { readonly param: string; readonly gap?: undefined }

/** The anchored regex source of a template's pieces; with `captureGaps`, gap i is group `g<i>`. */
const patternOf = (pieces: ReadonlyArray<Piece>, captureGaps: boolean): string =>
  `^${pieces.map((p, i) => (typeof p === "string" ? escapeRegex(p) : p.gap === undefined ? p.param : captureGaps ? `(?<g${i}>${p.gap})` : p.gap)).join("")}$`

interface Compiled {
  readonly regex: RegExp
  readonly masks: ReadonlyArray<string>
  readonly pieces: ReadonlyArray<Piece>
  /** `regex` with its gaps captured too, built on first use by `split`. */
  splitter?: RegExp
}

/** Parameters of one line for one template text, with the miner's tokenising options. */
export const extractParameters = (template: string, content: string, options: TokenizeOptions = {}, exact = true): Array<ExtractedParameter> | undefined =>
  new ParameterExtractor(options, exact).extract(template, content)

/** Parameters of every row of a mined column (its `TemplatedLog` from `mineTemplates`). */
export const extractParameterColumn = (contents: StringColumn, log: TemplatedLog, options: TokenizeOptions = {}): ParameterColumn => {
  const extractor = new ParameterExtractor(options)
  const n = contents.offsets.length - 1
  if (log.templateIds.length !== n) throw new Error(`extractParameterColumn: ${n} contents but ${log.templateIds.length} template ids`)
  const { blob, offsets } = contents
  const buffer = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength)
  const whole = isAscii(blob) ? buffer.toString("latin1") : undefined
  const lineOffsets = new Int32Array(n + 1)
  const values: Array<string> = []
  let unmatched = 0
  for (let i = 0; i < n; i++) {
    lineOffsets[i] = values.length
    const id = log.templateIds[i]!
    const template = log.templates[id]
    const content = whole !== undefined ? whole.slice(offsets[i]!, offsets[i + 1]!) : buffer.toString("utf8", offsets[i]!, offsets[i + 1]!)
    const params = template === undefined ? undefined : extractor.extract(template.text, content)
    if (params === undefined) unmatched++
    else for (const p of params) values.push(p.value)
  }
  lineOffsets[n] = values.length
  return { offsets: lineOffsets, values: packStrings(values), unmatched }
}

// ---------------------------------------------------------------------------------------------

const PLACEHOLDER = /<\*>|<:([A-Za-z0-9_]+):>/g

/**
 * `split` without a regex where the line's tokens line up one to one with the template's, each
 * either equal to it or standing for a whole-token parameter (`<*>`, `<:IP:>`): then the cut is
 * unambiguous and the regex would find the same. Tokens are split at whitespace and, as the miner
 * splits them, right after each `splitAfter` string (a boundary with no gap). Undefined otherwise.
 */
const alignedSplit = (tokens: ReadonlyArray<string>, text: string, splitAfter: ReadonlyArray<string>): { literals: Array<string>; values: Array<string> } | undefined => {
  let marked = text
  if (splitAfter.length > 0) {
    if (text.includes(MARK)) return undefined
    for (const d of splitAfter) if (marked.includes(d)) marked = marked.replaceAll(d, d + MARK)
  }
  const literals: Array<string> = []
  const values: Array<string> = []
  let i = 0
  let at = 0
  for (const m of marked.matchAll(TOKEN)) {
    const t = tokens[i++]
    if (t === undefined) return undefined
    if (t === "<*>" || WHOLE_NAMED.test(t)) {
      literals.push(marked.slice(at, m.index).replaceAll(MARK, ""))
      values.push(m[0])
      at = m.index + m[0].length
    } else if (t !== m[0]) return undefined
  }
  if (i !== tokens.length) return undefined
  literals.push(marked.slice(at).replaceAll(MARK, ""))
  return { literals, values }
}
/** A zero-width token boundary (a character no log line holds). */
const MARK = "\uFFFF"
const TOKEN = /[^\s\uFFFF]+/g
const WHOLE_NAMED = /^<:[A-Za-z0-9_]+:>$/

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&")
