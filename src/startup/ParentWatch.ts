/**
 * bin/flow.js may run the CLI in a child process (the start-up snapshot, or the pinned Node
 * under an older one). A signal sent to the launcher is passed on, but SIGKILL cannot be: so the
 * child checks a few times a second that its launcher is still its parent and, if not, kills
 * itself the same way, as if it had been the process killed. Interrupted work is then exactly
 * what a kill of a single process leaves (the cache never holds half-written entries).
 */
export const watchLauncher = (): void => {
  const launcher = Number(process.env.FLOW_LAUNCHER_PID)
  if (!Number.isInteger(launcher) || launcher <= 0) return
  delete process.env.FLOW_LAUNCHER_PID // not inherited by anything this process starts
  const timer = setInterval(() => {
    if (process.ppid !== launcher) process.kill(process.pid, "SIGKILL")
  }, 100)
  timer.unref()
}
