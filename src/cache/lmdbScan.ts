/**
 * Child-process entry (LmdbCheck.ts): open the LMDB cache in the given folder read-only and walk
 * every database (decode each metadata record, list every key), so that damage shows up here, as
 * an exit code or a signal, and never in the process that asked. Usage: node lmdbScan.ts CACHE_DIR
 */
import { createRequire } from "node:module"
import * as path from "node:path"

const dir = process.argv[2]
if (dir === undefined) throw new Error("usage: node lmdbScan.ts CACHE_DIR")
const lmdb = createRequire(path.resolve(import.meta.dirname, "../../package.json"))("lmdb") as typeof import("lmdb")
try {
  const root = lmdb.open({ path: dir, maxDbs: 8, compression: false, readOnly: true, noSubdir: false })
  for (const [name, encoding] of [["meta", "json"], ["holds", "json"], ["claims", "json"], ["corrupt", "json"]] as const) {
    const db = root.openDB({ name, encoding }) as ReturnType<typeof root.openDB> | undefined
    if (db === undefined) continue // not created yet: nothing to read
    for (const { key, value } of db.getRange({})) {
      if (typeof key !== "string" || value === undefined) throw new Error(`a record of ${name} is unreadable`)
    }
  }
  const chunks = root.openDB({ name: "chunks", encoding: "binary" }) as ReturnType<typeof root.openDB> | undefined
  for (const key of chunks?.getKeys({}) ?? []) if (typeof key !== "string") throw new Error("a chunk key is unreadable")
  await root.close()
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`)
  process.exit(3)
}
