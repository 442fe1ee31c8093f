/**
 * Drain log template mining (He et al., ICWS 2017) with the semantics of Drain3's `drain.py`:
 * a fixed-depth prefix tree keyed by token count and then the leading tokens, clusters at the
 * leaves, a message joins the most similar cluster when similarity >= simTh (its template
 * merging to `<*>` where they differ), else it founds a new one; `maxClusters` evicts the least
 * recently used cluster. With every option at its default this is Drain3; the logflow options
 * (numeric parametrisation, `<*>`-meets-`<*>` similarity, Brain's variable threshold, template
 * merging, a content cache) are what `src/presets/miners.ts` turns on.
 *
 * Streams stay stable (no cluster explosion) for three reasons. (1) Drain3's similarity of a
 * message to the template it already joined decays as the template gains `<*>`, so on a long
 * stream mostly-parameter messages stop matching and open clusters (HDFS: 17 -> hundreds). Here,
 * with `numbersAsParams` and masks, parameters are `<*>` in the message too, and with
 * `paramsAreSimilar` a template `<*>` facing a message `<*>` counts as agreement, so that decay
 * is gone; a `<*>` facing a word still counts as a mismatch. (2) The content cache pins a content
 * seen before to the template it joined, so a replayed line changes neither the model nor its
 * own grouping. (3) Brain's threshold counts distinct values, which repetition does not change.
 * Memory is the clusters, their templates (at most `variableThreshold - 1` values per position)
 * and the bounded cache, whatever the stream's length.
 */
import { Buffer, isAscii } from "node:buffer"
import { type StringColumn, stringAt } from "../artifacts/Columns.ts"
import type { Template, TemplatedLog } from "../artifacts/Log.ts"
import { ContentCache } from "./ContentCache.ts"
import { type DrainMask, LogMasker, PARAM_STR, type TokenizeOptions, TokenSpans } from "./Masker.ts"
import { groupF1 } from "./Accuracy.ts"
import { exactTemplateTexts, sampleRows, type TemplateSamples } from "./ExactTemplates.ts"
import { checkState, type MinerState, type MinerStateOptions, type TreeState } from "./MinerState.ts"
import { ShapeCache, type ShapeEntry } from "./ShapeCache.ts"
import { type ObserveMemo, type PositionValues, type TemplateMerge, TemplateTable } from "./TemplateTable.ts"

export { type DrainMask, PARAM_STR } from "./Masker.ts"
export type { TemplateMerge } from "./TemplateTable.ts"

/** Drain tuning parameters; all optional, validated by the constructor. */
export interface DrainOptions extends TokenizeOptions {
  /** Depth of the leaf nodes, >= 3 (default 4): the tree indexes the first `depth - 3` tokens under the token count. */
  readonly depth?: number
  /** Similarity threshold in [0, 1] (default 0.4). */
  readonly simTh?: number
  /** Most children of an internal node, >= 1 (default 100); further tokens go to the `<*>` child. */
  readonly maxChildren?: number
  /** Most live clusters, >= 1 (default unlimited); creating one more evicts the least recently used (Drain3's `max_clusters`). */
  readonly maxClusters?: number
  /** Tokens with digits take the tree's `<*>` branch (Drain3's `parametrize_numeric_tokens`, default true). */
  readonly parametrizeNumericTokens?: boolean
  /** A template `<*>` facing a message token that is itself `<*>` counts as similar (default false: Drain never counts `<*>`). */
  readonly paramsAreSimilar?: boolean
  /**
   * Distinct values a template position must show before it becomes `<*>`, >= 2 (default 2:
   * Drain's first difference). Below it the cluster keeps one template per value (Brain's threshold).
   */
  readonly variableThreshold?: number
  /** Which templates merge into one (default "none"); see `TemplateMerge`. */
  readonly templateMerge?: TemplateMerge
  /**
   * Distinct contents remembered (default 0: off). A remembered content joins the template it
   * joined before without being tokenised or matched again (unless its cluster was evicted).
   * Contents over 512 UTF-8 bytes are not remembered; when full, the cache is emptied, so its
   * memory stays under `cacheCapacity` x 512 bytes.
   */
  readonly cacheCapacity?: number
}

