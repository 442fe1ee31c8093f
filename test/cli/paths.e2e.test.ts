// Hostile names and paths through the real CLI: an experiment name or an axis value that would
// place results outside --results-dir, and a source path outside the data root. Each is refused
// (or, for an axis value, encoded into a plain folder name), and nothing is written outside the
// results folder.
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { copyConfigs, dataRoot, flow, resultFolders, tmpDir } from "./helpers.ts"

/** Every file and folder under `dir`, as paths relative to it. */
const tree = (dir: string): Array<string> =>
  fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).map((p) => p.split(path.sep).join("/")).sort()

/**
 * A registry holding only `body` (beside the shipped datasets and models), run with its results
 * folder four levels deep in an otherwise empty folder: whatever lands beside that chain was
 * written outside --results-dir.
 */
const runOnly = (body: string) => {
  const dir = copyConfigs()
  fs.writeFileSync(path.join(dir, "registry.toml"), body)
  const outer = tmpDir("logflow-outer-")
  const results = path.join(outer, "a", "b", "c", "results")
  fs.mkdirSync(results, { recursive: true })
  const r = flow(["run", path.join(dir, "registry.toml"), "--data-root", dataRoot(), "--cache-dir", tmpDir(), "--results-dir", results])
  const chain = ["a", "a/b", "a/b/c", "a/b/c/results"]
  const outside = tree(outer).filter((p) => !chain.includes(p) && !p.startsWith("a/b/c/results/"))
  return { r, dir, results, outside }
}

describe("names and paths that would leave their roots", () => {
  it("an experiment named ../../../escape-exp is a config error (exit 2) and writes nothing", () => {
    const { r, results, outside } = runOnly(`[experiments."../../../escape-exp"]\ndataset = "bgl"\nmodels = ["naive_bayes"]\n`)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('registry.toml: experiments.../../../escape-exp: "../../../escape-exp" is not a valid name')
    expect(r.stdout).toBe("")
    expect(outside).toEqual([])
    expect(tree(results)).toEqual([])
  })

  it("an axis value naming a path outside the data root is refused (exit 2) naming source.path and the axis", () => {
    const { r, outside } = runOnly(
      `[experiments.e]\ndataset = "bgl"\nmodels = ["naive_bayes"]\naxes = [{ path = "dataset.source.path", values = ["/../../../../axis-escape"] }]\n`
    )
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('datasets/bgl.toml: source.path: "/../../../../axis-escape" is an absolute path')
    expect(r.stderr).toContain("experiments.e.axes[0].values")
    expect(outside).toEqual([])
  })

  it("an axis value with / and .. is encoded into the run name: its results stay in the results folder", () => {
    const { r, results, outside } = runOnly(
      `[experiments.e]\ndataset = "bgl"\nmodels = ["naive_bayes"]\naxes = [{ path = "dataset.description", values = ["/../../../../axis-escape"] }]\n`
    )
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(outside).toEqual([])
    expect([...resultFolders(results).keys()]).toEqual(["e.naive_bayes[description=%2F%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%2Faxis-escape]"])
  })

  it('source.path = "/etc/passwd" is a config error (exit 2) naming source.path', () => {
    const dir = copyConfigs()
    const bgl = path.join(dir, "datasets", "bgl.toml")
    fs.writeFileSync(bgl, fs.readFileSync(bgl, "utf8").replace(/\[source\]\npath = .*\nsha256 = .*\n/, `[source]\npath = "/etc/passwd"\n`))
    const results = tmpDir()
    const r = flow(["run", path.join(dir, "registry.toml"), "--group", "baselines", "--data-root", dataRoot(), "--cache-dir", tmpDir(), "--results-dir", results])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`${dir}/datasets/bgl.toml: source.path: "/etc/passwd" is an absolute path`)
    expect(r.stderr).toContain("outside_data_root = true")
    expect(tree(results)).toEqual([])
  })
})
