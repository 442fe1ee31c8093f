/**
 * Worker-thread entry: receives stage jobs from the worker-thread executor, runs them with
 * `executeStage` and posts back the encoded output (transferred, not copied), progress,
 * checkpoints, or the error. Its project root comes with `workerData` (a bundled worker has no
 * place in the source tree to find it from).
 */
import { parentPort } from "node:worker_threads"
import { executeStage } from "./Execute.ts"
import { failureOf, type StageJob } from "./Executor.ts"

const serve = (): void => {
  const port = parentPort
  if (port === null) throw new Error("stageWorker.ts must run as a worker thread")

  // An exception nothing caught is reported as the current job's failure and ends this worker (the
  // executor replaces it). Left to Node, the error would be serialised through node:v8, which a
  // worker of a process started from the start-up snapshot cannot load (the process would abort).
  let current: number | undefined
  const fatal = (e: unknown): void => {
    if (current !== undefined) {
      port.postMessage({ id: current, type: "failed", message: `worker crashed: ${e instanceof Error ? e.message : String(e)}`, stack: e instanceof Error ? (e.stack ?? "") : "" })
    }
    process.exit(1)
  }
  process.on("uncaughtException", fatal)
  process.on("unhandledRejection", fatal)

  /** Bytes that own their whole buffer can be transferred instead of copied. */
  const transferable = (bytes: Uint8Array): Array<ArrayBuffer> =>
    bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer ? [bytes.buffer] : []

  port.on("message", (msg: { readonly id: number; readonly job: StageJob }) => {
    current = msg.id
    let lastTick = 0
    const progress = (fraction: number, message?: string) => {
      const now = Date.now()
      if (now - lastTick < 100) return
      lastTick = now
      port.postMessage({ id: msg.id, type: "progress", fraction, message })
    }
    const checkpoint = (step: number, bytes: Uint8Array) => port.postMessage({ id: msg.id, type: "checkpoint", step, bytes }, transferable(bytes))
    executeStage(msg.job, progress, checkpoint).then(
      (out) => port.postMessage({ id: msg.id, type: "done", bytes: out.bytes, summary: out.summary, computeMs: out.computeMs }, transferable(out.bytes)),
      (e: unknown) => port.postMessage({ id: msg.id, type: "failed", stack: "", ...failureOf(e) })
    )
  })
}

serve()
