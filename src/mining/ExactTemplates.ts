/**
 * Parameter-exact template text (docs/PARSING.md). The miner decides which lines share a
 * template; its own text is token-level: a token holding a variable is a whole `<*>`, split
 * characters stand apart (`totalAltitude= <*>`) and named masks read `<:IP:>`. Here each
 * template is written again from its own lines: a line is cut at the template's parameters
 * (`ParameterExtractor.split`), the text between them kept as the line has it (spacing and
 * punctuation included), and each parameter's values across the template's lines reduced to
 * their variable part, so constant characters around and inside it stay (`blk_<*>`,
 * `[instance: <*>]`, `(uid=<*>)`). The rules follow Khan et al. (ICSE 2022), whose corrections
 * Loghub-2.0 applied to its ground truth (each is named after theirs in docs/PARSING.md):
 * - a value with spaces is several tokens, each reduced alone when every value has as many;
 * - punctuation every value starts or ends with stays (`(`, `[`, `'`, `,`, `:`);
 * - PS: a file path is one variable; a URL is its scheme and one variable (`hdfs://<*>`);
 * - a token is cut into atoms (words, or words joined by `.`, `-`, `_`, `~`) and single other
 *   characters; values of one shape keep the characters between atoms, and an atom equal in
 *   every value stays unless it is a number (DG) or dotted (DV: a host, an address, a version);
 * - atoms, or tokens of different shapes, that differ keep their common prefix up to a key
 *   separator before any digit (`blk_`, `uid=`, `vCores:`, `com.apple.`) and become one `<*>`;
 *   `1.5` stays `<*>.<*>` and `12_3` stays `<*>_<*>`, as LogHub writes them;
 * - DG for names: an identifier with a number among its parts (`msra-sa-41`,
 *   `application_1445144423722_0020`, a UUID) and a hexadecimal literal (`0x800f080d`) are
 *   variables even where the log holds only one of them, keeping a leading name before a key
 *   separator (`attempt_<*>`, `DFSClient_NONMAPREDUCE_<*>_<*>`);
 * - CV: `<*><*>` is one `<*>`.
 * A template is written from a sample of its lines (`TemplateSamples`: its first 64, then one at
 * each power of two); the same rows give the same text whichever way the log was read.
 */
import type { Template } from "../artifacts/Log.ts"
import { NAMED_PLACEHOLDER, PARAM_STR, type TokenizeOptions } from "./Masker.ts"
import { ParameterExtractor } from "./Parameters.ts"

/** A template's first lines looked at (then one at each power of two: `TemplateSamples`). */
export const EXACT_SAMPLE = 64

/**
 * Lines kept per miner-internal template id while a log is mined: its first `size` occurrences,
 * then its 128th, 256th, 512th, ... (each power of two), so a late line with another value is
 * still seen. Deterministic, one pass, at most `size + 32` lines per id, and nearly free on a long
 * log (evenly spaced samples would keep a line every few occurrences to stay even). `T` is what
 * is kept of a line: its content when streaming, its row when the contents stay in memory.
 */
export class TemplateSamples<T> {
  readonly size: number
  private readonly counts: Array<number> = []
  private readonly rows: Array<Array<number>> = []
  private readonly items: Array<Array<T>> = []

  constructor(size = EXACT_SAMPLE) {
    if (!(size >= 1)) throw new Error(`TemplateSamples: size must be at least 1, got ${size}`)
    this.size = size
  }

  /** Counts one occurrence of internal id `id`; true when this one is to be kept (call `keep`). */
  next(id: number): boolean {
    for (let k = this.counts.length; k <= id; k++) {
      this.counts.push(0)
      this.rows.push([])
      this.items.push([])
    }
    const n = this.counts[id]!
    this.counts[id] = n + 1
    return n < this.size || (n & (n - 1)) === 0
  }

  /** Keeps row `row` (`item`) for `id`, after `next(id)` said so. */
  keep(id: number, row: number, item: T): void {
    this.rows[id]!.push(row)
    this.items[id]!.push(item)
  }

  /**
   * The kept items of each final template, where `templateOf` maps the internal ids seen to
   * final template ids (the miner may merge several into one), in row order.
   */
  byTemplate(templateOf: (internalIds: Int32Array) => Int32Array, templates: number): Array<Array<T>> {
    const ids = Int32Array.from(this.counts.keys())
    const final = templateOf(ids)
    const parts: Array<Array<number>> = Array.from({ length: templates }, () => [])
    for (let k = 0; k < ids.length; k++) if (this.rows[k]!.length > 0) parts[final[k]!]!.push(k)
    return parts.map((ks) => {
      if (ks.length === 1) return this.items[ks[0]!]!
      // Several internal ids merged into one template: their lines interleave in row order.
      const order = ks.flatMap((k) => this.rows[k]!.map((row, i) => ({ row, item: this.items[k]![i]! })))
      return order.sort((x, y) => x.row - y.row).map((o) => o.item)
    })
  }
}

