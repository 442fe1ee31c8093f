// Stage `label`: labels per sequence from an entity CSV, from a per-line field, or none.
import { Schema } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import type { DictColumn } from "../../src/artifacts/Columns.ts"
import { packStrings } from "../../src/artifacts/Columns.ts"
import type { ParsedLog } from "../../src/artifacts/Log.ts"
import { LABEL_ANOMALY, LABEL_NORMAL, LABEL_UNKNOWN, type GroupedSequences, type LabelledSequences, type Sequences } from "../../src/artifacts/Sequences.ts"
import type { SourceFile } from "../../src/artifacts/Source.ts"
import { groupStage } from "../../src/tasks/GroupStage.ts"
import { labelStage } from "../../src/tasks/LabelStage.ts"
import { parseStage } from "../../src/tasks/ParseStage.ts"
import { StageConfigError, type StageContext } from "../../src/tasks/Task.ts"
import { dataRoot } from "../cli/helpers.ts"

const decode = (raw: unknown) => Schema.decodeUnknownSync(labelStage.params)(raw)

const made: Array<string> = []
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })))

/** A data root holding one label CSV, and its SourceFile (digest computed here). */
const csvSource = (text: string): { ctx: StageContext; labelFile: SourceFile } => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "logflow-label-stage-"))
  made.push(root)
  fs.writeFileSync(path.join(root, "labels.csv"), text)
  return {
    ctx: { dataRoot: root, sourcesDir: path.join(root, ".sources"), progress: () => {} },
    labelFile: { path: "labels.csv", root: "data", sha256: createHash("sha256").update(text).digest("hex"), bytes: Buffer.byteLength(text) }
  }
}

const dict = (values: ReadonlyArray<string>): DictColumn => {
  const distinct = [...new Set(values)]
  return { values: packStrings(distinct), codes: Int32Array.from(values, (v) => distinct.indexOf(v)) }
}

/** Sequences given as lists of rows (events = row numbers), all unlabelled. */
const sequences = (ids: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<number>>): Sequences => {
  const offsets = [0]
  for (const r of rows) offsets.push(offsets.at(-1)! + r.length)
  return {
    ids: packStrings(ids),
    offsets: Int32Array.from(offsets),
    rows: Int32Array.from(rows.flat()),
    events: Int32Array.from(rows.flat()),
    labels: new Int8Array(ids.length).fill(LABEL_UNKNOWN)
  }
}

/** Six parsed rows with a per-line Label field (BGL style: "-" is normal). */
const LINE_LABELS = ["-", "-", "KERNDTLB", "-", "-", "APPSEV"]
const parsed: ParsedLog = {
  rawLines: 6,
  lineNo: Int32Array.from([1, 2, 3, 4, 5, 6]),
  content: packStrings(LINE_LABELS.map((_, i) => `event ${i}`)),
  fields: [{ name: "Label", column: dict(LINE_LABELS) }],
  unparsed: { count: 0, samples: [] }
}

const blocks: GroupedSequences = { sequences: sequences(["blk_1", "blk_2", "blk_3"], [[0, 1], [2], [3, 4, 5]]) }
const windows: GroupedSequences = { sequences: sequences(["w0", "w2", "w4"], [[0, 1], [2, 3], [4, 5]]) }

const ENTITY = { type: "entity_csv", source: { path: "labels.csv" }, entity_column: "BlockId", label_column: "Label" }

