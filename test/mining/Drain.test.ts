import { describe, expect, it } from "vitest"
import { Drain, groupingAccuracy, groupingF1, mineTemplates } from "../../src/mining/Drain.ts"
import { drainBaseline } from "../../src/presets/miners.ts"
import { packStrings } from "../../src/artifacts/Columns.ts"
import { loadLoghub } from "./loghub.ts"

const ids = (drain: Drain, lines: ReadonlyArray<string>): Array<number> => lines.map((l) => drain.addLogMessage(l).clusterId)

describe("Drain tree behaviour (Drain3 semantics)", () => {
  it("merges differing positions into <*> and reports the change", () => {
    const drain = new Drain()
    expect(drain.addLogMessage("user alice logged in")).toEqual({ clusterId: 0, templateId: 0, change: "cluster_created" })
    expect(drain.addLogMessage("user bob logged in")).toEqual({ clusterId: 0, templateId: 0, change: "cluster_template_changed" })
    expect(drain.addLogMessage("user carol logged in")).toEqual({ clusterId: 0, templateId: 0, change: "none" })
    expect(drain.addLogMessage("user carol logged out now")).toEqual({ clusterId: 1, templateId: 1, change: "cluster_created" })
    expect(drain.clusters()).toEqual([
      { clusterId: 0, templateTokens: ["user", "<*>", "logged", "in"], template: "user <*> logged in", size: 3 },
      { clusterId: 1, templateTokens: ["user", "carol", "logged", "out", "now"], template: "user carol logged out now", size: 1 }
    ])
    expect(drain.templates()).toEqual([{ id: 0, text: "user <*> logged in", count: 3 }, { id: 1, text: "user carol logged out now", count: 1 }])
    expect(drain.match("user dave logged in")).toBe(0)
    expect(drain.match("user dave logged off")).toBeUndefined()
  })

  it("routes tokens with digits to the <*> branch, other tokens to their own branch", () => {
    const drain = new Drain({ depth: 4, simTh: 0.4 })
    // Different first words lead to different leaves, so equally similar messages do not merge.
    expect(drain.addLogMessage("alpha connections open").clusterId).toBe(0)
    expect(drain.addLogMessage("beta connections open").clusterId).toBe(1)
    // First tokens with digits share the "<*>" leaf: similarity 2/3 >= 0.4, so they merge.
    expect(drain.addLogMessage("42 connections open").clusterId).toBe(2)
    expect(drain.addLogMessage("7 connections open")).toEqual({ clusterId: 2, templateId: 2, change: "cluster_template_changed" })
    // An unseen first word falls back to the "<*>" branch when searching.
    expect(drain.addLogMessage("gamma connections open")).toEqual({ clusterId: 2, templateId: 2, change: "none" })
    expect(drain.clusters().map((c) => [c.template, c.size])).toEqual([
      ["alpha connections open", 1],
      ["beta connections open", 1],
      ["<*> connections open", 3]
    ])
  })

  it("gives digit tokens their own branch when parametrizeNumericTokens is false", () => {
    const drain = new Drain({ parametrizeNumericTokens: false })
    expect(ids(drain, ["42 connections open", "7 connections open", "42 connections open"])).toEqual([0, 1, 0])
  })

  it("sends tokens past maxChildren to the <*> child", () => {
    const drain = new Drain({ depth: 4, simTh: 0.4, maxChildren: 2 })
    expect(drain.addLogMessage("a x y").clusterId).toBe(0) // child "a"
    expect(drain.addLogMessage("b x y").clusterId).toBe(1) // last free slot becomes "<*>"
    expect(drain.addLogMessage("c x y")).toEqual({ clusterId: 1, templateId: 1, change: "cluster_template_changed" }) // full: via "<*>"
    expect(drain.addLogMessage("d x y")).toEqual({ clusterId: 1, templateId: 1, change: "none" })
    expect(drain.addLogMessage("a x y")).toEqual({ clusterId: 0, templateId: 0, change: "none" })
    expect(drain.clusters().map((c) => [c.template, c.size])).toEqual([["a x y", 2], ["<*> x y", 3]])
  })

  it("indexes depth - 3 leading tokens: deeper trees separate more", () => {
    const shallow = new Drain({ depth: 4 })
    const deep = new Drain({ depth: 5 })
    for (const m of ["open file alpha now", "open socket alpha now"]) {
      shallow.addLogMessage(m)
      deep.addLogMessage(m)
    }
    expect(shallow.clusters().map((c) => c.template)).toEqual(["open <*> alpha now"])
    expect(deep.clusters().map((c) => c.template)).toEqual(["open file alpha now", "open socket alpha now"])
  })

  it("scores similarity as Drain3 does: equal non-<*> tokens over the full length", () => {
    const drain = new Drain({ simTh: 0.5 })
    drain.addLogMessage("x a b c")
    drain.addLogMessage("x a q r") // 2/4 >= 0.5: merges to "x a <*> <*>"
    expect(drain.clusters()[0]!.template).toBe("x a <*> <*>")
    // 1 equal token over 4 = 0.25 (the <*> positions count as length, not as matches).
    expect(drain.addLogMessage("x z q r")).toEqual({ clusterId: 1, templateId: 1, change: "cluster_created" })
  })

  it("keeps empty messages in one cluster", () => {
    const drain = new Drain()
    expect(drain.addLogMessage("").clusterId).toBe(0)
    expect(drain.addLogMessage("   ")).toEqual({ clusterId: 0, templateId: 0, change: "none" })
    expect(drain.clusters()[0]!.templateTokens).toEqual([])
  })
})

