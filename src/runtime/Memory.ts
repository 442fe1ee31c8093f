/**
 * This process's peak resident memory in MiB: /proc's VmHWM where there is one (Linux), else
 * `resourceUsage().maxRSS`. (maxRSS can carry a parent's peak over the fork and exec that started a
 * child: on Linux it read 117 MiB for every child of a bench parent that size, hiding any child
 * smaller than its parent; VmHWM is this process image's own.)
 */
import * as fs from "node:fs"

export const peakRssMiB = (): number => {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"))
    if (m !== null) return Number(m[1]) / 1024
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024
}