/** What adding a message did to the clusters. */
export type DrainChange = "cluster_created" | "cluster_template_changed" | "none"

/** The outcome of `addLogMessage`: the cluster joined, the template (id as of now) and the change. */
export interface DrainResult {
  readonly clusterId: number
  readonly templateId: number
  readonly change: DrainChange
}

/** A snapshot of one cluster. */
export interface LogCluster {
  readonly clusterId: number
  readonly templateTokens: ReadonlyArray<string>
  readonly template: string
  readonly size: number
}

/** A Drain template miner; cluster ids are 0, 1, ... in creation order. */
export class Drain {
  readonly depth: number
  readonly simTh: number
  readonly maxChildren: number
  readonly maxClusters: number | undefined
  readonly parametrizeNumericTokens: boolean
  readonly paramsAreSimilar: boolean
  readonly cacheCapacity: number
  readonly masker: LogMasker
  /** Tokens indexed below the token-count layer (Drain3's `max_node_depth` = depth - 2, minus that layer). */
  private readonly maxNodeDepth: number
  private readonly options: MinerStateOptions
  private readonly root = new Map<number, TreeNode>()
  private readonly clusterList: Array<MutableCluster> = []
  /** Live clusters in least-recently-used order, when `maxClusters` is set. */
  private readonly lru: Map<number, MutableCluster> | undefined
  private table: TemplateTable
  private readonly cache: ContentCache | undefined
  private lastClusterId = -1
  private lastChange: DrainChange = "none"
  private readonly spans = new TokenSpans()
  private readonly shapes: ShapeCache | undefined
  private tokenisedCount = 0
  /** Bumped when a cluster is created or a template changes (what a shape entry's memo checks). */
  private version = 0

  /** `internal.shapeCache: false` turns the shape cache off (for tests and benchmarks: results are the same). */
  constructor(options: DrainOptions = {}, internal: { readonly shapeCache?: boolean } = {}) {
    const depth = options.depth ?? 4
    const simTh = options.simTh ?? 0.4
    const maxChildren = options.maxChildren ?? 100
    const variableThreshold = options.variableThreshold ?? 2
    const templateMerge = options.templateMerge ?? "none"
    const cacheCapacity = options.cacheCapacity ?? 0
    if (!Number.isInteger(depth) || depth < 3) throw new Error(`Drain: depth must be an integer >= 3, got ${depth}`)
    if (!(simTh >= 0 && simTh <= 1)) throw new Error(`Drain: simTh must be a number in [0, 1], got ${simTh}`)
    if (!Number.isInteger(maxChildren) || maxChildren < 1) {
      throw new Error(`Drain: maxChildren must be an integer >= 1, got ${maxChildren}`)
    }
    if (options.maxClusters !== undefined && !(Number.isInteger(options.maxClusters) && options.maxClusters >= 1)) {
      throw new Error(`Drain: maxClusters must be an integer >= 1, got ${options.maxClusters}`)
    }
    if (!Number.isInteger(variableThreshold) || variableThreshold < 2) {
      throw new Error(`Drain: variableThreshold must be an integer >= 2, got ${variableThreshold}`)
    }
    if (templateMerge !== "none" && templateMerge !== "equal" && templateMerge !== "param-runs") {
      throw new Error(`Drain: templateMerge must be "none", "equal" or "param-runs", got ${JSON.stringify(templateMerge)}`)
    }
    if (!Number.isInteger(cacheCapacity) || cacheCapacity < 0) {
      throw new Error(`Drain: cacheCapacity must be an integer >= 0, got ${cacheCapacity}`)
    }
    this.depth = depth
    this.simTh = simTh
    this.maxChildren = maxChildren
    this.maxClusters = options.maxClusters
    this.parametrizeNumericTokens = options.parametrizeNumericTokens ?? true
    this.paramsAreSimilar = options.paramsAreSimilar ?? false
    this.cacheCapacity = cacheCapacity
    this.maxNodeDepth = depth - 2
    this.masker = new LogMasker(options)
    this.lru = options.maxClusters === undefined ? undefined : new Map()
    this.table = new TemplateTable(variableThreshold, templateMerge)
    this.cache = cacheCapacity > 0 ? new ContentCache(cacheCapacity) : undefined
    this.shapes = this.masker.digitUniform && internal.shapeCache !== false ? new ShapeCache() : undefined
    this.options = {
      depth,
      simTh,
      maxChildren,
      maxClusters: options.maxClusters ?? null,
      parametrizeNumericTokens: this.parametrizeNumericTokens,
      paramsAreSimilar: this.paramsAreSimilar,
      variableThreshold,
      templateMerge,
      cacheCapacity,
      masks: (options.masks ?? []).map(normalizeMask),
      extraDelimiters: [...(options.extraDelimiters ?? [])],
      splitAfter: [...(options.splitAfter ?? [])],
      numbersAsParams: this.masker.numbersAsParams,
      maxContentLength: this.masker.maxContentLength
    }
  }