describe("Drain3 features", () => {
  it("evicts the least recently used cluster beyond maxClusters; evicted clusters no longer match", () => {
    const drain = new Drain({ maxClusters: 2 })
    expect(drain.addLogMessage("alpha one two").change).toBe("cluster_created") // 0
    expect(drain.addLogMessage("beta three four").change).toBe("cluster_created") // 1
    expect(drain.addLogMessage("alpha one two")).toEqual({ clusterId: 0, templateId: 0, change: "none" }) // 0 is now the most recent
    expect(drain.addLogMessage("gamma five six").clusterId).toBe(2) // evicts 1, the least recently used
    expect(drain.match("beta three four")).toBeUndefined()
    expect(drain.match("alpha one two")).toBe(0)
    // beta's cluster is gone: a new one is created, which evicts 0 (2 was used more recently).
    expect(drain.addLogMessage("beta three four")).toEqual({ clusterId: 3, templateId: 3, change: "cluster_created" })
    expect(drain.clusters().map((c) => [c.clusterId, c.template])).toEqual([[2, "gamma five six"], [3, "beta three four"]])
    expect(drain.match("alpha one two")).toBeUndefined()
  })

  it("mineTemplates keeps evicted templates in the table so every row has one", () => {
    const mined = mineTemplates(packStrings(["alpha one two", "beta three four", "alpha one two", "gamma five six", "beta three four"]), { maxClusters: 2 })
    expect(Array.from(mined.templateIds)).toEqual([0, 1, 0, 2, 3])
    expect(mined.templates).toEqual([
      { id: 0, text: "alpha one two", count: 2 },
      { id: 1, text: "beta three four", count: 1 },
      { id: 2, text: "gamma five six", count: 1 },
      { id: 3, text: "beta three four", count: 1 }
    ])
  })

  it("applies named masks (<:NAME:>), unnamed masks (<*>), literal replacements and extra delimiters", () => {
    const drain = new Drain({
      masks: [
        { name: "IP", pattern: "\\d+\\.\\d+\\.\\d+\\.\\d+" },
        { pattern: "blk_-?\\d+" },
        { pattern: "\\(\\d+ ms\\)", replacement: "" }
      ],
      extraDelimiters: ["="]
    })
    expect(drain.addLogMessage("connect from 10.0.0.1 block=blk_-12 (5 ms)").clusterId).toBe(0)
    expect(drain.addLogMessage("connect from 10.0.0.22 block=blk_99 (17 ms)")).toEqual({ clusterId: 0, templateId: 0, change: "none" })
    expect(drain.clusters()[0]!.template).toBe("connect from <:IP:> block <*>")
    expect(drain.contentTokens("  a=b\tc  ")).toEqual(["a", "b", "c"])
  })

  it("parametrises numbers before matching with numbersAsParams", () => {
    const drain = new Drain({ numbersAsParams: true })
    expect(drain.contentTokens("took 12ms for job_17 at -1 (x=3)")).toEqual(["took", "<*>", "for", "<*>", "at", "<*>", "<*>"])
    expect(drain.addLogMessage("took 12ms").clusterId).toBe(0)
    expect(drain.addLogMessage("took 900ms")).toEqual({ clusterId: 0, templateId: 0, change: "none" })
  })
})

