// Bad input through the real CLI: one clear message, a non-zero exit, and nothing half-written.
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { copyConfigs, dataRoot, flow, resultFolders, stageLines, tmpDir } from "./helpers.ts"
import { CAPTURED, instanceRegistry, WHOLE } from "../flows/instanceFixture.ts"

const edit = (dir: string, file: string, f: (s: string) => string) => {
  const p = path.join(dir, file)
  fs.writeFileSync(p, f(fs.readFileSync(p, "utf8")))
}
const cacheEntries = (cache: string): Array<{ stage: string; key: string }> =>
  JSON.parse(flow(["cache", "ls", "--cache-dir", cache, "--json"]).stdout)

describe("flow run with bad input", () => {
  it("a label CSV without the named column, or an entity pattern matching no line, is a config error before any stage runs", () => {
    const dir = copyConfigs()
    edit(dir, "datasets/hdfs.toml", (s) => s.replace('entity_column = "BlockId"', 'entity_column = "Block"'))
    const cache = tmpDir()
    const r = flow(["run", path.join(dir, "registry.toml"), "--group", "baselines", "--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", tmpDir()])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`${dir}/datasets/hdfs.toml: labels.entity_column: the label file hdfs/labels/HDFS_20000.block_labels.csv has no column "Block" (columns: BlockId, Label)`)
    expect(cacheEntries(cache)).toEqual([])
    const dir2 = copyConfigs()
    edit(dir2, "datasets/hdfs.toml", (s) => s.replace("pattern = 'blk_-?\\d+'", "pattern = 'block_-?\\d+'"))
    const r2 = flow(["run", path.join(dir2, "registry.toml"), "--group", "baselines", "--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", tmpDir()])
    expect(r2.code).toBe(2)
    expect(r2.stderr).toContain("datasets/hdfs.toml: grouping.pattern: the entity pattern /block_-?\\d+/ matches no line of hdfs/raw/HDFS_20000.log")
    expect(cacheEntries(cache)).toEqual([])
  })

  it("a config error exits 2 with one line naming file and key, before any stage runs", () => {
    const dir = copyConfigs()
    edit(dir, "datasets/hdfs.toml", (s) => s.replace('[miner]\npreset = "HDFS"', '[miner]\npreset = "HDFS"\nmax_children = 0'))
    const cache = tmpDir()
    const r = flow(["run", path.join(dir, "registry.toml"), "--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", tmpDir()])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split("\n")).toEqual([
      `error: ${dir}/datasets/hdfs.toml: miner.max_children: Expected a value greater than or equal to 1`
    ])
    expect(r.stdout).toBe("")
    expect(cacheEntries(cache)).toEqual([])
  })

  it("an unknown group exits 2 listing the known groups", () => {
    const r = flow(["run", "configs/registry.toml", "--group", "nope", "--data-root", dataRoot(), "--cache-dir", tmpDir()])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('configs/registry.toml: unknown group "nope" (known groups: baselines,')
  })

  it("a sha256 mismatch names the dataset file and key, the file and both digests, and runs nothing", () => {
    const dir = copyConfigs()
    const wrong = "0".repeat(64)
    edit(dir, "datasets/bgl.toml", (s) => s.replace(/sha256 = "[0-9a-f]{64}"/, `sha256 = "${wrong}"`))
    const cache = tmpDir()
    const r = flow(["run", path.join(dir, "registry.toml"), "--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", tmpDir()])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(
      `error: ${path.join(dir, "datasets/bgl.toml")}: source: sha256 mismatch for loghub-2k/BGL/BGL_2k.log: config expects ${wrong}, file has 2a819ea540909db682005c9cf948387a40729b5c2e9f19d430e29ce704825496`
    )
    expect(cacheEntries(cache)).toEqual([])
  })

  it("a missing data root says where it looked, and which dataset file and key named the source", () => {
    const r = flow(["run", "configs/registry.toml", "--data-root", "/nonexistent", "--cache-dir", tmpDir()])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("error: configs/datasets/hdfs.toml: source: cannot read source /nonexistent/hdfs/raw/HDFS_20000.log")
    expect(r.stderr).toContain("--data-root")
  })

  it("a failing stage stores nothing, skips its dependants, lets other branches finish and exits 1", () => {
    const dir = copyConfigs()
    // The HDFS label file says "Anomaly", which the config does not list: the label stage fails at run time.
    edit(dir, "datasets/hdfs.toml", (s) => s.replace('anomaly_values = ["Anomaly"]', 'anomaly_values = ["Anomalous"]'))
    // Two retries, no pause: the failure is permanent, so the stage runs three times and then fails.
    edit(dir, "registry.toml", (s) => `${s}\n[stages.label]\nretries = 2\nretry_delay_s = 0\n`)
    const cache = tmpDir()
    const results = tmpDir()
    const r = flow(["run", path.join(dir, "registry.toml"), "--group", "baselines", "--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", results])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/FAILED\s+label hdfs \[[0-9a-f]{12}\]: .*unknown value "Anomaly"/)
    expect(stageLines(r.stdout, "done")).not.toContain("label hdfs")
    const skipped = r.stdout.split("\n").filter((l) => l.startsWith("skipped "))
    // Downstream of the HDFS label: 2 splits, 2 fits, 2 scores, 2 evaluates.
    expect(skipped.length).toBe(8)
    expect(skipped.every((l) => / hdfs/.test(l))).toBe(true)
    expect(r.stdout).toContain("RUN FAILED hdfs-nb.naive_bayes")
    expect(r.stdout).toContain("RUN FAILED hdfs-freq.template_frequency")
    // The table at the end still lists every run: the failed ones without metrics.
    const table = r.stdout.slice(r.stdout.search(/^RUN\s+DATASET\s/m)).trim().split("\n").map((l) => l.trim().split(/\s{2,}/))
    expect(table[0]).toEqual(["RUN", "DATASET", "MODEL", "P", "R", "F1", "AUROC", "STATUS", "CACHE"])
    expect(table.slice(1).map((c) => [c[0], c[5] === "-", c[7]])).toEqual([
      ["hdfs-freq.template_frequency", true, "failed"],
      ["hdfs-nb.naive_bayes", true, "failed"],
      ["bgl-freq.template_frequency", false, "ok"],
      ["bgl-nb.naive_bayes", false, "ok"]
    ])
    // Nothing of the failed branch is in the cache; the BGL branch and HDFS preprocessing are.
    const stages = cacheEntries(cache).map((e) => e.stage).sort()
    expect(stages.filter((s) => s === "label")).toEqual(["label"])
    expect(stages.filter((s) => s === "fit")).toEqual(["fit", "fit"])
    expect(stages.filter((s) => s === "parse")).toEqual(["parse", "parse"])
    // The BGL runs have results; the HDFS runs have a failure record and no metrics; no temporary folder is left.
    const folders = resultFolders(results)
    expect([...folders.keys()].sort()).toEqual(["bgl-freq.template_frequency", "bgl-nb.naive_bayes", "hdfs-freq.template_frequency", "hdfs-nb.naive_bayes"])
    for (const run of ["hdfs-freq.template_frequency", "hdfs-nb.naive_bayes"]) {
      const dir = folders.get(run)!
      expect(fs.readdirSync(dir).sort()).toEqual(["environment.json", "manifest.json", "run.log", "run_config.json", "status.json"])
      const status = JSON.parse(fs.readFileSync(path.join(dir, "status.json"), "utf8"))
      expect(status.status).toBe("failed")
      expect(status.stage).toBe("label")
      expect(status.error).toContain('unknown value "Anomaly"')
      const log = fs.readFileSync(path.join(dir, "run.log"), "utf8")
      expect(log).toMatch(/label [0-9a-f]{12} failed: .*unknown value "Anomaly"/)
      expect(log.match(/label [0-9a-f]{12} attempt \d failed: .*retrying in 0 ms/g)?.length).toBe(2)
    }
    for (const run of ["bgl-freq.template_frequency", "bgl-nb.naive_bayes"]) {
      expect(fs.existsSync(path.join(folders.get(run)!, "metrics.json"))).toBe(true)
    }
    for (const run of fs.readdirSync(results)) {
      expect(fs.readdirSync(path.join(results, run)).filter((f) => f.includes(".tmp-"))).toEqual([])
    }
    // status names the failures and the command that reruns them.
    const st = flow(["status", path.join(dir, "registry.toml"), "--group", "baselines", "--data-root", dataRoot(), "--results-dir", results])
    expect(st.code).toBe(0)
    expect(st.stdout).toMatch(/^failed\s+hdfs-nb\.naive_bayes\s+[0-9a-f]{16}\s+stage label failed: /m)
    expect(st.stdout).toContain("4 runs: 2 complete, 0 missing, 2 failed")
    expect(st.stdout).toContain(`rerun: flow run ${path.join(dir, "registry.toml")} --run hdfs-freq.template_frequency --run hdfs-nb.naive_bayes --results-dir ${results} --data-root ${dataRoot()}`)
  })
})

