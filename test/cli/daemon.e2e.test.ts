// The resident daemon (src/startup/Daemon.ts, src/startup/client.ts) must be invisible but for speed: the
// same output, exit codes and results as a command in its own process, each command in its own
// client's folder and environment, and the same answers to Ctrl-C, kill -9 and bad input.
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { copyConfigs, dataRoot, expectSameResults, flow, flowStarted, repoRoot, resultFolders, tmpDir } from "./helpers.ts"

let snapshotDir = ""
let daemonDir = ""

// A daemon left behind by a failing test stops itself after a minute.
const daemonEnv = (env: Record<string, string> = {}) => ({ FLOW_SNAPSHOT_DIR: snapshotDir, FLOW_DAEMON_DIR: daemonDir, FLOW_NO_DAEMON: "0", FLOW_DAEMON_IDLE: "60", ...env })
/** `bin/flow` with this test's snapshot and daemon folder; the daemon is used unless env says otherwise. */
const flowD = (args: ReadonlyArray<string>, env: Record<string, string> = {}, cwd = repoRoot) => flow(args, daemonEnv(env), "launcher", cwd)
const status = (env: Record<string, string> = {}) =>
  JSON.parse(flowD(["daemon", "status", "--json"], env).stdout) as { running: boolean; served_this: boolean; pid?: number; reason?: string; log: string }