describe("label stage run: entity_csv", () => {
  it("labels each sequence from the CSV by its id and counts the ids the CSV lacks", () => {
    const { ctx, labelFile } = csvSource("BlockId,Label\nblk_1,Normal\nblk_2,Anomaly\nblk_9,Normal\n")
    const params = decode(ENTITY)
    const out = labelStage.run(params, { grouped: blocks, parsed, labelFile }, ctx) as LabelledSequences
    expect(Array.from(out.sequences.labels)).toEqual([LABEL_NORMAL, LABEL_ANOMALY, LABEL_UNKNOWN])
    expect(out.unlabeled).toBe(1)
    expect(out.rowLabels).toBeUndefined()
    // The grouped input is left as it was.
    expect(Array.from(blocks.sequences.labels)).toEqual([LABEL_UNKNOWN, LABEL_UNKNOWN, LABEL_UNKNOWN])
    expect(labelStage.summarize!(out, params)).toEqual({
      labels: params,
      sequences: 3,
      unlabeled: 1,
      histogram: { normal: 1, anomaly: 1, unknown: 1 }
    })
  })

  it("reads the label values the config names", () => {
    const { ctx, labelFile } = csvSource("id,y\nblk_3,1\nblk_1,0\nblk_2,0\n")
    const params = decode({ ...ENTITY, entity_column: "id", label_column: "y", anomaly_values: ["1"], normal_values: ["0"] })
    const out = labelStage.run(params, { grouped: blocks, parsed, labelFile }, ctx) as LabelledSequences
    expect(Array.from(out.sequences.labels)).toEqual([LABEL_NORMAL, LABEL_NORMAL, LABEL_ANOMALY])
    expect(out.unlabeled).toBe(0)
  })

  it("fails naming entity_column when the CSV lacks it, and when no label file is given", () => {
    const { ctx, labelFile } = csvSource("Block,Label\nblk_1,Normal\n")
    expect(() => labelStage.run(decode(ENTITY), { grouped: blocks, parsed, labelFile }, ctx)).toThrow(/entity_column "BlockId" is not a column/)
    expect(() => labelStage.run(decode(ENTITY), { grouped: blocks, parsed }, ctx)).toThrow(/entity_csv labels need their source file/)
  })

  it("labels HDFS_2k's 2,200 blocks with 69 anomalies from hdfs/labels/HDFS_2k.block_labels.csv (data root README)", () => {
    const root = dataRoot()
    const ctx: StageContext = { dataRoot: root, sourcesDir: os.tmpdir(), progress: () => {} }
    const fileOf = (rel: string): SourceFile => {
      const bytes = fs.readFileSync(path.join(root, rel))
      return { path: rel, root: "data", sha256: createHash("sha256").update(bytes).digest("hex"), bytes: bytes.length }
    }
    const log = parseStage.run(Schema.decodeUnknownSync(parseStage.params)({ preset: "HDFS" }), { source: fileOf("loghub-2k/HDFS/HDFS_2k.log") }, ctx) as ParsedLog
    const templates = { templateIds: new Int32Array(log.lineNo.length), templates: [] }
    const grouped = groupStage.run(Schema.decodeUnknownSync(groupStage.params)({ type: "entity", pattern: "blk_-?\\d+" }), { parsed: log, templates }, ctx) as GroupedSequences
    const params = decode({ ...ENTITY, source: { path: "hdfs/labels/HDFS_2k.block_labels.csv" } })
    const out = labelStage.run(params, { grouped, parsed: log, labelFile: fileOf("hdfs/labels/HDFS_2k.block_labels.csv") }, ctx) as LabelledSequences
    expect(labelStage.summarize!(out, params)).toMatchObject({ sequences: 2200, unlabeled: 0, histogram: { normal: 2131, anomaly: 69, unknown: 0 } })
  })
})