  /** Add one message: join the best matching cluster (merging its template) or create one. */
  addLogMessage(content: string): DrainResult {
    const cache = this.cache
    let g = cache === undefined ? -1 : cache.getString(content)
    if (g < 0 || !this.recount(g)) {
      g = this.learn(content)
      cache?.setString(content, g)
    }
    return { clusterId: this.lastClusterId, templateId: this.table.find(g), change: this.lastChange }
  }

  /**
   * Add every content of a column in order; returns each row's template (internal ids, give
   * them to `templatedLog`). This is the hot path of `mineTemplates`.
   */
  addColumn(contents: StringColumn): Int32Array {
    const n = contents.offsets.length - 1
    const rows = new Int32Array(n)
    const { blob, offsets } = contents
    const buffer = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength)
    // ASCII: one decode of the whole blob, then cheap slices (byte offsets are char offsets).
    const whole = isAscii(blob) ? buffer.toString("latin1") : undefined
    for (let i = 0; i < n; i++) {
      const s = offsets[i]!
      const e = offsets[i + 1]!
      rows[i] = this.addBytes(blob, s, e, whole !== undefined ? whole.slice(s, e) : undefined)
    }
    return rows
  }

  /**
   * Add the UTF-8 content `bytes[start, end)` (for streaming readers that hold bytes); returns its
   * template as an internal id for `templatedLog`. A content the cache remembers is looked up by
   * its bytes and never decoded; `decoded`, when given, must be the same content as a string.
   */
  addBytes(bytes: Uint8Array, start: number, end: number, decoded?: string): number {
    const cache = this.cache
    const shapes = this.shapes
    // One read of the bytes hashes the content (for the content cache) and writes its shape.
    shapes?.scan(bytes, start, end)
    if (cache !== undefined) {
      const hit = shapes === undefined ? cache.get(bytes, start, end) : cache.getHashed(bytes, start, end, shapes.contentHash)
      if (hit >= 0 && this.recount(hit)) return hit
    }
    const g = this.learnBytes(bytes, start, end, decoded)
    cache?.set(bytes, start, end, g)
    return g
  }

  /** `learn` for the content just scanned: through its shape's tokens when the shape cache has them (or can keep them). */
  private learnBytes(bytes: Uint8Array, start: number, end: number, decoded: string | undefined): number {
    const shapes = this.shapes
    const entry = shapes === undefined ? null : shapes.find()
    if (entry === null) return this.learn(decoded ?? decodeUtf8(bytes, start, end))
    if (entry !== undefined) return this.learnEntry(entry)
    const spans = this.spans
    const tokens = this.masker.spannedTokens(decoded ?? decodeUtf8(bytes, start, end), spans)
    this.tokenisedCount++
    return this.learnTokens(tokens, shapes!.add(tokens, spans))
  }

  /** Contents masked and tokenised so far (neither the content cache nor the shape cache knew them): the miner's costly case. */
  get tokenised(): number {
    return this.tokenisedCount
  }

  /** The cluster whose template matches `content` exactly (`<*>` matches any token), without learning; Drain3's `match`. */
  match(content: string): number | undefined {
    return this.treeSearch(this.masker.tokens(content), 1, true)?.clusterId
  }

  /** Snapshots of the live (not evicted) clusters, by id. */
  clusters(): ReadonlyArray<LogCluster> {
    return this.clusterList.filter((c) => !c.evicted).map((c) => ({
      clusterId: c.clusterId,
      templateTokens: [...c.tokens],
      template: c.tokens.join(" "),
      size: c.size
    }))
  }

  /** The current template table: every template ever formed (evicted ones too), ids 0..k-1 in order of creation. */
  templates(): ReadonlyArray<Template> {
    const { roots, rank } = this.rootRanks()
    const counts = new Array<number>(roots.length).fill(0)
    for (let g = 0; g < this.table.size; g++) counts[rank[this.table.find(g)]!]! += this.table.countOf(g)
    return roots.map((r, id) => ({ id, text: this.table.textOf(r), count: counts[id]! }))
  }

  /** Rows' internal template ids (from `addColumn`) as a `TemplatedLog` with compact ids. */
  templatedLog(rows: Int32Array): TemplatedLog {
    return { templateIds: this.templateIdsOf(rows), templates: this.templates() }
  }

  /** Internal template ids (from `addColumn`/`addBytes`) as compact ids. */
  private templateIdsOf(rows: Int32Array): Int32Array {
    const { rank } = this.rootRanks()
    const templateIds = new Int32Array(rows.length)
    for (let i = 0; i < rows.length; i++) templateIds[i] = rank[this.table.find(rows[i]!)]!
    return templateIds
  }

  /**
   * The template table (as `templates()`) with each template's parameter-exact text (`exact`),
   * written from `samples` of the lines mined, kept under the internal ids `addBytes` returned
   * (`contentOf` gives a kept line's content). `templates`: the table when the caller has it already.
   */
  exactTemplates<T>(samples: TemplateSamples<T>, contentOf: (item: T) => string, templates: ReadonlyArray<Template> = this.templates()): Array<Template> {
    const contents = samples.byTemplate((ids) => this.templateIdsOf(ids), templates.length).map((items) => items.map(contentOf))
    const texts = exactTemplateTexts(templates, contents, this.options)
    return templates.map((t, i) => ({ ...t, exact: texts[i]! }))
  }

  /** Masked, delimiter-split (and, with `numbersAsParams`, parametrised) tokens of a message. */
  contentTokens(content: string): Array<string> {
    return this.masker.tokens(content)
  }

  /** The whole miner as a JSON-able value (see `MinerState`); the content cache is not included. */
  toState(): MinerState {
    const { rank } = this.rootRanks()
    const templates = this.templates()
    const patterns: Array<{ templateId: number; tokens: ReadonlyArray<string> }> = []
    for (let g = 0; g < this.table.size; g++) {
      if (this.clusterList[this.table.clusterOf(g)]!.evicted) continue
      patterns.push({ templateId: rank[this.table.find(g)]!, tokens: [...this.table.tokensOf(g)] })
    }
    return {
      kind: "logflow.miner",
      version: 1,
      options: this.options,
      clusters: {
        tokens: this.clusterList.map((c) => [...c.tokens]),
        size: this.clusterList.map((c) => c.size),
        evicted: this.clusterList.map((c) => (c.evicted ? 1 : 0))
      },
      tree: exportTree(this.root),
      lru: this.lru === undefined ? [] : [...this.lru.keys()],
      table: this.table.exportState(),
      templates,
      patterns
    }
  }

  /** A miner that continues exactly where `toState` left off (with an empty content cache). */
  static fromState(state: MinerState): Drain {
    if (state.kind !== "logflow.miner" || state.version !== 1) {
      throw new Error(`MinerState: expected kind "logflow.miner" version 1, got ${JSON.stringify(state.kind)} version ${String(state.version)}`)
    }
    const o = state.options
    const drain = new Drain({
      depth: o.depth,
      simTh: o.simTh,
      maxChildren: o.maxChildren,
      ...(o.maxClusters === null ? {} : { maxClusters: o.maxClusters }),
      parametrizeNumericTokens: o.parametrizeNumericTokens,
      paramsAreSimilar: o.paramsAreSimilar,
      variableThreshold: o.variableThreshold,
      templateMerge: o.templateMerge,
      cacheCapacity: o.cacheCapacity,
      masks: o.masks,
      extraDelimiters: o.extraDelimiters,
      splitAfter: o.splitAfter,
      numbersAsParams: o.numbersAsParams,
      maxContentLength: o.maxContentLength
    })
    const c = state.clusters
    if (c.size.length !== c.tokens.length || c.evicted.length !== c.tokens.length) {
      throw new Error("MinerState: cluster columns have different lengths")
    }
    c.tokens.forEach((tokens, clusterId) => {
      drain.clusterList.push({ clusterId, tokens: [...tokens], size: c.size[clusterId]!, evicted: c.evicted[clusterId] === 1 })
    })
    importTree(state.tree, drain.root, c.tokens.length)
    if (drain.lru !== undefined) {
      for (const id of state.lru) {
        const cluster = drain.clusterList[id]
        if (cluster === undefined || cluster.evicted) throw new Error(`MinerState: lru lists cluster ${id}, which is not live`)
        drain.lru.set(id, cluster)
      }
    }
    drain.table = TemplateTable.importState(state.table, o.variableThreshold, o.templateMerge)
    return drain
  }

  // -------------------------------------------------------------------------------------------

  /** Count a remembered content on its template again, unless its cluster was evicted. */
  private recount(g: number): boolean {
    const cluster = this.clusterList[this.table.clusterOf(g)]!
    if (cluster.evicted) return false
    cluster.size++
    this.touch(cluster)
    this.table.recount(g)
    this.lastClusterId = cluster.clusterId
    this.lastChange = "none"
    return true
  }

  /** Learn one content; returns its template (internal id) and sets lastClusterId / lastChange. */
  private learn(content: string): number {
    const spans = this.spans
    this.tokenisedCount++
    return this.learnTokens(this.masker.spannedTokens(content, spans), spans)
  }

  /**
   * Learn the tokens of a cached shape. When neither a cluster was created nor a template changed
   * since these tokens last joined a cluster without changing anything, the search would find
   * the same cluster again: it is skipped (and the template table skips its work likewise).
   */
  private learnEntry(entry: ShapeEntry): number {
    if (entry.memoVersion === this.version) {
      const cluster = this.clusterList[entry.memoCluster]!
      cluster.size++
      this.touch(cluster)
      this.lastChange = "none"
      this.lastClusterId = cluster.clusterId
      return this.table.observe(cluster.clusterId, cluster.tokens, entry.tokens, entry, entry)
    }
    const before = this.version
    const g = this.learnTokens(entry.tokens, entry, entry)
    if (this.version === before) {
      entry.memoVersion = before
      entry.memoCluster = this.lastClusterId
    }
    return g
  }

  /**
   * Learn a content's tokens (`values`: what its positions count toward the variable threshold;
   * `memo`: the template table's, for a shape entry).
   */
  private learnTokens(tokens: ReadonlyArray<string>, values: PositionValues, memo?: ObserveMemo): number {
    let cluster = this.treeSearch(tokens, this.simTh, false)
    if (cluster === undefined) {
      cluster = { clusterId: this.clusterList.length, tokens: [...tokens], size: 1, evicted: false }
      this.clusterList.push(cluster)
      if (this.lru !== undefined) {
        this.lru.set(cluster.clusterId, cluster)
        if (this.lru.size > this.maxClusters!) {
          const [oldest, old] = this.lru.entries().next().value!
          this.lru.delete(oldest)
          old.evicted = true
        }
      }
      this.addSeqToPrefixTree(cluster)
      this.lastChange = "cluster_created"
      this.version++
    } else {
      cluster.size++
      if (mergeTemplate(cluster.tokens, tokens)) {
        this.lastChange = "cluster_template_changed"
        this.version++
        this.table.syncTrivial(cluster.clusterId, cluster.tokens)
      } else this.lastChange = "none"
      this.touch(cluster)
    }
    this.lastClusterId = cluster.clusterId
    return this.table.observe(cluster.clusterId, cluster.tokens, tokens, values, this.lastChange === "none" ? memo : undefined)
  }

  private touch(cluster: MutableCluster): void {
    if (this.lru === undefined) return
    this.lru.delete(cluster.clusterId)
    this.lru.set(cluster.clusterId, cluster)
  }

  /** Roots of the template sets in ascending order, and each root's rank (its compact id). */
  private rootRanks(): { roots: Array<number>; rank: Int32Array } {
    const roots: Array<number> = []
    const rank = new Int32Array(this.table.size).fill(-1)
    for (let g = 0; g < this.table.size; g++) {
      if (this.table.find(g) === g) {
        rank[g] = roots.length
        roots.push(g)
      }
    }
    return { roots, rank }
  }

  private treeSearch(tokens: ReadonlyArray<string>, simTh: number, includeParams: boolean): MutableCluster | undefined {
    const tokenCount = tokens.length
    let node = this.root.get(tokenCount)
    if (node === undefined) return undefined
    if (tokenCount === 0) {
      const c = this.clusterList[node.clusterIds[0]!]
      return c === undefined || c.evicted ? undefined : c
    }
    let currentDepth = 1
    for (const token of tokens) {
      if (currentDepth >= this.maxNodeDepth || currentDepth === tokenCount) break
      const next: TreeNode | undefined = node.children.get(token) ?? node.children.get(PARAM_STR)
      if (next === undefined) return undefined
      node = next
      currentDepth++
    }
    return this.fastMatch(node.clusterIds, tokens, simTh, includeParams)
  }

  private fastMatch(clusterIds: ReadonlyArray<number>, tokens: ReadonlyArray<string>, simTh: number, includeParams: boolean): MutableCluster | undefined {
    let maxSim = -1
    let maxParamCount = -1
    let maxCluster: MutableCluster | undefined
    const paramsSimilar = this.paramsAreSimilar
    for (let k = 0; k < clusterIds.length; k++) {
      const cluster = this.clusterList[clusterIds[k]!]!
      if (cluster.evicted) continue
      // Drain3's `get_seq_distance` (template first): equal tokens at non-`<*>` template
      // positions [+ `<*>` positions when includeParams, or facing a message `<*>` when
      // paramsAreSimilar] over the length; an empty pair is a full match.
      const template = cluster.tokens
      const n = template.length
      let simTokens = 0
      let paramCount = 0
      for (let i = 0; i < n; i++) {
        const t = template[i]!
        if (t === PARAM_STR) {
          paramCount++
          if (includeParams || (paramsSimilar && tokens[i] === PARAM_STR)) simTokens++
        } else if (t === tokens[i]) simTokens++
      }
      const sim = n === 0 ? 1 : simTokens / n
      if (sim > maxSim || (sim === maxSim && paramCount > maxParamCount)) {
        maxSim = sim
        maxParamCount = paramCount
        maxCluster = cluster
      }
    }
    return maxSim >= simTh ? maxCluster : undefined
  }

  private addSeqToPrefixTree(cluster: MutableCluster): void {
    const tokenCount = cluster.tokens.length
    let node = this.root.get(tokenCount)
    if (node === undefined) {
      node = newNode()
      this.root.set(tokenCount, node)
    }
    if (tokenCount === 0) {
      node.clusterIds = [cluster.clusterId]
      return
    }
    let currentDepth = 1
    for (const token of cluster.tokens) {
      if (currentDepth >= this.maxNodeDepth || currentDepth === tokenCount) {
        // Drop evicted clusters from the leaf (Drain3 cleans up stale ids here too).
        if (this.lru !== undefined) node.clusterIds = node.clusterIds.filter((id) => !this.clusterList[id]!.evicted)
        // The newest cluster goes first, which decides ties in fastMatch.
        node.clusterIds.unshift(cluster.clusterId)
        return
      }
      const children: Map<string, TreeNode> = node.children
      let next = children.get(token)
      if (next === undefined) {
        if (this.parametrizeNumericTokens && hasNumbers(token)) {
          next = children.get(PARAM_STR) ?? addChild(children, PARAM_STR)
        } else if (children.has(PARAM_STR)) {
          next = children.size < this.maxChildren ? addChild(children, token) : children.get(PARAM_STR)!
        } else if (children.size + 1 < this.maxChildren) {
          next = addChild(children, token)
        } else if (children.size + 1 === this.maxChildren) {
          next = addChild(children, PARAM_STR)
        } else {
          next = children.get(PARAM_STR)!
        }
      }
      node = next
      currentDepth++
    }
  }
}

