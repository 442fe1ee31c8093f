/**
 * The templates above Drain's clusters. Drain turns a position into `<*>` at the first message
 * that differs there; Brain (Yu et al., 2023) keeps a position constant until it has shown
 * `variableThreshold` distinct values. Here a cluster's `<*>` positions stay "low-cardinality"
 * until then, and the cluster holds one template per combination of values at those positions;
 * when a position reaches the threshold its templates merge. Optionally templates with equal
 * text (logparser's EventId) or equal text once runs of `<*>` are collapsed also merge.
 */
import { PARAM_STR } from "./Masker.ts"

/**
 * The values a message's positions count toward the variable threshold (`TokenSpans.value`): the
 * raw token, except that a parameter (a token numeric parametrisation turned into `<*>`) counts by
 * its shape, digits collapsed: `blk_123` and `blk_456` are one value, so numbers that keep
 * changing along a stream do not by themselves make a position variable; `blk_123` and `lr:123`
 * stay two.
 */
export interface PositionValues {
  value(p: number, token: string): string
}

/**
 * What the last `observe` of an input that changed nothing returned (kept on a `ShapeEntry`): while
 * its cluster's slot is unchanged since, observing the same input again changes nothing and
 * returns the same template, so the work is skipped.
 */
export interface ObserveMemo {
  memoSlot: object | undefined
  memoSlotVersion: number
  memoGroup: number
}

/** Which templates count as one: none (Drain3), equal text, or equal text with `<*>` runs collapsed. */
export type TemplateMerge = "none" | "equal" | "param-runs"

/** Per cluster: its template as last seen, per-position values, and its templates. */
interface ClusterSlot {
  readonly tokens: Array<string>
  /** undefined: constant position; array: `<*>` with fewer distinct raw values than the threshold; null: variable. */
  readonly values: Array<Array<string> | null | undefined>
  readonly groups: Map<string, number>
  readonly members: Array<number>
  /** Bumped whenever the slot changes (a value seen, a position turned variable, a template added). */
  version: number
}

/** JSON-able form of a TemplateTable (part of `MinerState`). */
export interface TemplateTableState {
  readonly slots: ReadonlyArray<{
    readonly clusterId: number
    readonly tokens: ReadonlyArray<string>
    readonly values: ReadonlyArray<ReadonlyArray<string> | null | 0>
    readonly members: ReadonlyArray<number>
  }>
  readonly groups: {
    readonly tokens: ReadonlyArray<ReadonlyArray<string>>
    readonly cluster: ReadonlyArray<number>
    readonly count: ReadonlyArray<number>
    readonly parent: ReadonlyArray<number>
    readonly key: ReadonlyArray<string | null>
  }
  readonly byText: ReadonlyArray<readonly [string, number]>
}

/** Templates ("groups") in creation order; merged groups form union-find sets rooted at the oldest. */
export class TemplateTable {
  readonly variableThreshold: number
  readonly templateMerge: TemplateMerge
  private readonly slots: Array<ClusterSlot | undefined> = []
  private readonly groupTokens: Array<Array<string>> = []
  private readonly groupCluster: Array<number> = []
  private readonly groupCount: Array<number> = []
  private readonly parent: Array<number> = []
  private readonly groupKey: Array<string | undefined> = []
  private readonly byText = new Map<string, number>()
  /** Drain semantics with no merging: exactly one template per cluster, nothing to track. */
  private readonly trivial: boolean

  constructor(variableThreshold: number, templateMerge: TemplateMerge) {
    this.variableThreshold = variableThreshold
    this.templateMerge = templateMerge
    this.trivial = variableThreshold <= 2 && templateMerge === "none"
  }

  /** Number of templates ever created (merged ones included). */
  get size(): number {
    return this.groupCount.length
  }

