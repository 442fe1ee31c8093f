/**
 * The plan: concrete runs to one DAG of stage nodes. Nodes with equal keys are one node, so two
 * runs over the same dataset parse and mine it once. Building the DAG is pure given the source
 * digests; `resolveSources` computes those (and checks configured sha256s) before any stage runs.
 */
import { canonicalJson, sha256 } from "../cache/CacheKey.ts"
import type { ParsedLog, TemplatedLog } from "../artifacts/Log.ts"
import type { SplitSequences } from "../artifacts/Sequences.ts"
import { evaluateStage } from "../tasks/EvaluateStage.ts"
import type { Metrics } from "../artifacts/Metrics.ts"
import { fitStage } from "../tasks/FitStage.ts"
import type { FitOutput } from "../artifacts/Model.ts"
import { groupStage } from "../tasks/GroupStage.ts"
import type { GroupedSequences } from "../artifacts/Sequences.ts"
import { sessionSources, sessionsStage } from "../tasks/SessionsStage.ts"
import { labelStage } from "../tasks/LabelStage.ts"
import type { LabelledSequences } from "../artifacts/Sequences.ts"
import { mineStage } from "../tasks/MineStage.ts"
import { parseStage } from "../tasks/ParseStage.ts"
import { needsLog, representStage } from "../tasks/RepresentStage.ts"
import type { Representation } from "../artifacts/Representation.ts"
import { getDetector } from "../detectors/registry.ts"
import { scoreStage } from "../tasks/ScoreStage.ts"
import type { ScoredSequences } from "../artifacts/Scores.ts"
import { type SourceParams, describeSource } from "../sources/Source.ts"
import { sourceStage } from "../tasks/SourceStage.ts"
import type { SourceFile } from "../artifacts/Source.ts"
import { splitStage } from "../tasks/SplitStage.ts"
import { stages } from "../tasks/stages.ts"
import { node, type Node, stageVersion, upstream } from "../tasks/Task.ts"
import { type Digests, sourcesOf } from "../config/Sources.ts"
import { type DatasetConfig, isSessionDataset } from "../config/Dataset.ts"
import type { RunSpec } from "../config/RunSpec.ts"

/** The nodes that turn a dataset config into labelled, split sequences. */
export interface DatasetNodes {
  readonly sources: ReadonlyArray<Node<SourceFile>>
  /** Raw-log datasets only. */
  readonly parse?: Node<ParsedLog>
  readonly mine?: Node<TemplatedLog>
  readonly group?: Node<GroupedSequences>
  /** The labelled sequences: the `label` node, or the `sessions` node of a pre-sequenced dataset. */
  readonly label: Node<LabelledSequences>
  readonly split: Node<SplitSequences>
  /** The representations the dataset asks for. */
  readonly represent: ReadonlyArray<Node<Representation>>
}

/** The nodes one run needs, by role. */
export interface RunNodes extends DatasetNodes {
  readonly fit: Node<FitOutput>
  readonly score: Node<ScoredSequences>
  readonly evaluate: Node<Metrics>
}

/** A run with its resolved config, fingerprint and nodes. */
export interface PlannedRun {
  readonly spec: RunSpec
  /** What `run_config.json` holds; the fingerprint hashes exactly this. */
  readonly runConfig: unknown
  readonly fingerprint: string
  readonly nodes: RunNodes
}

export interface Plan {
  readonly runs: ReadonlyArray<PlannedRun>
  /** Every distinct node, upstream before downstream. */
  readonly nodes: ReadonlyArray<Node>
}

/** Build the DAG for `runs`. Pure. */
export const buildPlan = (runs: ReadonlyArray<RunSpec>, digests: Digests): Plan => {
  const { intern, source, nodes } = nodeBuilder(digests)

  const planned = runs.map((spec): PlannedRun => {
    const ds = spec.dataset
    const dn = datasetNodes(ds, source, intern)
    const { label, split } = dn
    const detectorParams = {
      detector: spec.model.detector,
      detector_version: spec.model.detector_version,
      config: spec.model.config,
      seed: spec.run.seed,
      ...(spec.model.threshold === undefined ? {} : { threshold: spec.model.threshold })
    }
    // Representations the detector reads besides the sequences (DeepLog's parameter model).
    const needs = getDetector(spec.model.detector).needs?.(spec.model.config) ?? []
    const extra = needs.map((kind) => {
      if (dn.parse === undefined || dn.mine === undefined) throw new Error(`plan: run ${spec.name} needs ${kind}, which needs a raw-log dataset`)
      return intern(node(representStage, { kind }, { labelled: label, split, parsed: dn.parse, templates: dn.mine }))
    })
    const reads: { readonly representations?: ReadonlyArray<Node<Representation>> } = extra.length === 0 ? {} : { representations: extra }
    const fit = intern(node(fitStage, detectorParams, { labelled: label, split, ...reads }))
    const score = intern(node(scoreStage, detectorParams, { labelled: label, split, fit, ...reads }))
    const evaluate = intern(node(evaluateStage, { scope: primaryScope(ds) }, { labelled: label, split, scored: score }))
    const runConfig = {
      run: spec.name,
      experiment: spec.experiment,
      dataset: { name: spec.datasetName, ...ds },
      model: { name: spec.modelName, ...spec.model },
      run_settings: spec.run,
      axes: spec.axes,
      sources: sourcesOf([spec]).map((p) => ({ source: describeSource(p), ...digests.get(describeSource(p)) })),
      // A stage whose version depends on its params (group: a pattern with a capture group) records this run's.
      stage_versions: Object.fromEntries(Object.values(stages).map((s) => [s.name, dn.group !== undefined && s.name === dn.group.stage.name ? stageVersion(dn.group) : s.version]))
    }
    return {
      spec,
      runConfig,
      fingerprint: sha256(canonicalJson(runConfig)).slice(0, 16),
      nodes: { ...dn, fit, score, evaluate }
    }
  })
  return { runs: planned, nodes: nodes() }
}