describe("label stage run: entity_csv ids that match no entity", () => {
  // Synthetic: the grouping found whole `[instance: UUID]` matches, the label file lists bare UUIDs.
  const A = "b9000564-fe1a-409b-b8cc-1e88b294cd1d"
  const B = "96abccce-8d1f-4e07-b6d1-4b2ab87e23b4"
  const whole: GroupedSequences = { sequences: sequences([`[instance: ${A}]`, `[instance: ${B}]`], [[0, 1], [2]]) }
  const INSTANCES = { ...ENTITY, entity_column: "InstanceId" }

  it("is a config error naming the grouping and label keys, with what each side's ids look like", () => {
    const { ctx, labelFile } = csvSource(`InstanceId,Label\n${A},Normal\n${B},Anomaly\n`)
    let thrown: unknown
    try {
      labelStage.run(decode(INSTANCES), { grouped: whole, parsed, labelFile }, ctx)
    } catch (e) {
      thrown = e
    }
    expect(thrown).toBeInstanceOf(StageConfigError)
    if (!(thrown instanceof StageConfigError)) return
    const error = thrown
    expect(error.keys).toEqual(["grouping", "labels.source", "labels.entity_column"])
    expect(error.detail).toBe(
      `no sequence received a label: none of the 2 entity ids the grouping found is in column "InstanceId" of the label file labels.csv (2 ids); ` +
        `the grouping found ids like "[instance: ${A}]"; the label file lists ids like "${A}"; ` +
        "the label file's ids sit inside the grouping's: a capturing group around the id in the grouping's pattern makes its first group the entity"
    )
    expect(error.message).toBe(`grouping, labels.source, labels.entity_column: ${error.detail}`)
  })

  it("says when the grouping's ids sit inside the label file's, or the label file lists none", () => {
    const bare: GroupedSequences = { sequences: sequences([A, B], [[0], [1]]) }
    const { ctx, labelFile } = csvSource(`InstanceId,Label\nvm-1,Normal\n[instance: ${B}],Normal\n`)
    expect(() => labelStage.run(decode(INSTANCES), { grouped: bare, parsed, labelFile }, ctx)).toThrow(
      `the grouping found ids like "${A}"; the label file lists ids like "vm-1"; the grouping's ids sit inside the label file's ("${B}" in "[instance: ${B}]")`
    )
    const empty = csvSource("InstanceId,Label\n")
    expect(() => labelStage.run(decode(INSTANCES), { grouped: bare, parsed, labelFile: empty.labelFile }, empty.ctx)).toThrow(
      /\(0 ids\); the grouping found ids like "b9000564-[^"]*"; the label file lists no id$/
    )
  })

  it("is no error when one sequence of many gets a label, nor when there is no sequence", () => {
    const { ctx, labelFile } = csvSource(`InstanceId,Label\n[instance: ${B}],Anomaly\n`)
    const out = labelStage.run(decode(INSTANCES), { grouped: whole, parsed, labelFile }, ctx) as LabelledSequences
    expect(Array.from(out.sequences.labels)).toEqual([LABEL_UNKNOWN, LABEL_ANOMALY])
    expect(out.unlabeled).toBe(1)
    const none: GroupedSequences = { sequences: sequences([], []) }
    expect((labelStage.run(decode(INSTANCES), { grouped: none, parsed, labelFile }, ctx) as LabelledSequences).unlabeled).toBe(0)
  })

  it("runs before any fit: the labels attach once the grouping's first capture group is the bare id", () => {
    const log = { ...parsed, content: packStrings([`[instance: ${A}] VM Started`, `[instance: ${A}] VM Paused`, `[instance: ${B}] VM Started`, "-", "-", "-"]) }
    const templates = { templateIds: new Int32Array(6), templates: [] }
    const groupWith = (pattern: string) =>
      groupStage.run(Schema.decodeUnknownSync(groupStage.params)({ type: "entity", pattern }), { parsed: log, templates }, { dataRoot: os.tmpdir(), sourcesDir: os.tmpdir(), progress: () => {} }) as GroupedSequences
    const { ctx, labelFile } = csvSource(`InstanceId,Label\n${A},Normal\n${B},Anomaly\n`)
    const out = labelStage.run(decode(INSTANCES), { grouped: groupWith("\\[instance: ([0-9a-f-]{36})\\]"), parsed: log, labelFile }, ctx) as LabelledSequences
    expect(Array.from(out.sequences.labels)).toEqual([LABEL_NORMAL, LABEL_ANOMALY])
    expect(() => labelStage.run(decode(INSTANCES), { grouped: groupWith("\\[instance: [0-9a-f-]{36}\\]"), parsed: log, labelFile }, ctx)).toThrow(StageConfigError)
  })
})

