import fc from "fast-check"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { fasterEquivalent, LogMasker, requiredChars, requiredPrefix } from "../../src/mining/Masker.ts"
import { minerPreset, MINER_SYSTEMS } from "../../src/presets/miners.ts"

const dataRoot = process.env.FLOW_DATA_ROOT ?? path.resolve(import.meta.dirname, "../../../shared/data")

describe("LogMasker", () => {
  it("applies masks in order, then extra delimiters, then Brain splits, then whitespace", () => {
    const m = new LogMasker({
      masks: [{ name: "IP", pattern: "(\\d+\\.){3}\\d+" }, { pattern: "ip=<:IP:>", replacement: "ADDR" }],
      extraDelimiters: [";"],
      splitAfter: ["="]
    })
    expect(m.mask("from 1.2.3.4;to ip=5.6.7.8 uid=0")).toBe("from <:IP:> to ADDR uid= 0")
    expect(m.tokens("from 1.2.3.4;to ip=5.6.7.8 uid=0")).toEqual(["from", "<:IP:>", "to", "ADDR", "uid=", "0"])
  })

  it("never cuts a named placeholder with a delimiter", () => {
    const m = new LogMasker({ masks: [{ name: "TIME", pattern: "\\d\\d:\\d\\d" }], splitAfter: [":"], extraDelimiters: ["_"] })
    expect(m.tokens("at 10:30: x_y")).toEqual(["at", "<:TIME:>:", "x", "y"])
  })

  it("numbersAsParams: digit-bearing tokens and placeholder-only punctuation become <*>, named placeholders stay", () => {
    const m = new LogMasker({ masks: [{ name: "IP", pattern: "(\\d+\\.){3}\\d+" }, { pattern: "blk_-?\\d+" }], numbersAsParams: true })
    const raw: Array<string> = []
    expect(m.tokens("got 12 from 1.2.3.4 via <*>.<*> rhost=<*>.<*> -blk_7 x86 ok", raw)).toEqual([
      "got", "<*>", "from", "<:IP:>", "via", "<*>", "rhost=<*>", "<*>", "<*>", "ok"
    ])
    // The raw tokens (what the variable threshold counts) are the ones before parametrisation.
    expect(raw).toEqual(["got", "12", "from", "<:IP:>", "via", "<*>.<*>", "rhost=<*>.<*>", "-<*>", "x86", "ok"])
    expect(m.tokens("Ünïcödé ٣ words")).toEqual(["Ünïcödé", "<*>", "words"]) // ARABIC-INDIC DIGIT THREE
    expect(m.tokens("<:IP:>:<*> <ok> <*>")).toEqual(["<*>", "<ok>", "<*>"])
  })

  it("splits on every Unicode whitespace and ignores leading/trailing space", () => {
    expect(new LogMasker().tokens("\t a\u00a0b\u3000c  \r\n")).toEqual(["a", "b", "c"])
    expect(new LogMasker().tokens("   ")).toEqual([])
  })

  it("treats $ in replacements literally", () => {
    expect(new LogMasker({ masks: [{ pattern: "cost \\d+", replacement: "cost $1$&" }] }).mask("cost 5")).toBe("cost $1$&")
  })
})

describe("requiredPrefix (mask prefilter)", () => {
  it("finds the literal every match starts with, or nothing when it is not evident", () => {
    expect(requiredPrefix("blk_-?\\d+")).toBe("blk_")
    expect(requiredPrefix("core\\.\\d+")).toBe("core.")
    expect(requiredPrefix("\\bab+c")).toBe("ab")
    expect(requiredPrefix("=\\d+")).toBe("=")
    expect(requiredPrefix("(\\d+\\.){3}\\d+")).toBeUndefined()
    expect(requiredPrefix("foo|bar")).toBeUndefined()
    expect(requiredPrefix("ab?c")).toBe("a")
    expect(requiredPrefix("[KGTM]B")).toBeUndefined()
    // An alternation inside a group does not hide a later top-level one.
    expect(requiredPrefix("x(a|b)|y")).toBeUndefined()
    expect(requiredPrefix("x(a|b)")).toBe("x")
  })

  it("gives the same masking as running every regex", () => {
    const masks = ["blk_-?\\d+", "core\\.\\d+", "=\\d+", "0x.*?\\s", "<\\d+\\ssec"].map((pattern) => ({ pattern }))
    const m = new LogMasker({ masks })
    const lines = ["blk_1 core.2 a=3 0xff <5 sec", "nothing here", "blk_ core. = 0x <", "blk_-77 =9 0xz "]
    for (const line of lines) {
      let expected = line
      for (const { pattern } of masks) expected = expected.replace(new RegExp(pattern, "g"), "<*>")
      expect(m.mask(line)).toBe(expected)
    }
  })
})

