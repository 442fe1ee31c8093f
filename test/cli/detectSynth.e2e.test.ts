// Train once on normal logs, detect on new ones (issue 17): a DeepLog bundle trained on the normal
// lines of a gen-synth log finds the injected anomalies; alog-detect's two defects do not exist here;
// --follow tails a growing, rotating log and writes its outputs when interrupted.
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { chromium, flow, mainTs, needChromium, renderedDom, repoRoot, resultFolders, tmpDir } from "./helpers.ts"

const jsonl = (file: string): Array<Record<string, any>> =>
  fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l))

/** A gen-synth log, its labels, and a DeepLog bundle trained on its normal lines only. */
const synthBundle = () => {
  const dir = tmpDir()
  const log = path.join(dir, "s.log")
  expect(flow(["gen-synth", "--out", log, "--lines", "5000", "--seed", "1"]).code).toBe(0)
  const lines = fs.readFileSync(log, "utf8").split("\n").slice(0, -1)
  const labels = fs.readFileSync(`${log}.labels.csv`, "utf8").trim().split("\n").slice(1).map((l) => l.split(","))
  fs.writeFileSync(path.join(dir, "train.log"), lines.filter((_, i) => labels[i]![1] === "-").join("\n") + "\n")
  fs.mkdirSync(path.join(dir, "configs/datasets"), { recursive: true })
  fs.mkdirSync(path.join(dir, "configs/models"), { recursive: true })
  fs.writeFileSync(path.join(dir, "configs/datasets/synth.toml"), `
[source]
path = "train.log"
[parser]
preset = "Linux"
[miner]
preset = "Linux"
[grouping]
type = "stream_chunks"
chunk_size = 200
continuous_context = 10
[labels]
type = "none"
[split]
train_fraction = 0.9
`)
  fs.writeFileSync(path.join(dir, "configs/models/deeplog.toml"), `
detector = "deeplog"
history_size = 10
top_g = 5
num_layers = 1
hidden_size = 32
epochs = 20
batch_size = 64
learning_rate = 0.01
validation_fraction = 0
train_on = "all"
`)
  fs.writeFileSync(path.join(dir, "configs/models/ewm_window.toml"), `detector = "ewm_window"\n`)
  fs.writeFileSync(path.join(dir, "configs/registry.toml"), `[experiments.synth]\ndataset = "synth"\nmodels = ["deeplog", "ewm_window"]\n`)
  const cache = path.join(dir, "cache")
  const results = path.join(dir, "results")
  const run = flow(["run", path.join(dir, "configs/registry.toml"), "--data-root", dir, "--cache-dir", cache, "--results-dir", results])
  expect(run.code, run.stderr).toBe(0)
  const bundle = path.join(dir, "bundle")
  const b = flow(["bundle", resultFolders(results).get("synth.deeplog")!, "--out", bundle, "--cache-dir", cache])
  expect(b.code, b.stderr).toBe(0)
  const ewm = path.join(dir, "bundle-ewm")
  expect(flow(["bundle", resultFolders(results).get("synth.ewm_window")!, "--out", ewm, "--cache-dir", cache]).code).toBe(0)
  fs.rmSync(cache, { recursive: true, force: true })
  return { dir, log, lines, labels, bundle, ewm }
}

/** One bundle for every test of this file (training takes seconds). */
const shared = synthBundle()

