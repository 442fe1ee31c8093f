import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import * as net from "node:net"
import { connect, request } from "../../src/startup/DaemonClient.ts"
import { ACCEPT_TIMEOUT_MS, daemonPaths, encodeFrame, FrameReader, nameHash, privateDir } from "../../src/startup/DaemonProtocol.ts"

describe("daemon protocol", () => {
  it("frames survive any cut of the byte stream", () => {
    const frames: Array<[string, string]> = [["o", "hello\n"], ["e", ""], ["o", "é".repeat(3000)], ["x", "130"]]
    const bytes = Buffer.concat(frames.map(([t, p]) => encodeFrame(t as "o", p)))
    for (const cut of [1, 2, 5, 7, 4096, bytes.length]) {
      const got: Array<[string, string]> = []
      const reader = new FrameReader((t, p) => got.push([t, p.toString("utf8")]))
      for (let i = 0; i < bytes.length; i += cut) reader.push(bytes.subarray(i, i + cut))
      expect(got, `chunks of ${cut}`).toEqual(frames)
      expect(reader.pendingBytes).toBe(0)
    }
  })

  it("names one daemon per checkout, Node binary and snapshot build", () => {
    const base = { root: "/r", execPath: "/n", stampMtimeMs: 1, dir: "/d" }
    expect(daemonPaths(base)).toEqual(daemonPaths({ ...base }))
    expect(nameHash("abc")).toMatch(/^[0-9a-f]{16}$/)
    for (const other of [{ root: "/r2" }, { execPath: "/n2" }, { stampMtimeMs: 2 }]) {
      expect(daemonPaths({ ...base, ...other }).socket).not.toBe(daemonPaths(base).socket)
    }
    expect(daemonPaths(base).log).toBe(daemonPaths(base).socket.replace(/\.sock$/, ".log"))
  })

  it("uses only a folder no other user can open", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "logflow-daemon-dir-"))
    const fresh = path.join(dir, "new")
    expect(privateDir(fresh)).toBeUndefined()
    expect(fs.statSync(fresh).mode & 0o777).toBe(0o700)
    fs.chmodSync(fresh, 0o750)
    expect(privateDir(fresh)).toMatch(/can be opened by other users \(mode 750\)/)
    fs.writeFileSync(path.join(dir, "file"), "")
    expect(privateDir(path.join(dir, "file"))).toMatch(/not a folder|cannot use/)
  })

  it("a client leaves a daemon that does not accept within the timeout, and relays one that answers", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "logflow-daemon-sock-"))
    const ask = (socket: string) =>
      connect(socket).then((s) => {
        if (s === undefined) throw new Error("no server")
        const out: Array<string> = []
        return request(s, { argv: ["x"], cwd: "/", env: {}, pid: 1, stdinIsTTY: false, stdout: { isTTY: false }, stderr: { isTTY: false } }, {
          out: (b) => out.push(b.toString()),
          err: () => {}
        }).then((answer) => ({ ...answer, out: out.join("") }))
      })
    // Held: reads the request, never answers (an event loop stuck in a long synchronous step).
    const held = net.createServer(() => {}).listen(path.join(dir, "held.sock"))
    // Answers: accepted, output, exit code.
    const answers = net.createServer((c) => c.once("data", () => c.end(Buffer.concat([encodeFrame("a"), encodeFrame("o", "hi\n"), encodeFrame("x", "3")]))))
      .listen(path.join(dir, "answers.sock"))
    try {
      const t0 = Date.now()
      expect(await ask(path.join(dir, "held.sock"))).toMatchObject({ busy: true, code: undefined })
      expect(Date.now() - t0).toBeGreaterThanOrEqual(ACCEPT_TIMEOUT_MS - 50)
      expect(await ask(path.join(dir, "answers.sock"))).toEqual({ busy: false, code: 3, out: "hi\n" })
      expect(await connect(path.join(dir, "nobody.sock"))).toBeUndefined()
    } finally {
      held.close()
      answers.close()
    }
  })
})
