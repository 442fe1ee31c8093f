/**
 * `flow train --from BUNDLE LOG... --out DIR [--epochs N]`: a bundle's model goes on learning from
 * new normal logs, and the result is a new bundle. A cached stage (`retrain`): its key is the
 * digest of the bundle's checksum manifest, of every log's bytes and of the settings, so the same
 * call again writes the stored result without training.
 *
 * - The miner continues from the bundle's state (`fromState`): the new lines are mined into it, so
 *   new message types become templates and old ones may generalise. Template ids stay stable: an
 *   old template keeps its id (found through the miner's template groups, which only ever merge),
 *   a new one gets an id after every old one; the vocabulary keeps the old texts of templates
 *   that did not change.
 * - The lines are grouped by the bundle's rule, file by file, and the detector continues from the
 *   bundle's model (`Detector.continueFit`: DeepLog's weights for `--epochs` more epochs, the EWM
 *   baseline walking on); a detector without it is refused (train a new run instead).
 * - Parser settings, grouping, threshold and alerting policy are the bundle's; `training.continued`
 *   records each continuation (the bundle it came from, the logs' digests and lines, the epochs).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect, Option, Schema } from "effect"
import type { Template } from "../artifacts/Log.ts"
import { LABEL_UNKNOWN } from "../artifacts/Sequences.ts"
import { ArtifactStore } from "../cache/ArtifactStore.ts"
import { sha256 } from "../cache/CacheKey.ts"
import { decodeValue, encodeValue } from "../cache/Codec.ts"
import type { SequenceView } from "../detectors/base/Detector.ts"
import { getDetector } from "../detectors/registry.ts"
import { fromState } from "../mining/Drain.ts"
import { checkState, type MinerState } from "../mining/MinerState.ts"
import { compileFormat, parseLog } from "../parsing/LogFormat.ts"
import { ownPackage } from "../runtime/ProjectRoot.ts"
import { GroupParams, groupStage } from "../tasks/GroupStage.ts"
import { ParseParams, parseSettings } from "../tasks/ParseStage.ts"
import type { StageContext } from "../tasks/Task.ts"
import { type Bundle, type BundleSpec, writeBundle } from "./Bundle.ts"

const RETRAIN_VERSION = "1"
const GROUP_CONTEXT: StageContext = { dataRoot: ".", sourcesDir: ".", progress: () => {} }

/** Live template groups of a state, in the order its `patterns` list them. */
const liveGroups = (state: MinerState): Array<number> => {
  const cluster = state.table.groups.cluster
  const out: Array<number> = []
  for (let g = 0; g < cluster.length; g++) if (state.clusters.evicted[cluster[g]!] !== 1) out.push(g)
  if (out.length !== state.patterns.length) throw new Error(`the miner state lists ${state.patterns.length} patterns for ${out.length} live template groups: its template ids cannot be followed`)
  return out
}

/** Template id of each live group. */
const idByGroup = (state: MinerState): Map<number, number> => new Map(liveGroups(state).map((g, i) => [g, state.patterns[i]!.templateId]))

/**
 * Stable ids for the templates of `next` (a state that continued `previous`): the old id where the
 * template holds an old template's groups, else a fresh one after `firstFresh`, in id order.
 */
export const stableIds = (previous: MinerState, next: MinerState, firstFresh: number): Map<number, number> => {
  const old = idByGroup(previous)
  const stable = new Map<number, number>()
  for (const [g, id] of idByGroup(next)) {
    const before = old.get(g)
    if (before !== undefined && (stable.get(id) ?? Number.POSITIVE_INFINITY) > before) stable.set(id, before)
  }
  let fresh = firstFresh
  for (const t of [...next.templates].sort((a, b) => a.id - b.id)) if (!stable.has(t.id)) stable.set(t.id, fresh++)
  return stable
}

export interface RetrainResult {
  readonly dir: string
  readonly spec: BundleSpec
  readonly cached: boolean
  readonly lines: number
  readonly sequences: number
  readonly newTemplates: number
  readonly report: unknown
}

interface Retrained {
  readonly spec: BundleSpec
  readonly state: MinerState
  readonly model: unknown
  readonly lines: number
  readonly sequences: number
  readonly newTemplates: number
  readonly report: unknown
}

