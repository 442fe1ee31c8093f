// bin/flow.js, started by an older Node, runs the CLI in a child process; a SIGKILL of the
// launcher must stop the child too, as it would stop a single process.
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"

const watch = path.resolve(import.meta.dirname, "../../src/startup/ParentWatch.ts")
/** Running (a killed process may linger as a zombie until something reaps it: not running). */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  if (process.platform !== "linux") return true
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "")[0] !== "Z"
  } catch {
    return false
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe("watchLauncher", () => {
  it("kills the child within a fraction of a second after its launcher is SIGKILLed", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "logflow-watch-"))
    const child = path.join(dir, "child.ts")
    const launcher = path.join(dir, "launcher.ts")
    fs.writeFileSync(child, [
      `import { watchLauncher } from ${JSON.stringify(watch)}`,
      "watchLauncher()",
      "console.log(String(process.pid))",
      "setInterval(() => {}, 1000)" // would live forever
    ].join("\n"))
    fs.writeFileSync(launcher, [
      "import { spawn } from 'node:child_process'",
      `spawn(process.execPath, [${JSON.stringify(child)}], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, FLOW_LAUNCHER_PID: String(process.pid) } })`,
      "setInterval(() => {}, 1000)"
    ].join("\n"))
    const p = spawn(process.execPath, [launcher], { stdio: ["ignore", "pipe", "inherit"] })
    const childPid = await new Promise<number>((resolve) => p.stdout.setEncoding("utf8").once("data", (d: string) => resolve(Number(d.trim()))))
    expect(alive(childPid)).toBe(true)
    await sleep(300)
    expect(alive(childPid)).toBe(true) // a living launcher is left alone
    p.kill("SIGKILL")
    let waited = 0
    while (alive(childPid) && waited < 3000) {
      await sleep(50)
      waited += 50
    }
    expect(alive(childPid)).toBe(false)
    expect(waited).toBeLessThan(1000)
  }, 15_000)

  it("does nothing without a launcher", async () => {
    const { watchLauncher } = await import("../../src/startup/ParentWatch.ts")
    const before = process.env.FLOW_LAUNCHER_PID
    delete process.env.FLOW_LAUNCHER_PID
    expect(() => watchLauncher()).not.toThrow()
    if (before !== undefined) process.env.FLOW_LAUNCHER_PID = before
  })
})
