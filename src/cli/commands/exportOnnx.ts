/**
 * `flow export-onnx RUN_DIR --out model.onnx`: the ONNX graph of a run's fitted DeepLog model,
 * read from the cache through the run's manifest, written atomically with a JSON sidecar
 * (`<out>.json`: vocabulary, history size, top-g, the threshold the run used (its threshold
 * rule's choice when the model config has one, with its basis; the detector's own beside it),
 * input and output names, and the template text of each key when the dataset was mined from a raw
 * log).
 */
import { Console, Effect, Option, Predicate } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as fs from "node:fs"
import * as path from "node:path"
import { checkFolder } from "../../flows/Results.ts"
import { ArtifactStore } from "../../cache/ArtifactStore.ts"
import { decodeValue } from "../../cache/Codec.ts"
import type { DeepLogModel } from "../../detectors/deeplog/DeepLog.ts"
import { onnxNames } from "../../detectors/deeplog/Onnx.ts"
import { formatSize } from "../view/CacheTable.ts"
import { cacheDir, handleErrors, withCache } from "./shared.ts"
import { makeFolders } from "../../runtime/Folders.ts"

export interface ExportedOnnx {
  readonly model: string
  readonly sidecar: string
  readonly bytes: number
  readonly keys: number
}

const readJson = (file: string): unknown => {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"))
  } catch (e) {
    throw new Error(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`)
  }
}

const field = (v: unknown, ...keys: ReadonlyArray<string>): unknown => {
  let cur = v
  for (const k of keys) cur = Predicate.isObject(cur) && k in cur ? (cur as Record<string, unknown>)[k] : undefined
  return cur
}

const isDeepLogModel = (m: unknown): m is DeepLogModel =>
  Predicate.isObject(m) && (m as { format?: unknown }).format === "deeplog/1" && (m as { onnx?: unknown }).onnx instanceof Uint8Array

/** Write `path` atomically: a temporary sibling, then rename. */
const writeAtomic = (file: string, data: Uint8Array | string) => {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`
  fs.writeFileSync(tmp, data)
  fs.renameSync(tmp, file)
}

export const exportRunOnnx = (runDir: string, out: string) =>
  Effect.gen(function*() {
    const store = yield* ArtifactStore
    const fail = (message: string) => Effect.fail(new Error(message))
    const manifestFile = path.join(runDir, "dataset_manifest.json")
    const configFile = path.join(runDir, "run_config.json")
    if (!fs.existsSync(manifestFile)) return yield* fail(`${runDir} is not a finished run folder (no dataset_manifest.json)`)
    // Only a folder whose files match its manifest is read: an edited or half-copied one is not trusted.
    const check = checkFolder(runDir)
    if (!check.ok) return yield* fail(`${runDir} is incomplete (${check.reason}); \`flow run\` rewrites it`)
    if (check.manifest.kind !== "results") return yield* fail(`${runDir} records a failed run, not a fitted model`)
    const manifest = yield* Effect.try({ try: () => readJson(manifestFile), catch: (e) => e as Error })
    const runConfig = yield* Effect.try({ try: () => readJson(configFile), catch: (e) => e as Error })
    const detector = field(runConfig, "model", "detector")
    if (detector !== "deeplog") return yield* fail(`${configFile}: model.detector is ${JSON.stringify(detector)}; only deeplog models export to ONNX`)
    const fitKey = field(manifest, "cache_keys", "fit")
    if (typeof fitKey !== "string") return yield* fail(`${manifestFile}: cache_keys.fit is missing`)
    const entry = yield* store.get(fitKey)
    if (Option.isNone(entry)) {
      return yield* fail(`the fitted model of ${runDir} (cache key ${fitKey.slice(0, 12)}) is not in the cache; rerun \`flow run\` for this run with the same --cache-dir to rebuild it`)
    }
    const fit = decodeValue(entry.value.value)
    if (field(fit, "status") !== "ok") return yield* fail(`the fit of ${runDir} is invalid: ${String(field(fit, "reason"))}`)
    const model = field(fit, "model")
    const chosen = field(fit, "threshold")
    const calibrated = Predicate.isObject(chosen) && typeof chosen.value === "number" ? { value: chosen.value, basis: typeof chosen.basis === "string" ? chosen.basis : "calibrated" } : undefined
    if (!isDeepLogModel(model)) return yield* fail(`the cached fit output ${fitKey.slice(0, 12)} is not a DeepLog model`)
    // Template texts (parameter-exact where the miner wrote them), when the dataset was mined
    // from a raw log and the mine output is cached.
    const mineKey = field(manifest, "cache_keys", "mine")
    const texts = new Map<number, string>()
    if (typeof mineKey === "string") {
      const mined = yield* store.get(mineKey).pipe(Effect.orElseSucceed(() => Option.none()))
      if (Option.isSome(mined)) {
        const templates = field(decodeValue(mined.value.value), "templates")
        if (Array.isArray(templates)) for (const t of templates) if (Predicate.isObject(t)) texts.set(Number(t.id), String(typeof t.exact === "string" ? t.exact : t.text))
      }
    }
    const sidecar = {
      format: "logflow-deeplog-onnx/1",
      run: field(runConfig, "run", "name") ?? path.basename(path.dirname(runDir)),
      run_dir: path.resolve(runDir),
      fit_key: fitKey,
      input: { name: onnxNames.ids.input, type: "int64", shape: ["batch", model.history] },
      output: { name: onnxNames.ids.output, type: "float32", shape: ["batch", model.shape.outputSize] },
      history_size: model.history,
      top_g: model.topG,
      // The threshold the run used: the one its threshold rule chose when the model config has one
      // (`threshold.kind`), else the detector's own (top_g - 0.5); the detector's own is kept beside it.
      threshold: calibrated?.value ?? model.threshold,
      threshold_basis: calibrated?.basis ?? "detector",
      detector_threshold: model.threshold,
      pad_start: model.padStart,
      rule: "an event is anomalous when its key's class is not among the top_g logits, or its key is not in vocabulary.keys",
      vocabulary: {
        keys: model.keys.map((id, index) => ({ index, template_id: id, ...(texts.has(id) ? { template: texts.get(id) } : {}) })),
        pad_index: model.keys.length,
        unseen_index: model.keys.length + 1,
        end_class: model.endMarker ? model.keys.length : null
      }
    }
    const sidecarFile = `${out}.json`
    yield* Effect.try({
      try: () => {
        makeFolders(path.dirname(path.resolve(out)))
        writeAtomic(out, model.onnx)
        writeAtomic(sidecarFile, `${JSON.stringify(sidecar, null, 2)}\n`)
      },
      catch: (e) => new Error(`cannot write ${out}: ${e instanceof Error ? e.message : String(e)}`)
    })
    const result: ExportedOnnx = { model: out, sidecar: sidecarFile, bytes: model.onnx.length, keys: model.keys.length }
    return result
  })

export const exportOnnxCommand = Command.make(
  "export-onnx",
  {
    runDir: Argument.String("run-dir").pipe(Argument.withDescription("A DeepLog run's result folder, results/<run>/<fingerprint>")),
    out: Flag.String("out").pipe(Flag.withDescription("The .onnx file to write (a JSON sidecar goes to <out>.json)"), Flag.withDefault("model.onnx")),
    cacheDir
  },
  Effect.fn("cli.exportOnnx")(function*(args) {
    const out = path.resolve(args.out)
    const r = yield* withCache(args.cacheDir, exportRunOnnx(path.resolve(args.runDir), out))
    yield* Console.log(`wrote ${r.model} (${formatSize(r.bytes)}, ${r.keys} keys)\nwrote ${r.sidecar}`)
  }, handleErrors)
).pipe(Command.withDescription("Export a DeepLog run's model as an ONNX graph with a JSON sidecar (vocabulary, history size, top-g)"))