describe("label stage run: line_field", () => {
  const ctx: StageContext = { dataRoot: os.tmpdir(), sourcesDir: os.tmpdir(), progress: () => {} }

  it("labels a window anomalous when any of its lines is, and keeps the per-line labels", () => {
    const params = decode({ type: "line_field", field: "Label" })
    const out = labelStage.run(params, { grouped: windows, parsed }, ctx) as LabelledSequences
    // w0: "-", "-"; w2: "KERNDTLB", "-"; w4: "-", "APPSEV".
    expect(Array.from(out.sequences.labels)).toEqual([LABEL_NORMAL, LABEL_ANOMALY, LABEL_ANOMALY])
    expect(Array.from(out.rowLabels!)).toEqual(LINE_LABELS.map((l) => (l === "-" ? LABEL_NORMAL : LABEL_ANOMALY)))
    expect(out.unlabeled).toBe(0)
    expect(labelStage.summarize!(out, params)).toMatchObject({ sequences: 3, unlabeled: 0, histogram: { normal: 1, anomaly: 2, unknown: 0 } })
  })

  it("with window_anomaly_fraction, needs at least that fraction of anomalous lines", () => {
    // Each anomalous window has 1 anomalous line of 2: 0.5 meets 0.5, not 0.6.
    const half = labelStage.run(decode({ type: "line_field", field: "Label", window_anomaly_fraction: 0.5 }), { grouped: windows, parsed }, ctx) as LabelledSequences
    expect(Array.from(half.sequences.labels)).toEqual([LABEL_NORMAL, LABEL_ANOMALY, LABEL_ANOMALY])
    const more = labelStage.run(decode({ type: "line_field", field: "Label", window_anomaly_fraction: 0.6 }), { grouped: windows, parsed }, ctx) as LabelledSequences
    expect(Array.from(more.sequences.labels)).toEqual([LABEL_NORMAL, LABEL_NORMAL, LABEL_NORMAL])
  })

  it("takes normal_value from the config", () => {
    // With "KERNDTLB" as the normal value, every other value is anomalous.
    const out = labelStage.run(decode({ type: "line_field", field: "Label", normal_value: "KERNDTLB" }), { grouped: windows, parsed }, ctx) as LabelledSequences
    expect(Array.from(out.rowLabels!)).toEqual([1, 1, 0, 1, 1, 1])
  })

  it("ignores stream chunks' context rows when labelling, and carries the context on", () => {
    // c2's own rows are 3 and 4 (normal); its context row 2 is anomalous and must not count.
    const chunks: GroupedSequences = { sequences: sequences(["c0", "c2", "c5"], [[0, 1], [2, 3, 4], [4, 5]]), context: Int32Array.from([0, 1, 1]) }
    const out = labelStage.run(decode({ type: "line_field", field: "Label" }), { grouped: chunks, parsed }, ctx) as LabelledSequences
    expect(Array.from(out.sequences.labels)).toEqual([LABEL_NORMAL, LABEL_NORMAL, LABEL_ANOMALY])
    expect(Array.from(out.context!)).toEqual([0, 1, 1])
  })

  it("fails naming the field when the parsed log has no such field", () => {
    expect(() => labelStage.run(decode({ type: "line_field", field: "Severity" }), { grouped: windows, parsed }, ctx)).toThrow(/field "Severity" is not a field of the parsed log \(fields: Label\)/)
  })
})

describe("label stage run: none", () => {
  it("leaves every sequence unknown and counts them all as unlabelled", () => {
    const params = decode({ type: "none" })
    const out = labelStage.run(params, { grouped: windows, parsed }, { dataRoot: os.tmpdir(), sourcesDir: os.tmpdir(), progress: () => {} }) as LabelledSequences
    expect(Array.from(out.sequences.labels)).toEqual([LABEL_UNKNOWN, LABEL_UNKNOWN, LABEL_UNKNOWN])
    expect(out.unlabeled).toBe(3)
    expect(labelStage.summarize!(out, params)).toEqual({ labels: { type: "none" }, sequences: 3, unlabeled: 3, histogram: { normal: 0, anomaly: 0, unknown: 3 } })
  })
})

describe("label stage params", () => {
  it("applies the defaults: Anomaly / Normal label values, '-' as the normal line value", () => {
    expect(decode(ENTITY)).toEqual({ ...ENTITY, anomaly_values: ["Anomaly"], normal_values: ["Normal"] })
    expect(decode({ type: "line_field", field: "Label" })).toEqual({ type: "line_field", field: "Label", normal_value: "-" })
  })

  it("rejects an unknown key, naming it", () => {
    expect(() => decode({ ...ENTITY, entity_col: "BlockId" })).toThrow(/unknown key "entity_col"/)
    expect(() => decode({ type: "none", field: "Label" })).toThrow(/unknown key "field"/)
  })

  it("rejects bad values naming their key", () => {
    expect(() => decode({ type: "line_field", field: "Label", window_anomaly_fraction: 0 })).toThrow(/\["window_anomaly_fraction"\]/)
    expect(() => decode({ type: "line_field", field: "Label", window_anomaly_fraction: 1.5 })).toThrow(/\["window_anomaly_fraction"\]/)
    expect(() => decode({ ...ENTITY, entity_column: "" })).toThrow(/\["entity_column"\]/)
    expect(() => decode({ type: "entity_csv", source: { path: "labels.csv" }, label_column: "Label" })).toThrow(/\["entity_column"\]/)
    expect(() => decode({ ...ENTITY, source: {} })).toThrow(/give exactly one of path, archive or url[\s\S]*\["source"\]/)
  })
})
