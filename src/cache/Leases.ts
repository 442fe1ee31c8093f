/**
 * How flows that share a cache coordinate: a running flow holds the keys of its plan (so
 * `cache gc` leaves them alone) and refreshes its hold with a heartbeat, and it claims a missing
 * key before computing it (so two flows compute each entry once). A hold is live while its process
 * runs (same host) or its heartbeat is recent (other hosts); the claims of a dead flow are taken
 * over. The LMDB and memory caches implement this service beside their `ArtifactStore`, over
 * the same entries, through one decision (`decideClaim`).
 */
import { Context, Duration, Effect, Schedule, type Scope } from "effect"
import * as os from "node:os"
import type { CacheError } from "./ArtifactStore.ts"

/** A running flow's hold on the entries it uses; `cache gc` never removes a held entry. */
export interface Hold {
  readonly holder: string
  readonly pid: number
  readonly host: string
  readonly startedAt: number
  readonly heartbeatAt: number
  readonly keys: ReadonlyArray<string>
}

/**
 * The answer to a claim on a key about to be computed: `Claimed` (compute it; the claim ends when
 * the entry is put or `unclaim`ed), `Present` (the entry exists: another flow computed it
 * meanwhile), or `Busy` (a live flow, `by`, holds the claim: wait, then claim again).
 */
export type Claim =
  | { readonly _tag: "Claimed" }
  | { readonly _tag: "Present" }
  | { readonly _tag: "Busy"; readonly by: Hold }

export class Leases extends Context.Service<Leases, {
  /** Register or refresh a hold (a running flow's keys). */
  hold(hold: Hold): Effect.Effect<void, CacheError>
  /** Drop a hold. */
  release(holder: string): Effect.Effect<void, CacheError>
  /** Every registered hold, live or stale. */
  holds(): Effect.Effect<ReadonlyArray<Hold>, CacheError>
  /**
   * Claim `key` for `holder` (a registered hold) before computing it, so that flows sharing the
   * cache compute each entry once. A claim whose holder's hold is gone or stale (its process
   * died) is taken over. `recompute`: claim even when the entry exists (forced stages).
   */
  claim(key: string, holder: string, recompute: boolean): Effect.Effect<Claim, CacheError>
  /** End `holder`'s claim on `key` (a stage that failed or was interrupted); storing the entry ends it too. */
  unclaim(key: string, holder: string): Effect.Effect<void, CacheError>
}>()("logflow/cache/Leases") {}

/** Holds older than this without a heartbeat are considered dead on other hosts. */
export const STALE_HOLD_MS = 60_000

/** How often a running flow refreshes its hold. */
export const HEARTBEAT_S = 10

/** A hold is live while its process runs (same host) or its heartbeat is recent (other hosts). */
export const isLiveHold = (hold: Hold, now: number, host: string, pidAlive: (pid: number) => boolean): boolean =>
  hold.host === host ? pidAlive(hold.pid) : now - hold.heartbeatAt < STALE_HOLD_MS

/** Whether a process with this pid runs on this host (EPERM: it runs, as another user). */
export const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** The keys every live hold names (what `cache gc` must keep). */
export const liveHeldKeys = (holds: ReadonlyArray<Hold>, now: number = Date.now()): ReadonlySet<string> =>
  new Set(holds.filter((h) => isLiveHold(h, now, os.hostname(), pidAlive)).flatMap((h) => h.keys))

const CLAIMED: Claim = { _tag: "Claimed" }
const PRESENT: Claim = { _tag: "Present" }

/** The one claim decision, over a cache's entries, claims and holds (inside its write transaction). */
export const decideClaim = (
  holder: string,
  recompute: boolean,
  s: {
    readonly exists: () => boolean
    readonly claimant: () => string | undefined
    readonly holdOf: (holder: string) => Hold | undefined
    readonly take: () => void
  }
): Claim => {
  if (!recompute && s.exists()) return PRESENT
  const claimant = s.claimant()
  const hold = claimant === undefined || claimant === holder ? undefined : s.holdOf(claimant)
  if (hold !== undefined && isLiveHold(hold, Date.now(), os.hostname(), pidAlive)) return { _tag: "Busy", by: hold }
  s.take()
  return CLAIMED
}

/**
 * Hold `keys` for as long as the scope is open: registered now, refreshed every `HEARTBEAT_S`
 * seconds, released when the scope closes. Returns the holder id to claim with. A cache that
 * cannot record holds does not stop the flow.
 */
export const holdKeys = (keys: ReadonlyArray<string>): Effect.Effect<string, never, Leases | Scope.Scope> =>
  Effect.gen(function*() {
    const leases = yield* Leases
    const host = os.hostname()
    const startedAt = Date.now()
    const holder = `${host}:${process.pid}:${startedAt}`
    const hold = Effect.suspend(() => {
      const now = Date.now()
      return leases.hold({ holder, pid: process.pid, host, startedAt, heartbeatAt: now, keys })
    }).pipe(Effect.ignore)
    yield* hold
    yield* Effect.addFinalizer(() => leases.release(holder).pipe(Effect.ignore))
    yield* Effect.forkScoped(Effect.repeat(hold, Schedule.spaced(Duration.seconds(HEARTBEAT_S))))
    return holder
  })
