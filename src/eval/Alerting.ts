/**
 * Alerting policy for `flow detect` (the alert-storm control of alog-detect's enhanced DeepLog,
 * without its two defects): predictions and novel events in, alerts out, one at a time, so a
 * followed log alerts as it grows. Plain synchronous code, no I/O.
 *
 * - A **prediction** is one judged unit: an event of a predictive detector (DeepLog: OK iff the
 *   true next template is among the top k, or iff the probability mass ranked strictly above it
 *   is below p; the caller applies that rule, `judgeEvent`) or a scored window or session of any
 *   other detector (failed iff flagged).
 * - **Sessions** per entity: the last N outcomes of an entity; a gap of more than `session_gap_s`
 *   of log time since its previous prediction starts a new session (the outcomes are forgotten).
 * - **K-of-N**: a failed prediction raises a `sequence` alert when the session holds N outcomes and
 *   at least K of them failed.
 * - **Novelty**: a line no template of the bundle matches, keyed by (entity, template TEXT) — never
 *   by an id, so a vocabulary keyed by text cannot be compared with ids — aggregated over
 *   `novelty_window_s` of log time from its first occurrence: one `novelty` alert per window with
 *   the count, first and last line.
 * - **Cooldown and duplicate suppression** per signature (`<entity>|sequence`,
 *   `<entity>|novelty|<template>`): an alert within `cooldown_s` of log time of the previous alert
 *   of the same signature is suppressed and counted; the next alert of that signature reports how
 *   many were suppressed before it.
 *
 * Log time is in seconds and given by the caller (`flow detect`: a line's timestamp, the previous
 * line's when it has none, and one second per line for a log whose format has no time).
 */

/** The policy: per bundle, overridable by `flow detect` flags. */
export interface AlertPolicy {
  /** How a predictive detector's event is judged. */
  readonly rule: "top_k" | "top_p"
  /** top_k: OK iff the true next template ranks among the k most likely. */
  readonly top_k: number
  /** top_p: OK iff the probability mass ranked strictly above the true next template is below p. */
  readonly top_p: number
  /** A gap of log time (seconds) after which an entity's session starts over. */
  readonly session_gap_s: number
  /** K failed predictions of the last N of a session raise an alert. */
  readonly k_of_n: { readonly k: number; readonly n: number }
  /** Seconds of log time during which a second alert of the same signature is suppressed. */
  readonly cooldown_s: number
  /** Whether lines no template matches raise novelty alerts. */
  readonly novelty: boolean
  /** Seconds of log time over which one (entity, template) novelty is aggregated into one alert. */
  readonly novelty_window_s: number
}

/** alog-detect's defaults (top-k with the model's own k, 300 s sessions, 7 of 10, 60 s cooldown and novelty window). */
export const defaultPolicy = (topK: number, kOfN: { readonly k: number; readonly n: number } = { k: 7, n: 10 }): AlertPolicy => ({
  rule: "top_k",
  top_k: topK,
  top_p: 0.9,
  session_gap_s: 300,
  k_of_n: kOfN,
  cooldown_s: 60,
  novelty: true,
  novelty_window_s: 60
})

/** The policy's problems, each naming its key; empty when fine. */
export const policyProblems = (p: AlertPolicy): Array<string> => [
  ...(p.rule === "top_k" || p.rule === "top_p" ? [] : [`rule must be "top_k" or "top_p", got ${JSON.stringify(p.rule)}`]),
  ...(Number.isInteger(p.top_k) && p.top_k >= 1 ? [] : [`top_k must be an integer >= 1, got ${p.top_k}`]),
  ...(p.top_p > 0 && p.top_p <= 1 ? [] : [`top_p must be in (0, 1], got ${p.top_p}`]),
  ...(p.session_gap_s > 0 ? [] : [`session_gap_s must be > 0, got ${p.session_gap_s}`]),
  ...(Number.isInteger(p.k_of_n.n) && p.k_of_n.n >= 1 && Number.isInteger(p.k_of_n.k) && p.k_of_n.k >= 1 && p.k_of_n.k <= p.k_of_n.n
    ? []
    : [`k_of_n must be K/N with integers 1 <= K <= N, got ${p.k_of_n.k}/${p.k_of_n.n}`]),
  ...(p.cooldown_s >= 0 ? [] : [`cooldown_s must be >= 0, got ${p.cooldown_s}`]),
  ...(p.novelty_window_s >= 0 ? [] : [`novelty_window_s must be >= 0, got ${p.novelty_window_s}`])
]