describe("a DeepLog bundle trained on the normal part of a gen-synth log", () => {
  const s = shared
  const out = path.join(s.dir, "detect")
  const d = flow(["detect", s.bundle, s.log, "--out", out])
  const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"))
  const misses = jsonl(path.join(out, "misses.jsonl"))
  const alerts = jsonl(path.join(out, "alerts.jsonl"))
  const vocabulary = new Set<string>(JSON.parse(fs.readFileSync(path.join(s.bundle, "bundle.json"), "utf8")).vocabulary.map((v: { text: string }) => v.text))

  it("finds the injected anomalies: event-level F1 over the lines, and every kind of episode alerted", () => {
    expect(d.code, d.stderr).toBe(0)
    expect(summary).toMatchObject({ lines: 5000, parsed: 5000, predictions_of: "events", predictions: 5000 })
    const anomalous = s.labels.map((l) => l[1] !== "-")
    const flagged = new Set(misses.map((m) => m.line as number))
    const tp = [...flagged].filter((l) => anomalous[l - 1]).length
    const precision = tp / flagged.size
    const recall = tp / anomalous.filter(Boolean).length
    const f1 = (2 * precision * recall) / (precision + recall)
    console.log(`gen-synth 5000 lines, seed 1: DeepLog (top-5) event-level precision ${precision.toFixed(3)} recall ${recall.toFixed(3)} F1 ${f1.toFixed(3)}; ${summary.alerts} alerts`)
    expect(f1).toBeGreaterThan(0.9)
    // Episodes (runs of lines of one kind): each kind has an episode that an alert covers.
    const covered = new Set<number>()
    for (const a of alerts) for (let l = a.kind === "sequence" ? a.from_line : a.line; l <= (a.kind === "sequence" ? a.line : a.last_line); l++) covered.add(l)
    const kinds = new Set(s.labels.filter((l, i) => l[1] !== "-" && covered.has(i + 1)).map((l) => l[2]))
    expect([...kinds].sort()).toEqual(expect.arrayContaining(["error_burst", "unseen_template"]))
    expect(alerts.some((a) => a.kind === "sequence")).toBe(true)
    const html = fs.readFileSync(path.join(out, "report.html"), "utf8")
    expect(html).toContain("First misses")
    expect(html).toContain('id="chart-0"')
  })

  it.skipIf(chromium === undefined && !needChromium)("report.html opens offline in headless Chromium: the alert timeline draws, no script error; report.md has the same sections", () => {
    const dom = renderedDom(path.join(out, "report.html"))
    expect(dom).toContain('data-rendered="1"')
    expect(dom).toContain('<div id="report-errors"></div>')
    const chart = dom.slice(dom.indexOf('id="chart-0"'), dom.indexOf("</figure>", dom.indexOf('id="chart-0"')))
    expect(chart).toContain("<svg")
    expect((chart.match(/class="mark-/g) ?? []).length).toBeGreaterThan(2)
    const md = fs.readFileSync(path.join(out, "report.md"), "utf8")
    for (const section of ["## Most anomalous sequences", "## First misses", "## Novel templates", "alerts of"]) expect(md).toContain(section)
    // Sample lines come with context: marked lines (>) and the lines around them.
    expect(md).toMatch(/^> \d+: /m)
    expect(md).toMatch(/^ {2}\d+: /m)
  })

  it("alog-detect defect 1: novelty is keyed by template text, so novel templates alert and known ones never do", () => {
    const novelty = alerts.filter((a) => a.kind === "novelty")
    expect(novelty.length).toBeGreaterThan(0)
    for (const a of novelty) expect(vocabulary.has(a.template), a.template).toBe(false)
    // Every unseen_template line is novel and lies in a novelty alert's span or was suppressed as a repeat of one.
    const novelTexts = new Set(jsonl(path.join(out, "novel.jsonl")).map((n) => n.template))
    expect([...novelTexts].every((t) => novelty.some((a) => a.template === t))).toBe(true)
    const firstUnseen = s.labels.findIndex((l) => l[2] === "unseen_template") + 1
    expect(novelty.some((a) => a.line <= firstUnseen && firstUnseen <= a.last_line)).toBe(true)
  })

  it("alog-detect defect 2: out-of-vocabulary lines are predicted in place, so every prediction lines up with its own line", () => {
    // One prediction per parsed line (pad_start): none dropped.
    expect(summary.predictions).toBe(summary.parsed)
    // Each miss names its own line's template: the line's text fits the template (<*> any text).
    const fits = (template: string, content: string) =>
      new RegExp(`^${template.split("<*>").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/ /g, "\\s*")).join(".*?")}$`).test(content)
    for (const m of misses) {
      const content = s.lines[m.line - 1]!.replace(/^.*?\]: /, "")
      expect(fits(m.actual, content), `${m.line}: ${m.actual} vs ${content}`).toBe(true)
    }
    // The novel lines are misses at their own lines, unseen, and the line after a novel one is predicted too.
    const novelLines = misses.filter((m) => m.unseen).map((m) => m.line)
    expect(novelLines.length).toBe(summary.novel_lines)
    expect(novelLines.every((l) => !vocabulary.has(misses.find((m) => m.line === l)!.actual))).toBe(true)
  })
})

describe("flow detect --follow", () => {
  it("tails a growing log through a rotation, prints alerts as they come, and on Ctrl-C writes its outputs and names the unfinished last line", async () => {
    const s = shared
    const log = path.join(s.dir, "live.log")
    const out = path.join(s.dir, "live")
    // Normal lines first, then the rest arrives while following.
    fs.writeFileSync(log, s.lines.slice(0, 1000).join("\n") + "\n")
    const child = spawn(process.execPath, [mainTs, "detect", s.bundle, log, "--follow", "--json", "--out", out], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c))
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c))
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    const until = async (what: () => boolean, ms = 60_000) => {
      const t0 = Date.now()
      while (!what()) {
        if (Date.now() - t0 > ms) throw new Error(`timed out; stdout:\n${stdout}\nstderr:\n${stderr}`)
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    await new Promise((r) => setTimeout(r, 1500))
    fs.appendFileSync(log, s.lines.slice(1000, 3000).join("\n") + "\n")
    // Alerts appear on stdout while the command still runs.
    await until(() => stdout.split("\n").some((l) => l.startsWith("{") && JSON.parse(l).kind !== undefined))
    expect(fs.existsSync(out)).toBe(false)
    // Rotation: the file is renamed away and a new one takes its path.
    fs.renameSync(log, `${log}.1`)
    fs.writeFileSync(log, s.lines.slice(3000, 5000).join("\n") + "\n" + s.lines[0]!.slice(0, 20))
    await new Promise((r) => setTimeout(r, 2000))
    child.kill("SIGINT")
    const code = await exited
    expect([0, 130]).toContain(code)
    const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"))
    expect(summary.files[0]).toMatchObject({ rotations: 1 })
    expect(summary.lines).toBe(5000)
    expect(summary.warnings.join("\n")).toMatch(/line 2001 \(after rotation 1\) has no line break yet \(20 bytes\): not read/)
    expect(stderr).toMatch(/warning: .*has no line break yet/)
    const written = jsonl(path.join(out, "alerts.jsonl"))
    const printed = stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))
    expect(printed.length).toBe(written.length)
    expect(printed.map((a) => a.signature)).toEqual(written.map((a) => a.signature))
  }, 180_000)
})

