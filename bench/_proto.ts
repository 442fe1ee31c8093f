import { groupingAccuracy } from "../src/mining/Drain.ts"
import { unpackStrings } from "../src/tasks/StringColumn.ts"
import { DRAIN_PUBLISHED_GA, loadLoghub, SYSTEMS, type LoghubSystem } from "../test/mining/loghub.ts"

const P = "<*>"
const BASE: Record<LoghubSystem, { st: number; depth: number; regex: Array<string> }> = {
  HDFS: { regex: ["blk_-?\\d+", "(\\d+\\.){3}\\d+(:\\d+)?"], st: 0.5, depth: 4 },
  Hadoop: { regex: ["(\\d+\\.){3}\\d+"], st: 0.5, depth: 4 },
  Spark: { regex: ["(\\d+\\.){3}\\d+", "\\b[KGTM]?B\\b", "([\\w-]+\\.){2,}[\\w-]+"], st: 0.5, depth: 4 },
  Zookeeper: { regex: ["(/|)(\\d+\\.){3}\\d+(:\\d+)?"], st: 0.5, depth: 4 },
  BGL: { regex: ["core\\.\\d+"], st: 0.5, depth: 4 },
  HPC: { regex: ["=\\d+"], st: 0.5, depth: 4 },
  Thunderbird: { regex: ["(\\d+\\.){3}\\d+"], st: 0.5, depth: 4 },
  Windows: { regex: ["0x.*?\\s"], st: 0.7, depth: 5 },
  Linux: { regex: ["(\\d+\\.){3}\\d+", "\\d{2}:\\d{2}:\\d{2}"], st: 0.39, depth: 6 },
  Android: { regex: ["(/[\\w-]+)+", "([\\w-]+\\.){2,}[\\w-]+", "\\b(\\-?\\+?\\d+)\\b|\\b0[Xx][a-fA-F\\d]+\\b|\\b[a-fA-F\\d]{4,}\\b"], st: 0.2, depth: 6 },
  HealthApp: { regex: [], st: 0.2, depth: 4 },
  Apache: { regex: ["(\\d+\\.){3}\\d+"], st: 0.5, depth: 4 },
  Proxifier: { regex: ["<\\d+\\ssec", "([\\w-]+\\.)+[\\w-]+(:\\d+)?", "\\d{2}:\\d{2}(:\\d{2})*", "[KGTM]B"], st: 0.6, depth: 3 },
  OpenSSH: { regex: ["(\\d+\\.){3}\\d+", "([\\w-]+\\.){2,}[\\w-]+"], st: 0.6, depth: 5 },
  OpenStack: { regex: ["((\\d+\\.){3}\\d+,?)+", "/.+?\\s", "\\d+"], st: 0.5, depth: 5 },
  Mac: { regex: ["([\\w-]+\\.){2,}[\\w-]+"], st: 0.7, depth: 6 }
}
export const env = (k: string, d: number): number => process.env[k] === undefined ? d : Number(process.env[k])
const NUM = env("NUM", 1), WILD = env("WILD", 0), DELIM = env("DELIM", 0), COVER = env("COVER", 0), DIAG = env("DIAG", 0)

interface Cl { tokens: Array<string>; size: number; id: number }
interface Node { children: Map<string, Node>; clusters: Array<Cl> }
const hasDigit = (t: string) => /\d/.test(t)

