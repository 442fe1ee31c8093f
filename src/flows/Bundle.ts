/**
 * Model bundles (`flow bundle RUN_DIR --out DIR`): everything a finished run learned, in one folder
 * that works after the cache is gone. `bundle.json` holds the format and version, the run and its
 * fingerprint, the parser settings (the dataset's `parser` table), the grouping rule, the detector
 * (tag, version, decoded config), the threshold the run used with its basis, the vocabulary (each
 * template id with its text, so ids cannot drift between training and inference), the training
 * sources' digests and logflow's version; `miner.json` the miner's state (templates, masks,
 * settings); `model.bin` the detector's model (the cache's binary codec: typed arrays stay typed);
 * `manifest.json`, written last, every file's sha256 and size. Written to a temporary folder and
 * renamed into place: a bundle is whole or absent. `loadBundle` checks all of it before use.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect, Predicate } from "effect"
import { sha256 } from "../cache/CacheKey.ts"
import { decodeValue, encodeValue } from "../cache/Codec.ts"
import { getDetector } from "../detectors/registry.ts"
import { type AlertPolicy, defaultPolicy } from "../eval/Alerting.ts"
import { checkState, type MinerState } from "../mining/MinerState.ts"
import { writeFolderWhole } from "../runtime/Folders.ts"
import { ownPackage } from "../runtime/ProjectRoot.ts"
import { cachedFit, cachedStageOutput, chosenThreshold, field, readFinishedRun } from "./RunFolder.ts"

export const BUNDLE_FORMAT = "logflow-bundle/1"
const FILES = ["bundle.json", "miner.json", "model.bin"] as const

/** `bundle.json`. */
export interface BundleSpec {
  readonly format: typeof BUNDLE_FORMAT
  readonly logflow_version: string
  readonly run: string
  readonly fingerprint: string
  /** The dataset's `parser` table (ParseStage params). */
  readonly parser: unknown
  /** The dataset's `grouping` table (GroupStage params). */
  readonly grouping: unknown
  readonly detector: { readonly tag: string; readonly version: string; readonly config: unknown }
  /** The threshold the run used: its threshold rule's choice, or null for the detector's own (in the model). */
  readonly threshold: { readonly value: number; readonly basis: string } | null
  readonly vocabulary: ReadonlyArray<{ readonly id: number; readonly text: string }>
  readonly training: {
    readonly run_dir: string
    readonly sources: unknown
    /** Each `flow train --from` this bundle went through: the bundle it came from, the logs, the epochs. */
    readonly continued?: ReadonlyArray<unknown>
  }
  /** The alerting policy `flow detect` applies (flags override it); absent in bundles written before it existed: `bundlePolicy` gives the default. */
  readonly alerting?: AlertPolicy
}

/**
 * The alerting policy of a bundle: its own, else the default for its detector. A predictive
 * detector (one with `predictEvents`: DeepLog) is judged per event, top-k with the model's own k
 * (`top_g`), 7 failures of the last 10 raising an alert; any other per scored sequence, each
 * flagged one an alert (1 of 1). Sessions, cooldown and novelty as `defaultPolicy`.
 */
export const bundlePolicy = (spec: Pick<BundleSpec, "alerting" | "detector">): AlertPolicy => {
  if (spec.alerting !== undefined) return spec.alerting
  const predictive = getDetector(spec.detector.tag).predictEvents !== undefined
  const topG = field(spec.detector.config, "top_g")
  return predictive ? defaultPolicy(typeof topG === "number" ? topG : 9) : defaultPolicy(1, { k: 1, n: 1 })
}

/** A loaded bundle. */
export interface Bundle {
  readonly dir: string
  readonly spec: BundleSpec
  readonly state: MinerState
  readonly model: unknown
}

