// The alerting policy on hand-made streams: one rule at a time, each with the case that must not alert.
import { describe, expect, it } from "vitest"
import { type Alert, AlertEngine, type AlertPolicy, defaultPolicy, judgeEvent, policyProblems } from "../../src/eval/Alerting.ts"

const policy = (over: Partial<AlertPolicy> = {}): AlertPolicy => ({ ...defaultPolicy(3), ...over })

/** Feed outcomes ("x" failed, "." ok) for one entity, one second apart from `t0`; the alerts raised. */
const feed = (engine: AlertEngine, outcomes: string, entity = "a", t0 = 0, line0 = 1): Array<Alert> => {
  const out: Array<Alert> = []
  ;[...outcomes].forEach((c, i) => {
    const a = engine.prediction({ entity, time: t0 + i, file: "f.log", line: line0 + i, failed: c === "x" })
    if (a !== undefined) out.push(a)
  })
  return out
}

describe("judgeEvent: top-k and top-p", () => {
  it("top-k: OK iff the rank is below k; an unseen key (rank = class count) always fails", () => {
    const p = policy({ top_k: 2 })
    expect(judgeEvent(p, 0, 0, 5)).toBe(true)
    expect(judgeEvent(p, 1, 0.4, 5)).toBe(true)
    expect(judgeEvent(p, 2, 0.5, 5)).toBe(false)
    expect(judgeEvent(p, 5, 0, 5)).toBe(false)
  })
  it("top-p: OK iff the mass ranked strictly above the target is below p", () => {
    // probabilities .5 .3 .2: the second's mass above is .5, the third's .8
    const p = policy({ rule: "top_p", top_p: 0.6 })
    expect(judgeEvent(p, 0, 0, 3)).toBe(true)
    expect(judgeEvent(p, 1, 0.5, 3)).toBe(true)
    expect(judgeEvent(p, 2, 0.8, 3)).toBe(false)
    expect(judgeEvent(policy({ rule: "top_p", top_p: 0.5 }), 1, 0.5, 3)).toBe(false)
    expect(judgeEvent(policy({ rule: "top_p", top_p: 1 }), 3, 0, 3)).toBe(false)
  })
})

describe("K-of-N per entity", () => {
  it("7 failed of the last 10 with the 10th failed raises one sequence alert naming the window", () => {
    // the 10th prediction is the first with 10 outcomes; 8 of them failed
    const alerts = feed(new AlertEngine(policy({ cooldown_s: 1000 })), "..xxxxxxxx")
    expect(alerts).toHaveLength(1)
    expect(alerts[0]).toMatchObject({ kind: "sequence", entity: "a", line: 10, from_line: 1, failures: 8, of: 10, session: 1, suppressed_before: 0 })
  })
  it("no alert below K failures, before N predictions, or on an OK prediction", () => {
    expect(feed(new AlertEngine(policy()), "xxx.x.x.x.x.x.x.")).toEqual([]) // never 7 of 10
    expect(feed(new AlertEngine(policy()), "xxxxxxxxx")).toEqual([]) // 9 predictions only
    const e = new AlertEngine(policy())
    expect(feed(e, "xxxxxxx...")).toEqual([]) // 7 of 10 failed but the 10th is OK
    expect(feed(e, "x", "a", 10, 11)).toHaveLength(1) // the last 10: x x x x x x . . . x, 7 failed and the last one failed
  })
  it("the window slides: failures leaving the window no longer count", () => {
    const e = new AlertEngine(policy({ k_of_n: { k: 3, n: 4 }, cooldown_s: 0 }))
    // x x x . -> . . . x: the 5th..8th hold one failure
    expect(feed(e, "xx.x....x").map((a) => a.line)).toEqual([4])
  })
  it("entities are independent", () => {
    const e = new AlertEngine(policy({ k_of_n: { k: 2, n: 2 } }))
    expect(feed(e, "x.", "a")).toEqual([])
    expect(feed(e, "x", "b", 2)).toEqual([])
    expect(feed(e, "x", "b", 3).map((a) => a.entity)).toEqual(["b"])
  })
})

describe("sessions", () => {
  it("a gap of more than session_gap_s of log time starts a new session and forgets the outcomes", () => {
    const e = new AlertEngine(policy({ session_gap_s: 300 }))
    expect(feed(e, "xxxxxxxxx", "a", 0)).toEqual([])
    // 9 failures end at t=8; the 10th comes 301 s later: a new session, no alert
    expect(feed(e, "x", "a", 8 + 301, 20)).toEqual([])
    expect(e.stats.sessions).toBe(2)
    const f = new AlertEngine(policy({ session_gap_s: 300 }))
    feed(f, "xxxxxxxxx", "a", 0)
    const within = feed(f, "x", "a", 8 + 300, 20)
    expect(within).toHaveLength(1)
    expect(within[0]!.session).toBe(1)
  })
})

