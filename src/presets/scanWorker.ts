/**
 * The reading half of `scanInWorker` (ParallelScan.ts), run in a worker thread: `scanParsed` over
 * the file, each parsed row's content bytes, line number and encoding flag packed into batches
 * posted (transferred, not copied) to the thread that mines. At most `MAX_IN_FLIGHT` batches wait unconsumed (the worker blocks on the shared counter), so
 * memory stays flat when mining is slower; consumed batches come back for reuse.
 */
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from "node:worker_threads"
import { compileFormat } from "../parsing/LogFormat.ts"
import { type BatchArrays, type ContentBatchMessage, MAX_IN_FLIGHT, newBatchArrays, type ScanWorkerData } from "./ParallelScan.ts"
import { scanParsed } from "./ScanParsed.ts"

/** Scan the file and post its batches, then "done" with the statistics (or "error"). */
const run = (data: ScanWorkerData, port: MessagePort): void => {
  const inFlight = new Int32Array(data.control)
  let batch: BatchArrays = newBatchArrays()
  let count = 0

  const flush = (): void => {
    if (count === 0) return
    for (let n = Atomics.load(inFlight, 0); n >= MAX_IN_FLIGHT; n = Atomics.load(inFlight, 0)) Atomics.wait(inFlight, 0, n)
    Atomics.add(inFlight, 0, 1)
    const b = batch
    const message: ContentBatchMessage = { type: "batch", count, arrays: b }
    port.postMessage(message, [b.bytes.buffer, b.offsets.buffer, b.lineNos.buffer, b.utf8.buffer])
    // A consumed batch's arrays, handed back: warm memory, no new allocation.
    batch = (receiveMessageOnPort(data.returns)?.message as BatchArrays | undefined) ?? newBatchArrays()
    batch.offsets[0] = 0
    count = 0
  }

  try {
    const stats = scanParsed(data.file, compileFormat(data.format), data.line, (row) => {
      const c = row.contentBytes()
      const n = c.end - c.start
      if (count === batch.lineNos.length || batch.offsets[count]! + n > batch.bytes.length) flush()
      if (n > batch.bytes.length) batch = newBatchArrays(n)
      const at = batch.offsets[count]!
      batch.bytes.set(c.buffer.subarray(c.start, c.end), at)
      batch.offsets[count + 1] = at + n
      batch.lineNos[count] = row.lineNo
      batch.utf8[count] = c.utf8 ? 1 : 0
      count++
    }, data.maxUnparsedSamples)
    flush()
    port.postMessage({ type: "done", stats })
  } catch (e) {
    port.postMessage({ type: "error", message: e instanceof Error ? e.message : String(e), code: (e as { code?: unknown }).code ?? null })
  }
}

run(workerData as ScanWorkerData, parentPort!)
