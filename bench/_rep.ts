import { mineTemplates } from "../src/mining/Drain.ts"
import { packStrings, unpackStrings } from "../src/tasks/StringColumn.ts"
import { loadLoghub } from "../test/mining/loghub.ts"
for (const sys of ["HDFS", "BGL"] as const) {
  const c = unpackStrings(loadLoghub(sys).content)
  for (const reps of [1, 10, 100]) {
    const all: Array<string> = []
    for (let r = 0; r < reps; r++) all.push(...c)
    const m1 = mineTemplates(packStrings(all), {})
    const m2 = mineTemplates(packStrings(all), { simTh: 0.5, masks: sys === "HDFS" ? [{ pattern: "blk_-?\\d+" }, { pattern: "(\\d+\\.){3}\\d+(:\\d+)?" }] : [{ pattern: "core\\.\\d+" }] })
    console.log(sys, reps, m1.templates.length, m2.templates.length)
  }
}
