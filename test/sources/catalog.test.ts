import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { archiveChecksum, catalogEntry, loghubCatalog } from "../../src/sources/catalog.ts"
import { archiveKind } from "../../src/sources/Extract.ts"

const dataRoot = process.env.FLOW_DATA_ROOT ?? ""

describe("catalog", () => {
  it("has one Zenodo archive per LogHub system", () => {
    const systems = loghubCatalog.map((e) => e.system)
    expect(new Set(systems).size).toBe(16)
    expect(new Set(loghubCatalog.map((e) => e.name)).size).toBe(16)
    for (const e of loghubCatalog) {
      expect(archiveKind(e.name), e.name).toBeDefined()
      expect(e.url).toBe(`https://zenodo.org/records/8196385/files/${e.name}?download=1`)
      if (e.md5 !== undefined) expect(e.md5).toMatch(/^[0-9a-f]{32}$/)
    }
    expect(catalogEntry("OpenSSH").name).toBe("SSH.tar.gz")
  })

  it("points every system at its 2k sample under the data root", () => {
    // The sample directory names are the 16 systems.
    expect(fs.readdirSync(path.join(dataRoot, "loghub-2k")).filter((d) => !d.includes(".") && d === d.trim()).sort())
      .toEqual(expect.arrayContaining(loghubCatalog.map((e) => e.system).sort()))
    for (const e of loghubCatalog) expect(fs.statSync(path.join(dataRoot, e.sample)).isFile(), e.sample).toBe(true)
  })

  it("prefers sha256, then md5, else nothing", () => {
    const base = { name: "x.zip", url: "http://127.0.0.1/x.zip" }
    expect(archiveChecksum({ ...base, sha256: "ab", md5: "cd" })).toEqual({ kind: "sha256", hex: "ab" })
    expect(archiveChecksum({ ...base, sha256: undefined, md5: "cd" })).toEqual({ kind: "md5", hex: "cd" })
    expect(archiveChecksum({ ...base, sha256: undefined, md5: undefined })).toBeUndefined()
  })
})