describe("logflow options", () => {
  it("paramsAreSimilar: a template <*> facing a message <*> agrees, so mostly-parameter messages stop founding clusters", () => {
    const lines = ["disk 1 2 3 full", "disk 4 5 6 full", "disk 7 8 9 full"]
    // Drain counts the three <*> as mismatches: 2/5 < 0.5, so every line opens a cluster with the same template.
    const drain = new Drain({ numbersAsParams: true, simTh: 0.5 })
    expect(ids(drain, lines)).toEqual([0, 1, 2])
    expect(new Set(drain.clusters().map((c) => c.template))).toEqual(new Set(["disk <*> <*> <*> full"]))
    const fixed = new Drain({ numbersAsParams: true, simTh: 0.5, paramsAreSimilar: true })
    expect(ids(fixed, lines)).toEqual([0, 0, 0])
    // A template <*> facing a word is still a mismatch (Drain's guard against over-generalising).
    expect(fixed.addLogMessage("disk a b c full").change).toBe("cluster_created")
  })

  it("variableThreshold keeps a position constant, one template per value, until it shows that many values", () => {
    const drain = new Drain({ variableThreshold: 3 })
    expect(drain.addLogMessage("session opened for user root")).toEqual({ clusterId: 0, templateId: 0, change: "cluster_created" })
    expect(drain.addLogMessage("session opened for user guest")).toEqual({ clusterId: 0, templateId: 1, change: "cluster_template_changed" })
    expect(drain.addLogMessage("session opened for user root")).toEqual({ clusterId: 0, templateId: 0, change: "none" })
    expect(drain.templates()).toEqual([
      { id: 0, text: "session opened for user root", count: 2 },
      { id: 1, text: "session opened for user guest", count: 1 }
    ])
    // The third distinct value makes the position a parameter: the two templates merge into the oldest.
    expect(drain.addLogMessage("session opened for user test")).toEqual({ clusterId: 0, templateId: 0, change: "none" })
    expect(drain.templates()).toEqual([{ id: 0, text: "session opened for user <*>", count: 4 }])
    // Rows mined before the merge report the merged template.
    const mined = mineTemplates(packStrings(["session opened for user root", "session opened for user guest", "session opened for user test"]), { variableThreshold: 3 })
    expect(Array.from(mined.templateIds)).toEqual([0, 0, 0])
  })

  it("templateMerge joins templates with equal text, or equal once runs of <*> collapse", () => {
    // simTh 0.9: the second line cannot join the first, so two clusters share one text.
    const twins = ["1 go now", "2 go now"]
    expect(mineTemplates(packStrings(twins), { numbersAsParams: true, simTh: 0.9 }).templates.length).toBe(2)
    const equal = mineTemplates(packStrings(twins), { numbersAsParams: true, simTh: 0.9, templateMerge: "equal" })
    expect(equal.templates).toEqual([{ id: 0, text: "<*> go now", count: 2 }])
    // Lists of different lengths are different clusters; "param-runs" makes them one template.
    const lists = ["delete blk_1", "delete blk_2 blk_3 blk_4", "delete blk_5 blk_6"]
    expect(mineTemplates(packStrings(lists), { numbersAsParams: true, templateMerge: "equal" }).templates.length).toBe(3)
    const runs = mineTemplates(packStrings(lists), { numbersAsParams: true, templateMerge: "param-runs" })
    expect(runs.templates).toEqual([{ id: 0, text: "delete <*>", count: 3 }])
    expect(Array.from(runs.templateIds)).toEqual([0, 0, 0])
  })

  it("the content cache pins a repeated content to its template; it is bounded", () => {
    // Without paramsAreSimilar an identical mostly-numeric line founds a new cluster each time.
    const opts = { numbersAsParams: true, simTh: 0.5 } as const
    expect(mineTemplates(packStrings(["a 1 2 3", "a 1 2 3"]), opts).templates.length).toBe(2)
    expect(mineTemplates(packStrings(["a 1 2 3", "a 1 2 3"]), { ...opts, cacheCapacity: 8 }).templates.length).toBe(1)
    // Capacity 2 is two generations of one entry: "a" survives one other content, not two.
    expect(mineTemplates(packStrings(["a 1 2 3", "b 1 2 3", "a 1 2 3"]), { ...opts, cacheCapacity: 2 }).templates.length).toBe(2)
    expect(mineTemplates(packStrings(["a 1 2 3", "b 1 2 3", "c 1 2 3", "a 1 2 3"]), { ...opts, cacheCapacity: 2 }).templates.length).toBe(4)
  })

  it("a remembered content whose cluster was evicted is learned again, and remembered anew", () => {
    const mined = mineTemplates(packStrings(["a x y", "b x y", "a x y", "a x y"]), { maxClusters: 1, cacheCapacity: 8 })
    expect(Array.from(mined.templateIds)).toEqual([0, 1, 2, 2])
    expect(mined.templates.map((t) => [t.text, t.count])).toEqual([["a x y", 1], ["b x y", 1], ["a x y", 2]])
  })

  it("mines a line over 1 MB: only its first maxContentLength characters are tokenised", () => {
    const words = "word ".repeat(1 << 18) // 1.25 MiB
    const blob = "x".repeat(1 << 20) // one 1 MiB token: quadratic for a backtracking mask without the cut
    const opts = { masks: [{ pattern: "([\\w-]+\\.){2,}[\\w-]+" }], maxContentLength: 4096 }
    const mined = mineTemplates(packStrings(["short line", words, blob]), opts)
    expect(mined.templates.map((t) => t.count)).toEqual([1, 1, 1])
    expect(mined.templates[1]!.text).toBe(words.slice(0, 4096).trim().split(/\s+/).join(" "))
    expect(mined.templates[2]!.text).toBe("x".repeat(4096))
    // The default cut is 16384 characters.
    expect(new Drain().contentTokens(words).length).toBe(Math.ceil(16384 / 5))
  })

  it("rejects invalid parameters with clear errors naming the culprit", () => {
    expect(() => new Drain({ depth: 2 })).toThrow(/depth must be an integer >= 3/)
    expect(() => new Drain({ depth: 4.5 })).toThrow(/depth must be an integer >= 3/)
    expect(() => new Drain({ simTh: 1.5 })).toThrow(/simTh must be a number in \[0, 1\]/)
    expect(() => new Drain({ simTh: Number.NaN })).toThrow(/simTh/)
    expect(() => new Drain({ maxChildren: 0 })).toThrow(/maxChildren must be an integer >= 1/)
    expect(() => new Drain({ maxClusters: 0 })).toThrow(/maxClusters must be an integer >= 1/)
    expect(() => new Drain({ variableThreshold: 1 })).toThrow(/variableThreshold must be an integer >= 2/)
    expect(() => new Drain({ templateMerge: "all" as "none" })).toThrow(/templateMerge must be/)
    expect(() => new Drain({ cacheCapacity: -1 })).toThrow(/cacheCapacity must be an integer >= 0/)
    expect(() => new Drain({ maxContentLength: 0 })).toThrow(/maxContentLength must be an integer >= 1/)
    expect(() => new Drain({ masks: [{ pattern: "ok" }, { name: "IP", pattern: "(" }] })).toThrow(
      /masks\[1\] \(IP\)\.pattern "\(" is not a valid regex/
    )
    expect(() => new Drain({ masks: [{ pattern: "x*" }] })).toThrow(/masks\[0\]\.pattern "x\*" matches the empty string/)
    expect(() => new Drain({ masks: [{ pattern: "a|" }] })).toThrow(/matches the empty string/)
    expect(() => new Drain({ masks: [{ name: "my ip", pattern: "ip" }] })).toThrow(/masks\[0\] \(my ip\)\.name must be letters, digits and _/)
    expect(() => new Drain({ extraDelimiters: [""] })).toThrow(/extraDelimiters\[0\] must be a non-empty string/)
    expect(() => new Drain({ splitAfter: [""] })).toThrow(/splitAfter\[0\] must be a non-empty string/)
  })
})

