// Helpers for end-to-end tests: spawn the real `flow` CLI on the real data root.
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { expect } from "vitest"

export const repoRoot = path.resolve(import.meta.dirname, "../..")
export const mainTs = path.join(repoRoot, "src/cli/main.ts")
/**
 * How the CLI is started: `node src/cli/main.ts` by default; FLOW_E2E_BIN=bin/flow runs every
 * end-to-end test through the launcher (the start-up snapshot when it is fresh) instead. A test
 * that compares the two ways asks for one: "source" or "launcher" (bin/flow).
 */
export type StartedBy = "default" | "source" | "launcher"
const command = (args: ReadonlyArray<string>, by: StartedBy = "default"): [string, Array<string>] => {
  const bin = by === "launcher" ? "bin/flow" : by === "default" ? process.env.FLOW_E2E_BIN : undefined
  return bin === undefined ? [process.execPath, [mainTs, ...args]] : [path.resolve(repoRoot, bin), [...args]]
}
export const dataRoot = (): string => {
  const d = process.env.FLOW_DATA_ROOT
  if (d === undefined || !fs.existsSync(d)) throw new Error("FLOW_DATA_ROOT must point at the shared data")
  return d
}

export const tmpDir = (prefix = "logflow-e2e-"): string => fs.mkdtempSync(path.join(os.tmpdir(), prefix))

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Run `flow ARGS` to completion. Output is not a terminal, so events come as plain lines. */
export const flow = (args: ReadonlyArray<string>, env: Record<string, string> = {}, by: StartedBy = "default", cwd = repoRoot): CliResult => {
  const r = spawnSync(...command(args, by), {
    cwd,
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 120_000
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Start `flow ARGS`, SIGKILL it as soon as a stdout line matches, and return what it printed. */
export const flowKilledAt = (args: ReadonlyArray<string>, when: RegExp): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn(...command(args), { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let killed = false
    child.stdout.setEncoding("utf8")
    child.stdout.on("data", (chunk: string) => {
      out += chunk
      if (!killed && out.split("\n").some((l) => when.test(l))) {
        killed = true
        child.kill("SIGKILL")
      }
    })
    child.on("exit", (_code, signal) => {
      if (signal === "SIGKILL") resolve(out)
      else reject(new Error(`flow exited before the kill point (${String(_code)}):\n${out}`))
    })
  })

/** Stage lines of a run's output, e.g. ["cached", "parse hdfs"]. */
export const stageLines = (stdout: string, status: "cached" | "done" | "running"): Array<string> =>
  stdout.split("\n").filter((l) => l.startsWith(`${status} `)).map((l) => l.slice(9).replace(/ \[.*$/, ""))

/** All result folders under a results dir: run name -> absolute folder. */
export const resultFolders = (resultsDir: string): Map<string, string> => {
  const out = new Map<string, string>()
  if (!fs.existsSync(resultsDir)) return out
  for (const run of fs.readdirSync(resultsDir)) {
    for (const fp of fs.readdirSync(path.join(resultsDir, run))) out.set(run, path.join(resultsDir, run, fp))
  }
  return out
}

/** Two results folders hold the same runs: same fingerprints (folder names), byte-identical metrics, predictions, configs and manifests. */
export const expectSameResults = (a: string, b: string): void => {
  const x = resultFolders(a)
  const y = resultFolders(b)
  expect([...x.keys()].sort()).toEqual([...y.keys()].sort())
  for (const [run, folder] of x) {
    expect(path.basename(folder)).toBe(path.basename(y.get(run)!))
    for (const f of ["metrics.json", "predictions.jsonl", "run_config.json", "dataset_manifest.json"]) {
      expect(fs.readFileSync(path.join(folder, f), "utf8"), `${run}/${f}`).toBe(fs.readFileSync(path.join(y.get(run)!, f), "utf8"))
    }
  }
}

/** Copy the repo's configs into a temp dir so a test can edit them. */
export const copyConfigs = (): string => {
  const dir = tmpDir("logflow-configs-")
  fs.cpSync(path.join(repoRoot, "configs"), dir, { recursive: true })
  return dir
}

export const git = (args: ReadonlyArray<string>) => spawnSync("git", args, { cwd: repoRoot, encoding: "utf8" })

/** Run `flow ARGS` without blocking this process (so a server in the test can answer it). */
export const flowAsync = (args: ReadonlyArray<string>, env: Record<string, string> = {}, by: StartedBy = "default"): Promise<CliResult> =>
  flowStarted(args, env, by).done

/**
 * Start `flow ARGS`: the child, a promise of its end, and `untilLine(re)`, which resolves once a
 * stdout line matches (rejects if it ends first).
 */
export const flowStarted = (args: ReadonlyArray<string>, env: Record<string, string> = {}, by: StartedBy = "default") => {
  const child = spawn(...command(args, by), { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
  let stdout = ""
  let stderr = ""
  const waiting: Array<{ re: RegExp; resolve: () => void }> = []
  child.stdout.setEncoding("utf8").on("data", (c: string) => {
    stdout += c
    for (const w of [...waiting]) {
      if (stdout.split("\n").some((l) => w.re.test(l))) {
        waiting.splice(waiting.indexOf(w), 1)
        w.resolve()
      }
    }
  })
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c))
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000)
  const done = new Promise<CliResult>((resolve) => {
    child.on("exit", (code, signal) => {
      clearTimeout(timer)
      resolve({ code: code ?? (signal === null ? null : 128 + (os.constants.signals[signal] ?? 0)), stdout, stderr })
    })
  })
  const untilLine = (re: RegExp): Promise<void> =>
    new Promise((resolve, reject) => {
      if (stdout.split("\n").some((l) => re.test(l))) return resolve()
      waiting.push({ re, resolve })
      void done.then((r) => reject(new Error(`flow ended (${String(r.code)}) before a line matched ${re}:\n${r.stdout}\n${r.stderr}`)))
    })
  return { child, done, untilLine }
}

/** Headless Chromium (Debian's `chromium`), or undefined; `.ci/run` installs it and sets FLOW_REQUIRE_CHROMIUM. */
export const chromium = ["chromium", "chromium-browser", "google-chrome"].find((b) => spawnSync("sh", ["-c", `command -v ${b}`]).status === 0)
export const needChromium = process.env.FLOW_REQUIRE_CHROMIUM === "1"

/** The DOM of a page after headless Chromium ran its scripts (up to 20 s of virtual time). */
export const renderedDom = (html: string): string => {
  expect(chromium, "FLOW_REQUIRE_CHROMIUM=1 but no chromium on PATH").toBeDefined()
  const browser = spawnSync(chromium!, ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=20000", "--dump-dom", `file://${html}`], { encoding: "utf8", timeout: 120_000 })
  expect(browser.status, browser.stderr).toBe(0)
  return browser.stdout
}

