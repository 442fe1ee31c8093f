/**
 * Compiles `flow report`'s Vega-Lite specs to Vega (and SVG) in a worker thread: vega-lite is an
 * ES module with top-level await, which neither `require` nor the start-up snapshot (no
 * `import()` there) can load, while a worker started from source imports it. Posts
 * `{ compiled: [{ vega, svg }] }` in the charts' order, or `{ error }`.
 */
import { parentPort, workerData } from "node:worker_threads"

interface Job {
  readonly specs: ReadonlyArray<Record<string, unknown>>
  readonly svg: boolean
}

const run = async (job: Job): Promise<void> => {
  try {
    const vl = await import("vega-lite")
    const vega = await import("vega")
    const compiled: Array<{ vega: unknown; svg: string | null }> = []
    for (const spec of job.specs) {
      // Warnings of the compiler (a sort it unifies) are not the user's business; errors still throw.
      const v = vl.compile(spec as never, { logger: vega.logger(vega.Error) }).spec
      let svg: string | null = null
      if (job.svg) {
        const view = new vega.View(vega.parse(v), { renderer: "none" })
        svg = await view.toSVG()
        view.finalize()
      }
      compiled.push({ vega: v, svg })
    }
    parentPort!.postMessage({ compiled })
  } catch (e) {
    parentPort!.postMessage({ error: e instanceof Error ? e.stack ?? e.message : String(e) })
  }
}

void run(workerData as Job)