describe("mineTemplates", () => {
  it("gives each row its cluster's final template id and counts", () => {
    const mined = mineTemplates(packStrings(["open a", "close a", "open b", "close b", "open c"]))
    expect(Array.from(mined.templateIds)).toEqual([0, 1, 0, 1, 0])
    expect(mined.templates).toEqual([{ id: 0, text: "open <*>", count: 3 }, { id: 1, text: "close <*>", count: 2 }])
  })

  it("decodes non-ASCII contents", () => {
    const mined = mineTemplates(packStrings(["héllo wörld 1", "héllo wörld 2", "✓ done"]), { numbersAsParams: true })
    expect(mined.templates.map((t) => t.text)).toEqual(["héllo wörld <*>", "✓ done"])
  })
})

describe("groupingAccuracy and groupingF1", () => {
  it("counts a line correct only when its predicted group equals its true group", () => {
    expect(groupingAccuracy([0, 0, 1, 1, 2], ["a", "a", "b", "b", "b"])).toBeCloseTo(2 / 5)
    expect(groupingAccuracy([5, 5, 7], [1, 1, 2])).toBe(1)
    expect(groupingAccuracy([0, 0, 0], ["a", "a", "b"])).toBe(0)
    expect(() => groupingAccuracy([0], ["a", "b"])).toThrow(/1 predicted groups but 2 ground-truth labels/)
  })

  it("F1 over groups: one correct group of three predicted, of two true", () => {
    // Predicted {0,1} = true a (correct), {2} and {3,4} split true b.
    const p = 1 / 3
    const r = 1 / 2
    expect(groupingF1([0, 0, 1, 2, 2], ["a", "a", "b", "b", "b"])).toBeCloseTo((2 * p * r) / (p + r))
    expect(groupingF1([1, 1, 2], ["x", "x", "y"])).toBe(1)
    expect(groupingF1([], [])).toBeNaN()
  })
})

describe("Drain3 parity on Loghub 2k (logparser benchmark settings)", () => {
  it("HDFS_2k: GA 0.9975, as logparser's Drain (published 0.998)", () => {
    const sample = loadLoghub("HDFS")
    const mined = mineTemplates(sample.content, { ...drainBaseline("HDFS"), templateMerge: "equal" })
    expect(groupingAccuracy(mined.templateIds, sample.eventIds)).toBeCloseTo(0.9975, 4)
  })

  it("BGL_2k: GA 0.9625, as logparser's Drain (published 0.963)", () => {
    const sample = loadLoghub("BGL")
    const mined = mineTemplates(sample.content, { ...drainBaseline("BGL"), templateMerge: "equal" })
    expect(groupingAccuracy(mined.templateIds, sample.eventIds)).toBeCloseTo(0.9625, 4)
  })
})