/**
 * Mine templates over a content column with a fresh Drain. Row i gets the id of its template
 * in its final (fully merged) form; ids are 0..k-1 in order of creation (first occurrence).
 */
export const mineTemplates = (contents: StringColumn, opts: DrainOptions = {}): TemplatedLog => {
  const drain = new Drain(opts)
  return drain.templatedLog(drain.addColumn(contents))
}

/**
 * `mineTemplates` with each template's parameter-exact text (`exact`, ExactTemplates.ts) and the
 * miner's state (for `matchTemplates` or to continue mining later).
 */
export const mineTemplatesWithState = (contents: StringColumn, opts: DrainOptions = {}): { log: TemplatedLog; state: MinerState } => {
  const drain = new Drain(opts)
  const rows = drain.addColumn(contents)
  const log = drain.templatedLog(rows)
  const templates = drain.exactTemplates(sampleRows(rows), (row) => stringAt(contents, row), log.templates)
  return { log: { templateIds: log.templateIds, templates }, state: drain.toState() }
}

/** Grouping accuracy (GA), re-exported from Accuracy.ts for the miner's tests. */
export { groupingAccuracy } from "./Accuracy.ts"

/** Group F1 (FGA) of a predicted grouping against the truth; NaN when empty. */
export const groupingF1 = (predicted: ArrayLike<number>, truth: ArrayLike<string | number>): number => {
  if (predicted.length !== truth.length) {
    throw new Error(`groupingF1: ${predicted.length} predictions but ${truth.length} ground-truth labels`)
  }
  return groupF1(predicted, truth).f1
}

