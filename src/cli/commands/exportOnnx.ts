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
import * as path from "node:path"
import { cachedFit, chosenThreshold, field, readFinishedRun } from "../../flows/RunFolder.ts"
import { ArtifactStore } from "../../cache/ArtifactStore.ts"
import { decodeValue } from "../../cache/Codec.ts"
import type { DeepLogModel } from "../../detectors/deeplog/DeepLog.ts"
import { onnxNames } from "../../detectors/deeplog/Onnx.ts"
import { formatSize } from "../view/CacheTable.ts"
import { cacheDir, handleErrors, withCache } from "./shared.ts"
import { writeWhole } from "../../runtime/Folders.ts"

export interface ExportedOnnx {
  readonly model: string
  readonly sidecar: string
  readonly bytes: number
  readonly keys: number
}

const isDeepLogModel = (m: unknown): m is DeepLogModel =>
  Predicate.isObject(m) && (m as { format?: unknown }).format === "deeplog/1" && (m as { onnx?: unknown }).onnx instanceof Uint8Array

export const exportRunOnnx = (runDir: string, out: string) =>
  Effect.gen(function*() {
    const store = yield* ArtifactStore
    const fail = (message: string) => Effect.fail(new Error(message))
    const run = yield* readFinishedRun(runDir)
    const { runConfig, manifest } = run
    const detector = field(runConfig, "model", "detector")
    if (detector !== "deeplog") return yield* fail(`${path.join(runDir, "run_config.json")}: model.detector is ${JSON.stringify(detector)}; only deeplog models export to ONNX`)
    const fit = yield* cachedFit(run)
    const fitKey = String(field(manifest, "cache_keys", "fit"))
    const model = field(fit, "model")
    const calibrated = chosenThreshold(fit)
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
        writeWhole(out, model.onnx)
        writeWhole(sidecarFile, `${JSON.stringify(sidecar, null, 2)}\n`)
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
