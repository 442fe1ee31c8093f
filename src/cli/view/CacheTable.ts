/**
 * `flow cache ls` as a text table: key prefix, stage, a short params summary, size, created,
 * last used and hits. Pure formatting over entry metadata.
 */
import type { EntryMeta, ProvenanceInputs } from "../../cache/ArtifactStore.ts"

/** A one-line summary of params: `k=v` pairs, nested keys dotted, long values cut. */
export const paramsSummary = (params: unknown, width = 48): string => {
  const pairs: Array<string> = []
  const walk = (v: unknown, prefix: string) => {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(x, prefix === "" ? k : `${prefix}.${k}`)
    } else {
      const text = typeof v === "string" ? v : JSON.stringify(v)
      pairs.push(`${prefix}=${text.length > 24 ? `${text.slice(0, 23)}…` : text}`)
    }
  }
  walk(params, "")
  const s = pairs.join(" ")
  return s.length > width ? `${s.slice(0, width - 1)}…` : s
}

/** Bytes in B, KiB or MiB. */
export const formatSize = (b: number): string =>
  b < 1024 ? `${b} B` : b < 1024 ** 2 ? `${(b / 1024).toFixed(1)} KiB` : `${(b / 1024 ** 2).toFixed(1)} MiB`
const when = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace("T", " ")

/** The table, header first; "cache is empty" when there is nothing. */
export const formatCacheTable = (entries: ReadonlyArray<EntryMeta>): string => {
  if (entries.length === 0) return "cache is empty"
  const rows = [
    ["KEY", "STAGE", "PARAMS", "SIZE", "CREATED", "LAST USED", "HITS"],
    ...entries.map((e) => [
      e.key.slice(0, 12),
      e.corrupt === undefined ? e.stage : `${e.stage} (CORRUPT)`,
      paramsSummary(e.params),
      formatSize(e.bytes),
      when(e.createdAt),
      when(e.lastUsedAt),
      String(e.hits)
    ])
  ]
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
  const total = entries.reduce((s, e) => s + e.bytes, 0)
  const corrupt = entries.filter((e) => e.corrupt !== undefined).length
  return [
    ...rows.map((r) => r.map((cell, c) => (c === 3 || c === 6 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join("  ").trimEnd()),
    `${entries.length} entries, ${formatSize(total)}${corrupt === 0 ? "" : `; ${corrupt} corrupt (the next run recomputes them; flow cache verify --repair removes them)`}`
  ].join("\n")
}

/** One entry in full: provenance, summary and bookkeeping. */
export const formatEntry = (e: EntryMeta): string =>
  [
    `key        ${e.key}`,
    `stage      ${e.stage} (version ${e.version})`,
    `params     ${JSON.stringify(e.params)}`,
    `inputs     ${inputLines(e.inputs)}`,
    `size       ${formatSize(e.bytes)} in ${e.chunks} chunk(s), sha256 ${e.checksum}`,
    `computed   in ${e.computeMs} ms`,
    `created    ${when(e.createdAt)}`,
    `last used  ${when(e.lastUsedAt)} (${e.hits} hits)`,
    `summary    ${JSON.stringify(e.summary ?? null, null, 2).split("\n").join("\n           ")}`,
    ...(e.corrupt === undefined ? [] : [`CORRUPT    ${e.corrupt.reason} (found ${when(e.corrupt.at)})`])
  ].join("\n")

/** Upstream keys, one per line, by input name (entries from before inputs were named: bare). */
const inputLines = (inputs: ProvenanceInputs): string => {
  const lines = Array.isArray(inputs)
    ? inputs
    : Object.entries(inputs).flatMap(([name, v]) => (typeof v === "string" ? [`${name} ${v}`] : v.map((k, i) => `${name}[${i}] ${k}`)))
  return lines.length === 0 ? "none" : lines.join("\n           ")
}
