/**
 * Drain log template mining (He et al., ICWS 2017) with the semantics of Drain3's `drain.py`:
 * a fixed-depth prefix tree keyed by token count and then the leading tokens, clusters at the
 * leaves, a message joins the most similar cluster when similarity >= simTh (its template
 * merging to `<*>` where they differ), else it founds a new one. `mineTemplates` runs it over a
 * content column; `groupingAccuracy` scores a grouping against ground truth (Zhu et al. 2019).
 */
import { isAscii } from "node:buffer"
import type { StringColumn, Template, TemplatedLog } from "../tasks/Artifacts.ts"

/** The wildcard token of templates and the wildcard branch of the prefix tree. */
export const PARAM_STR = "<*>"

/** A regex mask applied to content before tokenising (Drain3's masking instruction). */
export interface DrainMask {
  /** Regex source, applied globally. */
  readonly pattern: string
  /** Literal replacement text (default `<*>`). */
  readonly replacement?: string
}

/** Drain tuning parameters; all optional, validated by the constructor. */
export interface DrainOptions {
  /** Depth of the leaf nodes, >= 3 (default 4): the tree indexes the first `depth - 3` tokens under the token count. */
  readonly depth?: number
  /** Similarity threshold in [0, 1] (default 0.4). */
  readonly simTh?: number
  /** Most children of an internal node, >= 1 (default 100); further tokens go to the `<*>` child. */
  readonly maxChildren?: number
  /** Masks applied in order to each content before tokenising. */
  readonly masks?: ReadonlyArray<DrainMask>
  /** Extra token delimiters (besides whitespace), each replaced by a space. */
  readonly extraDelimiters?: ReadonlyArray<string>
}

