import { describe, expect, it } from "vitest"
import type { AnyDetector } from "../../src/detectors/base/Detector.ts"
import { detectors, getDetector, UnknownDetectorError } from "../../src/detectors/registry.ts"
import { decodeConfig, range, view } from "./fixtures.ts"

const mine = ["markov", "pca", "invariants_mining", "log_clustering", "isolation_forest", "logistic_regression", "decision_tree", "svm"]

// Twelve sequences over templates 1..4, mixed labels, plus unlabelled queries.
const seqs = [[1, 2, 3, 4], [1, 2, 4], [1, 2, 3, 4], [1, 2, 3, 4, 4], [1, 2, 4, 3], [1, 3], [2, 2, 2], [1, 2, 3, 4], [1, 2, 4], [4, 4, 1], [1, 2, 3, 4], [3]]
const labels = [0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 1]
const data = view([...seqs, [1, 2, 3, 4], [9, 9], []], [...labels, -1, -1, -1])
const all = range(15)

describe("detector registry", () => {
  it("holds every detector by tag", () => {
    expect(Object.keys(detectors).sort()).toEqual([...mine, "naive_bayes", "template_frequency", "deeplog", "ewm_window"].sort())
    for (const tag of Object.keys(detectors)) expect(getDetector(tag).tag).toBe(tag)
  })

  it("names the known tags for an unknown one", () => {
    expect(() => getDetector("lstm")).toThrow(UnknownDetectorError)
    expect(() => getDetector("lstm")).toThrow(/"lstm".*decision_tree, deeplog, ewm_window, invariants_mining, isolation_forest/)
    expect(() => getDetector("hasOwnProperty")).toThrow(UnknownDetectorError)
  })

  it("marks the supervised detectors", () => {
    const supervised = Object.values(detectors).filter((d) => d.supervised).map((d) => d.tag).sort()
    expect(supervised).toEqual(["decision_tree", "logistic_regression", "naive_bayes", "svm"])
  })
})

describe.each(mine)("%s (contract)", (tag) => {
  const detector: AnyDetector = getDetector(tag)
  const config = decodeConfig(detector, {})

  it("rejects an unknown config key by name, listing the known ones", () => {
    expect(() => decodeConfig(detector, { bogus_key: 1 })).toThrow(/unknown key "bogus_key" \(known keys: /)
  })

  it("fits, scores finite numbers, and scores the same after a JSON round trip", () => {
    const fit = detector.fit(data, range(12), config)
    if (fit.status !== "ok") throw new Error(fit.reason)
    const out = detector.score(fit.model, data, all, config)
    expect(out.scores.length).toBe(15)
    expect([...out.scores].every(Number.isFinite)).toBe(true)
    expect([...out.predictions].every((p) => p === 0 || p === 1)).toBe(true)
    expect(Number.isFinite(out.threshold)).toBe(true)
    const copy = JSON.parse(JSON.stringify(fit.model)) as unknown
    expect(detector.score(copy, data, all, config)).toEqual(out)
  })

  it("is deterministic", () => {
    expect(detector.fit(data, range(12), config)).toEqual(detector.fit(data, range(12), config))
  })

  it.each([
    ["an empty train split", []],
    ["a train split of anomalies only", [5, 6, 9, 11]]
  ])("returns invalid, never throws, for %s", (_, train) => {
    const out = detector.fit(data, Int32Array.from(train), config)
    expect(out.status).toBe("invalid")
    if (out.status === "invalid") expect(out.reason).toMatch(new RegExp(tag))
  })

  it.runIf(detector.supervised)("returns invalid for a supervised fit without anomalies", () => {
    const out = detector.fit(data, Int32Array.from([0, 1, 2, 3, 12]), config)
    expect(out.status === "invalid" && out.reason).toMatch(/got 4 normal, 0 anomalous \(1 unlabelled skipped\)/)
  })
})
