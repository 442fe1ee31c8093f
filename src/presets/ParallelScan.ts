/**
 * `scanParsed` on two cores: a worker thread reads the file and matches every line against the
 * format (scanWorker.ts) while this thread takes the parsed contents, batch by batch, in file
 * order. The rows given to `onRow` carry the same line numbers, content bytes and encoding flags
 * as `scanParsed`'s, so whatever consumes them (the miner in `parseFile`'s first pass) gives
 * identical results on one core or two (tested).
 */
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads"
import type { CompiledFormat, LineOptions } from "../parsing/LogFormat.ts"
import { projectRoot } from "../runtime/ProjectRoot.ts"
import type { ContentBytes, ScanStats } from "./ScanParsed.ts"

/** Batches the worker may have posted that this thread has not consumed yet. */
export const MAX_IN_FLIGHT = 4

const BATCH_ROWS = 8192
const BATCH_BYTES = 1 << 20

/** What the worker is started with. */
export interface ScanWorkerData {
  readonly file: string
  readonly format: string
  readonly line: LineOptions
  readonly maxUnparsedSamples: number
  /** One Int32: batches in flight. */
  readonly control: SharedArrayBuffer
  /** Where consumed batches' arrays come back to the worker. */
  readonly returns: MessagePort
}

/** The arrays of a batch: row i's content is `bytes[offsets[i], offsets[i + 1])`. */
export interface BatchArrays {
  readonly bytes: Uint8Array<ArrayBuffer>
  readonly offsets: Int32Array<ArrayBuffer>
  readonly lineNos: Int32Array<ArrayBuffer>
  /** 1: the content is UTF-8 (else latin1-decoded, see `ContentBytes.utf8`). */
  readonly utf8: Uint8Array<ArrayBuffer>
}

/** Fresh batch arrays with room for at least `bytes` content bytes. */
export const newBatchArrays = (bytes = BATCH_BYTES): BatchArrays => ({
  bytes: new Uint8Array(Math.max(bytes, BATCH_BYTES)),
  offsets: new Int32Array(BATCH_ROWS + 1),
  lineNos: new Int32Array(BATCH_ROWS),
  utf8: new Uint8Array(BATCH_ROWS)
})

/** `count` rows in `arrays`. */
export interface ContentBatchMessage {
  readonly type: "batch"
  readonly count: number
  readonly arrays: BatchArrays
}

type WorkerMessage =
  | ContentBatchMessage
  | { readonly type: "done"; readonly stats: ScanStats }
  | { readonly type: "error"; readonly message: string; readonly code: string | null }

/** A parsed row's line number and content: what both scans give (`ParsedRow` without its other fields). */
export interface ContentRow {
  readonly lineNo: number
  /** The content as a fresh string. */
  content(): string
  /** The content's bytes; valid only during the callback. */
  contentBytes(): ContentBytes
}

/**
 * Stream `file` through `format` with the reading and matching in a worker thread; `onRow` gets
 * every parsed row in order on this thread. Resolves to the same statistics as `scanParsed`;
 * rejects with the worker's error (an unreadable file: the error keeps its `code`), with
 * `signal`'s reason when aborted (the worker is stopped), or with what `onRow` threw.
 */
export const scanInWorker = (
  file: string,
  format: CompiledFormat,
  line: LineOptions,
  onRow: (row: ContentRow) => void,
  options: { readonly maxUnparsedSamples?: number; readonly signal?: AbortSignal | undefined } = {}
): Promise<ScanStats> =>
  new Promise<ScanStats>((resolve, reject) => {
    const signal = options.signal
    signal?.throwIfAborted()
    const control = new SharedArrayBuffer(4)
    const inFlight = new Int32Array(control)
    const channel = new MessageChannel()
    const data: ScanWorkerData = {
      file,
      format: format.format,
      line,
      maxUnparsedSamples: options.maxUnparsedSamples ?? 5,
      control,
      returns: channel.port2
    }
    // Compiled code is cached (as bin/flow does for the CLI): the worker's modules then load in
    // ~10 ms instead of ~50 ms, much of the start-up a one-million-line file pays.
    const entry = pathToFileURL(path.join(projectRoot(), "src/presets/scanWorker.ts")).href
    const boot = `import("node:module").then((m) => { m.enableCompileCache?.(); return import(${JSON.stringify(entry)}) })`
    const worker = new Worker(boot, { eval: true, workerData: data, transferList: [channel.port2] })
    let settled = false
    const settle = (f: () => void): void => {
      if (settled) return
      settled = true
      signal?.removeEventListener("abort", onAbort)
      f()
    }
    const fail = (e: unknown): void => settle(() => {
      void worker.terminate()
      channel.port1.close()
      reject(e)
    })
    const onAbort = (): void => fail(signal!.reason)
    signal?.addEventListener("abort", onAbort, { once: true })

    const content: { buffer: Uint8Array; start: number; end: number; utf8: boolean } = { buffer: new Uint8Array(0), start: 0, end: 0, utf8: true }
    let lineNo = 0
    const row: ContentRow = {
      get lineNo() {
        return lineNo
      },
      content: () => {
        const b = Buffer.from(content.buffer.buffer, content.buffer.byteOffset, content.buffer.byteLength)
        return b.toString(content.utf8 ? "utf8" : "latin1", content.start, content.end)
      },
      contentBytes: () => content
    }
    worker.on("message", (m: WorkerMessage) => {
      if (settled) return
      if (m.type === "batch") {
        const b = m.arrays
        try {
          content.buffer = b.bytes
          for (let i = 0; i < m.count; i++) {
            lineNo = b.lineNos[i]!
            content.start = b.offsets[i]!
            content.end = b.offsets[i + 1]!
            content.utf8 = b.utf8[i] === 1
            onRow(row)
          }
        } catch (e) {
          fail(e)
          return
        }
        channel.port1.postMessage(b, [b.bytes.buffer, b.offsets.buffer, b.lineNos.buffer, b.utf8.buffer])
        Atomics.sub(inFlight, 0, 1)
        Atomics.notify(inFlight, 0)
      } else if (m.type === "done") settle(() => {
        channel.port1.close()
        resolve(m.stats)
      })
      else fail(Object.assign(new Error(m.message), m.code === null ? {} : { code: m.code }))
    })
    worker.on("error", fail)
    worker.on("exit", (code) => fail(new Error(`parse: the reading thread stopped (exit code ${code}) before the end of ${file}`)))
  })
