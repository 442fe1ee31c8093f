// Result folders and their manifests: what makes a folder complete, each way of tampering with
// one, failure records, and several writers of one folder at once (in one process and in several).
import { Effect, Layer } from "effect"
import { spawn } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { beforeAll, describe, expect, it } from "vitest"
import { ArtifactStore } from "../../src/cache/ArtifactStore.ts"
import { Leases } from "../../src/cache/Leases.ts"
import { makeMemoryCache } from "../../src/cache/MemoryCache.ts"
import { loadRegistry } from "../../src/config/Registry.ts"
import { resolveSources } from "../../src/config/Sources.ts"
import * as InlineExecutor from "../../src/executor/InlineExecutor.ts"
import { FlowEvents } from "../../src/flows/Events.ts"
import { buildPlan, type Plan, type PlannedRun } from "../../src/flows/Plan.ts"
import { checkedFolders, folderStatus, isComplete, runDir, writeFailure, writeResults } from "../../src/flows/Results.ts"
import { makeWarmState } from "../../src/runtime/WarmState.ts"
import { runPlan } from "../../src/flows/Runner.ts"
import { dataRoot, repoRoot } from "../cli/helpers.ts"

const RUN = "bgl-nb.naive_bayes"
const tmp = (prefix = "logflow-results-") => fs.mkdtempSync(path.join(os.tmpdir(), prefix))
const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex")

// One in-memory cache for the whole file: the plan is computed once, then every run is all hits.
const cache = makeMemoryCache()
const layer = Layer.mergeAll(
  Layer.succeed(ArtifactStore, cache.store),
  Layer.succeed(Leases, cache.leases),
  InlineExecutor.layer,
  FlowEvents.layerSilent
)
const runIn = <A, E>(e: Effect.Effect<A, E, ArtifactStore | Leases | InlineExecutorServices | FlowEvents>) =>
  Effect.runPromise(Effect.provide(e, layer))
type InlineExecutorServices = Layer.Success<typeof InlineExecutor.layer>

let plan: Plan
let run: PlannedRun
/** The folder of a fresh, untouched run. */
let original: string

const options = (resultsDir: string) => ({ maxWorkers: 2, dataRoot: dataRoot(), sourcesDir: path.join(resultsDir, "sources"), resultsDir, force: false })

beforeAll(async () => {
  const registry = Effect.runSync(loadRegistry("configs/registry.toml"))
  const runs = registry.runs.filter((r) => r.name === RUN)
  plan = buildPlan(runs, Effect.runSync(resolveSources(dataRoot(), runs)))
  run = plan.runs[0]!
  const resultsDir = tmp()
  const report = await runIn(runPlan(plan, options(resultsDir)))
  expect(report.runs.map((r) => r.status)).toEqual(["written"])
  original = runDir(resultsDir, run)
})

/** A copy of the original folder in a new results dir. */
const fresh = () => {
  const resultsDir = tmp()
  const dir = runDir(resultsDir, run)
  fs.cpSync(original, dir, { recursive: true })
  return { resultsDir, dir }
}

const manifestOf = (dir: string) =>
  JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as {
    format: string
    kind: string
    run: string
    fingerprint: string
    files: Record<string, { sha256: string; bytes: number }>
  }

/** Whatever sits beside the run's folder besides the folder itself (temporary or moved-aside folders). */
const leftovers = (resultsDir: string) => fs.readdirSync(path.join(resultsDir, run.spec.name)).filter((f) => f !== run.fingerprint)