/**
 * Interning of nodes by key (the first node object for a key is kept, so shared work is literally
 * one node) and source nodes salted with their resolved digests.
 */
const nodeBuilder = (digests: Digests) => {
  const byKey = new Map<string, Node>()
  const intern = <O>(n: Node<O>): Node<O> => {
    const known = byKey.get(n.key)
    if (known !== undefined) return known as Node<O>
    byKey.set(n.key, n)
    return n
  }
  const source = (p: SourceParams) => {
    const d = digests.get(describeSource(p))
    if (d === undefined) throw new Error(`plan: source ${describeSource(p)} was not resolved`)
    return intern(node(sourceStage, p, {}, d.sha256))
  }
  return { intern, source, nodes: () => topoSort([...byKey.values()]) }
}

/** The scope a dataset's headline metrics are in: its sequences are entities/sessions, windows or stream chunks. */
export const primaryScope = (ds: DatasetConfig): "sequence" | "window" | "stream" => {
  if (isSessionDataset(ds)) return "sequence"
  switch (ds.grouping.type) {
    case "fixed_window":
    case "time_window":
      return "window"
    case "stream_chunks":
      return "stream"
    default:
      return "sequence"
  }
}

/** The dataset part of the DAG: sources to labelled, split sequences. */
export const datasetNodes = (
  ds: DatasetConfig,
  source: (p: SourceParams) => Node<SourceFile>,
  intern: <O>(n: Node<O>) => Node<O>
): DatasetNodes => {
  if (isSessionDataset(ds)) {
    const sources = sessionSources(ds.sessions).map(source)
    const sessions = intern(node(sessionsStage, ds.sessions, { files: sources }))
    const split = intern(node(splitStage, ds.split, { labelled: sessions, predefined: sessions }))
    const represent = ds.represent.map((r) => intern(node(representStage, r, { labelled: sessions, split })))
    return { sources, label: sessions, split, represent }
  }
  const src = source(ds.source)
  const parse = intern(node(parseStage, ds.parser, { source: src }))
  const mine = intern(node(mineStage, ds.miner, { parsed: parse }))
  const group = intern(node(groupStage, ds.grouping, { parsed: parse, templates: mine }))
  const labelSources = ds.labels.type === "entity_csv" ? [source(ds.labels.source)] : []
  const label = intern(node(labelStage, ds.labels, { grouped: group, parsed: parse, ...(labelSources.length === 0 ? {} : { labelFile: labelSources[0]! }) }))
  const split = intern(node(splitStage, ds.split, { labelled: label, parsed: parse }))
  const represent = ds.represent.map((r) =>
    intern(needsLog(r) ? node(representStage, r, { labelled: label, split, parsed: parse, templates: mine }) : node(representStage, r, { labelled: label, split }))
  )
  return { sources: [src, ...labelSources], parse, mine, group, label, split, represent }
}

/** A plan for datasets alone (no models): what `flow inspect` builds. */
export const buildDatasetPlan = (datasets: ReadonlyArray<DatasetConfig>, digests: Digests): { nodes: ReadonlyArray<Node>; datasets: ReadonlyArray<DatasetNodes> } => {
  const { intern, source, nodes } = nodeBuilder(digests)
  const out = datasets.map((d) => datasetNodes(d, source, intern))
  return { nodes: nodes(), datasets: out }
}

const topoSort = (nodes: ReadonlyArray<Node>): ReadonlyArray<Node> => {
  const out: Array<Node> = []
  const seen = new Set<string>()
  const visit = (n: Node) => {
    if (seen.has(n.key)) return
    seen.add(n.key)
    upstream(n).forEach(visit)
    out.push(n)
  }
  nodes.forEach(visit)
  return out
}

/** Every node of a run, upstream first. */
export const runNodeList = (run: PlannedRun): ReadonlyArray<Node> => {
  const n = run.nodes
  const out: Array<Node> = [...n.sources]
  if (n.parse !== undefined) out.push(n.parse)
  if (n.mine !== undefined) out.push(n.mine)
  if (n.group !== undefined) out.push(n.group)
  out.push(n.label, n.split, ...n.represent, n.fit, n.score, n.evaluate)
  return out
}

/** A human label per node: the stage and which datasets / runs it serves. */
export const nodeLabels = (plan: Plan): ReadonlyMap<string, string> => {
  const users = new Map<string, Set<string>>()
  for (const run of plan.runs) {
    const perModel = new Set([run.nodes.fit.key, run.nodes.score.key, run.nodes.evaluate.key])
    for (const n of runNodeList(run)) {
      const who = perModel.has(n.key) ? run.spec.name : run.spec.datasetName
      users.set(n.key, (users.get(n.key) ?? new Set()).add(who))
    }
  }
  const out = new Map<string, string>()
  for (const n of plan.nodes) {
    const who = n.stage.describe?.(n.params) ?? [...(users.get(n.key) ?? [])].join(",")
    out.set(n.key, `${n.stage.name} ${who}`)
  }
  return out
}