  /**
   * Record a message that joined cluster `clusterId`, whose template (after the join) is
   * `template`; `tokens` are the message's tokens and `raw` gives the values its positions count.
   * Returns the message's template (a group id; `find` gives its root). `memo`: only for a
   * message whose join did not change the cluster's template (see `ObserveMemo`).
   */
  observe(clusterId: number, template: ReadonlyArray<string>, tokens: ReadonlyArray<string>, raw: PositionValues, memo?: ObserveMemo): number {
    let slot = this.slots[clusterId]
    if (memo !== undefined && slot !== undefined && memo.memoSlot === slot && memo.memoSlotVersion === slot.version) {
      this.groupCount[memo.memoGroup]!++
      return memo.memoGroup
    }
    if (this.trivial) {
      if (slot === undefined) {
        slot = { tokens: [], values: [], groups: new Map(), members: [], version: 0 }
        this.slots[clusterId] = slot
        slot.members.push(this.newGroup(clusterId, [...template]))
      }
      const g = slot.members[0]!
      this.groupCount[g]!++
      return g
    }
    let rekey = false
    let changed = false
    if (slot === undefined) {
      slot = {
        tokens: [...template],
        values: template.map((t, p) => (t === PARAM_STR ? (this.variableThreshold <= 1 ? null : [raw.value(p, tokens[p]!)]) : undefined)),
        groups: new Map(),
        members: [],
        version: 0
      }
      this.slots[clusterId] = slot
      changed = true
    } else {
      const k = this.variableThreshold
      for (let p = 0; p < template.length; p++) {
        if (template[p] !== PARAM_STR) continue
        let v = slot.values[p]
        if (v === null) continue
        if (v === undefined) {
          // A constant position just became `<*>`: its one value so far was the constant.
          v = [slot.tokens[p]!]
          slot.values[p] = v
          slot.tokens[p] = PARAM_STR
          rekey = true
        }
        const r = raw.value(p, tokens[p]!)
        if (!v.includes(r)) {
          v.push(r)
          changed = true
          if (v.length >= k) {
            slot.values[p] = null
            rekey = true
          }
        }
      }
    }
    if (rekey) this.rekey(slot)
    const key = keyOf(slot, tokens)
    let g = slot.groups.get(key)
    if (g === undefined) {
      const own = slot.tokens.map((t, p) => (Array.isArray(slot.values[p]) ? tokens[p]! : t))
      g = this.newGroup(clusterId, own)
      slot.members.push(g)
      slot.groups.set(key, g)
      this.updateMergeKey(g)
      changed = true
    }
    if (rekey || changed) slot.version++
    else if (memo !== undefined) {
      memo.memoSlot = slot
      memo.memoSlotVersion = slot.version
      memo.memoGroup = g
    }
    this.groupCount[g]!++
    return g
  }

  /** Count one more message for template `g` without re-matching it (a content-cache hit). */
  recount(g: number): void {
    this.groupCount[g]!++
  }

  /** The cluster a template belongs to. */
  clusterOf(g: number): number {
    return this.groupCluster[g]!
  }

  /** Root of a template's merge set (the oldest template in it). */
  find(g: number): number {
    let r = g
    while (this.parent[r] !== r) r = this.parent[r]!
    while (this.parent[g] !== r) {
      const next = this.parent[g]!
      this.parent[g] = r
      g = next
    }
    return r
  }

  /** Tokens of template `g` itself (not of its root). */
  tokensOf(g: number): ReadonlyArray<string> {
    return this.groupTokens[g]!
  }

  /** Display text of a root template (runs of `<*>` collapsed under "param-runs"). */
  textOf(root: number): string {
    const tokens = this.groupTokens[root]!
    return (this.templateMerge === "param-runs" ? collapseParamRuns(tokens) : tokens).join(" ")
  }

  /** Messages counted on template `g` itself (its root's total is the sum over the set). */
  countOf(g: number): number {
    return this.groupCount[g]!
  }

  /** When the cluster of a trivial table changes its template, its one template follows. */
  syncTrivial(clusterId: number, template: ReadonlyArray<string>): void {
    if (!this.trivial) return
    const slot = this.slots[clusterId]
    if (slot === undefined) return
    const g = slot.members[0]!
    const tokens = this.groupTokens[g]!
    for (let p = 0; p < template.length; p++) tokens[p] = template[p]!
  }

  exportState(): TemplateTableState {
    const slots: Array<TemplateTableState["slots"][number]> = []
    this.slots.forEach((slot, clusterId) => {
      if (slot === undefined) return
      slots.push({
        clusterId,
        tokens: [...slot.tokens],
        values: slot.values.map((v) => (v === undefined ? 0 : v === null ? null : [...v])),
        members: [...slot.members]
      })
    })
    return {
      slots,
      groups: {
        tokens: this.groupTokens.map((t) => [...t]),
        cluster: [...this.groupCluster],
        count: [...this.groupCount],
        parent: [...this.parent],
        key: this.groupKey.map((k) => k ?? null)
      },
      byText: [...this.byText]
    }
  }

