import { DecisionTreeClassifier, type TreeNode } from "ml-cart"
import { describe, expect, it } from "vitest"
import { type DecisionNode, decisionTree, type DecisionTreeModel, growDecisionTree } from "../../src/detectors/DecisionTree.ts"
import type { DenseMatrix } from "../../src/detectors/base/Features.ts"
import { mulberry32 } from "../../src/artifacts/Random.ts"
import { counts, decodeConfig, fitOk, range, view } from "./fixtures.ts"

/** The split columns of a tree in pre-order, leaves as -1 (ours or ml-cart's). */
const shape = (node: DecisionNode | TreeNode): Array<number> => {
  if ("anomaly" in node) return [-1]
  const n = node as { column?: number; splitColumn?: number; left?: DecisionNode | TreeNode; right?: DecisionNode | TreeNode }
  if (n.left === undefined || n.right === undefined) return [-1]
  return [n.column ?? n.splitColumn ?? -2, ...shape(n.left), ...shape(n.right)]
}

const raw = { term_weighting: "none" }

describe("decision_tree config", () => {
  it("applies loglizer's defaults", () => {
    expect(decodeConfig(decisionTree, {})).toEqual({ max_depth: 0, min_samples: 1, term_weighting: "tf-idf", normalization: "none" })
  })

  it.each([
    ["max_depth", { max_depth: -1 }],
    ["min_samples", { min_samples: 0 }],
    ["criterion", { criterion: "entropy" }]
  ])("rejects a bad %s", (key, input) => {
    expect(() => decodeConfig(decisionTree, input)).toThrow(key)
  })
})

describe("decision_tree", () => {
  it("splits at the midpoint with the lowest weighted Gini impurity, by hand", () => {
    // Counts of template 1: 0, 1 (normal), 2, 3 (anomalous), 3 (normal). Candidate x <= 0.5:
    // left {N}, right {N, A, A, N}: 4·(2·2·2/16) = 2; x <= 1.5: left {N, N} pure, right {A, A, N}:
    // 3·(2·(2/3)(1/3)) = 4/3 (best); x <= 2.5: left {N,N,A}: 4/3 too, but the first best wins.
    const d = view([[], counts([1, 1]), counts([1, 2]), counts([1, 3]), counts([1, 3]), counts([1, 2])], [0, 0, 1, 1, 0, -1])
    const model = fitOk(decisionTree, d, range(5), { ...raw, max_depth: 1 })
    expect(model.root).toEqual({ column: 0, value: 1.5, left: { anomaly: 0 }, right: { anomaly: 2 / 3 } })
    const out = decisionTree.score(model, d, Int32Array.from([0, 5]), decodeConfig(decisionTree, raw))
    expect([...out.scores]).toEqual([0, 2 / 3])
    expect([...out.predictions]).toEqual([0, 1])
    // Unlimited depth: the right node splits again at 2.5 ({A} | {A, N} with equal x = 3 stays 50/50).
    const full = fitOk(decisionTree, d, range(5), raw)
    expect(full.root).toEqual({
      column: 0,
      value: 1.5,
      left: { anomaly: 0 },
      right: { column: 0, value: 2.5, left: { anomaly: 1 }, right: { anomaly: 0.5 } }
    })
    // A 50/50 leaf is normal (anomaly iff > 0.5).
    expect([...decisionTree.score(full, d, Int32Array.from([3]), decodeConfig(decisionTree, raw)).predictions]).toEqual([0])
  })

  it("grows the same tree as ml-cart on continuous features (no ties)", () => {
    // Without tied values both consider every useful boundary, so the trees and predictions match.
    const random = mulberry32(21)
    for (let trial = 0; trial < 5; trial++) {
      const n = 150
      const x: DenseMatrix = { rows: n, cols: 3, values: Float64Array.from({ length: n * 3 }, () => random()) }
      const y = Uint8Array.from({ length: n }, (_, i) => (x.values[i * 3]! + (random() - 0.5) * 0.4 > x.values[i * 3 + 1]! ? 1 : 0))
      const rows = (from: number, to: number) =>
        Array.from({ length: to - from }, (_, k) => Array.from(x.values.subarray((from + k) * 3, (from + k + 1) * 3)))
      const ours = growDecisionTree({ rows: 100, cols: 3, values: x.values.subarray(0, 300) }, y.subarray(0, 100), Infinity, 1)
      const reference = new DecisionTreeClassifier({ gainFunction: "gini", minNumSamples: 1, gainThreshold: 0 })
      reference.train(rows(0, 100), Array.from(y.subarray(0, 100)))
      expect(shape(ours)).toEqual(shape(reference.root))
      const predict = (row: ReadonlyArray<number>) => {
        let node = ours
        while (!("anomaly" in node)) node = row[node.column]! <= node.value ? node.left : node.right
        return node.anomaly > 0.5 ? 1 : 0
      }
      expect(rows(0, n).map(predict)).toEqual(reference.predict(rows(0, n)))
    }
  })

  it("scores the same from a JSON round trip", () => {
    const d = view([[1], [1, 2], [2, 2], [3], [1, 3]], [0, 0, 1, 1, 0])
    const model = fitOk(decisionTree, d, range(5))
    const copy = JSON.parse(JSON.stringify(model)) as DecisionTreeModel
    const config = decodeConfig(decisionTree, {})
    expect(decisionTree.score(copy, d, range(5), config)).toEqual(decisionTree.score(model, d, range(5), config))
  })

  it.each([
    ["no anomalies", [0, 0], /got 2 normal, 0 anomalous/],
    ["no normal sequences", [1, 1], /got 0 normal, 2 anomalous/]
  ])("is invalid with %s", (_, labels, reason) => {
    const out = decisionTree.fit(view([[1], [2]], labels), range(2), decodeConfig(decisionTree, {}))
    expect(out.status === "invalid" && out.reason).toMatch(reason)
  })
})