// ---------------------------------------------------------------------------------------------

interface TreeNode {
  readonly children: Map<string, TreeNode>
  clusterIds: Array<number>
}

interface MutableCluster {
  readonly clusterId: number
  readonly tokens: Array<string>
  size: number
  evicted: boolean
}

const DIGIT = /\p{Nd}/u
const utf8 = new TextDecoder()
/** Node's `Buffer#utf8Slice`: decodes a range without making a view of it (TextDecoder needs one). */
const UTF8_SLICE: unknown = Reflect.get(Buffer.prototype, "utf8Slice")
const decodeUtf8 = typeof UTF8_SLICE === "function"
  ? (bytes: Uint8Array, start: number, end: number): string => (UTF8_SLICE as (this: Uint8Array, s: number, e: number) => string).call(bytes, start, end)
  : (bytes: Uint8Array, start: number, end: number): string => utf8.decode(bytes.subarray(start, end))

const newNode = (): TreeNode => ({ children: new Map(), clusterIds: [] })

const addChild = (children: Map<string, TreeNode>, key: string): TreeNode => {
  const node = newNode()
  children.set(key, node)
  return node
}

/** Drain3's `has_numbers`: any (Unicode decimal) digit. */
const hasNumbers = (token: string): boolean => {
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i)
    if (c >= 48 && c <= 57) return true
    if (c >= 128) return DIGIT.test(token)
  }
  return false
}