const sweep = (cache: string, results: string, extra: ReadonlyArray<string> = []) => [
  "run", "configs/registry.toml", "--group", "baselines", "--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", results, ...extra
]
/** Output without the durations, which differ between any two runs. */
const untimed = (s: string) => s.replace(/ \d+(\.\d+)? (ms|s)\b/g, " T").replace(/; [\d.]+ s$/m, "; T")
const until = async (what: string, test: () => boolean, ms = 15_000) => {
  const end = Date.now() + ms
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe("daemon", () => {
  beforeAll(() => {
    snapshotDir = tmpDir("logflow-daemon-snapshot-")
    const r = spawnSync(process.execPath, [path.join(repoRoot, "scripts/build.ts"), "--out", snapshotDir], { cwd: repoRoot, encoding: "utf8", timeout: 120_000 })
    expect(r.status, r.stderr).toBe(0)
    expect(fs.existsSync(path.join(snapshotDir, "client.cjs"))).toBe(true)
    daemonDir = tmpDir("logflow-daemon-")
    fs.chmodSync(daemonDir, 0o700)
  }, 150_000)

  afterAll(() => {
    flowD(["daemon", "stop"])
  })

  it("serves commands exactly as the CLI in its own process would: output, exit codes, results", () => {
    const [c1, r1, c2, r2] = [tmpDir(), tmpDir(), tmpDir(), tmpDir()]
    const cold = flowD(sweep(c1, r1))
    expect(cold.code, cold.stderr).toBe(0)
    expect(cold.stdout).toMatch(/27 stages: 0 cached, 27 run, 0 failed/)
    const first = status()
    expect(first).toMatchObject({ running: true, served_this: true })
    const warm = flowD(sweep(c1, r1))
    expect(warm.stdout).toMatch(/27 cached, 0 run/)
    expect(untimed(warm.stdout)).toBe(untimed(flowD(sweep(c1, r1), { FLOW_NO_DAEMON: "1" }).stdout))
    expect(status().pid).toBe(first.pid) // one daemon served them all
    // The same results as a command in its own process, recorded as served by the daemon.
    expect(flowD(sweep(c2, r2), { FLOW_NO_DAEMON: "1" }).code).toBe(0)
    expectSameResults(r1, r2)
    for (const folder of resultFolders(r1).values()) {
      expect(JSON.parse(fs.readFileSync(path.join(folder, "environment.json"), "utf8")).cli_start).toBe("daemon")
    }
    // Bad input: exit 2, the file named on stderr, nothing on stdout.
    const bad = flowD(["run", "configs/no-such-registry.toml"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/no-such-registry\.toml.*file not found/)
    expect(bad.stdout).toBe("")
    const help = flowD(["run", "--help"])
    expect(help.code).toBe(0)
    expect(help.stdout).toBe(flowD(["run", "--help"], { FLOW_NO_DAEMON: "1" }).stdout)
    const unknown = flowD(["frobnicate"])
    const unknownHere = flowD(["frobnicate"], { FLOW_NO_DAEMON: "1" })
    expect([unknown.code, unknown.stdout, unknown.stderr]).toEqual([unknownHere.code, unknownHere.stdout, unknownHere.stderr])
  }, 120_000)

  it("runs each command in its client's folder and environment, and nothing of one command's leaks into the next", () => {
    const work = tmpDir("logflow-daemon-work-")
    fs.cpSync(copyConfigs(), path.join(work, "configs"), { recursive: true })
    const run = ["run", "configs/registry.toml", "--experiment", "bgl-freq", "--data-root", dataRoot()]
    const a = flowD(run, { FLOW_CACHE_DIR: "cache-a", FLOW_RESULTS_DIR: "results-a" }, work)
    expect(a.code, a.stderr).toBe(0)
    expect(fs.existsSync(path.join(work, "cache-a", "data.mdb"))).toBe(true)
    expect(resultFolders(path.join(work, "results-a")).size).toBe(1)
    // Without the variables: the defaults, relative to this client's folder; a new cache.
    const b = flowD(run, {}, work)
    expect(b.code, b.stderr).toBe(0)
    expect(b.stdout).toMatch(/0 cached, \d+ run/)
    expect(fs.existsSync(path.join(work, ".cache", "data.mdb"))).toBe(true)
    expect(resultFolders(path.join(work, "results")).size).toBe(1)
    expect(status().served_this).toBe(true)
  }, 120_000)

  it("sends a command that arrives while it is busy to a process of its own", async () => {
    const sweepRun = flowStarted(sweep(tmpDir(), tmpDir(), ["--max-workers", "1"]), daemonEnv(), "launcher")
    await sweepRun.untilLine(/^running /)
    const meanwhile = status()
    expect(meanwhile.served_this).toBe(false)
    expect(meanwhile.reason).toBe("the daemon was busy")
    const list = flowD(["list", "configs/registry.toml", "--group", "baselines"])
    expect(list.code).toBe(0)
    expect(list.stdout).toMatch(/4 runs/)
    const done = await sweepRun.done
    expect(done.code, done.stderr).toBe(0)
    expect(done.stdout).toMatch(/27 run, 0 failed/)
  }, 120_000)

  it("interrupts a command whose client is killed (-9); the rerun reuses every stored stage and ends with the same metrics", async () => {
    const [cache, results] = [tmpDir(), tmpDir()]
    const log = status().log
    const before = fs.readFileSync(log, "utf8").split("\n").filter((l) => l.includes("interrupted by its client")).length
    const killed = flowStarted(sweep(cache, results, ["--max-workers", "1"]), daemonEnv(), "launcher")
    await killed.untilLine(/^done /)
    killed.child.kill("SIGKILL")
    await killed.done
    await until("the daemon to log the interrupted command", () =>
      fs.readFileSync(log, "utf8").split("\n").filter((l) => l.includes("interrupted by its client")).length > before)
    const rerun = flowD(sweep(cache, results))
    expect(rerun.code, rerun.stderr).toBe(0)
    const cached = Number(/(\d+) cached/.exec(rerun.stdout)?.[1])
    expect(cached).toBeGreaterThanOrEqual(1)
    expect(cached).toBeLessThan(27)
    const [c2, r2] = [tmpDir(), tmpDir()]
    expect(flowD(sweep(c2, r2), { FLOW_NO_DAEMON: "1" }).code).toBe(0)
    expectSameResults(results, r2)
  }, 120_000)

  it("answers Ctrl-C as the CLI does (exit 130) and serves the next command", async () => {
    const pid = status().pid
    const run = flowStarted(sweep(tmpDir(), tmpDir(), ["--max-workers", "1"]), daemonEnv(), "launcher")
    await run.untilLine(/^running /)
    run.child.kill("SIGINT")
    const r = await run.done
    expect(r.code).toBe(130)
    expect(status()).toMatchObject({ served_this: true, pid })
  }, 120_000)

  it("notices a cache folder removed between two commands", () => {
    const [cache, results] = [tmpDir(), tmpDir()]
    const args = ["run", "configs/registry.toml", "--experiment", "bgl-freq", "--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", results]
    expect(flowD(args).stdout).toMatch(/0 cached/)
    expect(flowD(args).stdout).toMatch(/ 0 run/)
    fs.rmSync(cache, { recursive: true, force: true })
    const again = flowD(args)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toMatch(/0 cached/)
    expect(flowD(["cache", "ls", "--json", "--cache-dir", cache]).stdout).toMatch(/"stage": "evaluate"/)
  }, 120_000)

  it("is not used from a folder other users can open, refuses a FLOW_DAEMON_IDLE that is not seconds, and stops when idle", async () => {
    const open = tmpDir("logflow-daemon-open-")
    fs.chmodSync(open, 0o755)
    const r = flowD(["--version"], { FLOW_DAEMON_DIR: open })
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/can be opened by other users.*running without the daemon/)
    expect(fs.readdirSync(open)).toEqual([])

    const bad = flowD(["--version"], { FLOW_DAEMON_IDLE: "15min" })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toBe('flow: FLOW_DAEMON_IDLE must be a number of seconds above 0 (got "15min")\n')
    expect(bad.stdout).toBe("")

    const idle = tmpDir("logflow-daemon-idle-")
    fs.chmodSync(idle, 0o700)
    expect(flowD(["--version"], { FLOW_DAEMON_DIR: idle, FLOW_DAEMON_IDLE: "1" }).code).toBe(0)
    expect(fs.readdirSync(idle).some((f) => f.endsWith(".sock"))).toBe(true)
    await until("the idle daemon to stop", () => !fs.readdirSync(idle).some((f) => f.endsWith(".sock")))
    const logFile = fs.readdirSync(idle).find((f) => f.endsWith(".log"))!
    expect(fs.readFileSync(path.join(idle, logFile), "utf8")).toMatch(/stopping: idle for 1 s/)
  }, 120_000)

  it("a daemon of a newer snapshot build asks the older one to stop", async () => {
    expect(flowD(["--version"]).code).toBe(0)
    const older = status()
    expect(older.served_this).toBe(true)
    const stamp = path.join(snapshotDir, "stamp")
    const built = fs.statSync(stamp).mtime
    try {
      // A rebuilt snapshot: same files, a later stamp (still no source newer than it).
      const later = new Date(built.getTime() + 1000)
      fs.utimesSync(stamp, later, later)
      expect(status().running).toBe(false) // asking does not start one
      expect(flowD(["--version"]).code).toBe(0)
      const newer = status()
      expect(newer.served_this).toBe(true)
      expect(newer.pid).not.toBe(older.pid)
      await until("the older daemon to stop", () => !fs.existsSync(older.log.replace(/\.log$/, ".sock")))
      expect(fs.readFileSync(older.log, "utf8")).toMatch(/stopping: flow daemon stop/)
      // `flow daemon stop` from a process of its own reaches the daemon too.
      expect(flowD(["daemon", "stop"], { FLOW_NO_DAEMON: "1" }).stdout).toBe(`stopping daemon pid ${newer.pid}\n`)
      await until("the newer daemon to stop", () => !status().running)
      expect(flowD(["daemon", "stop"], { FLOW_NO_DAEMON: "1" }).stdout).toBe("no daemon is running\n")
    } finally {
      flowD(["daemon", "stop"])
      fs.utimesSync(stamp, built, built)
    }
  })
})
