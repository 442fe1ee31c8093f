import { describe, expect, it } from "vitest"
import { mineIdentity } from "../../src/mining/IdentityMiner.ts"
import { packStrings, unpackStrings } from "../../src/artifacts/Columns.ts"
import { loadLoghub } from "./loghub.ts"

describe("mineIdentity", () => {
  it("makes each distinct content its own template, ids by first occurrence", () => {
    const mined = mineIdentity(packStrings(["b 1", "a", "b 1", "b  1", "é"]))
    expect(Array.from(mined.templateIds)).toEqual([0, 1, 0, 2, 3])
    expect(mined.templates).toEqual([
      { id: 0, text: "b 1", count: 2 },
      { id: 1, text: "a", count: 1 },
      { id: 2, text: "b  1", count: 1 },
      { id: 3, text: "é", count: 1 }
    ])
  })

  it("gives HDFS_2k one template per distinct line", () => {
    const sample = loadLoghub("HDFS")
    const mined = mineIdentity(sample.content)
    expect(mined.templates.length).toBe(new Set(unpackStrings(sample.content)).size)
    expect(mined.templates.reduce((n, t) => n + t.count, 0)).toBe(2000)
  })
})
