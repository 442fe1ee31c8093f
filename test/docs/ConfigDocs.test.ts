/**
 * docs/CONFIG.md documents every key a config file can hold. The keys come from the config
 * schemas themselves (test/docs/schemaKeys.ts walks their ASTs), so a key added to a schema and
 * not to the page fails here, and so does a key the page still lists after the schema dropped it.
 *
 * The rule: a key is documented when a *key table* of its file's section names it in its first
 * cell, in backticks, by its full dotted path. A key table is a markdown table whose header starts
 * with `| key |`. Sections: `## registry.toml` (with the `run.` settings), `## datasets/NAME.toml`
 * and `## models/NAME.toml`; a detector's hyperparameters are in the models section's
 * `### \`TAG\`` subsection, the model header keys (`detector`, `threshold.kind`, ...) in the rest
 * of it. On the page `a[].b` (key `b` of each table in array `a`) is the walker's `a.b`, and an
 * upper-case word of three or more letters (`NAME`, `STAGE`, `MODEL`) is a user-chosen name, the
 * walker's `<name>`. A table key (`parser.timestamp`) also counts as documented when the page
 * documents a key under it (`parser.timestamp.assume_year`). One struct schema used under several
 * keys (the source table under `source`, `labels.source`, `sessions.files[].source`) is documented
 * once, at its shortest path, and the other keys' rows refer to it by that path.
 */
import { describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { parse as parseToml } from "smol-toml"
import { LogDatasetConfig, SessionDatasetConfig } from "../../src/config/Dataset.ts"
import { ModelHeader } from "../../src/config/Model.ts"
import { RegistryFile } from "../../src/config/Registry.ts"
import { RunSettings } from "../../src/config/RunSpec.ts"
import { detectors } from "../../src/detectors/registry.ts"
import { NAME, schemaKeys, type SchemaKeys } from "./schemaKeys.ts"

const DOC = path.resolve(import.meta.dirname, "../../docs/CONFIG.md")

const SECTIONS = { registry: "registry.toml", datasets: "datasets/NAME.toml", models: "models/NAME.toml" } as const
type Kind = keyof typeof SECTIONS

/** Keys the loaders handle before a schema sees the table (Dataset.ts strips `extends`). */
const LOADER_KEYS: Readonly<Record<Kind, ReadonlyArray<string>>> = { registry: [], datasets: ["extends"], models: [] }

const fileKeys: Readonly<Record<Kind, SchemaKeys>> = {
  registry: schemaKeys([[[], RegistryFile.ast], [["run"], RunSettings.ast]]),
  datasets: schemaKeys([[[], LogDatasetConfig.ast], [[], SessionDatasetConfig.ast]]),
  models: schemaKeys([[[], ModelHeader.ast]])
}
const detectorKeys: ReadonlyMap<string, SchemaKeys> = new Map(
  Object.entries(detectors).map(([tag, d]) => [tag, schemaKeys([[[], d.configSchema.ast]])])
)

/** One row of a key table: where it is, the key paths its first cell names, and its cells. */
interface KeyRow {
  readonly line: number
  readonly section: string
  readonly subsection: string | undefined
  readonly keys: ReadonlyArray<string>
  readonly cells: ReadonlyArray<string>
  readonly text: string
}

const cellsOf = (line: string): Array<string> =>
  line.trim().replace(/^\|/, "").replace(/\|$/, "").split(/(?<!\\)\|/).map((c) => c.trim())

/** A key path as the page writes it, as the walker writes it. */
const normalizeKey = (span: string): string =>
  span.replaceAll("[]", "").split(".").map((s) => (/^[A-Z][A-Z_]{2,}$/.test(s) ? NAME : s)).join(".")

/** Every row of every key table on the page. */
const keyRows = (doc: string): Array<KeyRow> => {
  const rows: Array<KeyRow> = []
  const lines = doc.split("\n")
  let section = ""
  let subsection: string | undefined
  let inKeyTable = false
  let fence = false
  lines.forEach((line, i) => {
    if (line.startsWith("```")) fence = !fence
    if (fence) return
    if (line.startsWith("## ")) [section, subsection] = [line.slice(3).trim(), undefined]
    else if (line.startsWith("### ")) subsection = line.slice(4).trim()
    if (!line.trimStart().startsWith("|")) {
      inKeyTable = false
      return
    }
    const cells = cellsOf(line)
    if (cells[0] === "key" && lines[i + 1]?.trimStart().startsWith("| ---")) {
      inKeyTable = true
      return
    }
    if (!inKeyTable || /^-+$/.test(cells[0]!)) return
    const keys = [...cells[0]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)
    rows.push({ line: i + 1, section, subsection, keys, cells, text: line })
  })
  return rows
}

/** The tag a `### \`tag\`` subsection documents, if any. */
const detectorOf = (subsection: string | undefined): string | undefined => {
  if (subsection === undefined) return undefined
  const tags = [...subsection.matchAll(/`([^`]+)`/g)].map((m) => m[1]!).filter((t) => detectorKeys.has(t))
  return tags.length === 1 ? tags[0] : undefined
}

/** The key tables of one scope: a file kind's section (less its detector subsections), or one detector's subsection. */
const scopeRows = (rows: ReadonlyArray<KeyRow>, scope: { kind: Kind } | { detector: string }): Array<KeyRow> =>
  "kind" in scope
    ? rows.filter((r) => r.section === SECTIONS[scope.kind] && detectorOf(r.subsection) === undefined)
    : rows.filter((r) => r.section === SECTIONS.models && detectorOf(r.subsection) === scope.detector)

const documentedIn = (rows: ReadonlyArray<KeyRow>): Set<string> => new Set(rows.flatMap((r) => r.keys.map(normalizeKey)))

const isDocumented = (key: string, documented: ReadonlySet<string>): boolean =>
  documented.has(key) || [...documented].some((d) => d.startsWith(`${key}.`))

const scopes = (): Array<{ name: string; scope: { kind: Kind } | { detector: string }; keys: SchemaKeys; extra: ReadonlyArray<string> }> => [
  ...(Object.keys(SECTIONS) as Array<Kind>).map((kind) => ({ name: SECTIONS[kind], scope: { kind }, keys: fileKeys[kind], extra: LOADER_KEYS[kind] })),
  ...[...detectorKeys].map(([tag, keys]) => ({ name: `models: detector ${tag}`, scope: { detector: tag }, keys, extra: [] }))
]

/** Schema keys the page does not document, as "scope: key". */
const undocumented = (doc: string): Array<string> => {
  const rows = keyRows(doc)
  return scopes().flatMap(({ name, scope, keys }) => {
    const documented = documentedIn(scopeRows(rows, scope))
    return [...keys.keys].filter((k) => !isDocumented(k, documented)).map((k) => `${name}: ${k}`)
  })
}

/** Keys the page documents that no schema (or loader) accepts, as "scope: key (line n)". */
const unknownOnPage = (doc: string): Array<string> => {
  const rows = keyRows(doc)
  return scopes().flatMap(({ name, scope, keys, extra }) =>
    scopeRows(rows, scope).flatMap((r) =>
      r.keys.filter((k) => !keys.visited.has(normalizeKey(k)) && !extra.includes(k)).map((k) => `${name}: ${k} (line ${r.line})`)
    )
  )
}

describe("docs/CONFIG.md", () => {
  const doc = fs.readFileSync(DOC, "utf8")

  it("the schema walk finds the keys of every config file kind", () => {
    const { datasets, registry, models } = fileKeys
    for (
      const k of [
        "source.path", "source.archive", "parser.preset", "parser.trim", "parser.timestamp", "parser.timestamp.parts",
        "parser.timestamp.parts.field", "parser.timestamp.parts.pattern", "parser.timestamp.assume_year", "miner.preset",
        "miner.max_clusters", "miner.template_merge", "miner.variable_threshold", "miner.masks.pattern", "grouping.continuous_context",
        "labels.window_anomaly_fraction", "sessions.format", "sessions.events_column", "sessions.files.source", "sessions.files.label",
        "sessions.files.split", "split.raw_first_n", "represent.n_min"
      ]
    ) expect(datasets.keys, k).toContain(k)
    // One source schema under four keys: documented once, at `source`.
    expect(datasets.sharedTables.get("labels.source")).toBe("source")
    expect(datasets.sharedTables.get("sessions.files.source")).toBe("source")
    expect(datasets.paths).toContain("sessions.files.source.url_sha256")
    expect(datasets.keys).not.toContain("sessions.files.source.url_sha256")
    for (
      const k of [
        "max_workers", "axes.path", "stages.<name>.retries", "model_sets.<name>.overrides", "experiments.<name>.dataset",
        "experiments.<name>.axes", "experiment_sets.<name>.datasets", "experiment_sets.<name>.seeds", "run.seed"
      ]
    ) expect(registry.keys, k).toContain(k)
    expect(registry.paths).toContain("experiments.<name>.axes.path")
    expect(registry.visited).toContain("model_sets.<name>.overrides.<name>")
    for (const k of ["detector", "description", "threshold.kind", "threshold.value", "threshold.percentile", "threshold.k", "threshold.validation_fraction"]) {
      expect(models.keys, k).toContain(k)
    }
    expect(datasets.keys.size).toBeGreaterThanOrEqual(80)
    expect(registry.keys.size).toBeGreaterThanOrEqual(30)
    expect(detectorKeys.size).toBe(12)
    for (const [tag, keys] of detectorKeys) expect(keys.keys.size, tag).toBeGreaterThanOrEqual(2)
    expect(detectorKeys.get("deeplog")!.keys).toContain("parameter_min_windows")
    expect(detectorKeys.get("pca")!.keys).toContain("c_alpha")
    expect(detectorKeys.get("svm")!.keys).toContain("C")
  })

  it("has a section per file kind and a subsection per detector", () => {
    const headings = doc.split("\n").filter((l) => l.startsWith("#"))
    for (const title of Object.values(SECTIONS)) expect(headings, title).toContain(`## ${title}`)
    for (const tag of detectorKeys.keys()) {
      expect(headings.filter((h) => h.startsWith("### ") && detectorOf(h.slice(4)) === tag), tag).toHaveLength(1)
    }
  })

  it("documents every key the schemas accept", () => {
    expect(undocumented(doc)).toEqual([])
  })

  it("documents no key the schemas do not accept", () => {
    expect(unknownOnPage(doc)).toEqual([])
  })

  it("gives each key a type and a meaning, and refers a shared table to the place that documents it", () => {
    const rows = keyRows(doc)
    for (const r of rows) {
      expect(r.keys.length, `line ${r.line}: ${r.text}`).toBeGreaterThan(0)
      expect(r.cells, `line ${r.line}: ${r.text}`).toHaveLength(4)
      expect(r.cells[1]!.length * r.cells[3]!.length, `line ${r.line}: type and meaning`).toBeGreaterThan(0)
    }
    for (const kind of Object.keys(SECTIONS) as Array<Kind>) {
      for (const [place, canonical] of fileKeys[kind].sharedTables) {
        const row = scopeRows(rows, { kind }).find((r) => r.keys.some((k) => normalizeKey(k) === place))
        expect(row, place).toBeDefined()
        expect(row!.text.includes(`\`${canonical}\``) || row!.text.includes(`\`[${canonical}]\``), `${place} refers to ${canonical}`).toBe(true)
      }
    }
  })

  it("fails for a key taken off the page", () => {
    const without = (span: string) => doc.split("\n").filter((l) => !l.includes(`\`${span}\``)).join("\n")
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["miner.max_clusters", "datasets/NAME.toml: miner.max_clusters"],
      ["parser.timestamp.assume_year", "datasets/NAME.toml: parser.timestamp.assume_year"],
      ["sessions.files[].split", "datasets/NAME.toml: sessions.files.split"],
      ["stages.STAGE.retry_delay_s", "registry.toml: stages.<name>.retry_delay_s"],
      ["threshold.k", "models/NAME.toml: threshold.k"],
      ["c_alpha", "models: detector pca: c_alpha"]
    ]
    for (const [span, reported] of cases) expect(undocumented(without(span)), span).toContain(reported)
  })

  it("has TOML examples that parse", () => {
    const blocks = [...doc.matchAll(/```toml\n([\s\S]*?)```/g)].map((m) => m[1]!)
    expect(blocks.length).toBeGreaterThan(0)
    for (const b of blocks) expect(() => parseToml(b), b).not.toThrow()
  })
})