/** Drain3's `create_template`, in place: positions where the message differs become `<*>`. */
const mergeTemplate = (template: Array<string>, tokens: ReadonlyArray<string>): boolean => {
  let changed = false
  for (let i = 0; i < template.length; i++) {
    if (template[i] !== tokens[i] && template[i] !== PARAM_STR) {
      template[i] = PARAM_STR
      changed = true
    }
  }
  return changed
}

const normalizeMask = (m: DrainMask): DrainMask => ({
  pattern: m.pattern,
  ...(m.name === undefined ? {} : { name: m.name }),
  ...(m.replacement === undefined ? {} : { replacement: m.replacement })
})

/** The prefix tree in preorder: per node its key, child count and leaf cluster ids. */
const exportTree = (root: Map<number, TreeNode>): TreeState => {
  const keys: Array<string> = []
  const children: Array<number> = []
  const clusterIds: Array<Array<number>> = []
  const visit = (key: string, node: TreeNode): void => {
    keys.push(key)
    children.push(node.children.size)
    clusterIds.push([...node.clusterIds])
    for (const [k, child] of node.children) visit(k, child)
  }
  keys.push("")
  children.push(root.size)
  clusterIds.push([])
  for (const [count, node] of root) visit(String(count), node)
  return { keys, children, clusterIds }
}

