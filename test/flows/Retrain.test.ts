// Template ids stay stable when a bundle's miner goes on learning (flow train --from).
import { describe, expect, it } from "vitest"
import { packStrings } from "../../src/artifacts/Columns.ts"
import { fromState, mineTemplatesWithState } from "../../src/mining/Drain.ts"
import { stableIds } from "../../src/flows/Retrain.ts"
import { minerPreset } from "../../src/presets/miners.ts"
import { loadLoghub } from "../mining/loghub.ts"
import { unpackStrings } from "../../src/artifacts/Columns.ts"

describe("stableIds", () => {
  it("an old template keeps its id when it generalises; a new one gets the next free id", () => {
    const { state } = mineTemplatesWithState(packStrings(["open file a.txt now", "close file a.txt now"]), {})
    expect(state.templates.map((t) => t.text)).toEqual(["open file a.txt now", "close file a.txt now"])
    const drain = fromState(state)
    drain.addColumn(packStrings(["delete file c.txt now", "open file b.txt now"]))
    const next = drain.toState()
    const stable = stableIds(state, next, 10)
    const byText = new Map(next.templates.map((t) => [t.text, stable.get(t.id)]))
    expect(byText.get("open file <*> now")).toBe(0) // generalised, same id
    expect(byText.get("close file a.txt now")).toBe(1)
    expect(byText.get("delete file c.txt now")).toBe(10)
  })

  it("on real logs: every line of the old log gets the same id before and after the miner learnt another log", () => {
    const hdfs = loadLoghub("HDFS")
    const first = packStrings(unpackStrings(hdfs.content).slice(0, 1000))
    const second = packStrings(unpackStrings(hdfs.content).slice(1000))
    const { log, state } = mineTemplatesWithState(first, minerPreset("HDFS"))
    const drain = fromState(state)
    drain.addColumn(second)
    const again = drain.addColumn(first) // the old lines through the continued miner
    const next = drain.toState()
    const stable = stableIds(state, next, 1000)
    const ids = Array.from(drain.templatedLog(again).templateIds, (id) => stable.get(id)!)
    // Lines whose template did not merge with another keep their id exactly.
    const changed = ids.filter((id, i) => id !== log.templateIds[i]).length
    expect(changed).toBe(0)
    expect(next.templates.length).toBeGreaterThanOrEqual(state.templates.length)
  })
})
