#!/usr/bin/env node
// Entry point of the `flow` command. logflow is TypeScript run directly by Node 24 (type
// stripping); the project pins Node 24 as a dev dependency, so npm scripts and `npx flow`
// always run on it even where the system Node is older.
const [major] = process.versions.node.split(".").map(Number)
if (major < 24) {
  // Re-exec under the pinned Node when started by an older one.
  const { spawnSync } = await import("node:child_process")
  const { fileURLToPath } = await import("node:url")
  const path = await import("node:path")
  const fs = await import("node:fs")
  const here = path.dirname(fileURLToPath(import.meta.url))
  const pinned = path.join(here, "..", "node_modules", "node", "bin", "node")
  if (!fs.existsSync(pinned)) {
    console.error(`logflow needs Node 24 or newer (this is ${process.version}); run npm ci to install the pinned one`)
    process.exit(2)
  }
  const r = spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: "inherit" })
  if (r.signal !== null) process.kill(process.pid, r.signal)
  process.exit(r.status ?? 1)
} else {
  // Cache compiled modules (effect alone is hundreds of files): halves start-up on a rerun.
  const { enableCompileCache } = await import("node:module")
  enableCompileCache?.()
  await import("../src/cli/main.ts")
}