  static importState(state: TemplateTableState, variableThreshold: number, templateMerge: TemplateMerge): TemplateTable {
    const table = new TemplateTable(variableThreshold, templateMerge)
    const g = state.groups
    const n = g.tokens.length
    if (g.cluster.length !== n || g.count.length !== n || g.parent.length !== n || g.key.length !== n) {
      throw new Error("MinerState: template columns have different lengths")
    }
    for (let i = 0; i < n; i++) {
      const parent = g.parent[i]!
      if (!Number.isInteger(parent) || parent < 0 || parent > i) throw new Error(`MinerState: template ${i} has parent ${parent}`)
      table.groupTokens.push([...g.tokens[i]!])
      table.groupCluster.push(g.cluster[i]!)
      table.groupCount.push(g.count[i]!)
      table.parent.push(parent)
      const key = g.key[i]
      table.groupKey.push(key === null ? undefined : key)
    }
    for (const s of state.slots) {
      const slot: ClusterSlot = {
        tokens: [...s.tokens],
        values: s.values.map((v) => (v === 0 ? undefined : v === null ? null : [...v])),
        groups: new Map(),
        members: [...s.members],
        version: 0
      }
      for (const m of slot.members) {
        if (!(m >= 0 && m < n)) throw new Error(`MinerState: cluster ${s.clusterId} lists unknown template ${m}`)
        if (!table.trivial) {
          const key = keyOf(slot, table.groupTokens[m]!)
          if (!slot.groups.has(key)) slot.groups.set(key, m)
        }
      }
      table.slots[s.clusterId] = slot
    }
    for (const [key, id] of state.byText) table.byText.set(key, id)
    return table
  }

  // -------------------------------------------------------------------------------------------

  private newGroup(clusterId: number, tokens: Array<string>): number {
    const g = this.groupCount.length
    this.groupTokens.push(tokens)
    this.groupCluster.push(clusterId)
    this.groupCount.push(0)
    this.parent.push(g)
    this.groupKey.push(undefined)
    return g
  }

  /** Re-derive the templates of a cluster after a position changed kind; equal keys merge. */
  private rekey(slot: ClusterSlot): void {
    slot.groups.clear()
    for (const g of slot.members) {
      const tokens = this.groupTokens[g]!
      for (let p = 0; p < tokens.length; p++) if (slot.values[p] === null) tokens[p] = PARAM_STR
      const key = keyOf(slot, tokens)
      const other = slot.groups.get(key)
      if (other === undefined) slot.groups.set(key, g)
      else this.union(other, g)
      this.updateMergeKey(g)
    }
  }

  /** Index a template by its text (once it ever had a text, that text stays with its set). */
  private updateMergeKey(g: number): void {
    if (this.templateMerge === "none") return
    const tokens = this.groupTokens[g]!
    const key = (this.templateMerge === "param-runs" ? collapseParamRuns(tokens) : tokens).join(" ")
    if (this.groupKey[g] === key) return
    this.groupKey[g] = key
    const other = this.byText.get(key)
    if (other === undefined) this.byText.set(key, g)
    else this.union(other, g)
  }

  private union(a: number, b: number): void {
    const ra = this.find(a)
    const rb = this.find(b)
    if (ra === rb) return
    if (ra < rb) this.parent[rb] = ra
    else this.parent[ra] = rb
  }
}

/** Tokens with every run of consecutive `<*>` reduced to one (a variable-length parameter list). */
export const collapseParamRuns = (tokens: ReadonlyArray<string>): Array<string> => {
  const out: Array<string> = []
  for (const t of tokens) if (!(t === PARAM_STR && out.length > 0 && out[out.length - 1] === PARAM_STR)) out.push(t)
  return out
}

/** A cluster's template key for a message: its tokens at the low-cardinality positions. */
const keyOf = (slot: ClusterSlot, tokens: ReadonlyArray<string>): string => {
  let key = ""
  const values = slot.values
  for (let p = 0; p < values.length; p++) if (Array.isArray(values[p])) key += tokens[p]! + "\u0000"
  return key
}