export const mine = (contents: Array<string>, s: { st: number; depth: number; regex: Array<string> }, delims: Array<[RegExp, string]>) => {
  const masks = s.regex.map((r) => new RegExp(r, "g"))
  const root = new Map<number, Node>()
  const clusters: Array<Cl> = []
  const ids = new Int32Array(contents.length)
  const maxDepth = s.depth - 2
  contents.forEach((c0, li) => {
    let c = c0
    for (const m of masks) c = c.replace(m, P)
    for (const [d, r] of delims) c = c.replace(d, r)
    let tokens = c.trim().split(/\s+/).filter((t) => t.length > 0)
    if (NUM) tokens = tokens.map((t) => (hasDigit(t) ? P : t))
    const n = tokens.length
    let node = root.get(n)
    if (!node) { node = { children: new Map(), clusters: [] }; root.set(n, node) }
    // search
    let cur: Node | undefined = node
    let depth = 1
    for (const t of tokens) {
      if (depth >= maxDepth || depth === n) break
      const nx: Node | undefined = cur!.children.get(t) ?? cur!.children.get(P)
      if (!nx) { cur = undefined; break }
      cur = nx; depth++
    }
    let best: Cl | undefined
    if (cur) {
      let bs = -1, bp = -1
      for (const cl of cur.clusters) {
        let sim = 0, par = 0
        for (let i = 0; i < n; i++) {
          if (cl.tokens[i] === P) { par++; if (WILD) sim++ } else if (cl.tokens[i] === tokens[i]) sim++
        }
        const v = n === 0 ? 1 : sim / n
        if (v > bs || (v === bs && par > bp)) { bs = v; bp = par; best = cl }
      }
      if (bs < s.st) best = undefined
      if (COVER) {
        let cb: Cl | undefined, cc = -1
        for (const cl of cur.clusters) {
          let ok = true, k = 0
          for (let i = 0; i < n; i++) { const t = cl.tokens[i]; if (t === P) continue; if (t !== tokens[i]) { ok = false; break } k++ }
          if (ok && k > cc) { cc = k; cb = cl }
        }
        if (cb) best = cb
      }
    }
    if (best) {
      best.size++
      for (let i = 0; i < n; i++) if (best.tokens[i] !== tokens[i]) best.tokens[i] = P
      ids[li] = best.id
      return
    }
    const cl: Cl = { tokens: [...tokens], size: 1, id: clusters.length }
    clusters.push(cl)
    ids[li] = cl.id
    // add to tree
    let nd = node
    depth = 1
    for (const t of tokens) {
      if (depth >= maxDepth || depth === n) break
      let nx = nd.children.get(t)
      if (!nx) {
        if (hasDigit(t) || t === P) { nx = nd.children.get(P) ?? { children: new Map(), clusters: [] }; nd.children.set(P, nx) }
        else { nx = { children: new Map(), clusters: [] }; nd.children.set(t, nx) }
      }
      nd = nx; depth++
    }
    nd.clusters.unshift(cl)
  })
  return { ids, clusters }
}

const BRAIN_DELIMS: Partial<Record<LoghubSystem, Array<string>>> = {
  HealthApp: [":", "=", "|"], Android: ["(", ")", ":", "="], HPC: ["=", "-", ":"], BGL: ["=", "..", "(", ")"],
  Hadoop: ["_", ":", "=", "(", ")"], HDFS: [":"], Linux: ["=", ":"], Spark: [":"], Thunderbird: [":", "="],
  Windows: [":", "=", "[", "]"], Zookeeper: [":", "="]
}
if (import.meta.main) {
  let sum = 0
  const only = process.argv.slice(2) as Array<LoghubSystem>
  for (const system of only.length ? only : SYSTEMS) {
    const sample = loadLoghub(system)
    const contents = unpackStrings(sample.content)
    const delims: Array<[RegExp, string]> = DELIM ? [...(BRAIN_DELIMS[system] ?? []), ","].map((d) => [new RegExp(d.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "g"), d + " "]) : []
    const { ids, clusters } = mine(contents, BASE[system], delims)
    const byText = new Map<string, number>()
    const g = Int32Array.from(ids, (t) => { const k = clusters[t]!.tokens.join(" "); if (!byText.has(k)) byText.set(k, byText.size); return byText.get(k)! })
    const ga = groupingAccuracy(g, sample.eventIds)
    sum += ga
    if (DIAG) {
      const members = new Map<number, Array<number>>()
      g.forEach((x, i) => { if (!members.has(x)) members.set(x, []); members.get(x)!.push(i) })
      const truthSize = new Map<string, number>(); for (const e of sample.eventIds) truthSize.set(e, (truthSize.get(e) ?? 0) + 1)
      const texts = [...byText.keys()]
      for (const [x, rows] of members) {
        const labs = new Map<string, Array<number>>(); for (const r of rows) { const e = sample.eventIds[r]!; if (!labs.has(e)) labs.set(e, []); labs.get(e)!.push(r) }
        if (labs.size > 1) {
          console.log(`  MERGED ${rows.length} lines, ${labs.size} true groups: ${texts[x]}`)
          for (const [, rs] of [...labs].slice(0, 4)) console.log(`     ${rs.length}x  ${contents[rs[0]!]!.slice(0, 160)}`)
        } else {
          const e = sample.eventIds[rows[0]!]!
          if (truthSize.get(e)! !== rows.length) console.log(`  SPLIT ${rows.length}/${truthSize.get(e)} [${e}]: ${texts[x]!.slice(0, 160)}   | e.g. ${contents[rows[0]!]!.slice(0, 120)}`)
        }
      }
    }
    console.log(`${system.padEnd(12)} ${ga.toFixed(4)} ${DRAIN_PUBLISHED_GA[system].toFixed(3)} ${byText.size}`)
  }
  console.log("avg", (sum / 16).toFixed(4))
}
