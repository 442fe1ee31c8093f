/**
 * The keys a config file can hold, read off the effect Schema ASTs of the config schemas (not a
 * hand-written list), as dotted paths: `parser.timestamp.parts.field`, `stages.<name>.retries`.
 *
 * - A struct (an `Objects` node) adds one segment per property signature; its index signatures
 *   (`Schema.Record(String, X)`) add the segment `<name>` (a name the user chooses) and walk into X.
 * - A union walks every member (the grouping types, the threshold kinds...); an array walks its
 *   elements and rest without adding a segment, so `sessions.files.label` is key `label` of each
 *   table in the array `sessions.files`.
 * - Only the decoded (type) side is walked: a node's `encoding` (how `closedStruct` rejects
 *   unknown keys, how a default is filled in) and its `checks` never add keys.
 *
 * The same struct schema used at several places (a `SourceParams` under `source`, `labels.source`,
 * `sessions.files.source`) is one table to document: `sharedTables` maps every other place to the
 * canonical one (the shortest path, then the first alphabetically), and `keys` leaves the repeated
 * sub-keys out (`paths` keeps them all).
 */
import { SchemaAST } from "effect"

/** The placeholder segment of a record key (a user-chosen name). */
export const NAME = "<name>"

export interface SchemaKeys {
  /** Every key path (a property signature), sub-keys of shared tables included. */
  readonly paths: ReadonlySet<string>
  /** Key paths to document: `paths` less the sub-keys of a shared table's non-canonical places. */
  readonly keys: ReadonlySet<string>
  /** Every path the walk passed through (keys and record-name segments alike). */
  readonly visited: ReadonlySet<string>
  /** Non-canonical place of a shared table -> its canonical place. */
  readonly sharedTables: ReadonlyMap<string, string>
}

type Visit = (ast: SchemaAST.AST, path: ReadonlyArray<string>, isKey: boolean) => "descend" | "stop"

const join = (path: ReadonlyArray<string>): string => path.join(".")

/** Walk the type side of `roots` (each with its path prefix), calling `visit` at every node. */
const walk = (roots: ReadonlyArray<readonly [ReadonlyArray<string>, SchemaAST.AST]>, visit: Visit): void => {
  const go = (ast: SchemaAST.AST, path: ReadonlyArray<string>, isKey: boolean, seen: ReadonlySet<SchemaAST.AST>): void => {
    if (seen.has(ast)) return // a recursive schema: its keys were met above
    if (visit(ast, path, isKey) === "stop") return
    const inner = new Set(seen).add(ast)
    switch (ast._tag) {
      case "Objects":
        for (const ps of ast.propertySignatures) {
          if (typeof ps.name === "string") go(ps.type, [...path, ps.name], true, inner)
        }
        for (const is of ast.indexSignatures) go(is.type, [...path, NAME], false, inner)
        return
      case "Union":
        for (const member of ast.types) go(member, path, false, inner)
        return
      case "Arrays":
        for (const element of [...ast.elements, ...ast.rest]) go(element, path, false, inner)
        return
      case "Suspend":
        go(ast.thunk(), path, false, inner)
        return
      case "Declaration":
        for (const parameter of ast.typeParameters) go(parameter, path, false, inner)
        return
      default:
        return // a value: string, number, literal, unknown...
    }
  }
  for (const [prefix, ast] of roots) go(ast, prefix, false, new Set())
}

const isTable = (ast: SchemaAST.AST): ast is SchemaAST.Objects => SchemaAST.isObjects(ast) && ast.propertySignatures.length > 0

const byCanonicalOrder = (a: string, b: string): number => a.split(".").length - b.split(".").length || (a < b ? -1 : a > b ? 1 : 0)

/** The keys of the schemas `roots` (each with its path prefix, e.g. `["run"]` for the run settings). */
export const schemaKeys = (roots: ReadonlyArray<readonly [ReadonlyArray<string>, SchemaAST.AST]>): SchemaKeys => {
  // Pass 1: every path, and where each struct node occurs.
  const paths = new Set<string>()
  const visited = new Set<string>()
  const places = new Map<SchemaAST.AST, Set<string>>()
  walk(roots, (ast, path, isKey) => {
    const p = join(path)
    if (isKey) paths.add(p)
    if (p !== "") visited.add(p)
    if (isTable(ast)) places.set(ast, (places.get(ast) ?? new Set()).add(p))
    return "descend"
  })
  // A struct met at several paths is documented once, at its canonical path.
  const canonical = new Map<SchemaAST.AST, string>()
  const sharedTables = new Map<string, string>()
  for (const [ast, at] of places) {
    if (at.size < 2) continue
    const [first, ...others] = [...at].sort(byCanonicalOrder)
    canonical.set(ast, first!)
    for (const o of others) sharedTables.set(o, first!)
  }
  // Pass 2: the keys to document, not descending into a shared struct away from its canonical path.
  const keys = new Set<string>()
  walk(roots, (ast, path, isKey) => {
    const p = join(path)
    if (isKey) keys.add(p)
    const c = canonical.get(ast)
    return c === undefined || c === p ? "descend" : "stop"
  })
  return { paths, keys, visited, sharedTables }
}