describe("flow analyze through the bundle's templates", () => {
  const s = shared
  const baseline = path.join(s.dir, "base.log")
  expect(flow(["gen-synth", "--out", baseline, "--lines", "20000", "--seed", "7", "--anomaly-rate", "0"]).code).toBe(0)

  it("compare: the anomalous log's new templates are the injected ones (unseen and error lines), none vanished; the mix stays close", () => {
    const out = path.join(s.dir, "compare")
    const r = flow(["analyze", "compare", s.log, "--baseline", baseline, "--bundle", s.bundle, "--out", out, "--json"])
    expect(r.code, r.stderr).toBe(0)
    const c = JSON.parse(r.stdout).comparison
    expect(c).toMatchObject({ target_lines: 5000, baseline_lines: 20000, vanished_templates: [] })
    // Every line of a new template is an injected unseen_template or error_burst line, and the other way round.
    const injected = s.labels.filter((l) => l[2] === "unseen_template" || l[2] === "error_burst").length
    expect(c.new_templates.reduce((n: number, t: { count: number }) => n + t.count, 0)).toBe(injected)
    expect(c.cosine).toBeGreaterThan(0.95)
    expect(c.kl).toBeGreaterThan(0)
    expect(fs.readFileSync(path.join(out, "report.md"), "utf8")).toContain("## New templates")
  })

  it("temporal: against the baseline only the new templates stand out; without one, an injected burst in one clock hour is found", () => {
    const withBase = flow(["analyze", "temporal", s.log, "--baseline", baseline, "--bundle", s.bundle, "--out", path.join(s.dir, "t1"), "--json"])
    expect(withBase.code, withBase.stderr).toBe(0)
    const t1 = JSON.parse(withBase.stdout)
    expect(t1.against).toBe("baseline")
    expect(new Set(t1.flags.map((f: { kind: string }) => f.kind))).toEqual(new Set(["new_template"]))
    expect(t1.profiles.reduce((n: number, p: { lines: number }) => n + p.lines, 0)).toBe(5000)
    // 200 more "link up" lines inside the second clock hour of the log.
    const hour = s.lines.findIndex((l, i) => i > 0 && l.slice(7, 9) !== s.lines[0]!.slice(7, 9))
    const line = s.lines.slice(hour).find((l) => / eth\d: link up$/.test(l))!
    const burst = path.join(s.dir, "burst.log")
    fs.writeFileSync(burst, [...s.lines, ...Array.from({ length: 200 }, () => line)].join("\n") + "\n")
    const own = flow(["analyze", "temporal", burst, "--bundle", s.bundle, "--out", path.join(s.dir, "t2"), "--json"])
    expect(own.code, own.stderr).toBe(0)
    const t2 = JSON.parse(own.stdout)
    expect(t2.flags.map((f: { template: string; kind: string }) => `${f.kind} ${f.template}`)).toEqual(["burst <*>: link up"])
  })

  it("bad input: a log the bundle's parser cannot read is exit 2 with nothing written", () => {
    const prose = path.join(s.dir, "prose.log")
    fs.writeFileSync(prose, "not a log\n")
    const out = path.join(s.dir, "bad-analysis")
    const r = flow(["analyze", "compare", prose, "--baseline", baseline, "--bundle", s.bundle, "--out", out])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^error: .*prose\.log: none of its 1 lines reads with the bundle's parser/m)
    expect(fs.existsSync(out)).toBe(false)
  })
})