describe("requiredChars (mask prefilter)", () => {
  const counts = (source: string) => Object.fromEntries(requiredChars(source))

  it("counts the characters every match must hold", () => {
    expect(counts("\\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\\b")).toEqual({ "-": 4 })
    expect(counts("\\b(?:[0-9A-Fa-f]{2}:){5,}[0-9A-Fa-f]{2}\\b")).toEqual({ ":": 5 })
    expect(counts("(\\d+\\.){3}\\d+(:\\d+)?")).toEqual({ ".": 3 })
    expect(counts("blk_-?\\d+")).toEqual({ b: 1, l: 1, k: 1, _: 1 })
    expect(counts("x{2,3}y+z*w?")).toEqual({ x: 2, y: 1 })
    expect(counts("(?<id>ab){2}")).toEqual({ a: 2, b: 2 })
    expect(counts("\\.\\.\\.")).toEqual({ ".": 3 })
  })

  it("claims nothing it cannot see: alternatives keep only what every branch shares; classes, escapes, lookarounds count nothing", () => {
    expect(counts("foo|bar")).toEqual({})
    expect(counts("a:b|c:d")).toEqual({ ":": 1 })
    expect(counts("(?:ab|ac){2}")).toEqual({ a: 2 })
    expect(counts("[a-]\\d\\w\\s\\b.")).toEqual({})
    expect(counts("(?=x)(?!y)(?<=z)(?<!w)q")).toEqual({ q: 1 })
    expect(counts("\\u0041\\x41\\p{L}\\k<n>")).toEqual({})
    expect(counts("^$")).toEqual({})
  })

  it("never rejects a text the regex matches (random patterns and texts)", () => {
    const atoms = ["a", "b", ":", "-", ".", "\\d", "[ab]", "(?:a:)", "(a|b:)", "(?:-|:)", "\\.", "x"]
    const quants = ["", "", "?", "*", "+", "{2}", "{1,3}", "{0,2}"]
    let seed = 7
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed % n
    }
    let checked = 0
    for (let t = 0; t < 400; t++) {
      let source = ""
      for (let k = 1 + rand(5); k > 0; k--) source += atoms[rand(atoms.length)]! + quants[rand(quants.length)]!
      if (rand(4) === 0) source += `|${atoms[rand(atoms.length)]}`
      const regex = new RegExp(source, "g")
      const need = requiredChars(source)
      for (let u = 0; u < 30; u++) {
        let text = ""
        for (let k = rand(12); k > 0; k--) text += "ab:-.x1 "[rand(8)]
        for (const m of text.matchAll(regex)) {
          if (m[0].length === 0) continue
          checked++
          for (const [c, n] of need) expect(m[0].split(c).length - 1, `${source} on ${m[0]}`).toBeGreaterThanOrEqual(n)
        }
      }
    }
    expect(checked).toBeGreaterThan(500)
  })

  it("leaves masking unchanged (the default masks on lines with and without their characters)", () => {
    const masks = [
      { name: "UUID", pattern: "\\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\\b" },
      { name: "MAC", pattern: "\\b(?:[0-9A-Fa-f]{2}:){5,}[0-9A-Fa-f]{2}\\b" },
      { pattern: "(\\d+\\.){3}\\d+(:\\d+)?" }
    ]
    const m = new LogMasker({ masks })
    const lines = [
      "instance 3b5c1a2e-1111-4c2d-8e9f-0123456789ab at 10.0.0.1:80 mac 00:1a:2b:3c:4d:5e",
      "blk_-123 src: /10.250.10.6:40524", "no-uuid-here-at-all", "a:b:c:d", "1.2.3"
    ]
    for (const line of lines) {
      let expected = line
      for (const k of masks) expected = expected.replace(new RegExp(k.pattern, "g"), k.name === undefined ? "<*>" : `<:${k.name}:>`)
      expect(m.mask(line)).toBe(expected)
    }
  })
})