/**
 * An event's verdict under the policy's rule: `rank` of the true next template (0 = most likely;
 * >= the class count when it was never seen in training, which always fails), `massAbove` the
 * probability mass of the templates ranked strictly above it.
 */
export const judgeEvent = (policy: AlertPolicy, rank: number, massAbove: number, classes: number): boolean =>
  rank < classes && (policy.rule === "top_k" ? rank < policy.top_k : massAbove < policy.top_p)

/** One judged unit (an event or a window) of an entity. */
export interface Prediction {
  readonly entity: string
  /** Log time, seconds. */
  readonly time: number
  readonly file: string
  /** The raw line the prediction is about (an event's own line; a window's last line). */
  readonly line: number
  readonly failed: boolean
  /** What to show with an alert it raises (template, expected templates, score, window id). */
  readonly detail?: Readonly<Record<string, unknown>>
}

/** A line no template of the bundle matches. */
export interface NovelEvent {
  readonly entity: string
  readonly time: number
  readonly file: string
  readonly line: number
  /** The provisional template's text (what novelty is keyed by). */
  readonly template: string
}

export interface Alert {
  readonly kind: "sequence" | "novelty"
  readonly signature: string
  readonly entity: string
  /** sequence alerts: the session's number (sessions are numbered 1, 2, ... in the order they start). */
  readonly session?: number
  readonly file: string
  /** sequence: the line of the failed prediction that raised it; novelty: the first line. */
  readonly line: number
  readonly time: number
  /** sequence: the first line of the N predictions judged, and how many of them failed. */
  readonly from_line?: number
  readonly failures?: number
  readonly of?: number
  /** novelty: the template, occurrences in the window, the last one. */
  readonly template?: string
  readonly count?: number
  readonly last_line?: number
  readonly last_time?: number
  /** Alerts of this signature suppressed (cooldown) since the previous one was raised. */
  readonly suppressed_before: number
  readonly detail?: Readonly<Record<string, unknown>>
}

interface Session {
  index: number
  lastTime: number
  /** Ring of the last N outcomes (1 = failed) and the lines they were about. */
  readonly failed: Uint8Array
  readonly lines: Int32Array
  count: number
  at: number
  failures: number
}

interface Aggregate {
  readonly entity: string
  readonly template: string
  readonly file: string
  readonly line: number
  readonly time: number
  count: number
  lastLine: number
  lastTime: number
}

/** Counts for the summary. */
export interface AlertStats {
  predictions: number
  failed: number
  sessions: number
  novel_events: number
  alerts: number
  sequence_alerts: number
  novelty_alerts: number
  suppressed: number
}

export class AlertEngine {
  readonly policy: AlertPolicy
  readonly stats: AlertStats = { predictions: 0, failed: 0, sessions: 0, novel_events: 0, alerts: 0, sequence_alerts: 0, novelty_alerts: 0, suppressed: 0 }
  private readonly sessions = new Map<string, Session>()
  /** Open novelty aggregates by entity and template, in the order they opened (= time order). */
  private readonly open = new Map<string, Aggregate>()
  private readonly lastAlert = new Map<string, number>()
  private readonly suppressedSince = new Map<string, number>()

  constructor(policy: AlertPolicy) {
    const problems = policyProblems(policy)
    if (problems.length > 0) throw new Error(`alert policy: ${problems.join("; ")}`)
    this.policy = policy
  }

