/**
 * What a process keeps warm between the steps of a command, and the resident daemon between
 * commands: loaded registries, source digests, precheck answers, plans, open caches, idle stage
 * workers. Every such memo is named, bounded (least recently used entries are dropped, and
 * disposed of when they hold a resource) and lives in this one service instead of in module
 * variables, so a command in its own process starts cold and the daemon's state is one value it
 * creates, hands to each command and closes when it stops.
 *
 * A holder of a resource (an open cache, an idle worker) gives it back to its memo instead of
 * releasing it, and the state releases what it holds when it is closed: at the end of a command in
 * its own process (`WarmState.layer`), when the daemon stops (`makeWarmState`, `WarmState.layerOf`).
 */
import { Context, Effect, Layer } from "effect"

/** A memo's name, bound and, for entries that hold a resource, how to release one. */
export interface MemoSpec<K, V> {
  readonly name: string
  readonly capacity: number
  readonly dispose?: ((value: V) => Promise<void> | void) | undefined
  /** Phantom: the key type. */
  readonly _K?: K
}

/** Declare a memo (a module constant: the spec, not the state, lives in the module). */
export const memoSpec = <K, V>(name: string, capacity: number, dispose?: (value: V) => Promise<void> | void): MemoSpec<K, V> => ({
  name,
  capacity,
  ...(dispose === undefined ? {} : { dispose })
})

/** A bounded map: `get` marks an entry as recently used; `set` beyond the bound drops the least recently used. */
export interface BoundedMemo<K, V> {
  get(key: K): V | undefined
  has(key: K): boolean
  set(key: K, value: V): void
  /** Remove an entry (disposing of it); true when there was one. */
  delete(key: K): boolean
  /** Remove an entry and hand it over (not disposed: the caller now holds it). */
  take(key: K): V | undefined
  readonly size: number
  values(): ReadonlyArray<V>
}

export interface WarmStateShape {
  /** The memo declared by `spec` (created on first use). */
  memo<K, V>(spec: MemoSpec<K, V>): BoundedMemo<K, V>
  /** Dispose of every entry of every memo (the daemon when it stops; a command's state when it ends). */
  close(): Promise<void>
}

export class WarmState extends Context.Service<WarmState, WarmStateShape>()("logflow/runtime/WarmState") {
  /** Fresh state for one command, closed when the layer is released. */
  static readonly layer = Layer.effect(
    WarmState,
    Effect.acquireRelease(Effect.sync(() => makeWarmState()), (s) => Effect.promise(() => s.close()))
  )

  /** State made and closed by its owner (the daemon's, kept between commands). */
  static readonly layerOf = (state: WarmStateShape) => Layer.succeed(WarmState, state)
}

/** A new, empty warm state. */
export const makeWarmState = (): WarmStateShape => {
  const memos = new Map<string, { readonly spec: MemoSpec<unknown, unknown>; readonly memo: BoundedMemo<unknown, unknown> & { drain(): Array<unknown> } }>()
  const pending = new Set<Promise<void>>()
  const release = (spec: MemoSpec<unknown, unknown>, value: unknown): void => {
    if (spec.dispose === undefined) return
    const p = Promise.resolve()
      .then(() => spec.dispose!(value))
      .catch(() => undefined)
      .finally(() => pending.delete(p))
    pending.add(p)
  }
  const make = (spec: MemoSpec<unknown, unknown>) => {
    const entries = new Map<unknown, unknown>()
    return {
      get: (key: unknown) => {
        if (!entries.has(key)) return undefined
        const value = entries.get(key)
        entries.delete(key)
        entries.set(key, value)
        return value
      },
      has: (key: unknown) => entries.has(key),
      set: (key: unknown, value: unknown) => {
        const old = entries.get(key)
        if (entries.has(key) && old !== value) release(spec, old)
        entries.delete(key)
        entries.set(key, value)
        while (entries.size > Math.max(0, spec.capacity)) {
          const [oldest, v] = entries.entries().next().value as [unknown, unknown]
          entries.delete(oldest)
          release(spec, v)
        }
      },
      delete: (key: unknown) => {
        if (!entries.has(key)) return false
        const v = entries.get(key)
        entries.delete(key)
        release(spec, v)
        return true
      },
      take: (key: unknown) => {
        const v = entries.get(key)
        entries.delete(key)
        return v
      },
      get size() {
        return entries.size
      },
      values: () => [...entries.values()],
      drain: () => {
        const all = [...entries.values()]
        entries.clear()
        return all
      }
    }
  }
  return {
    memo: <K, V>(spec: MemoSpec<K, V>): BoundedMemo<K, V> => {
      let known = memos.get(spec.name)
      if (known === undefined) {
        const erased = spec as MemoSpec<unknown, unknown>
        known = { spec: erased, memo: make(erased) }
        memos.set(spec.name, known)
      }
      return known.memo as BoundedMemo<K, V>
    },
    close: async () => {
      for (const { spec, memo } of memos.values()) for (const v of memo.drain()) release(spec, v)
      while (pending.size > 0) await Promise.all([...pending])
    }
  }
}