/** Samples the rows of every internal id of a log held in memory (`internalIds[row]`). */
export const sampleRows = (internalIds: Int32Array, size = EXACT_SAMPLE): TemplateSamples<number> => {
  const samples = new TemplateSamples<number>(size)
  for (let i = 0; i < internalIds.length; i++) {
    const id = internalIds[i]!
    if (samples.next(id)) samples.keep(id, i, i)
  }
  return samples
}

/**
 * The parameter-exact text of each template from contents it was mined from (`contents[id]`,
 * e.g. `TemplateSamples.byTemplate`). A template none of whose contents it matches keeps the
 * miner's text, with its named masks written `<*>` (`plainText`).
 */
export const exactTemplateTexts = (templates: ReadonlyArray<Template>, contents: ReadonlyArray<ReadonlyArray<string>>, options: TokenizeOptions = {}): Array<string> => {
  const extractor = new ParameterExtractor(options)
  return templates.map((t) => {
    // Equal contents cut alike, and every rule below looks at the set of values: each once.
    const splits = [...new Set(contents[t.id] ?? [])].map((c) => extractor.split(t.text, c)).filter((s) => s !== undefined)
    return splits.length === 0 ? plainText(t.text) : exactText(splits)
  })
}

/** The text of one template from its lines cut at their parameters (all with the same count). */
export const exactText = (splits: ReadonlyArray<{ readonly literals: ReadonlyArray<string>; readonly values: ReadonlyArray<string> }>): string => {
  const first = splits[0]!
  let out = first.literals[0]!
  for (let k = 0; k < first.values.length; k++) {
    out += variablePart(splits.map((s) => s.values[k]!)) + first.literals[k + 1]!
  }
  return joinVariables(numberedIds(out))
}

/**
 * DG for identifiers: a name whose parts (joined by `_`, `-`, `.`, `~`) include a number written
 * in the template (`msra-sa-41`, `attempt_1445144423722_0020_m_<*>_<*>`, `1.1`) is a variable
 * even where one log holds only one of it. A leading name followed by a key separator stays
 * (`attempt_<*>`), and numbers joined by `_` after it stay apart (`DFSClient_NONMAPREDUCE_<*>_<*>`).
 */
const numberedIds = (text: string): string =>
  text.replace(HEX_LITERAL, VAR).replace(ID, (id) => {
    const parts = id.split(ID_SEP)
    if (!parts.some(isNumber)) return id
    const seps = id.match(ID_SEP_G)!
    const first = parts.findIndex((p) => p === VAR || isNumber(p))
    const head = first > 0 && KEY_END.includes(seps[first - 1]!.at(-1)!) ? parts.slice(0, first).map((p, i) => p + seps[i]).join("") : ""
    if (head === "") return VAR
    const rest = parts.slice(first)
    const apart = seps.slice(first).every((s) => s === "_") && rest.every((p) => p === VAR || DIGITS.test(p))
    return head + (apart ? rest.map(() => VAR).join("_") : VAR)
  })

/** A miner template's text with named masks as `<*>`. */
export const plainText = (text: string): string => joinVariables(numberedIds(text.replace(NAMED_PLACEHOLDER, VAR)))

/** One parameter's values reduced to their variable part (see the module comment). */
export const variablePart = (values: ReadonlyArray<string>): string => {
  // A value with spaces is several tokens: rendered one by one when every value has as many.
  const tokens = values.map((v) => v.split(SPACES))
  const count = tokens[0]!.length
  if (count > 1 && tokens.every((t) => t.length === count)) {
    const gaps = values[0]!.match(SPACES_G) ?? []
    return tokens[0]!.map((_, j) => tokenPart(tokens.map((t) => t[j]!)) + (gaps[j] ?? "")).join("")
  }
  return tokenPart(values)
}

/** One token's values (no spaces inside) reduced to their variable part. */
const tokenPart = (values: ReadonlyArray<string>): string => {
  // Punctuation every value starts or ends with stays around the rest: `(`, `)`, `'`, `,`, `:`.
  const lead = commonEnd(values, (v) => LEAD.exec(v)![0], (a, b) => commonPrefix(a, b))
  const trail = commonEnd(values.map((v) => v.slice(lead.length)), (v) => TRAIL.exec(v)![0], (a, b) => commonSuffix(a, b))
  const cores = values.map((v) => v.slice(lead.length, v.length - trail.length))
  return lead + corePart(cores) + trail
}

/** The values between their common leading and trailing punctuation. */
const corePart = (values: ReadonlyArray<string>): string => {
  if (values.every((v) => v === "")) return ""
  const scheme = SCHEME.exec(values[0]!)?.[0]
  if (scheme !== undefined && values.every((v) => v.startsWith(scheme))) return scheme + VAR // a URL: its scheme, then one variable
  if (values.some((v) => PATH.test(v))) return VAR // PS: a path is one variable
  const cut = values.map(atoms)
  const shape = cut[0]!
  const same = cut.every((c) => c.length === shape.length && c.every((a, i) => (isWord(a) ? isWord(shape[i]!) : a === shape[i])))
  if (!same) return prefixed(values)
  return joinVariables(shape.map((a, i) => (isWord(a) ? atomPart(cut.map((c) => c[i]!)) : a)).join(""))
}