describe("a result folder's manifest", () => {
  it("lists every file with its sha256 and size; the folder is complete, and a file it does not list changes nothing", () => {
    const { resultsDir, dir } = fresh()
    const m = manifestOf(dir)
    expect(m).toMatchObject({ format: "logflow-results/1", kind: "results", run: RUN, fingerprint: run.fingerprint })
    const files = fs.readdirSync(dir).filter((f) => f !== "manifest.json").sort()
    expect(Object.keys(m.files).sort()).toEqual(files)
    expect(files).toEqual(["dataset_manifest.json", "environment.json", "metrics.json", "predictions.jsonl", "run.log", "run_config.json"])
    for (const f of files) expect(m.files[f], f).toEqual({ sha256: sha256(path.join(dir, f)), bytes: fs.statSync(path.join(dir, f)).size })
    expect(folderStatus(resultsDir, run)).toEqual({ status: "complete" })
    fs.writeFileSync(path.join(dir, "notes.txt"), "a reader's notes\n")
    expect(folderStatus(resultsDir, run)).toEqual({ status: "complete" })
    expect(isComplete(resultsDir, run)).toBe(true)
  })

  const tamperings: Array<[string, (dir: string) => void, RegExp]> = [
    [
      "an F1 edited in metrics.json (same size)",
      (dir) => {
        const p = path.join(dir, "metrics.json")
        const s = fs.readFileSync(p, "utf8")
        const edited = s.replace(/("f1": -?\d+\.?\d*?)(\d)([,\n])/, (_, a: string, d: string, z: string) => `${a}${d === "9" ? "8" : "9"}${z}`)
        expect(edited).not.toBe(s)
        expect(edited.length).toBe(s.length)
        fs.writeFileSync(p, edited)
      },
      /^metrics\.json does not match its digest$/
    ],
    [
      "an F1 edited in metrics.json (other size)",
      (dir) => {
        const p = path.join(dir, "metrics.json")
        fs.writeFileSync(p, fs.readFileSync(p, "utf8").replace(/"f1": [^,\n]+/, '"f1": 0.999999'))
      },
      /^metrics\.json does not match its digest \(\d+ bytes, manifest says \d+\)$/
    ],
    [
      "a truncated metrics.json",
      (dir) => fs.truncateSync(path.join(dir, "metrics.json"), 40),
      /^metrics\.json does not match its digest \(40 bytes, manifest says \d+\)$/
    ],
    ["a deleted predictions.jsonl", (dir) => fs.rmSync(path.join(dir, "predictions.jsonl")), /^predictions\.jsonl missing$/],
    ["a deleted run_config.json", (dir) => fs.rmSync(path.join(dir, "run_config.json")), /^run_config\.json missing$/],
    ["a deleted manifest", (dir) => fs.rmSync(path.join(dir, "manifest.json")), /^no manifest$/],
    ["a manifest that is not JSON", (dir) => fs.writeFileSync(path.join(dir, "manifest.json"), "{ trust me"), /^manifest\.json is not valid JSON$/],
    [
      "a manifest that no longer lists metrics.json (and metrics.json edited)",
      (dir) => {
        const m = manifestOf(dir)
        delete m.files["metrics.json"]
        fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(m))
        fs.writeFileSync(path.join(dir, "metrics.json"), "{}\n")
      },
      /^manifest\.json does not list metrics\.json$/
    ],
    [
      "a manifest that lists a file outside the folder",
      (dir) => {
        const m = manifestOf(dir)
        m.files["../../../etc/hostname"] = { sha256: "0".repeat(64), bytes: 1 }
        fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(m))
      },
      /^manifest\.json lists a file it cannot hold: "\.\.\/\.\.\/\.\.\/etc\/hostname"$/
    ],
    [
      "two files wrong at once",
      (dir) => {
        fs.rmSync(path.join(dir, "predictions.jsonl"))
        fs.appendFileSync(path.join(dir, "dataset_manifest.json"), " ")
      },
      /^(?=.*predictions\.jsonl missing)(?=.*dataset_manifest\.json does not match its digest)/
    ]
  ]
  it.each(tamperings)("%s makes the folder incomplete, with the reason", (_name, tamper, reason) => {
    const { resultsDir, dir } = fresh()
    tamper(dir)
    const s = folderStatus(resultsDir, run)
    expect(s.status).toBe("incomplete")
    expect(s.reason).toMatch(reason)
    expect(isComplete(resultsDir, run)).toBe(false)
  })

  it("a complete folder copied under another fingerprint is not complete there (and no folder is missing)", () => {
    const resultsDir = tmp()
    expect(folderStatus(resultsDir, run)).toEqual({ status: "missing" })
    const other = { ...run, fingerprint: "0123456789abcdef" } as PlannedRun
    fs.cpSync(original, runDir(resultsDir, other), { recursive: true })
    expect(folderStatus(resultsDir, other)).toEqual({
      status: "incomplete",
      reason: `manifest.json is for ${RUN}/${run.fingerprint}, not ${RUN}/0123456789abcdef`
    })
  })
})

