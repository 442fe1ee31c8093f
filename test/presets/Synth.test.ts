// flow gen-synth's generator (issue 17): deterministic, labelled, readable with the Linux preset.
import { describe, expect, it } from "vitest"
import { mineTemplates } from "../../src/mining/Drain.ts"
import { compileFormat, parseLog } from "../../src/parsing/LogFormat.ts"
import { getPreset } from "../../src/presets/Presets.ts"
import { ANOMALY_KINDS, generateSynth, synthLabelsCsv, synthProblems } from "../../src/presets/Synth.ts"

describe("generateSynth", () => {
  const log = generateSynth({ lines: 20_000, anomalyRate: 0.05, seed: 7 })

  it("writes exactly the lines asked for, one label each; the same seed gives the same log, another seed another", () => {
    expect(log.lines).toHaveLength(20_000)
    expect(log.labels).toHaveLength(20_000)
    expect(generateSynth({ lines: 20_000, anomalyRate: 0.05, seed: 7 })).toEqual(log)
    expect(generateSynth({ lines: 20_000, anomalyRate: 0.05, seed: 8 }).lines).not.toEqual(log.lines)
    expect(generateSynth({ lines: 3, anomalyRate: 0.05, seed: 7 }).lines).toHaveLength(3)
  })

  it("injects every kind, about the anomaly rate asked for, none at rate 0", () => {
    const share = log.labels.filter((k) => k !== null).length / log.labels.length
    expect(share).toBeGreaterThan(0.035)
    expect(share).toBeLessThan(0.07)
    for (const kind of ANOMALY_KINDS) expect(log.labels.filter((k) => k === kind).length, kind).toBeGreaterThan(10)
    expect(generateSynth({ lines: 2000, anomalyRate: 0, seed: 1 }).labels.every((k) => k === null)).toBe(true)
  })

  it("every line parses with the Linux preset; unseen-template lines have templates no normal line has", () => {
    const preset = getPreset("Linux")
    const parsed = parseLog(Buffer.from(log.lines.join("\n") + "\n"), compileFormat(preset.format), preset.line)
    expect(parsed.unparsed.count).toBe(0)
    const mined = mineTemplates(parsed.content, preset.miner)
    const normal = new Set(log.labels.flatMap((k, i) => (k === null ? [mined.templateIds[i]!] : [])))
    const unseen = log.labels.flatMap((k, i) => (k === "unseen_template" ? [mined.templateIds[i]!] : []))
    expect(unseen.length).toBeGreaterThan(0)
    expect(unseen.some((t) => normal.has(t))).toBe(false)
    // A template burst repeats one normal line's template many times in a row.
    const start = log.labels.indexOf("template_burst")
    expect(new Set(mined.templateIds.slice(start, start + 12)).size).toBe(1)
  })

  it("labels as CSV beside the log; bad options name themselves", () => {
    const csv = synthLabelsCsv({ lines: ["a", "b"], labels: [null, "error_burst"] })
    expect(csv).toBe("LineId,Label,Kind\n1,-,\n2,anomaly,error_burst\n")
    expect(synthProblems({ lines: 0, anomalyRate: 0.6, seed: 1.5 })).toEqual([
      "--lines must be an integer from 1 to 100000000, got 0",
      "--anomaly-rate must be a number from 0 to 0.5, got 0.6",
      "--seed must be an integer, got 1.5"
    ])
    expect(() => generateSynth({ lines: 0, anomalyRate: 0, seed: 1 })).toThrow(/--lines/)
  })
})