describe("tokens with single-character splits (split while tokenising)", () => {
  it("gives exactly the tokens of the split text (mask), named placeholders kept whole", () => {
    const masks = [{ name: "IP", pattern: "(\\d+\\.){3}\\d+" }, { pattern: "blk_-?\\d+" }, { name: "A1_b", pattern: "zz" }]
    for (const splitAfter of [[":", ","], ["<", ">", ":"], ["=", "_", "("], ["*"]]) {
      const m = new LogMasker({ masks, splitAfter, numbersAsParams: true })
      let seed = splitAfter.length
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff
        return seed % n
      }
      const parts = ["a", "b1", ":", ",", "<", ">", "<:", ":>", "zz", "10.0.0.1", "blk_-5", " ", "  ", "\t", "=", "_", "(", "*", "<*>", "é", "٣"]
      for (let t = 0; t < 2000; t++) {
        let text = ""
        for (let k = rand(14); k > 0; k--) text += parts[rand(parts.length)]
        const expected = m.mask(text).split(/\s+/).filter((x) => x.length > 0)
        const raw: Array<string> = []
        m.tokens(text, raw)
        expect(raw, JSON.stringify(text)).toEqual(expected)
      }
    }
  })
})

describe("faster equivalent mask regexes replace exactly what the published ones replace", () => {
  // Strings over the characters these patterns care about, long digit runs included.
  const alphabet = fc.constantFrom("blk_", "core", "core.", "-", "=", ".", ":", " ", "0", "7", "12", "345", "99999", "b", "_", "/", "x", ".1", "\t",
    "1.2.3.4", "10.250.19.102:54106", "1608999687919862906", "2.3")
  const texts = fc.array(alphabet, { maxLength: 40 }).map((parts) => parts.join(""))
  const patterns = [...new Set(MINER_SYSTEMS.flatMap((s) => minerPreset(s).masks!.map((m) => m.pattern)))]
  const fastOnes = patterns.filter((p) => fasterEquivalent(p) !== undefined)

  it("covers the presets' IPv4 masks", () => {
    expect(fastOnes.sort()).toEqual(["(\\d+\\.){3}\\d+", "(\\d+\\.){3}\\d+(:\\d+)?"])
  })

  it.each(fastOnes)("%s on generated strings", (pattern) => {
    const regex = new RegExp(pattern, "g")
    const faster = new RegExp(fasterEquivalent(pattern)!, "g")
    fc.assert(fc.property(texts, (text) => {
      expect(text.replace(faster, "<*>")).toBe(text.replace(regex, "<*>"))
    }), { seed: 21, numRuns: 3000 })
  })

  it.skipIf(!fs.existsSync(path.join(dataRoot, "loghub-2k")))("on every line of the 16 LogHub samples", () => {
    for (const system of MINER_SYSTEMS) {
      const lines = fs.readFileSync(path.join(dataRoot, "loghub-2k", system, `${system}_2k.log`), "utf8").split("\n")
      for (const pattern of fastOnes) {
        const regex = new RegExp(pattern, "g")
        const faster = new RegExp(fasterEquivalent(pattern)!, "g")
        for (const line of lines) expect(line.replace(faster, "<:X:>")).toBe(line.replace(regex, "<:X:>"))
      }
    }
  })

  it("rewrites no other pattern", () => {
    for (const p of ["\\d+", "(/|)(\\d+\\.){3}\\d+(:\\d+)?", "(\\d+\\.){3}\\d+x", "((\\d+\\.){3}\\d+,?)+"]) expect(fasterEquivalent(p)).toBeUndefined()
  })
})
