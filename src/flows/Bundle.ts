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
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect, Option, Predicate } from "effect"
import { ArtifactStore } from "../cache/ArtifactStore.ts"
import { decodeValue, encodeValue } from "../cache/Codec.ts"
import { checkState, type MinerState } from "../mining/MinerState.ts"
import { projectRoot } from "../runtime/ProjectRoot.ts"
import { checkFolder } from "./Results.ts"

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
  readonly training: { readonly run_dir: string; readonly sources: unknown }
}

/** A loaded bundle. */
export interface Bundle {
  readonly dir: string
  readonly spec: BundleSpec
  readonly state: MinerState
  readonly model: unknown
}

const logflowVersion = (): string => {
  try {
    return String((JSON.parse(fs.readFileSync(path.join(projectRoot(), "package.json"), "utf8")) as { version?: unknown }).version ?? "unknown")
  } catch {
    return "unknown"
  }
}

const field = (v: unknown, ...keys: ReadonlyArray<string>): unknown => {
  let cur = v
  for (const k of keys) cur = Predicate.isObject(cur) && k in cur ? (cur as Record<string, unknown>)[k] : undefined
  return cur
}

const sha256 = (data: Uint8Array | string): string => createHash("sha256").update(data).digest("hex")

/** Write the bundle of the finished run at `runDir` into `out` (replacing a bundle there); returns what it holds. */
export const createBundle = (runDir: string, out: string) =>
  Effect.gen(function*() {
    const store = yield* ArtifactStore
    const fail = (message: string) => Effect.fail(new Error(message))
    const check = checkFolder(runDir)
    if (!check.ok) return yield* fail(`${runDir} is not a finished run folder (${check.reason})`)
    if (check.manifest.kind !== "results") return yield* fail(`${runDir} records a failed run, not a fitted model`)
    const read = (name: string) => JSON.parse(fs.readFileSync(path.join(runDir, name), "utf8")) as unknown
    const runConfig = read("run_config.json")
    const manifest = read("dataset_manifest.json")
    const cached = (stage: string) =>
      Effect.gen(function*() {
        const key = field(manifest, "cache_keys", stage)
        if (typeof key !== "string") return yield* fail(`${runDir}/dataset_manifest.json: cache_keys.${stage} is missing (a run on a pre-sequenced dataset has no miner to bundle)`)
        const entry = yield* store.get(key)
        if (Option.isNone(entry)) {
          return yield* fail(`the ${stage} output of ${runDir} (cache key ${key.slice(0, 12)}) is not in the cache; rerun \`flow run\` for this run with the same --cache-dir, then bundle it`)
        }
        return decodeValue(entry.value.value)
      })
    const fit = yield* cached("fit")
    if (field(fit, "status") !== "ok") return yield* fail(`the fit of ${runDir} is invalid: ${String(field(fit, "reason"))}`)
    const mined = yield* cached("mine")
    const state = field(mined, "state")
    if (state === undefined) return yield* fail(`the mine output of ${runDir} holds no miner state`)
    const templates = field(mined, "templates")
    const chosen = field(fit, "threshold")
    const spec: BundleSpec = {
      format: BUNDLE_FORMAT,
      logflow_version: logflowVersion(),
      run: String(field(runConfig, "run")),
      fingerprint: check.manifest.fingerprint,
      parser: field(runConfig, "dataset", "parser"),
      grouping: field(runConfig, "dataset", "grouping"),
      detector: { tag: String(field(runConfig, "model", "detector")), version: String(field(runConfig, "model", "detector_version")), config: field(runConfig, "model", "config") },
      threshold: Predicate.isObject(chosen) && typeof chosen.value === "number" ? { value: chosen.value, basis: String(chosen.basis ?? "calibrated") } : null,
      vocabulary: Array.isArray(templates) ? templates.map((t) => ({ id: Number(field(t, "id")), text: String(field(t, "exact") ?? field(t, "text")) })) : [],
      training: { run_dir: path.resolve(runDir), sources: field(runConfig, "sources") }
    }
    const contents: Record<(typeof FILES)[number], Uint8Array | string> = {
      "bundle.json": `${JSON.stringify(spec, null, 2)}\n`,
      "miner.json": `${JSON.stringify(state)}\n`,
      "model.bin": encodeValue(field(fit, "model"))
    }
    yield* Effect.try({
      try: () => {
        fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true })
        const tmp = `${out}.tmp-${process.pid}-${Date.now()}`
        fs.mkdirSync(tmp)
        try {
          for (const name of FILES) fs.writeFileSync(path.join(tmp, name), contents[name])
          const files = Object.fromEntries(FILES.map((name) => [name, { sha256: sha256(contents[name]), bytes: Buffer.byteLength(contents[name]) }]))
          fs.writeFileSync(path.join(tmp, "manifest.json"), `${JSON.stringify({ format: BUNDLE_FORMAT, files }, null, 2)}\n`)
          fs.rmSync(out, { recursive: true, force: true })
          fs.renameSync(tmp, out)
        } finally {
          fs.rmSync(tmp, { recursive: true, force: true })
        }
      },
      catch: (e) => new Error(`cannot write ${out}: ${e instanceof Error ? e.message : String(e)}`)
    })
    return { dir: out, spec }
  })

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
