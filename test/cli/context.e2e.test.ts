// Stream chunks with continuous_context through the real CLI: a detector that does not read context
// scores every chunk exactly as without context; one that does (Markov) runs; and a raw split that
// would cut chunks in two is refused before any stage runs.
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { copyConfigs, dataRoot, flow, resultFolders, tmpDir } from "./helpers.ts"

/** The configs plus BGL grouped into stream chunks of 20 lines with `context` lines of context each, and an experiment on it. */
const streamConfigs = (context: number, split?: string): string => {
  const dir = copyConfigs()
  // A dataset of its own (a copy of bgl.toml), so the registry's other experiments keep theirs.
  let text = fs.readFileSync(path.join(dir, "datasets", "bgl.toml"), "utf8").replace(
    /\[grouping\][^[]*/,
    `[grouping]\ntype = "stream_chunks"\nchunk_size = 20\ncontinuous_context = ${context}\n\n`
  )
  if (split !== undefined) text = text.replace(/\[split\][^[]*/, `[split]\n${split}\n`)
  fs.writeFileSync(path.join(dir, "datasets", "bgl-stream.toml"), text)
  fs.appendFileSync(path.join(dir, "registry.toml"), '\n[experiments.bgl-stream]\ndataset = "bgl-stream"\nmodels = ["template_frequency", "markov"]\n')
  return dir
}
const run = (dir: string, results: string) =>
  flow(["run", path.join(dir, "registry.toml"), "--experiment", "bgl-stream", "--data-root", dataRoot(), "--cache-dir", tmpDir(), "--results-dir", results])
const predictions = (results: string, runName: string) =>
  fs.readFileSync(path.join(resultFolders(results).get(runName)!, "predictions.jsonl"), "utf8")

describe("stream chunks with continuous_context", () => {
  it("a detector that does not read context scores each chunk as without it; Markov reads it", () => {
    const [withContext, without] = [tmpDir(), tmpDir()]
    const a = run(streamConfigs(5), withContext)
    expect(a.code, a.stderr).toBe(0)
    const b = run(streamConfigs(0), without)
    expect(b.code, b.stderr).toBe(0)
    const freq = "bgl-stream.template_frequency"
    expect(predictions(withContext, freq).split("\n").length).toBeGreaterThan(5)
    expect(predictions(withContext, freq)).toBe(predictions(without, freq))
    expect(resultFolders(withContext).has("bgl-stream.markov")).toBe(true)
  })

  it("refuses a raw split that would cut a chunk in two, naming the key, before any stage runs", () => {
    const cache = tmpDir()
    const dir = streamConfigs(5, 'type = "raw"\nraw_first_fraction = 0.5\nstraddle_policy = "split_partial"')
    const r = flow(["run", path.join(dir, "registry.toml"), "--experiment", "bgl-stream", "--data-root", dataRoot(), "--cache-dir", cache, "--results-dir", tmpDir()])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/datasets\/bgl-stream\.toml: split\.straddle_policy: split_partial cuts the chunk that straddles/)
    expect(fs.existsSync(path.join(cache, "data.mdb"))).toBe(false)
  })
})