describe("folder checks remembered in a warm state (the daemon)", () => {
  it("remember a match only 2 s after the folder's last change, and check again once a file changed, even with its size and mtime kept", async () => {
    const { resultsDir, dir } = fresh()
    const metrics = path.join(dir, "metrics.json")
    const hourAgo = Math.floor(Date.now() / 1000) - 3600 // whole seconds: set back exactly below
    fs.utimesSync(metrics, hourAgo, hourAgo)
    const memo = makeWarmState().memo(checkedFolders)
    expect(folderStatus(resultsDir, run, memo)).toEqual({ status: "complete" })
    expect(memo.size).toBe(0) // just copied: too recent to be remembered
    await new Promise((r) => setTimeout(r, 2100))
    expect(folderStatus(resultsDir, run, memo)).toEqual({ status: "complete" })
    expect(memo.size).toBe(1)
    // Same size, same mtime, other bytes: the ctime moved, so the folder is read again.
    const before = fs.statSync(metrics, { bigint: true })
    const text = fs.readFileSync(metrics, "utf8")
    fs.writeFileSync(metrics, text.replace(/"(\d)/, (_m, d: string) => `"${(Number(d) + 1) % 10}`))
    fs.utimesSync(metrics, hourAgo, hourAgo)
    const after = fs.statSync(metrics, { bigint: true })
    expect([after.size, after.mtimeNs, after.ino]).toEqual([before.size, before.mtimeNs, before.ino])
    expect(folderStatus(resultsDir, run, memo)).toEqual({ status: "incomplete", reason: "metrics.json does not match its digest" })
    expect(memo.size).toBe(0)
  })
})

describe("a flow over a result folder", () => {
  it("rewrites an incomplete folder and says why in its run.log; then keeps it", async () => {
    const { resultsDir, dir } = fresh()
    const before = fs.readFileSync(path.join(dir, "metrics.json"), "utf8")
    fs.writeFileSync(path.join(dir, "metrics.json"), before.replace(/"f1": [^,\n]+/, '"f1": 1'))
    const rewritten = await runIn(runPlan(plan, options(resultsDir)))
    expect(rewritten.runs.map((r) => r.status)).toEqual(["written"])
    expect(fs.readFileSync(path.join(dir, "metrics.json"), "utf8")).toBe(before)
    expect(fs.readFileSync(path.join(dir, "run.log"), "utf8")).toMatch(
      /evaluate [0-9a-f]{12} result folder incomplete \(metrics\.json does not match its digest \(\d+ bytes, manifest says \d+\)\): rewriting it/
    )
    expect(folderStatus(resultsDir, run)).toEqual({ status: "complete" })
    expect(leftovers(resultsDir)).toEqual([])
    const again = await runIn(runPlan(plan, options(resultsDir)))
    expect(again.runs.map((r) => r.status)).toEqual(["complete"])
  })
})

describe("a failure record", () => {
  const env = () => ({ test: true })

  it("has a manifest of its own kind, reads as failed, and is incomplete once tampered with", async () => {
    const resultsDir = tmp()
    await Effect.runPromise(writeFailure(resultsDir, run, ["a log line"], "stage fit failed: boom", "fit", env))
    const dir = runDir(resultsDir, run)
    expect(manifestOf(dir)).toMatchObject({ format: "logflow-results/1", kind: "failure", run: RUN, fingerprint: run.fingerprint })
    expect(Object.keys(manifestOf(dir).files).sort()).toEqual(["environment.json", "run.log", "run_config.json", "status.json"])
    expect(folderStatus(resultsDir, run)).toEqual({ status: "failed", error: "stage fit failed: boom" })
    expect(isComplete(resultsDir, run)).toBe(false)
    fs.writeFileSync(path.join(dir, "status.json"), JSON.stringify({ status: "failed", error: "something else" }))
    expect(folderStatus(resultsDir, run)).toMatchObject({ status: "incomplete", reason: expect.stringMatching(/^status\.json does not match its digest/) })
  })

  it("never replaces complete results, but replaces an incomplete folder", async () => {
    const { resultsDir, dir } = fresh()
    const before = Object.fromEntries(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]))
    await Effect.runPromise(writeFailure(resultsDir, run, [], "boom", "fit", env))
    expect(Object.fromEntries(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]))).toEqual(before)
    fs.rmSync(path.join(dir, "predictions.jsonl"))
    await Effect.runPromise(writeFailure(resultsDir, run, [], "boom", "fit", env))
    expect(folderStatus(resultsDir, run)).toEqual({ status: "failed", error: "boom" })
    expect(leftovers(resultsDir)).toEqual([])
  })
})

describe("a writer that finds a folder in place", () => {
  const write = (resultsDir: string, line: string, replaceEqual?: boolean) =>
    runIn(writeResults(resultsDir, run, [line], () => ({ writer: line }), replaceEqual === undefined ? {} : { replaceEqual }))

  it("keeps complete results equal to its own (another writer got there first), and succeeds", async () => {
    const { resultsDir, dir } = fresh()
    const log = fs.readFileSync(path.join(dir, "run.log"), "utf8")
    expect(await write(resultsDir, "second writer")).toBe(dir)
    expect(fs.readFileSync(path.join(dir, "run.log"), "utf8")).toBe(log)
    expect(folderStatus(resultsDir, run)).toEqual({ status: "complete" })
    expect(leftovers(resultsDir)).toEqual([])
  })

  it("replaces them when asked to (a forced rewrite)", async () => {
    const { resultsDir, dir } = fresh()
    await write(resultsDir, "forced writer", true)
    expect(fs.readFileSync(path.join(dir, "run.log"), "utf8")).toBe("forced writer\n")
    expect(manifestOf(dir).files["run.log"]!.sha256).toBe(sha256(path.join(dir, "run.log")))
    expect(folderStatus(resultsDir, run)).toEqual({ status: "complete" })
    expect(leftovers(resultsDir)).toEqual([])
  })

  it("replaces an incomplete folder or a failure record", async () => {
    const { resultsDir, dir } = fresh()
    fs.truncateSync(path.join(dir, "metrics.json"), 10)
    await write(resultsDir, "after truncation")
    expect(fs.readFileSync(path.join(dir, "run.log"), "utf8")).toBe("after truncation\n")
    expect(manifestOf(dir).files["run.log"]!.sha256).toBe(sha256(path.join(dir, "run.log")))
    expect(fs.readFileSync(path.join(dir, "metrics.json"))).toEqual(fs.readFileSync(path.join(original, "metrics.json")))
    expect(folderStatus(resultsDir, run)).toEqual({ status: "complete" })
    const failed = tmp()
    await Effect.runPromise(writeFailure(failed, run, [], "boom", "fit", () => ({})))
    await write(failed, "after failure")
    expect(folderStatus(failed, run)).toEqual({ status: "complete" })
    expect(manifestOf(runDir(failed, run)).kind).toBe("results")
    expect(leftovers(resultsDir)).toEqual([])
    expect(leftovers(failed)).toEqual([])
  })
})

// A child process: computes the plan in its own memory cache, says "ready", waits for the go file,
// then writes the shared folder ITERATIONS times: results ("results"), results that replace even
// equal ones ("forced", as `flow run --force` does), or a failure record ("failure").
const childProgram = (): string => {
  const src = (p: string) => JSON.stringify(pathToFileURL(path.join(repoRoot, "src", p)).href)
  return `
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { loadRegistry } from ${src("config/Registry.ts")}
import { resolveSources } from ${src("config/Sources.ts")}
import { buildPlan } from ${src("flows/Plan.ts")}
import { runPlan } from ${src("flows/Runner.ts")}
import { writeFailure, writeResults } from ${src("flows/Results.ts")}
import * as MemoryCache from ${src("cache/MemoryCache.ts")}
import * as InlineExecutor from ${src("executor/InlineExecutor.ts")}
import { FlowEvents } from ${src("flows/Events.ts")}
const { MODE, SHARED, GO, ITERATIONS, FLOW_DATA_ROOT } = process.env
const registry = Effect.runSync(loadRegistry("configs/registry.toml"))
const runs = registry.runs.filter((r) => r.name === ${JSON.stringify(RUN)})
const plan = buildPlan(runs, Effect.runSync(resolveSources(FLOW_DATA_ROOT, runs)))
const run = plan.runs[0]
const own = fs.mkdtempSync(path.join(os.tmpdir(), "logflow-results-child-"))
const env = () => ({ pid: process.pid })
const program = Effect.gen(function*() {
  const report = yield* runPlan(plan, { maxWorkers: 1, dataRoot: FLOW_DATA_ROOT, sourcesDir: path.join(own, "sources"), resultsDir: own, force: false })
  if (report.runs[0].status !== "written") throw new Error("plan did not complete")
  console.log("ready")
  const waitUntil = Date.now() + 60000
  while (!fs.existsSync(GO)) {
    if (Date.now() > waitUntil) throw new Error("no go")
    yield* Effect.sleep("2 millis")
  }
  for (let i = 0; i < Number(ITERATIONS); i++) {
    const lines = ["writer " + process.pid + " #" + i]
    if (MODE === "failure") yield* writeFailure(SHARED, run, lines, "boom", "fit", env)
    else if (MODE === "forced") yield* writeResults(SHARED, run, lines, env, { replaceEqual: true })
    else yield* writeResults(SHARED, run, lines, env)
  }
}).pipe(Effect.provide(Layer.mergeAll(MemoryCache.layer, InlineExecutor.layer, FlowEvents.layerSilent)))
Effect.runPromise(program).then(
  () => process.exit(0),
  (e) => { console.error(String(e?.stack ?? e)); process.exit(1) }
)
`
}

/**
 * Start one child per mode, let them write the same folder at once, and meanwhile list the folder
 * as often as possible: every listing must be a whole folder (a results or a failure folder with
 * its manifest), never part of one. Returns how each child ended, the partial listings seen and
 * how many listings were made.
 */
const race = async (modes: ReadonlyArray<string>, iterations: number) => {
  const shared = tmp()
  const go = path.join(tmp(), "go")
  const code = childProgram()
  const children = modes.map((mode) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", code], {
      cwd: repoRoot,
      env: { ...process.env, MODE: mode, SHARED: shared, GO: go, ITERATIONS: String(iterations) },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c))
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding("utf8").on("data", (c: string) => {
        stdout += c
        if (stdout.includes("ready\n")) resolve()
      })
      child.on("exit", () => reject(new Error(`child ended before it was ready:\n${stdout}\n${stderr}`)))
    })
    const done = new Promise<{ mode: string; code: number | null; stderr: string }>((resolve) => child.on("exit", (code) => resolve({ mode, code, stderr })))
    return { ready, done }
  })
  await Promise.all(children.map((c) => c.ready))
  const dir = runDir(shared, run)
  const whole = [
    ["dataset_manifest.json", "environment.json", "manifest.json", "metrics.json", "predictions.jsonl", "run.log", "run_config.json"].join(","),
    ["environment.json", "manifest.json", "run.log", "run_config.json", "status.json"].join(",")
  ]
  const partial: Array<string> = []
  let listings = 0
  let finished = false
  const all = Promise.all(children.map((c) => c.done)).finally(() => (finished = true))
  fs.writeFileSync(go, "")
  while (!finished) {
    try {
      // A listing counts only if the same folder sat at the path before and after it: a reader that
      // opened the old folder just before it was moved aside may see it emptied as it is removed.
      const before = fs.statSync(dir, { bigint: true })
      const names = fs.readdirSync(dir).sort().join(",")
      const after = fs.statSync(dir, { bigint: true })
      if (before.ino === after.ino && before.birthtimeNs === after.birthtimeNs) {
        listings++
        if (!whole.includes(names)) partial.push(names)
      }
    } catch {
      // no folder at this moment (between moving one aside and renaming the next in)
    }
    await new Promise((r) => setImmediate(r))
  }
  return { shared, ends: await all, partial, listings }
}

describe("several processes writing one folder at once", () => {
  it("all succeed when each finds the others' equal results in place, and the folder is complete (never a failure record)", async () => {
    const { shared, ends, partial } = await race(["results", "results", "results", "failure"], 30)
    for (const e of ends) expect(e, e.stderr).toMatchObject({ code: 0 })
    expect(partial).toEqual([])
    expect(folderStatus(shared, run)).toEqual({ status: "complete" })
    expect(fs.readFileSync(path.join(runDir(shared, run), "metrics.json"))).toEqual(fs.readFileSync(path.join(original, "metrics.json")))
    expect(leftovers(shared)).toEqual([])
  })

  it("all succeed when each replaces the others' folders (forced), a reader never sees half a folder, and a failure record never replaces results", async () => {
    const { shared, ends, partial, listings } = await race(["forced", "forced", "forced", "failure"], 30)
    for (const e of ends) expect(e, e.stderr).toMatchObject({ code: 0 })
    expect(listings).toBeGreaterThan(0)
    expect(partial).toEqual([])
    expect(folderStatus(shared, run)).toEqual({ status: "complete" })
    expect(leftovers(shared)).toEqual([])
  })
})
