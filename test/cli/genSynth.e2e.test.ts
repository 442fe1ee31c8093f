// flow gen-synth through the real CLI (issue 17).
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { flow, tmpDir } from "./helpers.ts"

describe("flow gen-synth", () => {
  it("writes 5,000 lines and their labels, the same bytes for the same seed; flow parse reads it with the Linux preset", () => {
    const dir = tmpDir()
    const file = path.join(dir, "s.log")
    const r = flow(["gen-synth", "--out", file, "--lines", "5000", "--seed", "1"])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/5000 lines, \d+ anomalous \(unseen_template \d+, error_burst \d+, template_burst \d+, broken_sequence \d+\)/)
    const text = fs.readFileSync(file, "utf8")
    expect(text.split("\n").filter((l) => l !== "")).toHaveLength(5000)
    const labels = fs.readFileSync(`${file}.labels.csv`, "utf8").trim().split("\n")
    expect(labels[0]).toBe("LineId,Label,Kind")
    expect(labels).toHaveLength(5001)
    const again = path.join(dir, "again.log")
    expect(flow(["gen-synth", "--out", again, "--lines", "5000", "--seed", "1"]).code).toBe(0)
    expect(fs.readFileSync(again, "utf8")).toBe(text)
    const parsed = JSON.parse(flow(["parse", file, "--preset", "Linux", "--json"]).stdout)
    expect(parsed).toMatchObject({ lines: 5000, parsed_lines: 5000, unparsed_lines: 0 })
  })

  it("bad options exit 2 naming the option, and write nothing", () => {
    const dir = tmpDir()
    for (const [flagName, value] of [["--lines", "0"], ["--anomaly-rate", "0.9"], ["--lines", "abc"]] as const) {
      const r = flow(["gen-synth", "--out", path.join(dir, "x.log"), flagName, value])
      expect(r.code, `${flagName} ${value}`).toBe(2)
      expect(r.stderr).toMatch(flagName.slice(2))
    }
    expect(fs.readdirSync(dir)).toEqual([])
  })
})
