/**
 * What a command run by the resident daemon knows of it (`flow daemon status|stop` report and act
 * on it): provided by the daemon for each command it serves; absent in a command that runs in a
 * process of its own.
 */
import { Context } from "effect"

export interface DaemonSession {
  readonly pid: number
  readonly socket: string
  readonly log: string
  readonly startedAt: number
  readonly idleMs: number
  /** Commands served before this one. */
  readonly served: number
  /** Stop once this command has answered (`flow daemon stop`). */
  readonly stopAfterThisCommand: () => void
}

/** The daemon serving this command, if one is. */
export const DaemonSession = Context.Reference<DaemonSession | undefined>("logflow/startup/DaemonSession", {
  defaultValue: () => undefined
})
