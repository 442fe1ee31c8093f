/**
 * A finished run's result folder as `flow export-onnx` and `flow bundle` read it: only a folder whose
 * files match its manifest is trusted (an edited or half-copied one is not), its config and dataset
 * manifest, the outputs of its stages found in the cache through the manifest's `cache_keys`, and
 * the threshold the run used. Every failure is one message naming the folder.
 */
import { Effect, Option, Predicate } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { ArtifactStore } from "../cache/ArtifactStore.ts"
import { decodeValue } from "../cache/Codec.ts"
import { checkFolder } from "./Results.ts"

/** The value at `keys` inside `v`, or undefined. */
export const field = (v: unknown, ...keys: ReadonlyArray<string>): unknown => {
  let cur = v
  for (const k of keys) cur = Predicate.isObject(cur) && k in cur ? (cur as Record<string, unknown>)[k] : undefined
  return cur
}

const fail = (message: string) => Effect.fail(new Error(message))

/** A finished run's folder: its resolved config, dataset manifest and fingerprint. */
export interface FinishedRun {
  readonly dir: string
  readonly fingerprint: string
  readonly runConfig: unknown
  readonly manifest: unknown
}

/** Read the finished (complete, not failed) run at `runDir`. */
export const readFinishedRun = (runDir: string) =>
  Effect.gen(function*() {
    const manifestFile = path.join(runDir, "dataset_manifest.json")
    if (!fs.existsSync(manifestFile)) return yield* fail(`${runDir} is not a finished run folder (no dataset_manifest.json)`)
    const check = checkFolder(runDir)
    if (!check.ok) return yield* fail(`${runDir} is incomplete (${check.reason}); \`flow run\` rewrites it`)
    if (check.manifest.kind !== "results") return yield* fail(`${runDir} records a failed run, not a fitted model`)
    const read = (name: string) =>
      Effect.try({
        try: () => JSON.parse(fs.readFileSync(path.join(runDir, name), "utf8")) as unknown,
        catch: (e) => new Error(`cannot read ${path.join(runDir, name)}: ${e instanceof Error ? e.message : String(e)}`)
      })
    const run: FinishedRun = { dir: runDir, fingerprint: check.manifest.fingerprint, runConfig: yield* read("run_config.json"), manifest: yield* read("dataset_manifest.json") }
    return run
  })

/** The cached output of the run's `stage` (decoded), found through its dataset manifest's cache keys. */
export const cachedStageOutput = (run: FinishedRun, stage: string) =>
  Effect.gen(function*() {
    const store = yield* ArtifactStore
    const key = field(run.manifest, "cache_keys", stage)
    if (typeof key !== "string") return yield* fail(`${path.join(run.dir, "dataset_manifest.json")}: cache_keys.${stage} is missing`)
    const entry = yield* store.get(key)
    if (Option.isNone(entry)) {
      return yield* fail(`the ${stage} output of ${run.dir} (cache key ${key.slice(0, 12)}) is not in the cache; rerun \`flow run\` for this run with the same --cache-dir to rebuild it`)
    }
    return decodeValue(entry.value.value)
  })

/** The run's fit output, failing when the fit was invalid. */
export const cachedFit = (run: FinishedRun) =>
  Effect.gen(function*() {
    const fit = yield* cachedStageOutput(run, "fit")
    if (field(fit, "status") !== "ok") return yield* fail(`the fit of ${run.dir} is invalid: ${String(field(fit, "reason"))}`)
    return fit
  })

/** The threshold a fit's threshold rule chose (value and basis), or undefined when the run used the detector's own. */
export const chosenThreshold = (fit: unknown): { readonly value: number; readonly basis: string } | undefined => {
  const chosen = field(fit, "threshold")
  return Predicate.isObject(chosen) && typeof chosen.value === "number" ? { value: chosen.value, basis: typeof chosen.basis === "string" ? chosen.basis : "calibrated" } : undefined
}
