/**
 * Builds logflow's native kernels (native/kernels.c and gelu.c, an N-API addon) into .build/native/kernels.node
 * with the C compiler of this machine, for this machine's vector units. The neural core loads it
 * when present (src/runtime/Kernels.ts) and uses TypeScript loops otherwise, so a machine without
 * a compiler still runs everything, slower. The addon opens OpenBLAS (Debian's libopenblas0) at
 * load time when it is installed.
 *
 * Usage: node scripts/build-native.ts [--if-possible]
 *   --if-possible   a failure is a warning and exit 0 (npm's prepare)
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const ifPossible = process.argv.includes("--if-possible")
const source = path.join(root, "native", "kernels.c")
const outDir = path.join(root, ".build", "native")
const out = path.join(outDir, "kernels.node")

/** The folder holding node_api.h: Node's own include folder, or the pinned `node` package's. */
const includeDir = (): string | undefined => {
  const candidates = [
    path.resolve(path.dirname(process.execPath), "..", "include", "node"),
    path.join(root, "node_modules", "node", "node_modules", `node-${process.platform}-${process.arch}`, "include", "node"),
    "/usr/include/node"
  ]
  return candidates.find((dir) => fs.existsSync(path.join(dir, "node_api.h")))
}

const fail = (message: string): never => {
  process.stderr.write(`build-native: ${message}; the neural core will use TypeScript loops\n`)
  process.exit(ifPossible ? 0 : 1)
}

const include = includeDir() ?? fail("node_api.h not found")
const cc = process.env["CC"] ?? "cc"
fs.mkdirSync(outDir, { recursive: true })
const tmp = `${out}.${process.pid}.tmp`
const object = `${out}.${process.pid}.gelu.o`
const started = Date.now()
const compile = (args: ReadonlyArray<string>): void => {
  const run = spawnSync(cc, args, { encoding: "utf8" })
  if (run.error !== undefined || run.status !== 0) {
    fs.rmSync(tmp, { force: true })
    fs.rmSync(object, { force: true })
    fail(`${cc} failed: ${run.error?.message ?? run.stderr.trim()}`)
  }
}
// gelu.c alone with fast-math (vector expf from libmvec); the rest with IEEE semantics.
compile(["-O3", "-march=native", "-ffast-math", "-fPIC", "-std=c11", "-c", "-o", object, path.join(root, "native", "gelu.c")])
compile(["-O3", "-march=native", "-fPIC", "-shared", "-std=c11", `-I${include}`, "-o", tmp, source, object, "-ldl", "-lmvec", "-lm"])
fs.rmSync(object, { force: true })
fs.renameSync(tmp, out)
process.stdout.write(`build-native: ${path.relative(root, out)} in ${Date.now() - started} ms\n`)