/**
 * One atom (a word, or words joined by `.`, `-`, `_`, `~`) across the values. The same in every
 * value: it stays, unless it is a number (DG) or dotted (a host, an address, a version: DV).
 * Otherwise `prefixed`.
 */
const atomPart = (values: ReadonlyArray<string>): string => {
  const first = values[0]!
  if (values.every((v) => v === first)) return DIGITS.test(first) || first.includes(".") ? VAR : first
  return prefixed(values)
}

/**
 * Values that differ: their longest common prefix that ends in a key separator (`blk_`, `uid=`,
 * `core.`, `com.apple.`; never within a number), then one variable. A number with a fraction
 * stays `<*>.<*>`, and two numbers joined by `_` stay `<*>_<*>`, as LogHub writes them.
 */
const prefixed = (values: ReadonlyArray<string>): string => {
  if (values.every((v) => DECIMAL.test(v))) return `${VAR}.${VAR}`
  if (values.every((v) => PAIR.test(v))) return `${VAR}_${VAR}`
  let prefix = values.reduce((a, b) => commonPrefix(a, b))
  const digit = prefix.search(/[0-9]/)
  if (digit >= 0) prefix = prefix.slice(0, digit)
  let cut = -1
  for (let i = 0; i < prefix.length; i++) if (KEY_END.includes(prefix[i]!)) cut = i
  return (cut < 0 ? "" : prefix.slice(0, cut + 1)) + VAR
}

const commonPrefix = (a: string, b: string): string => {
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  return a.slice(0, i)
}
const commonSuffix = (a: string, b: string): string => {
  let i = 0
  while (i < a.length && i < b.length && a[a.length - 1 - i] === b[b.length - 1 - i]) i++
  return a.slice(a.length - i)
}
const commonEnd = (values: ReadonlyArray<string>, part: (v: string) => string, common: (a: string, b: string) => string): string =>
  values.map(part).reduce(common)

const VAR = PARAM_STR
// Word characters are ASCII letters and digits and every character beyond ASCII (other scripts'
// letters): plain classes compile far faster than Unicode property escapes, on every run.
const ID = /(?<![0-9A-Za-z\u0080-\uFFFF<>*])(?:[0-9A-Za-z\u0080-\uFFFF]+|<\*>)(?:[._~-]+(?:[0-9A-Za-z\u0080-\uFFFF]+|<\*>))+(?![0-9A-Za-z\u0080-\uFFFF<>*])/g
/** A number: decimal digits, or hexadecimal of 4 or more with a digit (`0673dd71`, `4fbb`). */
const isNumber = (part: string): boolean => DIGITS.test(part) || HEX.test(part)
const HEX = /^(?=[a-f]*\d)[0-9a-f]{4,}$/i
const HEX_LITERAL = /(?<![0-9A-Za-z\u0080-\uFFFF])0x[0-9a-f]+(?![0-9A-Za-z\u0080-\uFFFF])/gi
const ID_SEP = /[._~-]+/
const ID_SEP_G = /[._~-]+/g
const SPACES = /\s+/
const SPACES_G = /\s+/g
const ATOM = /[0-9A-Za-z\u0080-\uFFFF]+(?:[._~-]+[0-9A-Za-z\u0080-\uFFFF]+)*|[^0-9A-Za-z\u0080-\uFFFF]/g
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//
const WORD = /^[0-9A-Za-z\u0080-\uFFFF]/
const DIGITS = /^[0-9]+$/
const DECIMAL = /^-?[0-9]+\.[0-9]+$/
const PAIR = /^[0-9]+_[0-9]+$/
const LEAD = /^[^0-9A-Za-z\u0080-\uFFFF/\\<-]*/
const TRAIL = /[^0-9A-Za-z\u0080-\uFFFF/\\>]*$/
/** Two or more `/`-separated parts: a file or URL path (PS). */
const PATH = /^\/?[^/\s]+\/[^/\s]+\/|^\/[^/\s]*[A-Za-z\u0080-\uFFFF][^/\s]*\/[^/\s]*$/
/** Characters a kept prefix may end in (`blk_`, `uid=`, `vCores:`, `core.`). */
const KEY_END = "_=:."

const atoms = (value: string): Array<string> => value.match(ATOM) ?? []
const isWord = (seg: string): boolean => WORD.test(seg)

/** CV: `<*><*>` is one `<*>`. */
const joinVariables = (text: string): string => text.replace(VAR_RUN, VAR)
const VAR_RUN = /(?:<\*>){2,}/g