describe("cooldown and duplicate suppression by signature", () => {
  it("alerts of one signature within cooldown_s are suppressed, counted, and reported with the next alert", () => {
    const e = new AlertEngine(policy({ k_of_n: { k: 1, n: 1 }, cooldown_s: 60 }))
    // failures at t = 0..59 -> one alert at 0, 59 suppressed; t = 60 -> the next alert
    const alerts = feed(e, "x".repeat(61))
    expect(alerts.map((a) => [a.time, a.suppressed_before])).toEqual([[0, 0], [60, 59]])
    expect(e.stats.suppressed).toBe(59)
  })
  it("signatures differ by entity and by kind: one entity's cooldown does not silence another's", () => {
    const e = new AlertEngine(policy({ k_of_n: { k: 1, n: 1 }, cooldown_s: 60 }))
    expect(feed(e, "x", "a", 0)).toHaveLength(1)
    expect(feed(e, "x", "b", 1)).toHaveLength(1)
    expect(feed(e, "x", "a", 2)).toHaveLength(0)
    e.novel({ entity: "a", time: 3, file: "f", line: 9, template: "kernel panic <*>" })
    expect(e.finish().map((a) => a.kind)).toEqual(["novelty"])
  })
})

describe("novelty per (entity, template text) aggregated over a window", () => {
  it("occurrences within novelty_window_s are one alert with their count, first and last line", () => {
    const e = new AlertEngine(policy({ novelty_window_s: 60, cooldown_s: 60 }))
    for (let i = 0; i < 5; i++) expect(e.novel({ entity: "h1", time: 10 * i, file: "f", line: 100 + i, template: "disk <*> failed" })).toEqual([])
    // 61 s after the first: the first window closes and alerts; a new window opens
    const closed = e.novel({ entity: "h1", time: 61, file: "f", line: 200, template: "disk <*> failed" })
    expect(closed).toHaveLength(1)
    expect(closed[0]).toMatchObject({ kind: "novelty", template: "disk <*> failed", count: 5, line: 100, last_line: 104, time: 0, last_time: 40 })
    const end = e.finish()
    expect(end).toHaveLength(1)
    expect(end[0]).toMatchObject({ count: 1, line: 200 })
  })
  it("different templates and different entities are separate alerts; the clock closes windows without new novel lines", () => {
    const e = new AlertEngine(policy())
    e.novel({ entity: "h1", time: 0, file: "f", line: 1, template: "A <*>" })
    e.novel({ entity: "h1", time: 1, file: "f", line: 2, template: "B <*>" })
    e.novel({ entity: "h2", time: 2, file: "f", line: 3, template: "A <*>" })
    expect(e.advance(30)).toEqual([])
    expect(e.advance(61.5).map((a) => `${a.entity}:${a.template}`)).toEqual(["h1:A <*>", "h1:B <*>"])
    expect(e.finish().map((a) => `${a.entity}:${a.template}`)).toEqual(["h2:A <*>"])
  })
  it("novelty off: no novelty alerts", () => {
    const e = new AlertEngine(policy({ novelty: false }))
    e.novel({ entity: "h1", time: 0, file: "f", line: 1, template: "A <*>" })
    expect(e.finish()).toEqual([])
  })
})

describe("memory", () => {
  it("sweep forgets idle sessions and expired signatures, so state follows the active entities", () => {
    const e = new AlertEngine(policy({ k_of_n: { k: 1, n: 1 } }))
    for (let i = 0; i < 1000; i++) feed(e, "x", `blk_${i}`, i)
    expect(e.size.sessions).toBe(1000)
    e.sweep(1000)
    expect(e.size.sessions).toBe(300) // idle for at most 300 s
    expect(e.size.signatures).toBe(59) // raised at t > 940
  })
})

describe("policy problems", () => {
  it("names the key that is wrong", () => {
    expect(policyProblems(policy({ k_of_n: { k: 11, n: 10 } }))[0]).toMatch(/^k_of_n/)
    expect(policyProblems(policy({ top_p: 0 }))[0]).toMatch(/^top_p/)
    expect(() => new AlertEngine(policy({ top_k: 0 }))).toThrow(/top_k/)
  })
})
