// The worker-thread executor runs stages in worker threads: same bytes as the inline executor,
// errors come back as StageError, it keeps working after a failed job, and idle workers go back to
// the warm state for the next executor.
import { Effect, Exit } from "effect"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { decodeValue, encodeValue } from "../../src/cache/Codec.ts"
import { Executor, type StageJob } from "../../src/executor/Executor.ts"
import * as InlineExecutor from "../../src/executor/InlineExecutor.ts"
import * as WorkerThreads from "../../src/executor/WorkerThreads.ts"
import { prewarmWorkers, warmWorkerCount } from "../../src/executor/WorkerThreads.ts"
import { makeWarmState, WarmState } from "../../src/runtime/WarmState.ts"
import type { ParsedLog } from "../../src/artifacts/Log.ts"
import { fileDigest } from "../../src/sources/Source.ts"
import { dataRoot } from "../cli/helpers.ts"

const bglPath = "loghub-2k/BGL/BGL_2k.log"
const job = (): StageJob => {
  const d = fileDigest(path.join(dataRoot(), bglPath))
  return {
    stage: "parse",
    params: { format: "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>" },
    inputs: { source: encodeValue({ path: bglPath, root: "data", sha256: d.sha256, bytes: d.bytes }) },
    dataRoot: dataRoot(),
    sourcesDir: os.tmpdir()
  }
}
const submit = (j: StageJob) => Effect.flatMap(Executor, (e) => Effect.flatMap(e.submit(j, { progress: () => {} }), (s) => s.await))
const run = (j: StageJob) =>
  Effect.gen(function*() {
    const executor = yield* Executor
    return { threaded: executor.kind === "threads", out: yield* submit(j) }
  })
const threads = (size: number, bundleDir?: string) => WorkerThreads.layer({ size, bundleDir })

describe("WorkerThreads executor", () => {
  it("computes in a worker thread the same bytes as inline", async () => {
    const threaded = await Effect.runPromise(run(job()).pipe(Effect.provide(threads(2))))
    const inline = await Effect.runPromise(run(job()).pipe(Effect.provide(InlineExecutor.layer)))
    expect(threaded.threaded).toBe(true)
    expect(inline.threaded).toBe(false)
    expect(Buffer.from(threaded.out.bytes).equals(Buffer.from(inline.out.bytes))).toBe(true)
    const parsed = decodeValue(threaded.out.bytes) as ParsedLog
    expect(parsed.rawLines).toBe(2000)
  })

  it("returns a stage's error as a StageError and stays usable", async () => {
    const program = Effect.gen(function*() {
      const bad = yield* Effect.exit(submit({ ...job(), params: { format: "<Date> no content field" } }))
      const good = yield* submit(job())
      return { bad, good }
    }).pipe(Effect.provide(threads(1)))
    const { bad, good } = await Effect.runPromise(program)
    expect(Exit.isFailure(bad)).toBe(true)
    expect(String(Exit.isFailure(bad) ? bad.cause : "")).toMatch(/StageError[\s\S]*Content/)
    expect((decodeValue(good.bytes) as ParsedLog).rawLines).toBe(2000)
  })
})

describe("WorkerThreads executor with a warm state (the daemon)", () => {
  it("hands the idle workers of a closed executor to the next one through the warm state, which terminates them when closed", async () => {
    const warm = makeWarmState()
    const once = () => Effect.runPromise(run(job()).pipe(Effect.provide(threads(2)), Effect.provideService(WarmState, warm)))
    const first = await once()
    expect(warmWorkerCount(warm)).toBe(1)
    const second = await once() // runs on the kept worker: no new one is started
    expect(warmWorkerCount(warm)).toBe(1)
    expect(Buffer.from(second.out.bytes).equals(Buffer.from(first.out.bytes))).toBe(true)
    await warm.close()
    expect(warmWorkerCount(warm)).toBe(0)
    // Without a warm state the executor's workers end with it.
    await Effect.runPromise(run(job()).pipe(Effect.provide(threads(2))))
  })

  it("starts workers ahead of the first executor (the daemon at its start), which that executor then uses", async () => {
    const warm = makeWarmState()
    prewarmWorkers(warm, 2)
    expect(warmWorkerCount(warm)).toBe(2)
    const out = await Effect.runPromise(run(job()).pipe(Effect.provide(threads(2)), Effect.provideService(WarmState, warm)))
    expect((decodeValue(out.out.bytes) as ParsedLog).rawLines).toBe(2000)
    expect(warmWorkerCount(warm)).toBe(2) // both back in the warm state, none started besides
    await warm.close()
  })
})

describe("WorkerThreads executor started from the snapshot", () => {
  it("runs its workers from the worker bundle beside the snapshot, and computes the same bytes", async () => {
    const fs = await import("node:fs")
    // A stand-in for .build/: its worker.mjs leaves a mark, then loads the real stage worker.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "logflow-snapshot-dir-"))
    const mark = path.join(dir, "loaded")
    const source = path.resolve(import.meta.dirname, "../../src/executor/stageWorker.ts")
    fs.writeFileSync(path.join(dir, "worker.mjs"), `import * as fs from "node:fs"\nfs.writeFileSync(${JSON.stringify(mark)}, "yes")\nawait import(${JSON.stringify(source)})\n`)
    const bundled = await Effect.runPromise(run(job()).pipe(Effect.provide(threads(1, dir))))
    expect(fs.existsSync(mark)).toBe(true)
    const inline = await Effect.runPromise(run(job()).pipe(Effect.provide(InlineExecutor.layer)))
    expect(Buffer.from(bundled.out.bytes).equals(Buffer.from(inline.out.bytes))).toBe(true)
  })
})

describe("stage worker", () => {
  it("ends on an exception nothing caught without handing Node an error to serialise", async () => {
    const { Worker } = await import("node:worker_threads")
    const w = new Worker(path.resolve(import.meta.dirname, "../../src/executor/stageWorker.ts"), { workerData: { projectRoot: path.resolve(import.meta.dirname, "../..") } })
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