/** The training itself (the cache missed). */
const retrain = async (bundle: Bundle, logs: ReadonlyArray<{ file: string; bytes: Buffer; sha256: string }>, epochs: number, manifestSha: string): Promise<Retrained> => {
  const { spec } = bundle
  const detector = getDetector(spec.detector.tag)
  if (detector.continueFit === undefined) {
    throw new Error(`${spec.detector.tag} cannot continue training from a bundle (only deeplog and ewm_window can); train a new run on the new logs`)
  }
  if (detector.version !== spec.detector.version) throw new Error(`the bundle's ${spec.detector.tag} model is version ${spec.detector.version}, this logflow's is ${detector.version}`)
  const config = Schema.decodeUnknownSync(detector.configSchema)(spec.detector.config)
  const { format, options } = parseSettings(Schema.decodeUnknownSync(ParseParams)(spec.parser))
  const compiled = compileFormat(format)
  const grouping = Schema.decodeUnknownSync(GroupParams)(spec.grouping)
  // The miner goes on from the bundle's state over every new line.
  const drain = fromState(bundle.state)
  const parsed = logs.map(({ file, bytes }) => {
    const p = parseLog(bytes, compiled, options)
    if (p.rawLines > 0 && p.lineNo.length === 0) throw new Error(`${file}: none of its ${p.rawLines} lines reads with the bundle's parser (${format})`)
    return { file, parsed: p, rows: drain.addColumn(p.content) }
  })
  const next = drain.toState()
  const firstFresh = Math.max(-1, ...spec.vocabulary.map((v) => v.id), ...bundle.state.patterns.map((p) => p.templateId)) + 1
  const stable = stableIds(bundle.state, next, firstFresh)
  const oldText = new Map(bundle.state.templates.map((t) => [t.id, t.text]))
  const vocabularyText = new Map(spec.vocabulary.map((v) => [v.id, v.text]))
  const templates: Array<Template> = next.templates.map((t) => ({ id: stable.get(t.id)!, text: t.text, count: t.count }))
  const state: MinerState = {
    ...next,
    templates: templates.map((t) => ({ id: t.id, text: t.text, count: t.count })).sort((a, b) => a.id - b.id),
    patterns: next.patterns.map((p) => ({ templateId: stable.get(p.templateId)!, tokens: p.tokens }))
  }
  // Sequences of every file, by the bundle's rule, on stable ids.
  const offsets: Array<number> = [0]
  const events: Array<number> = []
  let lines = 0
  for (const f of parsed) {
    const compact = drain.templatedLog(f.rows).templateIds
    const templateIds = Int32Array.from(compact, (id) => stable.get(id)!)
    const grouped = await groupStage.run(grouping, { parsed: f.parsed, templates: { templateIds, templates } }, GROUP_CONTEXT)
    const seqs = grouped.sequences
    for (let s = 0; s + 1 < seqs.offsets.length; s++) {
      for (let e = seqs.offsets[s]! + (grouped.context?.[s] ?? 0); e < seqs.offsets[s + 1]!; e++) events.push(seqs.events[e]!)
      offsets.push(events.length)
    }
    lines += f.parsed.rawLines
  }
  const n = offsets.length - 1
  if (n === 0) throw new Error(`no sequence in ${logs.map((l) => l.file).join(", ")} to train on`)
  const data: SequenceView = { offsets: Int32Array.from(offsets), events: Int32Array.from(events), labels: new Int8Array(n).fill(LABEL_UNKNOWN) }
  const fit = await detector.continueFit(bundle.model, data, Int32Array.from({ length: n }, (_, i) => i), config, { epochs })
  if (fit.status !== "ok") throw new Error(fit.reason)
  const newTemplates = templates.filter((t) => !oldText.has(t.id)).length
  const vocabulary = [...templates].sort((a, b) => a.id - b.id).map((t) => ({
    id: t.id,
    // An old template whose token text did not change keeps the bundle's (parameter-exact) text.
    text: oldText.get(t.id) === t.text ? (vocabularyText.get(t.id) ?? t.text) : t.text
  }))
  const continued = {
    from_bundle: manifestSha,
    logs: logs.map((l, i) => ({ file: path.resolve(l.file), sha256: l.sha256, lines: parsed[i]!.parsed.rawLines })),
    epochs,
    sequences: n
  }
  const newSpec: BundleSpec = { ...spec, logflow_version: ownPackage().version, vocabulary, training: { ...spec.training, continued: [...(spec.training.continued ?? []), continued] } }
  return { spec: newSpec, state, model: fit.model, lines, sequences: n, newTemplates, report: fit.report }
}

/** `flow train --from`: through the cache (key: the bundle, the logs, the settings). */
export const retrainBundle = (bundle: Bundle, files: ReadonlyArray<string>, out: string, epochs: number) =>
  Effect.gen(function*() {
    const store = yield* ArtifactStore
    const manifestSha = sha256(fs.readFileSync(path.join(bundle.dir, "manifest.json")))
    const logs = yield* Effect.try({
      try: () => files.map((file) => {
        const bytes = fs.readFileSync(file)
        return { file, bytes, sha256: sha256(bytes) }
      }),
      catch: (e) => new Error(`cannot read ${e instanceof Error ? e.message : String(e)}`)
    })
    const params = { epochs, bundle: manifestSha, logs: logs.map((l) => l.sha256) }
    const key = sha256(JSON.stringify({ stage: "retrain", version: RETRAIN_VERSION, detector: bundle.spec.detector.tag, params }))
    const hit = yield* store.get(key)
    let result: Retrained
    let cached = false
    if (Option.isSome(hit)) {
      result = decodeValue(hit.value.value) as Retrained
      cached = true
      yield* store.touch(key)
    } else {
      const t0 = performance.now()
      result = yield* Effect.tryPromise({ try: () => retrain(bundle, logs, epochs, manifestSha), catch: (e) => (e instanceof Error ? e : new Error(String(e))) })
      yield* store.put(key, {
        stage: "retrain",
        version: RETRAIN_VERSION,
        params,
        inputs: {},
        computeMs: Math.round(performance.now() - t0),
        summary: { lines: result.lines, sequences: result.sequences, new_templates: result.newTemplates }
      }, encodeValue(result))
    }
    yield* Effect.try({ try: () => writeBundle(out, result.spec, checkState(result.state), result.model), catch: (e) => new Error(`cannot write ${out}: ${e instanceof Error ? e.message : String(e)}`) })
    return { dir: out, spec: result.spec, cached, lines: result.lines, sequences: result.sequences, newTemplates: result.newTemplates, report: result.report } satisfies RetrainResult
  })