/** What adding a message did to the clusters. */
export type DrainChange = "cluster_created" | "cluster_template_changed" | "none"

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
  /** Tokens indexed below the token-count layer (Drain3's `max_node_depth` = depth - 2, minus that layer). */
  private readonly maxNodeDepth: number
  private readonly masks: ReadonlyArray<{ readonly regex: RegExp; readonly replacement: string }>
  private readonly extraDelimiters: ReadonlyArray<string>
  private readonly root = new Map<number, TreeNode>()
  private readonly clusterList: Array<MutableCluster> = []

  constructor(options: DrainOptions = {}) {
    const depth = options.depth ?? 4
    const simTh = options.simTh ?? 0.4
    const maxChildren = options.maxChildren ?? 100
    if (!Number.isInteger(depth) || depth < 3) throw new Error(`Drain: depth must be an integer >= 3, got ${depth}`)
    if (!(simTh >= 0 && simTh <= 1)) throw new Error(`Drain: simTh must be a number in [0, 1], got ${simTh}`)
    if (!Number.isInteger(maxChildren) || maxChildren < 1) {
      throw new Error(`Drain: maxChildren must be an integer >= 1, got ${maxChildren}`)
    }
    this.depth = depth
    this.simTh = simTh
    this.maxChildren = maxChildren
    this.maxNodeDepth = depth - 2
    this.masks = (options.masks ?? []).map((mask, i) => {
      let regex: RegExp
      try {
        regex = new RegExp(mask.pattern, "g")
      } catch (cause) {
        throw new Error(`Drain: masks[${i}].pattern ${JSON.stringify(mask.pattern)} is not a valid regex: ${String(cause)}`)
      }
      if (regex.test("")) throw new Error(`Drain: masks[${i}].pattern ${JSON.stringify(mask.pattern)} matches the empty string`)
      regex.lastIndex = 0
      return { regex, replacement: mask.replacement ?? PARAM_STR }
    })
    this.extraDelimiters = (options.extraDelimiters ?? []).map((d, i) => {
      if (typeof d !== "string" || d.length === 0) throw new Error(`Drain: extraDelimiters[${i}] must be a non-empty string`)
      return d
    })
  }

  /** Add one message: join the best matching cluster (merging its template) or create one. */
  addLogMessage(content: string): { clusterId: number; change: DrainChange } {
    const tokens = this.contentTokens(content)
    const match = this.treeSearch(tokens, this.simTh, false)
    if (match === undefined) {
      const cluster: MutableCluster = { clusterId: this.clusterList.length, tokens, size: 1 }
      this.clusterList.push(cluster)
      this.addSeqToPrefixTree(cluster)
      return { clusterId: cluster.clusterId, change: "cluster_created" }
    }
    match.size++
    const changed = mergeTemplate(match.tokens, tokens)
    return { clusterId: match.clusterId, change: changed ? "cluster_template_changed" : "none" }
  }

  /** The cluster whose template matches `content` exactly (`<*>` matches any token), without learning; Drain3's `match`. */
  match(content: string): number | undefined {
    return this.treeSearch(this.contentTokens(content), 1, true)?.clusterId
  }

  /** Snapshots of all clusters, by id. */
  clusters(): ReadonlyArray<LogCluster> {
    return this.clusterList.map((c) => ({
      clusterId: c.clusterId,
      templateTokens: [...c.tokens],
      template: c.tokens.join(" "),
      size: c.size
    }))
  }

  /** Masked, delimiter-split whitespace tokens of a message. */
  contentTokens(content: string): Array<string> {
    let text = content
    for (const mask of this.masks) text = text.replace(mask.regex, () => mask.replacement)
    for (const d of this.extraDelimiters) text = text.replaceAll(d, " ")
    text = text.trim()
    return text.length === 0 ? [] : text.split(WHITESPACE)
  }

  private treeSearch(tokens: ReadonlyArray<string>, simTh: number, includeParams: boolean): MutableCluster | undefined {
    const tokenCount = tokens.length
    let node = this.root.get(tokenCount)
    if (node === undefined) return undefined
    if (tokenCount === 0) return this.clusterList[node.clusterIds[0]!]
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
    for (const id of clusterIds) {
      const cluster = this.clusterList[id]!
      const { sim, paramCount } = seqDistance(cluster.tokens, tokens, includeParams)
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
        // Drain3 puts the newest cluster first, which decides ties in fastMatch.
        node.clusterIds.unshift(cluster.clusterId)
        return
      }
      const children: Map<string, TreeNode> = node.children
      let next = children.get(token)
      if (next === undefined) {
        if (hasNumbers(token)) {
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
 * Mine templates over a content column with a fresh Drain. Row i gets the id of the cluster it
 * joined, whose template is the final (fully merged) one; ids are 0..k-1 in creation order.
 */
export const mineTemplates = (contents: StringColumn, opts: DrainOptions = {}): TemplatedLog => {
  const drain = new Drain(opts)
  const n = contents.offsets.length - 1
  const templateIds = new Int32Array(n)
  const { blob, offsets } = contents
  const whole = isAscii(blob) ? decoder.decode(blob) : undefined
  for (let i = 0; i < n; i++) {
    const content = whole !== undefined
      ? whole.slice(offsets[i]!, offsets[i + 1]!)
      : decoder.decode(blob.subarray(offsets[i]!, offsets[i + 1]!))
    templateIds[i] = drain.addLogMessage(content).clusterId
  }
  const templates: Array<Template> = drain.clusters().map((c) => ({ id: c.clusterId, text: c.template, count: c.size }))
  return { templateIds, templates }
}

/**
 * Grouping accuracy (Zhu et al., ICSE-SEIP 2019, logparser's `get_accuracy`): the fraction of
 * lines whose predicted group holds exactly the same lines as their true group. NaN when empty.
 */
export const groupingAccuracy = (predicted: ArrayLike<number>, truth: ArrayLike<string | number>): number => {
  if (predicted.length !== truth.length) {
    throw new Error(`groupingAccuracy: ${predicted.length} predictions but ${truth.length} ground-truth labels`)
  }
  const n = predicted.length
  const truthSize = new Map<string | number, number>()
  for (let i = 0; i < n; i++) truthSize.set(truth[i]!, (truthSize.get(truth[i]!) ?? 0) + 1)
  // Per predicted group: its size, and its one true label (or a marker once labels are mixed).
  const groups = new Map<number, { size: number; label: string | number; mixed: boolean }>()
  for (let i = 0; i < n; i++) {
    const g = groups.get(predicted[i]!)
    if (g === undefined) groups.set(predicted[i]!, { size: 1, label: truth[i]!, mixed: false })
    else {
      g.size++
      if (g.label !== truth[i]) g.mixed = true
    }
  }
  let correct = 0
  for (const g of groups.values()) if (!g.mixed && truthSize.get(g.label) === g.size) correct += g.size
  return correct / n
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
}

const WHITESPACE = /\s+/
const DIGIT = /\p{Nd}/u
const decoder = new TextDecoder()

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

/**
 * Drain3's `get_seq_distance` (template first): sim = (tokens equal at non-`<*>` template
 * positions [+ the `<*>` positions when includeParams]) / length; an empty pair is a full match.
 */
const seqDistance = (template: ReadonlyArray<string>, tokens: ReadonlyArray<string>, includeParams: boolean): { sim: number; paramCount: number } => {
  const n = template.length
  if (n === 0) return { sim: 1, paramCount: 0 }
  let simTokens = 0
  let paramCount = 0
  for (let i = 0; i < n; i++) {
    const t = template[i]
    if (t === PARAM_STR) paramCount++
    else if (t === tokens[i]) simTokens++
  }
  if (includeParams) simTokens += paramCount
  return { sim: simTokens / n, paramCount }
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
