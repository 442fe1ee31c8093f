/**
 * Development GA table: mines every LogHub 2k system with its miner preset and prints grouping
 * accuracy beside Drain's published value. Usage: node bench/ga-dev.ts [--baseline] [System...]
 */
import { groupingAccuracy, mineTemplates } from "../src/mining/Drain.ts"
import { unpackStrings } from "../src/tasks/StringColumn.ts"
import { csvColumn, DRAIN_PUBLISHED_GA, loadLoghub, parseCsv, readData, SYSTEMS, type LoghubSystem } from "../test/mining/loghub.ts"

const BASELINE: Record<LoghubSystem, { st: number; depth: number; regex: Array<string> }> = {
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

const args = process.argv.slice(2)
const baseline = args.includes("--baseline")
const systems = (args.filter((a) => !a.startsWith("--")) as Array<LoghubSystem>)
const run = systems.length > 0 ? systems : [...SYSTEMS]
let sum = 0
console.log("system        GA      Drain(pub)  templates  content-check")
for (const system of run) {
  const sample = loadLoghub(system)
  const csvContent = csvColumn(parseCsv(readData(`loghub-2k/${system}/${system}_2k.log_structured.csv`)), "Content")
  const ours = unpackStrings(sample.content)
  const diff = ours.filter((c, i) => c.trim() !== csvContent[i]!.trim()).length
  const s = BASELINE[system]
  const mined = mineTemplates(sample.content, { depth: s.depth, simTh: s.st, masks: s.regex.map((pattern) => ({ pattern })) })
  // logparser groups by template text (EventId = md5 of the template).
  const byText = new Map<string, number>()
  const ids = Int32Array.from(mined.templateIds, (t) => {
    const text = mined.templates[t]!.text
    if (!byText.has(text)) byText.set(text, byText.size)
    return byText.get(text)!
  })
  const ga = groupingAccuracy(baseline ? ids : mined.templateIds, sample.eventIds)
  sum += ga
  console.log(`${system.padEnd(12)}  ${ga.toFixed(4)}  ${DRAIN_PUBLISHED_GA[system].toFixed(3)}       ${String(byText.size).padStart(5)}      ${diff === 0 ? "ok" : `${diff} differ`}`)
}
console.log(`average       ${(sum / run.length).toFixed(4)}  0.866`)
