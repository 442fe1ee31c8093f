// The worker pool runs stages in worker threads: same bytes as the inline pool, errors come back
// as StageError, and the pool keeps working after a failed job.
import { Effect, Exit } from "effect"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { decodeValue, encodeValue } from "../../src/cache/Codec.ts"
import type { StageJob } from "../../src/flows/Execute.ts"
import { keepWorkersWarm, prewarmWorkers, warmWorkerCount, WorkerPool } from "../../src/flows/WorkerPool.ts"
import type { ParsedLog } from "../../src/artifacts/Log.ts"
import { fileDigest } from "../../src/sources/Source.ts"
import { dataRoot } from "../cli/helpers.ts"

const bglPath = "loghub-2k/BGL/BGL_2k.log"
const job = (): StageJob => {
  const d = fileDigest(path.join(dataRoot(), bglPath))
  return {
    stage: "parse",
    params: { format: "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>" },
    inputs: [encodeValue({ path: bglPath, root: "data", sha256: d.sha256, bytes: d.bytes })],
    dataRoot: dataRoot(),
    sourcesDir: os.tmpdir()
  }
}
const run = (j: StageJob) =>
  Effect.gen(function*() {
    const pool = yield* WorkerPool
    return { threaded: pool.threaded, out: yield* pool.run(j, () => {}) }
  })

describe("WorkerPool", () => {
  it("computes in a worker thread the same bytes as inline", async () => {
    const threaded = await Effect.runPromise(run(job()).pipe(Effect.provide(WorkerPool.layer(2))))
    const inline = await Effect.runPromise(run(job()).pipe(Effect.provide(WorkerPool.layerInline)))
    expect(threaded.threaded).toBe(true)
    expect(inline.threaded).toBe(false)
    expect(Buffer.from(threaded.out.bytes).equals(Buffer.from(inline.out.bytes))).toBe(true)
    const parsed = decodeValue(threaded.out.bytes) as ParsedLog
    expect(parsed.rawLines).toBe(2000)
  })

  it("returns a stage's error as a StageError and stays usable", async () => {
    const program = Effect.gen(function*() {
      const pool = yield* WorkerPool
      const bad = yield* Effect.exit(pool.run({ ...job(), params: { format: "<Date> no content field" } }, () => {}))
      const good = yield* pool.run(job(), () => {})
      return { bad, good }
    }).pipe(Effect.provide(WorkerPool.layer(1)))
    const { bad, good } = await Effect.runPromise(program)
    expect(Exit.isFailure(bad)).toBe(true)
    expect(String(Exit.isFailure(bad) ? bad.cause : "")).toMatch(/StageError[\s\S]*Content/)
    expect((decodeValue(good.bytes) as ParsedLog).rawLines).toBe(2000)
  })
})

describe("WorkerPool kept warm (the daemon)", () => {
  it("hands the idle workers of a closed pool to the next one, and terminates them when no longer asked to", async () => {
    const once = () => Effect.runPromise(run(job()).pipe(Effect.provide(WorkerPool.layer(2))))
    keepWorkersWarm(true)
    try {
      const first = await once()
      expect(warmWorkerCount()).toBe(1)
      const second = await once() // runs on the kept worker: no new one is started
      expect(warmWorkerCount()).toBe(1)
      expect(Buffer.from(second.out.bytes).equals(Buffer.from(first.out.bytes))).toBe(true)
    } finally {
      keepWorkersWarm(false)
    }
    await once()
    expect(warmWorkerCount()).toBe(0)
  })

  it("starts workers ahead of the first pool (the daemon at its start), which that pool then uses", async () => {
    keepWorkersWarm(true)
    try {
      prewarmWorkers(2)
      expect(warmWorkerCount()).toBe(2)
      const out = await Effect.runPromise(run(job()).pipe(Effect.provide(WorkerPool.layer(2))))
      expect((decodeValue(out.out.bytes) as ParsedLog).rawLines).toBe(2000)
      expect(warmWorkerCount()).toBe(2) // both back in the reserve, none started besides
    } finally {
      keepWorkersWarm(false)
    }
    await Effect.runPromise(run(job()).pipe(Effect.provide(WorkerPool.layer(2))))
    expect(warmWorkerCount()).toBe(0)
  })
})

describe("WorkerPool started from the snapshot", () => {
  it("runs its workers from the worker bundle beside the snapshot, and computes the same bytes", async () => {
    const { setSnapshotDir } = await import("../../src/runtime/ProjectRoot.ts")
    const fs = await import("node:fs")
    // A stand-in for .build/: its worker.mjs leaves a mark, then loads the real stage worker.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "logflow-snapshot-dir-"))
    const mark = path.join(dir, "loaded")
    const source = path.resolve(import.meta.dirname, "../../src/flows/stageWorker.ts")
    fs.writeFileSync(path.join(dir, "worker.mjs"), `import * as fs from "node:fs"\nfs.writeFileSync(${JSON.stringify(mark)}, "yes")\nawait import(${JSON.stringify(source)})\n`)
    setSnapshotDir(dir)
    try {
      const bundled = await Effect.runPromise(run(job()).pipe(Effect.provide(WorkerPool.layer(1))))
      expect(fs.existsSync(mark)).toBe(true)
      const inline = await Effect.runPromise(run(job()).pipe(Effect.provide(WorkerPool.layerInline)))
      expect(Buffer.from(bundled.out.bytes).equals(Buffer.from(inline.out.bytes))).toBe(true)
    } finally {
      setSnapshotDir(undefined)
    }
  })
})

describe("stage worker", () => {
  it("ends on an exception nothing caught without handing Node an error to serialise", async () => {
    const { Worker } = await import("node:worker_threads")
    const w = new Worker(path.resolve(import.meta.dirname, "../../src/flows/stageWorker.ts"), { workerData: { projectRoot: path.resolve(import.meta.dirname, "../..") } })
    let errorEvent = false
    w.on("error", () => (errorEvent = true))
    const exited = new Promise<number>((resolve) => w.once("exit", resolve))
    w.postMessage(null) // the message handler throws before any job starts
    expect(await exited).toBe(1)
    // Node's own path would emit "error" with the exception serialised through node:v8, which
    // aborts a process started from the start-up snapshot.
    expect(errorEvent).toBe(false)
  })
})
