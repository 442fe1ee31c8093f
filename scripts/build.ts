/**
 * Builds the CLI's start-up snapshot: the whole CLI bundled into one script (esbuild) and run
 * once by `node --build-snapshot`, so that every module is already loaded and evaluated in the
 * heap the snapshot holds. `bin/flow` starts from it when it is fresh (about 0.15 s instead of
 * 0.6-0.8 s for loading effect and the rest from source) and falls back to the sources when it is
 * missing, built by another Node, or older than a file in src/ or the package files;
 * `FLOW_NO_SNAPSHOT=1` forces the sources.
 *
 * Usage: node scripts/build.ts [--out DIR] [--if-possible]
 *   --out DIR       where flow.cjs, flow.blob, flow.json, node-path, stamp, the daemon client
 *                   (client.cjs) and the stage worker (stageWorker.mjs, worker.mjs) go (default .build/)
 *   --if-possible   a failure is a warning and exit 0 (npm's prepare: the CLI still runs from source)
 *
 * What a snapshot cannot hold is kept out of it: native addons (lmdb, onnxruntime-node) are
 * required on first use (src/runtime/ProjectRoot.ts), Intl.Segmenter is a stand-in while building
 * (src/startup/SnapshotShims.ts), and node:crypto is bound lazily below, because worker threads
 * started by a process whose snapshot already initialised crypto abort when they load it.
 */
import { spawnSync } from "node:child_process"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const argValue = (flag: string): string | undefined => {
  const i = process.argv.indexOf(flag)
  return i === -1 ? undefined : process.argv[i + 1]
}
const outDir = path.resolve(argValue("--out") ?? path.join(root, ".build"))
const ifPossible = process.argv.includes("--if-possible")

/** Builtins bound on first property access instead of at load. */
const LAZY_BUILTINS = ["crypto"]

const writeAtomic = (file: string, text: string, mtimeMs?: number): void => {
  fs.writeFileSync(`${file}.tmp`, text)
  if (mtimeMs !== undefined) fs.utimesSync(`${file}.tmp`, mtimeMs / 1000, mtimeMs / 1000)
  fs.renameSync(`${file}.tmp`, file)
}

/** glibc or musl (what node-gyp-build would detect), "" off Linux. */
const libcFamily = (): string => {
  if (process.platform !== "linux") return ""
  const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header
  return header?.glibcVersionRuntime === undefined ? "musl" : "glibc"
}

const build = async (): Promise<void> => {
  const esbuild = await import("esbuild")
  fs.mkdirSync(outDir, { recursive: true })
  const startedAt = Date.now()
  const bundle = path.join(outDir, "flow.cjs")
  const blob = path.join(outDir, "flow.blob")
  const tmpBlob = `${blob}.${process.pid}.tmp`
  /** Bundle `entry` (under src/) to `out` through a temporary sibling; natives stay outside. */
  const bundleTo = async (entry: string, out: string, options: Parameters<typeof esbuild.build>[0]): Promise<void> => {
    await esbuild.build({
      entryPoints: [path.join(root, entry)],
      bundle: true,
      platform: "node",
      target: "node24",
      outfile: `${out}.${process.pid}.tmp`,
      external: ["lmdb", "onnxruntime-node"],
      logLevel: "error",
      ...options
    })
    fs.renameSync(`${out}.${process.pid}.tmp`, out)
  }
  await bundleTo("src/cli/snapshot.ts", bundle, {
    format: "cjs",
    // import.meta is empty in a CommonJS bundle; ProjectRoot.ts is told the root at start instead.
    logOverride: { "empty-import-meta": "silent" },
    plugins: [{
      name: "lazy-builtins",
      setup(b) {
        const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.join("|")})$`)
        b.onResolve({ filter }, (args) => ({ path: args.path.replace(/^node:/, ""), namespace: "lazy-builtin" }))
        b.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, (args) => {
          const names = Object.keys(process.getBuiltinModule(`node:${args.path}`) as object)
          return {
            loader: "js",
            contents: [
              "let m",
              `const load = () => (m ??= process.getBuiltinModule(${JSON.stringify(`node:${args.path}`)}))`,
              `for (const k of ${JSON.stringify(names)}) Object.defineProperty(module.exports, k, { enumerable: true, get: () => load()[k] })`
            ].join("\n")
          }
        })
      }
    }]
  })
  // The daemon's client (bin/flow runs it when the snapshot is fresh): Node built-ins only, one
  // small script that starts in tens of milliseconds.
  await bundleTo("src/startup/client.ts", path.join(outDir, "client.cjs"), { format: "cjs" })
  // The stage worker as one ES module, and an entry that caches its compiled code: a worker
  // started by the snapshot loads in ~0.2-0.4 s instead of ~1 s for the sources.
  await bundleTo("src/executor/stageWorker.ts", path.join(outDir, "stageWorker.mjs"), {
    format: "esm",
    // CommonJS dependencies bundled into an ES module still call require() for Node's modules.
    banner: { js: "import { createRequire as __flowCreateRequire } from 'node:module'; const require = __flowCreateRequire(import.meta.url);" }
  })
  writeAtomic(
    path.join(outDir, "worker.mjs"),
    [
      'import { enableCompileCache } from "node:module"',
      'import * as path from "node:path"',
      'import { pathToFileURL } from "node:url"',
      'import { workerData } from "node:worker_threads"',
      "enableCompileCache()",
      "try {",
      '  await import("./stageWorker.mjs")',
      "} catch {",
      "  // The bundle is missing or broken: the sources do the same work, only start slower.",
      '  await import(pathToFileURL(path.join(workerData.projectRoot, "src", "executor", "stageWorker.ts")).href)',
      "}",
      ""
    ].join("\n")
  )
  const r = spawnSync(process.execPath, ["--no-warnings", "--snapshot-blob", tmpBlob, "--build-snapshot", bundle], {
    cwd: root,
    env: { ...process.env, FLOW_SNAPSHOT_LIBC: libcFamily() },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"]
  })
  if (r.status !== 0) {
    fs.rmSync(tmpBlob, { force: true })
    throw new Error(`node --build-snapshot failed (${r.status ?? r.signal}):\n${(r.stderr || r.stdout).slice(0, 4000)}`)
  }
  const digest = crypto.createHash("sha256").update(fs.readFileSync(tmpBlob)).digest("hex")
  fs.renameSync(tmpBlob, blob)
  const meta = { node: process.version, execPath: process.execPath, builtAt: new Date(startedAt).toISOString(), blobSha256: digest }
  writeAtomic(path.join(outDir, "flow.json"), JSON.stringify(meta, null, 2) + "\n")
  // What bin/flow checks: the Node binary that built the blob, and a stamp whose mtime is the
  // build's start (a source saved during the build makes the snapshot stale).
  writeAtomic(path.join(outDir, "node-path"), process.execPath)
  writeAtomic(path.join(outDir, "stamp"), "", startedAt)
  const mib = (fs.statSync(blob).size / 2 ** 20).toFixed(1)
  console.log(`flow: start-up snapshot ${path.relative(process.cwd(), blob) || blob} (${mib} MiB, ${Date.now() - startedAt} ms, ${process.version})`)
}

try {
  await build()
} catch (e) {
  const message = e instanceof Error ? e.message : String(e)
  if (!ifPossible) {
    console.error(`build failed: ${message}`)
    process.exit(1)
  }
  console.warn(`flow: no start-up snapshot (${message.split("\n")[0]}); the CLI runs from source`)
}
