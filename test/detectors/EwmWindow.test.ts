// The EWM window baseline (issue 17): hand-computed windows.
import { describe, expect, it } from "vitest"
import { ewmWindow } from "../../src/detectors/EwmWindow.ts"
import { counts, decodeConfig, fitOk, range, view } from "./fixtures.ts"

describe("ewm_window config", () => {
  it("defaults to alog-detect's: alpha 0.3, weights 0.6 and 0.4, threshold at the 0.95 quantile", () => {
    expect(decodeConfig(ewmWindow, {})).toEqual({ alpha: 0.3, z_clip: 10, weight_z: 0.6, weight_unseen: 0.4, threshold_quantile: 0.95 })
  })
  it.each([["alpha", { alpha: 0 }], ["alpha", { alpha: 1.5 }], ["z_clip", { z_clip: 0 }], ["weight_z", { weight_z: -0.1 }], ["threshold_quantile", { threshold_quantile: 0 }], ["colour", { colour: 1 }]])(
    "rejects a bad %s",
    (key, input) => expect(() => decodeConfig(ewmWindow, input)).toThrow(key)
  )
})

describe("ewm_window", () => {
  // Training: four windows of A x 4, B x 2. Then a normal window, a burst of A, and a window with a new template C.
  const windows = [counts([1, 4], [2, 2]), counts([1, 4], [2, 2]), counts([1, 4], [2, 2]), counts([1, 4], [2, 2]), counts([1, 4], [2, 2]), counts([1, 20], [2, 2]), counts([1, 4], [2, 2], [3, 1])]
  const data = view(windows)
  const train = range(4)
  const config = { threshold_quantile: 1 }

  it("learns a constant baseline from steady windows: mean the count, variance 0; the first window is all unseen", () => {
    const model = fitOk(ewmWindow, data, train, config)
    expect(model.templates).toEqual([1, 2])
    expect(model.mean).toEqual([4, 2])
    expect(model.variance).toEqual([0, 0])
    // freq_z of every training window is 0, so p95 is 0; the first window's score is 0.4 (all unseen), the threshold too.
    expect(model.p95).toBe(0)
    expect(model.threshold).toBeCloseTo(0.4, 12)
  })

  it("a burst of one template and a new template score above a steady window; clipped z, unseen share", () => {
    const model = fitOk(ewmWindow, data, train, config)
    const out = ewmWindow.score(model, data, range(4, 7), decodeConfig(ewmWindow, config))
    // Steady: nothing moved. Burst: |20 − 4| / sqrt(0.25) = 32, clipped to 10; p95 = 0 so the term is 0.6. New C: unseen 1/3 and z 1/0.5 = 2 > 0.
    expect(out.scores[0]).toBe(0)
    expect(out.scores[1]).toBeCloseTo(0.6, 12)
    expect(out.scores[2]).toBeCloseTo(0.6 + 0.4 / 3, 12)
    expect([...out.predictions]).toEqual([0, 1, 1])
  })

  it("scores windows in time order whatever order they are asked in, continuing the baseline from training", () => {
    const model = fitOk(ewmWindow, data, train, config)
    const cfg = decodeConfig(ewmWindow, config)
    const sorted = ewmWindow.score(model, data, Int32Array.from([4, 5, 6]), cfg).scores
    const shuffled = ewmWindow.score(model, data, Int32Array.from([6, 4, 5]), cfg).scores
    expect([...shuffled]).toEqual([sorted[2], sorted[0], sorted[1]])
    // After the burst window the baseline moved: the same steady window now has a nonzero z.
    const afterBurst = ewmWindow.score(model, data, Int32Array.from([5, 4]), cfg)
    expect(afterBurst.scores[1]).toBe(0) // window 4 comes first in time
    const twice = view([...windows, counts([1, 4], [2, 2])])
    expect(ewmWindow.score(model, twice, Int32Array.from([5, 7]), cfg).scores[1]).toBeGreaterThan(0)
  })

  it("a stream scorer carries the baseline from batch to batch: batches in order score as one call over all", () => {
    const model = fitOk(ewmWindow, data, train, config)
    const cfg = decodeConfig(ewmWindow, config)
    const all = ewmWindow.score(model, data, range(4, 7), cfg).scores
    const stream = ewmWindow.streamScorer!(model, cfg)
    // Batches as flow detect gives them: each its own sequences, numbered from 0.
    const parts = [view([windows[4]!]), view([windows[5]!, windows[6]!])]
    const got = parts.flatMap((p) => [...stream.score(p, range(0, p.labels.length)).scores])
    expect(got).toEqual([...all])
    // A fresh scorer per batch would start over: the new template C counts as unseen again after a reset, not after carrying on.
    const fresh = ewmWindow.score(model, parts[1]!, range(0, 2), cfg).scores
    expect([...fresh]).toEqual([...all.subarray(1)]) // here the same, since the steady window 4 moved nothing
    const again = [...stream.score(view([windows[6]!]), range(0, 1)).scores]
    expect(again[0]).toBeLessThan(all[2]!) // C was seen in the stream before: no longer unseen
  })

  it("is deterministic and scores the same after a JSON round trip of its model", () => {
    const cfg = decodeConfig(ewmWindow, {})
    const fit = ewmWindow.fit(data, train, cfg)
    expect(ewmWindow.fit(data, train, cfg)).toEqual(fit)
    if (fit.status !== "ok") throw new Error(fit.reason)
    const copy = JSON.parse(JSON.stringify(fit.model)) as typeof fit.model
    expect(ewmWindow.score(copy, data, range(7), cfg)).toEqual(ewmWindow.score(fit.model, data, range(7), cfg))
  })

  it("needs a training window", () => {
    expect(ewmWindow.fit(data, new Int32Array(0), decodeConfig(ewmWindow, {})).status).toBe("invalid")
  })
})
