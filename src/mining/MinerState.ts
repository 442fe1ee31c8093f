/**
 * The miner's state as a plain JSON-able value (Drain3's persisted snapshot), so a mine stage can
 * cache it with logflow's Codec and a later stage can match new lines against it
 * (`matchTemplates`) or resume mining (`fromState` in Drain.ts). It holds the normalised options, the
 * clusters, the prefix tree, the LRU order, the template table, and, for matching, the compact
 * template list and one token pattern per live template. The content cache is not kept.
 */
import type { TemplatedLog } from "../artifacts/Log.ts"
import type { DrainMask } from "./Masker.ts"
import type { TemplateMerge, TemplateTableState } from "./TemplateTable.ts"

/** Every miner option with its default filled in (`maxClusters: null` = unlimited). */
export interface MinerStateOptions {
  readonly depth: number
  readonly simTh: number
  readonly maxChildren: number
  readonly maxClusters: number | null
  readonly parametrizeNumericTokens: boolean
  readonly paramsAreSimilar: boolean
  readonly variableThreshold: number
  readonly templateMerge: TemplateMerge
  readonly cacheCapacity: number
  readonly masks: ReadonlyArray<DrainMask>
  readonly extraDelimiters: ReadonlyArray<string>
  readonly splitAfter: ReadonlyArray<string>
  readonly numbersAsParams: boolean
  readonly maxContentLength: number
}

/** Drain's prefix tree in preorder: node 0 is the root (its children keyed by token count). */
export interface TreeState {
  readonly keys: ReadonlyArray<string>
  readonly children: ReadonlyArray<number>
  readonly clusterIds: ReadonlyArray<ReadonlyArray<number>>
}

/** A serialisable miner. */
export interface MinerState {
  readonly kind: "logflow.miner"
  readonly version: 1
  readonly options: MinerStateOptions
  /** Per cluster (by id): template tokens, size, 1 when evicted by `maxClusters`. */
  readonly clusters: {
    readonly tokens: ReadonlyArray<ReadonlyArray<string>>
    readonly size: ReadonlyArray<number>
    readonly evicted: ReadonlyArray<number>
  }
  readonly tree: TreeState
  /** Live cluster ids, least recently used first (empty without `maxClusters`). */
  readonly lru: ReadonlyArray<number>
  readonly table: TemplateTableState
  /** The template list as `mineTemplates` reports it (ids 0..k-1). */
  readonly templates: ReadonlyArray<{ readonly id: number; readonly text: string; readonly count: number }>
  /** The token patterns of the live templates, each naming its template id; what matching uses. */
  readonly patterns: ReadonlyArray<{ readonly templateId: number; readonly tokens: ReadonlyArray<string> }>
}

/** Check the outer shape of a decoded state and return it typed; deeper checks happen on use. */
export const checkState = (state: unknown): MinerState => {
  const s = state as Partial<MinerState> | null
  if (s === null || typeof s !== "object" || s.kind !== "logflow.miner") {
    throw new Error("MinerState: not a logflow miner state (kind must be \"logflow.miner\")")
  }
  if (s.version !== 1) throw new Error(`MinerState: unsupported version ${String(s.version)} (this build reads version 1)`)
  for (const key of ["options", "clusters", "tree", "lru", "table", "templates", "patterns"] as const) {
    if (s[key] === undefined || s[key] === null || typeof s[key] !== "object") throw new Error(`MinerState: missing ${key}`)
  }
  return s as MinerState
}

/** Mined templates plus the miner's state (absent for the identity miner). */
export interface MinedLog extends TemplatedLog {
  readonly state?: MinerState
}
