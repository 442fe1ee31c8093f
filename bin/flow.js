#!/usr/bin/env node
// The CLI from source. logflow is TypeScript run directly by Node 24 (type stripping); the
// project pins Node 24 as a dev dependency. `bin/flow` (the `flow` command) runs this file on the
// pinned Node, or its start-up snapshot instead when that is fresh; run directly by an older Node,
// this file re-runs itself on the pinned one.
const [major] = process.versions.node.split(".").map(Number)
if (major < 24) {
  const { spawn } = await import("node:child_process")
  const { fileURLToPath } = await import("node:url")
  const path = await import("node:path")
  const fs = await import("node:fs")
  const self = fileURLToPath(import.meta.url)
  const pinned = path.join(path.dirname(self), "..", "node_modules", "node", "bin", "node")
  if (!fs.existsSync(pinned)) {
    console.error(`logflow needs Node 24 or newer (this is ${process.version}); run npm ci to install the pinned one`)
    process.exit(2)
  }
  // The child stops itself if this process is killed (src/startup/ParentWatch.ts); other signals
  // are passed on, and a terminal's Ctrl-C, which reaches both, waits for the child's cleanup.
  const child = spawn(pinned, [self, ...process.argv.slice(2)], { stdio: "inherit", env: { ...process.env, FLOW_LAUNCHER_PID: String(process.pid) } })
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"]
  for (const sig of signals) {
    process.on(sig, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig)
    })
  }
  child.on("exit", (code, signal) => {
    if (signal === null) process.exit(code ?? 1)
    for (const sig of signals) process.removeAllListeners(sig)
    process.kill(process.pid, signal)
  })
} else {
  // Cache compiled modules (effect alone is hundreds of files): halves start-up on a rerun.
  const { enableCompileCache } = await import("node:module")
  enableCompileCache?.()
  await import("../src/cli/main.ts")
}
