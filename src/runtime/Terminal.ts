/**
 * The terminal a command writes to outside Effect's Console (the live view, download progress),
 * and how the CLI started (recorded in environment.json). A process's own by default; while the
 * resident daemon runs a command, its client's terminal and "daemon", provided per command, so a
 * live view sees the client's terminal (is it one, how wide) and its lines reach the client.
 */
import { Context } from "effect"
import { snapshotDir } from "./ProjectRoot.ts"

/** A text stream: stdout, stderr, or a client's stand-in for them. */
export interface TextOut {
  write(chunk: string): unknown
  readonly isTTY?: boolean | undefined
  readonly columns?: number | undefined
}

/** Standard output and error of the command being run. */
export const Terminal = Context.Reference<{ readonly stdout: TextOut; readonly stderr: TextOut }>("logflow/runtime/Terminal", {
  defaultValue: () => ({ stdout: process.stdout, stderr: process.stderr })
})

/** How this command's CLI started: the daemon, the start-up snapshot, or source. */
export const CliStart = Context.Reference<"daemon" | "snapshot" | "source">("logflow/runtime/CliStart", {
  defaultValue: () => (snapshotDir() !== undefined ? "snapshot" : "source")
})
