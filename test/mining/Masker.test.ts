import { describe, expect, it } from "vitest"
import { LogMasker, requiredPrefix } from "../../src/mining/Masker.ts"

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
