/**
 * A bundle's templates for new lines, as `flow detect` and `flow analyze` give them: every parsed
 * line gets the template of the bundle's miner state that covers it (match-only, nothing learned);
 * a line none covers gets a provisional template, one per distinct token text (the miner's
 * masking and tokenising), with an id after the vocabulary's. Template texts by id for both.
 */
import { stringAt } from "../artifacts/Columns.ts"
import type { ParsedLog } from "../artifacts/Log.ts"
import { LogMasker } from "../mining/Masker.ts"
import { matchTemplates, TemplateMatcher } from "../mining/Match.ts"
import type { Bundle } from "./Bundle.ts"

/** Provisional templates listed one by one; lines of further ones share one id past them. */
export const NOVEL_LIMIT = 10_000

export class BundleTemplates {
  /** Template text by id: the vocabulary's, then the provisional ones. */
  readonly textOf: Map<number, string>
  /** Provisional template id by text. */
  readonly novel = new Map<string, number>()
  /** Lines of provisional templates beyond NOVEL_LIMIT (all given the id `overflowId`). */
  overflow = 0
  private readonly masker: LogMasker
  private readonly matcher: TemplateMatcher
  private readonly bundle: Bundle
  private nextId: number

  constructor(bundle: Bundle) {
    this.bundle = bundle
    this.masker = new LogMasker(bundle.state.options)
    this.matcher = new TemplateMatcher(bundle.state)
    this.textOf = new Map(bundle.spec.vocabulary.map((v) => [v.id, v.text]))
    this.nextId = bundle.spec.vocabulary.reduce((m, v) => Math.max(m, v.id + 1), 0)
  }

  /** The id lines of provisional templates beyond the limit share. */
  get overflowId(): number {
    return this.nextId
  }

  /**
   * Template id per row of `parsed`; `onNovel(row, id, text, isNew)` for each row no template
   * covers (`isNew`: its provisional template appeared just now; id `overflowId`, text as read,
   * past the limit).
   */
  assign(parsed: ParsedLog, onNovel?: (row: number, id: number, text: string, isNew: boolean) => void): Int32Array {
    const { templateIds, unseen } = matchTemplates(parsed.content, this.bundle.state, this.matcher)
    for (let i = 0; unseen > 0 && i < templateIds.length; i++) {
      if (templateIds[i]! >= 0) continue
      const text = this.masker.tokens(stringAt(parsed.content, i)).join(" ")
      let id = this.novel.get(text)
      let isNew = false
      if (id === undefined) {
        if (this.novel.size < NOVEL_LIMIT) {
          id = this.nextId++
          this.novel.set(text, id)
          this.textOf.set(id, text)
          isNew = true
        } else {
          this.overflow++
          id = this.nextId
        }
      }
      templateIds[i] = id
      onNovel?.(i, id, text, isNew)
    }
    return templateIds
  }
}
