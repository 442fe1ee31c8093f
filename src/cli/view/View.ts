/**
 * Renders flow events for a person: on a terminal, a live view (a sweep progress bar, the
 * stages running now and the latest finished ones), redrawn in place; otherwise one plain line
 * per event, which is also what logs and tests read.
 */
import type { FlowEvent } from "../../flows/Events.ts"
import type { TextOut } from "../../runtime/Terminal.ts"

export interface View {
  readonly onEvent: (e: FlowEvent) => void
  /** Stop redrawing and leave the final state on screen. */
  readonly close: () => void
}

const fmtMs = (ms: number): string => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`)
const fmtBytes = (b: number): string =>
  b < 1024 ? `${b} B` : b < 1024 ** 2 ? `${(b / 1024).toFixed(1)} KiB` : `${(b / 1024 ** 2).toFixed(1)} MiB`

/** One line per event, no colour, no cursor movement. */
export const plainLine = (e: FlowEvent): string | undefined => {
  switch (e._tag) {
    case "Planned":
      return `plan: ${e.runs} runs, ${e.nodes} stages`
    case "StageCached":
      return `cached   ${e.label} [${e.key.slice(0, 12)}]`
    case "StageStarted":
      return `running  ${e.label} [${e.key.slice(0, 12)}]`
    case "StageWaiting":
      return `waiting  ${e.label} [${e.key.slice(0, 12)}]: another flow computes it (pid ${e.pid} on ${e.host})`
    case "StageProgress":
      return undefined
    case "StageResumed":
      return `resumed  ${e.label} [${e.key.slice(0, 12)}] from checkpoint ${e.step}`
    case "StageCheckpoint":
      return `checkpt  ${e.label} [${e.key.slice(0, 12)}] step ${e.step}, ${fmtBytes(e.bytes)}`
    case "StageDone":
      return `done     ${e.label} [${e.key.slice(0, 12)}] ${fmtMs(e.ms)}, ${fmtBytes(e.bytes)}`
    case "StageFailed":
      return `FAILED   ${e.label} [${e.key.slice(0, 12)}]: ${e.error}`
    case "StageSkipped":
      return `skipped  ${e.label} [${e.key.slice(0, 12)}]: ${e.reason}`
    case "StageWarning":
      return `WARNING  ${e.label} [${e.key.slice(0, 12)}]: ${e.message}`
    case "RunWritten":
      return e.status === "written" ? `run      ${e.run} -> ${e.dir}` : `run      ${e.run} already complete`
    case "RunFailed":
      return `RUN FAILED ${e.run}: ${e.error}`
  }
}

/** Plain lines to a writer. */
export const plainView = (write: (line: string) => void): View => ({
  onEvent: (e) => {
    const line = plainLine(e)
    if (line !== undefined) write(line)
  },
  close: () => {}
})

/** A live, redrawn view for a terminal stream. */
export const liveView = (out: TextOut): View => {
  let total = 0
  const finished = { cached: 0, done: 0, failed: 0, skipped: 0 }
  const running = new Map<string, { label: string; fraction: number; message: string; since: number }>()
  const recent: Array<string> = []
  const messages: Array<string> = []
  let drawn = 0
  let dirty = true

  const bar = (fraction: number, width: number): string => {
    const full = Math.round(Math.max(0, Math.min(1, fraction)) * width)
    return `${"█".repeat(full)}${"░".repeat(width - full)}`
  }
  const draw = () => {
    if (!dirty) return
    dirty = false
    const cols = out.columns ?? 100
    const done = finished.cached + finished.done + finished.failed + finished.skipped
    const lines: Array<string> = []
    lines.push(
      `${bar(total === 0 ? 0 : done / total, 30)} ${done}/${total} stages  ` +
        `\x1b[36m${finished.cached} cached\x1b[0m  \x1b[32m${finished.done} done\x1b[0m  ` +
        `\x1b[33m${running.size} running\x1b[0m  \x1b[31m${finished.failed} failed\x1b[0m  ${finished.skipped} skipped`
    )
    for (const r of running.values()) {
      lines.push(`  \x1b[33m▶\x1b[0m ${r.label} ${bar(r.fraction, 10)} ${fmtMs(Date.now() - r.since)} ${r.message}`.slice(0, cols + 20))
    }
    for (const r of recent.slice(-6)) lines.push(`  ${r}`.slice(0, cols + 20))
    let s = drawn > 0 ? `\x1b[${drawn}A` : ""
    for (const m of messages.splice(0)) s += `\x1b[2K${m}\n`
    for (const l of lines) s += `\x1b[2K${l}\n`
    // Clear what is left of a taller previous frame.
    for (let i = lines.length; i < drawn; i++) s += "\x1b[2K\n"
    if (drawn > lines.length) s += `\x1b[${drawn - lines.length}A`
    out.write(s)
    drawn = lines.length
  }
  const timer = setInterval(draw, 100)
  return {
    onEvent: (e) => {
      dirty = true
      switch (e._tag) {
        case "Planned":
          total = e.nodes
          return
        case "StageStarted":
          running.set(e.key, { label: e.label, fraction: 0, message: "", since: Date.now() })
          return
        case "StageWaiting":
          running.set(e.key, { label: e.label, fraction: 0, message: `waiting for pid ${e.pid}`, since: Date.now() })
          return
        case "StageProgress": {
          const r = running.get(e.key)
          if (r !== undefined) running.set(e.key, { ...r, fraction: e.fraction, message: e.message ?? r.message })
          return
        }
        case "StageResumed":
          messages.push(plainLine(e)!)
          return
        case "StageCheckpoint":
          return
        case "StageCached":
          running.delete(e.key) // it may have been waiting for another flow
          finished.cached++
          recent.push(`\x1b[36mcached\x1b[0m ${e.label}`)
          return
        case "StageDone":
          running.delete(e.key)
          finished.done++
          recent.push(`\x1b[32mdone\x1b[0m   ${e.label} ${fmtMs(e.ms)}`)
          return
        case "StageFailed":
          running.delete(e.key)
          finished.failed++
          messages.push(`\x1b[31mFAILED\x1b[0m ${e.label}: ${e.error}`)
          return
        case "StageSkipped":
          finished.skipped++
          recent.push(`skipped ${e.label}`)
          return
        case "StageWarning":
          messages.push(`\x1b[33mWARNING\x1b[0m ${e.label}: ${e.message}`)
          return
        case "RunWritten":
        case "RunFailed": {
          const line = plainLine(e)
          if (line !== undefined) messages.push(line)
          return
        }
      }
    },
    close: () => {
      clearInterval(timer)
      dirty = true
      draw()
    }
  }
}
