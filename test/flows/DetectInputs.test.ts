// flow detect's representations for a batch of closed sequences equal the represent stage's on the same lines.
import { describe, expect, it } from "vitest"
import { unpackStrings } from "../../src/artifacts/Columns.ts"
import { DetectInputs } from "../../src/flows/DetectInputs.ts"
import { mineTemplatesWithState } from "../../src/mining/Drain.ts"
import { extractParameterColumn } from "../../src/mining/Parameters.ts"
import { compileFormat, parseLog } from "../../src/parsing/LogFormat.ts"
import { minerPreset } from "../../src/presets/miners.ts"
import type { ParameterMatrices } from "../../src/representations/ParameterValues.ts"
import { LOGHUB_FORMATS, readData } from "../mining/loghub.ts"

describe("DetectInputs", () => {
  const text = readData("hdfs/raw/HDFS_20000.log").split("\n").slice(0, 3000)
  const format = compileFormat(LOGHUB_FORMATS.HDFS)
  const whole = parseLog(text.join("\n") + "\n", format)
  const { log, state } = mineTemplatesWithState(whole.content, minerPreset("HDFS"))
  const column = extractParameterColumn(whole.content, log, state.options)
  const expected = (row: number) => unpackStrings(column.values).slice(column.offsets[row]!, column.offsets[row + 1]!)

  it("keeps each line's parameter values across chunks, gives a batch one row per distinct line in line order, and forgets what no open sequence holds", () => {
    const inputs = new DetectInputs(["parameters", "elapsed_time"], state)
    for (const [from, to] of [[0, 1000], [1000, 3000]] as const) {
      const chunk = parseLog(text.slice(from, to).join("\n") + "\n", format)
      for (let i = 0; i < chunk.lineNo.length; i++) chunk.lineNo[i] = chunk.lineNo[i]! + from
      inputs.keep(chunk, log.templateIds.slice(from, to), new Map())
    }
    // A batch: two sequences over lines 5, 1200, 40 and 40, 2999 (a line in both, as a row naming two blocks).
    const lines = [5, 1200, 40, 40, 2999]
    const batch = {
      ids: ["a", "b"],
      offsets: Int32Array.from([0, 3, 5]),
      events: Int32Array.from(lines, (l) => log.templateIds[l - 1]!),
      lineNo: Int32Array.from(lines),
      times: Float64Array.from([0, 10, 20, 20, 50])
    }
    const got = inputs.inputs(batch, new Map())
    expect(Array.from(got.eventRows)).toEqual([0, 2, 1, 1, 3]) // rows: lines 5, 40, 1200, 2999
    const m = got.representations.parameters as ParameterMatrices & { values: { blob: Uint8Array; offsets: Int32Array } }
    const values = unpackStrings(m.values)
    // Every row's values, as the whole-log extraction gives them for that line.
    const rowValues: Array<Array<string>> = [[], [], [], []]
    for (let k = 0; k < m.templateIds.length; k++) {
      for (let i = m.rowOffsets[k]!; i < m.rowOffsets[k + 1]!; i++) {
        const row = m.rows[i]!
        for (let j = 0; j < m.arity[k]!; j++) rowValues[row]!.push(values[m.valueIndex[m.valueOffsets[k]! + (i - m.rowOffsets[k]!) * m.arity[k]! + j]!]!)
      }
    }
    expect(rowValues).toEqual([5, 40, 1200, 2999].map((l) => expected(l - 1)))
    expect(Array.from((got.representations.elapsed_time as { elapsed: Float64Array }).elapsed)).toEqual([0, 10, 10, 0, 30])
    // Forgotten lines have no values any more: their rows come out empty.
    inputs.forget(1000)
    const after = inputs.inputs({ ...batch, ids: ["a"], offsets: Int32Array.from([0, 1]), events: batch.events.slice(0, 1), lineNo: Int32Array.from([5]), times: Float64Array.from([0]) }, new Map())
    const pm = after.representations.parameters as ParameterMatrices
    expect(expected(4).length).toBeGreaterThan(0) // line 5 has parameters...
    expect([pm.rows.length, pm.mismatched]).toEqual([0, 1]) // ...which are forgotten: its row has none
  })
})
