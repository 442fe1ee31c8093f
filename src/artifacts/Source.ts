/**
 * A source file as the stages see it: where it is (relative to the data root or to the cache's
 * fetched-sources folder) and its content digest, which salts every key downstream of it.
 */

/** A resolved source file. */
export interface SourceFile {
  /** Path relative to its root. */
  readonly path: string
  /** `data`: the data root; `sources`: the fetched-sources folder of the cache. */
  readonly root: "data" | "sources"
  readonly sha256: string
  readonly bytes: number
}