  /** A judged unit; the alert it raises, if any. */
  prediction(p: Prediction): Alert | undefined {
    const { n, k } = this.policy.k_of_n
    this.stats.predictions++
    if (p.failed) this.stats.failed++
    let s = this.sessions.get(p.entity)
    if (s === undefined) {
      s = { index: 0, lastTime: p.time, failed: new Uint8Array(n), lines: new Int32Array(n), count: 0, at: 0, failures: 0 }
      this.sessions.set(p.entity, s)
    }
    if (s.index === 0 || p.time - s.lastTime > this.policy.session_gap_s) {
      s.index = ++this.stats.sessions
      s.count = s.at = s.failures = 0
    }
    s.lastTime = p.time
    if (s.count === n) s.failures -= s.failed[s.at]!
    else s.count++
    s.failed[s.at] = p.failed ? 1 : 0
    s.lines[s.at] = p.line
    s.at = (s.at + 1) % n
    if (p.failed) s.failures++
    if (!p.failed || s.count < n || s.failures < k) return undefined
    const signature = `${p.entity}|sequence`
    return this.raise(signature, p.time, (suppressed) => ({
      kind: "sequence",
      signature,
      entity: p.entity,
      session: s.index,
      file: p.file,
      line: p.line,
      time: p.time,
      from_line: s.lines[s.at]!,
      failures: s.failures,
      of: n,
      suppressed_before: suppressed,
      ...(p.detail === undefined ? {} : { detail: p.detail })
    }))
  }

  /** A novel line; the novelty alerts whose windows it closed (its own, when it starts a new window of its key). */
  novel(e: NovelEvent): Array<Alert> {
    if (!this.policy.novelty) return []
    this.stats.novel_events++
    const out = this.advance(e.time)
    const key = `${e.entity}\u0000${e.template}`
    const a = this.open.get(key)
    if (a !== undefined) {
      a.count++
      a.lastLine = e.line
      a.lastTime = e.time
    } else {
      this.open.set(key, { entity: e.entity, template: e.template, file: e.file, line: e.line, time: e.time, count: 1, lastLine: e.line, lastTime: e.time })
    }
    return out
  }

  /** The log's clock reached `time`: the novelty alerts of windows that ended before it. */
  advance(time: number): Array<Alert> {
    const out: Array<Alert> = []
    for (const [key, a] of this.open) {
      if (time - a.time <= this.policy.novelty_window_s) continue
      this.open.delete(key)
      const alert = this.closeNovelty(a)
      if (alert !== undefined) out.push(alert)
    }
    return out
  }

  /** End of input (or an interruption): the open novelty windows' alerts. */
  finish(): Array<Alert> {
    const out: Array<Alert> = []
    for (const a of this.open.values()) {
      const alert = this.closeNovelty(a)
      if (alert !== undefined) out.push(alert)
    }
    this.open.clear()
    return out
  }

  private closeNovelty(a: Aggregate): Alert | undefined {
    const signature = `${a.entity}|novelty|${a.template}`
    return this.raise(signature, a.time, (suppressed) => ({
      kind: "novelty",
      signature,
      entity: a.entity,
      file: a.file,
      line: a.line,
      time: a.time,
      template: a.template,
      count: a.count,
      last_line: a.lastLine,
      last_time: a.lastTime,
      suppressed_before: suppressed
    }))
  }

  /** Cooldown and duplicate suppression by signature. */
  private raise(signature: string, time: number, make: (suppressed: number) => Alert): Alert | undefined {
    const last = this.lastAlert.get(signature)
    if (last !== undefined && time - last < this.policy.cooldown_s) {
      this.suppressedSince.set(signature, (this.suppressedSince.get(signature) ?? 0) + 1)
      this.stats.suppressed++
      return undefined
    }
    this.lastAlert.set(signature, time)
    const alert = make(this.suppressedSince.get(signature) ?? 0)
    this.suppressedSince.delete(signature)
    this.stats.alerts++
    if (alert.kind === "sequence") this.stats.sequence_alerts++
    else this.stats.novelty_alerts++
    return alert
  }

  /**
   * Forget what can no longer matter at log time `now`: sessions idle for more than the session gap
   * (their next prediction would start a new one) and signatures whose cooldown is over with nothing
   * suppressed. Keeps memory bounded by the entities active in the last minutes, not by the log.
   */
  sweep(now: number): void {
    for (const [entity, s] of this.sessions) if (now - s.lastTime > this.policy.session_gap_s) this.sessions.delete(entity)
    for (const [signature, last] of this.lastAlert) {
      if (now - last >= this.policy.cooldown_s && !this.suppressedSince.has(signature)) this.lastAlert.delete(signature)
    }
  }

  /** Entities with a session and signatures remembered (memory checks: they grow with entities, not lines). */
  get size(): { readonly sessions: number; readonly signatures: number; readonly open_novelty: number } {
    return { sessions: this.sessions.size, signatures: this.lastAlert.size, open_novelty: this.open.size }
  }
}
