/**
 * Worker-thread entry: receives stage jobs from the WorkerPool, runs them with `executeStage`
 * and posts back the encoded output (transferred, not copied), progress, or the error.
 */
import { parentPort, workerData } from "node:worker_threads"
import { setProjectRoot } from "../runtime/ProjectRoot.ts"
import { executeStage, type StageJob } from "./Execute.ts"

const port = parentPort
if (port === null) throw new Error("stageWorker.ts must run as a worker thread")
// Bundled (scripts/build.ts), this file has no place in the source tree to find the project from.
const given: unknown = (workerData as { projectRoot?: unknown } | null)?.projectRoot
if (typeof given === "string") setProjectRoot(given)

// An exception nothing caught is reported as the current job's failure and ends this worker (the
// pool replaces it). Left to Node, the error would be serialised through node:v8, which a worker
// of a process started from the start-up snapshot cannot load (the process would abort).
let current: number | undefined
const fatal = (e: unknown): void => {
  if (current !== undefined) {
    port.postMessage({ id: current, type: "failed", message: `worker crashed: ${e instanceof Error ? e.message : String(e)}`, stack: e instanceof Error ? (e.stack ?? "") : "" })
  }
  process.exit(1)
}
process.on("uncaughtException", fatal)
process.on("unhandledRejection", fatal)

port.on("message", (msg: { readonly id: number; readonly job: StageJob }) => {
  current = msg.id
  let lastTick = 0
  const progress = (fraction: number, message?: string) => {
    const now = Date.now()
    if (now - lastTick < 100) return
    lastTick = now
    port.postMessage({ id: msg.id, type: "progress", fraction, message })
  }
  const checkpoint = (step: number, bytes: Uint8Array) => {
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
    port.postMessage({ id: msg.id, type: "checkpoint", step, bytes }, own ? [bytes.buffer] : [])
  }
  executeStage(msg.job, progress, checkpoint).then(
    (out) => {
      const bytes = out.bytes
      const transfer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
        ? [bytes.buffer]
        : []
      port.postMessage({ id: msg.id, type: "done", bytes, summary: out.summary, computeMs: out.computeMs }, transfer)
    },
    (e: unknown) => {
      port.postMessage({
        id: msg.id,
        type: "failed",
        message: e instanceof Error ? e.message : String(e),
        stack: e instanceof Error ? (e.stack ?? "") : ""
      })
    }
  )
})
