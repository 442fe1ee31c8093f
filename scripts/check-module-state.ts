/**
 * Checks that no module outside src/startup/ keeps mutable state at module level: no top-level
 * `let` or `var`, and no top-level `const` holding a new Map, Set, WeakMap, WeakSet or array
 * unless it is typed read-only. What a process keeps between commands belongs in the warm state
 * (src/runtime/WarmState.ts), which the start-up folder creates and hands to each command.
 * Part of `npm run check:layers`. Usage: node scripts/check-module-state.ts
 */
import * as fs from "node:fs"
import * as path from "node:path"
import ts from "typescript"

const root = path.resolve(import.meta.dirname, "..")
const src = path.join(root, "src")
const allowed = path.join(src, "startup") + path.sep

const files = (dir: string): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []
  )

const MUTABLE_CTORS = new Set(["Map", "Set", "WeakMap", "WeakSet", "Array"])
const problems: Array<string> = []
for (const file of files(src)) {
  if (file.startsWith(allowed)) continue
  const text = fs.readFileSync(file, "utf8")
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true)
  for (const statement of sf.statements) {
    if (!ts.isVariableStatement(statement)) continue
    const list = statement.declarationList
    const where = (node: ts.Node) => `${path.relative(root, file)}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1}`
    const isConst = (list.flags & ts.NodeFlags.Const) !== 0
    for (const d of list.declarations) {
      const name = d.name.getText(sf)
      if (!isConst) {
        problems.push(`${where(d)}: module-level \`${(list.flags & ts.NodeFlags.Let) !== 0 ? "let" : "var"} ${name}\``)
        continue
      }
      const init = d.initializer
      const typedReadonly = d.type !== undefined && /^Readonly/.test(d.type.getText(sf))
      if (init === undefined || typedReadonly) continue
      const mutable = (ts.isNewExpression(init) && ts.isIdentifier(init.expression) && MUTABLE_CTORS.has(init.expression.text)) ||
        (ts.isArrayLiteralExpression(init) && init.elements.length === 0)
      if (mutable) problems.push(`${where(d)}: module-level mutable \`${name}\` (${init.getText(sf).slice(0, 40)})`)
    }
  }
}
if (problems.length > 0) {
  console.error(`module-level mutable state outside src/startup/ (keep it in the warm state, src/runtime/WarmState.ts):\n${problems.map((p) => `  ${p}`).join("\n")}`)
  process.exit(1)
}
console.log(`no module-level mutable state outside src/startup/ (${files(src).length} modules checked)`)
