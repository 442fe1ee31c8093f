import { defineConfig } from "vitest/config"
import * as path from "node:path"

// Tests read real data through the data root; default to the shared checkout beside the repo.
const dataRoot = process.env.FLOW_DATA_ROOT ?? path.resolve(import.meta.dirname, "../shared/data")

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    env: { FLOW_DATA_ROOT: dataRoot },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks"
  }
})