describe("flow run where no sequence receives a label", () => {
  // Real OpenStack_2k lines grouped by VM instance, a SYNTHETIC label file keyed by the bare UUID.
  it("exits 2 naming the grouping and label keys when the pattern's whole match is the entity; with the UUID as its capture group the labels attach", () => {
    const whole = instanceRegistry(WHOLE)
    const cache = tmpDir()
    const results = tmpDir()
    const args = ["--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", results]
    const r = flow(["run", whole.registry, ...args])
    expect(r.code).toBe(2)
    const errors = r.stderr.trim().split("\n")
    expect(errors).toHaveLength(1)
    expect(errors[0]!.startsWith(`error: ${whole.dataset}: grouping.pattern, labels.source, labels.entity_column: no sequence received a label: none of the 22 entity ids`)).toBe(true)
    expect(errors[0]).toContain(`the grouping found ids like "[instance: b9000564-fe1a-409b-b8cc-1e88b294cd1d]"; the label file lists ids like "b9000564-fe1a-409b-b8cc-1e88b294cd1d"`)
    expect(errors[0]).toContain("a capturing group around the id in the grouping's pattern makes its first group the entity")
    expect(errors[0]!.endsWith(`(grouping.pattern = '${WHOLE}', labels.entity_column = 'InstanceId')`)).toBe(true)
    expect(r.stdout).toMatch(/FAILED\s+label openstack \[[0-9a-f]{12}\]: grouping, labels\.source, labels\.entity_column: no sequence received a label/)
    // Before any fit: nothing past the group stage ran or is cached, the label stage was not retried,
    // and the run has its failure record (complete, with its manifest), no metrics and no temporary folder.
    expect(stageLines(r.stdout, "done").filter((l) => /^(label|split|fit|score|evaluate) /.test(l))).toEqual([])
    expect(cacheEntries(cache).map((e) => e.stage).sort()).toEqual(["group", "mine", "parse", "source", "source"])
    const folder = resultFolders(results).get("os-freq.template_frequency")!
    expect(fs.readdirSync(folder).sort()).toEqual(["environment.json", "manifest.json", "run.log", "run_config.json", "status.json"])
    expect(JSON.parse(fs.readFileSync(path.join(folder, "status.json"), "utf8"))).toMatchObject({ status: "failed", stage: "label" })
    expect(fs.readFileSync(path.join(folder, "run.log"), "utf8")).not.toMatch(/attempt \d failed/)
    expect(fs.readdirSync(path.dirname(folder)).filter((f) => f.includes(".tmp-"))).toEqual([])
    // A rerun fails the same way (nothing of the failure was cached).
    expect(flow(["run", whole.registry, ...args]).code).toBe(2)

    const captured = instanceRegistry(CAPTURED)
    const okResults = tmpDir()
    const ok = flow(["run", captured.registry, "--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", okResults])
    expect(ok.stderr).toBe("")
    expect(ok.code).toBe(0)
    // Parse and mine are shared with the failed flow; the grouping by capture group is new.
    expect(stageLines(ok.stdout, "cached")).toEqual(expect.arrayContaining(["parse openstack", "mine openstack"]))
    const metrics = JSON.parse(fs.readFileSync(path.join(resultFolders(okResults).get("os-freq.template_frequency")!, "metrics.json"), "utf8"))
    expect(metrics.headline.status).toBe("valid")
    expect(metrics.headline.evaluated).toBe(11)
  })
})