describe("bundle lifecycle: validate and compare", () => {
  const s = shared

  it("validate: a score out of 100 with its parts; accuracy on the labelled log is the event-level F1; a tampered bundle scores 0 and exits 2", () => {
    const plain = flow(["bundle", "validate", s.bundle, "--json"])
    expect(plain.code, plain.stderr).toBe(0)
    const v = JSON.parse(plain.stdout)
    expect(v.parts.map((p: { part: string }) => p.part)).toEqual(["integrity", "loading", "stability", "accuracy", "memory"])
    expect(v.parts.find((p: { part: string }) => p.part === "accuracy").points).toBeNull()
    expect(v.score).toBeGreaterThan(90)
    const labelled = JSON.parse(flow(["bundle", "validate", s.bundle, "--log", s.log, "--json"]).stdout)
    expect(labelled.accuracy).toMatchObject({ of: "lines", evaluated: 5000 })
    expect(labelled.accuracy.f1).toBeGreaterThan(0.9)
    expect(labelled.parts.find((p: { part: string }) => p.part === "accuracy").points).toBeCloseTo(20 * labelled.accuracy.f1, 2)
    const bad = path.join(s.dir, "tampered")
    fs.cpSync(s.bundle, bad, { recursive: true })
    fs.appendFileSync(path.join(bad, "miner.json"), " ")
    const t = flow(["bundle", "validate", bad])
    expect(t.code).toBe(2)
    expect(t.stdout).toMatch(/quality 0 \/ 100/)
    expect(t.stdout).toMatch(/integrity +0 \/ 30 .*miner\.json does not match the bundle's checksum manifest/)
  })

  it("compare: two bundles on one log side by side, with F1 from the log's labels and their agreement", () => {
    const r = flow(["bundle", "compare", s.bundle, s.ewm, "--log", s.log, "--json"])
    expect(r.code, r.stderr).toBe(0)
    const c = JSON.parse(r.stdout)
    expect(c.bundles.map((b: { detector: string }) => b.detector)).toEqual(["deeplog", "ewm_window"])
    expect(c.bundles[0].accuracy.of).toBe("lines")
    expect(c.bundles[1].accuracy.of).toBe("sequences") // EWM scores the 200-line chunks
    expect(c.bundles.every((b: { summary: { lines: number } }) => b.summary.lines === 5000)).toBe(true)
    expect(c.agreement.sequences).toBe(25)
    const table = flow(["bundle", "compare", s.bundle, s.ewm, "--log", s.log])
    expect(table.stdout).toMatch(/^bundle +sequences +flagged/m)
    expect(table.stdout).toMatch(/same prediction on [\d.]+% of the 25 sequences both scored/)
  })
})

describe("flow train --from: a bundle goes on learning from new normal logs", () => {
  const s = shared

  it("DeepLog: new templates get new ids, old ids and texts stay, the weights move; the new bundle knows the new templates; the same call again is a cache hit", () => {
    const out = path.join(s.dir, "continued")
    const cache = path.join(s.dir, "retrain-cache")
    const r = flow(["train", "--from", s.bundle, s.log, "--out", out, "--epochs", "1", "--cache-dir", cache])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^trained: deeplog of synth\.deeplog continued on 5000 lines \(25 sequences, \d+ new templates/)
    const before = JSON.parse(fs.readFileSync(path.join(s.bundle, "bundle.json"), "utf8"))
    const after = JSON.parse(fs.readFileSync(path.join(out, "bundle.json"), "utf8"))
    const old = new Map(before.vocabulary.map((v: { id: number; text: string }) => [v.id, v.text]))
    const added = after.vocabulary.filter((v: { id: number }) => !old.has(v.id))
    expect(added.length).toBeGreaterThan(0)
    expect(Math.min(...added.map((v: { id: number }) => v.id))).toBeGreaterThan(Math.max(...old.keys() as Iterable<number>))
    for (const v of before.vocabulary) expect(after.vocabulary).toContainEqual(v)
    expect(after.training.continued).toHaveLength(1)
    expect(after.training.continued[0]).toMatchObject({ epochs: 1, sequences: 25, logs: [{ lines: 5000 }] })
    expect(fs.readFileSync(path.join(out, "model.bin")).equals(fs.readFileSync(path.join(s.bundle, "model.bin")))).toBe(false)
    // The normal lines still read as the same templates (ids stable): nothing flagged; the anomalous log's new templates are no longer novel.
    const normal = path.join(s.dir, "train.log")
    expect(JSON.parse(flow(["detect", out, normal, "--out", path.join(s.dir, "c1"), "--json"]).stdout)).toMatchObject({ novel_lines: 0, flagged: 0 })
    expect(JSON.parse(flow(["detect", out, s.log, "--out", path.join(s.dir, "c2"), "--json"]).stdout).novel_lines).toBe(0)
    const again = flow(["train", "--from", s.bundle, s.log, "--out", path.join(s.dir, "continued2"), "--epochs", "1", "--cache-dir", cache])
    expect(again.stdout).toMatch(/^cached: /)
    expect(fs.readFileSync(path.join(s.dir, "continued2", "model.bin")).equals(fs.readFileSync(path.join(out, "model.bin")))).toBe(true)
  })

  it("EWM: the baseline walks on over the new windows; bad input writes nothing", () => {
    const out = path.join(s.dir, "ewm-continued")
    const r = flow(["train", "--from", s.ewm, path.join(s.dir, "train.log"), "--out", out, "--cache-dir", path.join(s.dir, "rc2")])
    expect(r.code, r.stderr).toBe(0)
    expect(flow(["bundle", "validate", out]).code).toBe(0)
    const prose = path.join(s.dir, "prose2.log")
    fs.writeFileSync(prose, "not a log\n")
    const bad = flow(["train", "--from", s.ewm, prose, "--out", path.join(s.dir, "nothing"), "--cache-dir", path.join(s.dir, "rc2")])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/prose2\.log: none of its 1 lines reads with the bundle's parser/)
    expect(fs.existsSync(path.join(s.dir, "nothing"))).toBe(false)
  })
})

