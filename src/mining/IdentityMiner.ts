/**
 * The identity "miner" for ablations: every distinct content is its own template (its text is
 * the content itself), so a detector sees raw messages instead of mined events. Ids are
 * 0..k-1 in order of first occurrence, like `mineTemplates`.
 */
import { Buffer, isAscii } from "node:buffer"
import type { StringColumn } from "../artifacts/Columns.ts"
import type { Template, TemplatedLog } from "../artifacts/Log.ts"

/** One template per distinct content (byte-exact). */
export const mineIdentity = (contents: StringColumn): TemplatedLog => {
  const n = contents.offsets.length - 1
  const templateIds = new Int32Array(n)
  const { blob, offsets } = contents
  const buffer = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength)
  const whole = isAscii(blob) ? buffer.toString("latin1") : undefined
  const ids = new Map<string, number>()
  const texts: Array<string> = []
  const counts: Array<number> = []
  for (let i = 0; i < n; i++) {
    const content = whole !== undefined ? whole.slice(offsets[i]!, offsets[i + 1]!) : buffer.toString("utf8", offsets[i]!, offsets[i + 1]!)
    let id = ids.get(content)
    if (id === undefined) {
      id = texts.length
      ids.set(content, id)
      texts.push(content)
      counts.push(0)
    }
    counts[id]!++
    templateIds[i] = id
  }
  const templates: Array<Template> = texts.map((text, id) => ({ id, text, count: counts[id]! }))
  return { templateIds, templates }
}
