import { defineConfig } from "vitest/config"
import * as path from "node:path"

// Tests read real data through the data root; default to the shared checkout beside the repo.
const dataRoot = process.env.FLOW_DATA_ROOT ?? path.resolve(import.meta.dirname, "../shared/data")

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Commands run in their own processes unless a test asks for the daemon (test/cli/daemon.e2e.test.ts);
    // FLOW_NO_DAEMON=0 FLOW_E2E_BIN=bin/flow runs every CLI test through it.
    env: { FLOW_DATA_ROOT: dataRoot, FLOW_NO_DAEMON: process.env.FLOW_NO_DAEMON ?? "1" },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks"
  }
})
