/**
 * Claiming a missing node before computing it, so flows sharing a cache compute each entry once:
 * while another live flow holds the claim, wait (polling, no worker permit taken) and ask again;
 * its entry then arrives as `Present`. A cache that cannot record claims does not stop the flow:
 * it computes, as it would alone.
 */
import { Duration, Effect } from "effect"
import { type Claim, type Hold, Leases } from "../cache/Leases.ts"

const POLL_MS = 200

/** Claim `key` for `holder`: "Claimed" (compute it) or "Present" (another flow stored it meanwhile). */
export const claimOrWait = (
  key: string,
  holder: string,
  recompute: boolean,
  onWait: (by: Hold) => Effect.Effect<void>
): Effect.Effect<"Claimed" | "Present", never, Leases> =>
  Effect.gen(function*() {
    const leases = yield* Leases
    let waiting = false
    for (;;) {
      const c = yield* leases.claim(key, holder, recompute).pipe(Effect.orElseSucceed((): Claim => ({ _tag: "Claimed" })))
      if (c._tag !== "Busy") return c._tag
      if (!waiting) {
        waiting = true
        yield* onWait(c.by)
      }
      yield* Effect.sleep(Duration.millis(POLL_MS))
    }
  })