describe("flow invoked wrongly", () => {
  it("a missing argument, an unknown flag or an unknown command prints what is wrong and one usage line, exit 2", () => {
    const missing = flow(["run"])
    expect(missing.code).toBe(2)
    expect(missing.stdout).toBe("")
    expect(missing.stderr.trim().split("\n")).toEqual([
      "error: missing required argument: registry",
      "usage: flow run [flags] <registry>  (flow run --help for more)"
    ])
    const flag = flow(["plan", "configs/registry.toml", "--bogus"])
    expect(flag.code).toBe(2)
    expect(flag.stderr).toMatch(/^error: unrecognized flag: --bogus/)
    expect(flag.stderr.trim().split("\n")).toHaveLength(2)
    const command = flow(["bogus"])
    expect(command.code).toBe(2)
    expect(command.stderr.trim().split("\n")).toEqual(['error: unknown subcommand "bogus" for "flow"', "usage: flow <subcommand> [flags]  (flow --help for more)"])
    // Help asked for is the full help, exit 0.
    const help = flow(["run", "--help"])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain("--force-stage")
  })
})

describe("flow list and flow plan without the data", () => {
  it("work without a data root, naming each source they could not resolve and marking what depends on it", () => {
    const dirs = ["--data-root", "/nonexistent", "--cache-dir", tmpDir(), "--results-dir", tmpDir()]
    const list = flow(["list", "configs/registry.toml", "--group", "baselines", ...dirs])
    expect(list.code).toBe(0)
    expect(list.stdout).toContain("hdfs-nb.naive_bayes  (fingerprint unknown: a source is unresolved)")
    expect(list.stdout).toMatch(/unresolved source hdfs\/raw\/HDFS_20000\.log: cannot read source \/nonexistent\/hdfs\/raw\/HDFS_20000\.log/)
    expect(list.stdout).toContain("4 runs")
    const json = JSON.parse(flow(["list", "configs/registry.toml", "--group", "baselines", "--json", ...dirs]).stdout)
    expect(json.runs.map((r: { fingerprint: unknown }) => r.fingerprint)).toEqual([null, null, null, null])
    expect(Object.keys(json.unresolved_sources).sort()).toEqual(["hdfs/labels/HDFS_20000.block_labels.csv", "hdfs/raw/HDFS_20000.log", "loghub-2k/BGL/BGL_2k.log"])
    const plan = flow(["plan", "configs/registry.toml", "--group", "baselines", "--json", ...dirs])
    expect(plan.code).toBe(0)
    expect(plan.stderr).toContain("unresolved source loghub-2k/BGL/BGL_2k.log")
    const totals = JSON.parse(plan.stdout).totals
    expect(totals).toEqual({ runs: 4, nodes: 27, cached: 0, to_run: 0, uncached: 0, unresolved: 27 })
    // With one dataset's data present, only the other's nodes are unresolved.
    const partial = fs.mkdtempSync(path.join(tmpDir(), "root-"))
    fs.mkdirSync(path.join(partial, "loghub-2k", "BGL"), { recursive: true })
    fs.copyFileSync(path.join(dataRoot(), "loghub-2k", "BGL", "BGL_2k.log"), path.join(partial, "loghub-2k", "BGL", "BGL_2k.log"))
    const half = JSON.parse(flow(["plan", "configs/registry.toml", "--group", "baselines", "--json", "--data-root", partial, "--cache-dir", tmpDir()]).stdout).totals
    expect(half.unresolved).toBeGreaterThan(0)
    expect(half.to_run).toBe(27 - half.unresolved)
    // flow run still refuses: it needs the data.
    expect(flow(["run", "configs/registry.toml", "--group", "baselines", ...dirs]).code).toBe(2)
  })
})
