/**
 * The standard output and error the CLI writes to. A process's own by default; while the resident
 * daemon (src/cli/Daemon.ts) runs a command, its client's, so that a live view sees the client's
 * terminal (is it one, how wide) and its lines reach the client. Code that writes to the terminal
 * outside Effect's Console (the live view, download progress) goes through these.
 */
export interface TextOut {
  write(chunk: string): unknown
  readonly isTTY?: boolean | undefined
  readonly columns?: number | undefined
}

let current: { readonly stdout: TextOut; readonly stderr: TextOut } | undefined

export const stdout = (): TextOut => current?.stdout ?? process.stdout
export const stderr = (): TextOut => current?.stderr ?? process.stderr

/** Write to these streams from now on (undefined: the process's own again). */
export const setStreams = (streams: { readonly stdout: TextOut; readonly stderr: TextOut } | undefined): void => {
  current = streams
}