const importTree = (tree: TreeState, root: Map<number, TreeNode>, clusterCount: number): void => {
  const n = tree.keys.length
  if (tree.children.length !== n || tree.clusterIds.length !== n || n === 0) throw new Error("MinerState: malformed tree")
  let next = 1
  const build = (): [string, TreeNode] => {
    const i = next++
    if (i >= n) throw new Error("MinerState: tree ends early")
    const node: TreeNode = { children: new Map(), clusterIds: tree.clusterIds[i]!.map((id) => checkId(id, clusterCount)) }
    for (let k = 0; k < tree.children[i]!; k++) {
      const [key, child] = build()
      node.children.set(key, child)
    }
    return [tree.keys[i]!, node]
  }
  for (let k = 0; k < tree.children[0]!; k++) {
    const [key, node] = build()
    const count = Number(key)
    if (!Number.isInteger(count) || count < 0) throw new Error(`MinerState: tree root key ${JSON.stringify(key)} is not a token count`)
    root.set(count, node)
  }
  if (next !== n) throw new Error("MinerState: tree has unreachable nodes")
}

const checkId = (id: number, count: number): number => {
  if (!Number.isInteger(id) || id < 0 || id >= count) throw new Error(`MinerState: tree refers to unknown cluster ${id}`)
  return id
}

/** Snapshot a miner. */
export const toState = (drain: Drain): MinerState => drain.toState()

/** Rebuild a miner from a snapshot (validating its shape); it continues exactly where the snapshot was taken. */
export const fromState = (state: unknown): Drain => Drain.fromState(checkState(state))
