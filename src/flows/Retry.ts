/**
 * A stage's retry policy (`[stages.NAME] retries, retry_delay_s` in the registry): a failed
 * attempt is retried after the delay, each failure before the last reported through `onRetry`.
 */
import { Duration, Effect, Schedule } from "effect"

export interface RetryPolicy {
  readonly retries: number
  readonly retryDelayMs: number
}

/** `attempt`, retried by `policy` (none: once) while `retryable` says its error may pass. */
export const withRetries = <A, E>(
  attempt: Effect.Effect<A, E>,
  policy: RetryPolicy | undefined,
  retryable: (error: E) => boolean,
  onRetry: (failure: number, error: E) => void
): Effect.Effect<A, E> => {
  if (policy === undefined || policy.retries === 0) return attempt
  return Effect.suspend(() => {
    let failures = 0
    return attempt.pipe(
      Effect.tapError((e: E) =>
        Effect.sync(() => {
          failures++
          if (failures <= policy.retries && retryable(e)) onRetry(failures, e)
        })
      ),
      Effect.retry({ times: policy.retries, schedule: Schedule.spaced(Duration.millis(policy.retryDelayMs)), while: retryable })
    )
  })
}