/** Write the bundle of the finished run at `runDir` into `out` (replacing a bundle there); returns what it holds. */
export const createBundle = (runDir: string, out: string) =>
  Effect.gen(function*() {
    const run = yield* readFinishedRun(runDir)
    const { runConfig } = run
    const fit = yield* cachedFit(run)
    if (field(run.manifest, "cache_keys", "mine") === undefined) {
      return yield* Effect.fail(new Error(`${runDir} has no miner to bundle (a run on a pre-sequenced dataset)`))
    }
    const mined = yield* cachedStageOutput(run, "mine")
    const state = field(mined, "state")
    if (state === undefined) return yield* Effect.fail(new Error(`the mine output of ${runDir} holds no miner state`))
    const templates = field(mined, "templates")
    const spec: BundleSpec = {
      format: BUNDLE_FORMAT,
      logflow_version: ownPackage().version,
      run: String(field(runConfig, "run")),
      fingerprint: run.fingerprint,
      parser: field(runConfig, "dataset", "parser"),
      grouping: field(runConfig, "dataset", "grouping"),
      detector: { tag: String(field(runConfig, "model", "detector")), version: String(field(runConfig, "model", "detector_version")), config: field(runConfig, "model", "config") },
      threshold: chosenThreshold(fit) ?? null,
      vocabulary: Array.isArray(templates) ? templates.map((t) => ({ id: Number(field(t, "id")), text: String(field(t, "exact") ?? field(t, "text")) })) : [],
      training: { run_dir: path.resolve(runDir), sources: field(runConfig, "sources") }
    }
    const withPolicy: BundleSpec = { ...spec, alerting: bundlePolicy(spec) }
    yield* Effect.try({
      try: () => writeBundle(out, withPolicy, state, field(fit, "model")),
      catch: (e) => new Error(`cannot write ${out}: ${e instanceof Error ? e.message : String(e)}`)
    })
    return { dir: out, spec: withPolicy }
  })

/** Write a bundle's files and, last, its checksum manifest into `out`, whole (replacing a bundle there). */
export const writeBundle = (out: string, spec: BundleSpec, state: unknown, model: unknown): string => {
  const contents: Record<(typeof FILES)[number], Uint8Array | string> = {
    "bundle.json": `${JSON.stringify(spec, null, 2)}\n`,
    "miner.json": `${JSON.stringify(state)}\n`,
    "model.bin": encodeValue(model)
  }
  const files = Object.fromEntries(FILES.map((name) => [name, { sha256: sha256(contents[name]), bytes: Buffer.byteLength(contents[name]) }]))
  return writeFolderWhole(out, { ...contents, "manifest.json": `${JSON.stringify({ format: BUNDLE_FORMAT, files }, null, 2)}\n` })
}

/** Read and check the bundle at `dir`: its manifest, every file's digest, its format; a message naming what is wrong otherwise. */
export const loadBundle = (dir: string): Bundle | { readonly error: string } => {
  const manifestFile = path.join(dir, "manifest.json")
  let manifest: unknown
  try {
    manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8"))
  } catch (e) {
    return { error: `${dir} is not a bundle: ${manifestFile} ${fs.existsSync(manifestFile) ? "is not valid JSON" : "is missing"}${e instanceof Error && fs.existsSync(manifestFile) ? ` (${e.message})` : ""}` }
  }
  const format = field(manifest, "format")
  if (format !== BUNDLE_FORMAT) return { error: `${dir}: bundle format ${JSON.stringify(format)}, this logflow reads ${BUNDLE_FORMAT} (make the bundle again with this version's \`flow bundle\`)` }
  const data = new Map<string, Buffer>()
  for (const name of FILES) {
    const entry = field(manifest, "files", name)
    const file = path.join(dir, name)
    if (!fs.existsSync(file)) return { error: `${dir}: ${name} is missing` }
    const bytes = fs.readFileSync(file)
    if (!Predicate.isObject(entry) || entry.sha256 !== sha256(bytes) || entry.bytes !== bytes.length) return { error: `${dir}: ${name} does not match the bundle's checksum manifest` }
    data.set(name, bytes)
  }
  try {
    const spec = JSON.parse(data.get("bundle.json")!.toString("utf8")) as BundleSpec
    if (spec.format !== BUNDLE_FORMAT) return { error: `${dir}/bundle.json: format ${JSON.stringify(spec.format)}, expected ${BUNDLE_FORMAT}` }
    const state = checkState(JSON.parse(data.get("miner.json")!.toString("utf8")))
    const model = decodeValue(new Uint8Array(data.get("model.bin")!))
    return { dir, spec, state, model }
  } catch (e) {
    return { error: `${dir}: cannot load the bundle: ${e instanceof Error ? e.message : String(e)}` }
  }
}
