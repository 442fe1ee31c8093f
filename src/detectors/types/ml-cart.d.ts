// Minimal typings for ml-cart 2.1.1 (it ships none): only what DecisionTree.ts uses.
declare module "ml-cart" {
  import type { Matrix } from "ml-matrix"

  /** Options of ml-cart's classifier (its README / DecisionTreeClassifier.js). */
  export interface DecisionTreeClassifierOptions {
    readonly gainFunction?: "gini"
    readonly splitFunction?: "mean"
    /** A node with at most this many rows is a leaf. */
    readonly minNumSamples?: number
    readonly maxDepth?: number
    /** A split must gain more than this. */
    readonly gainThreshold?: number
  }

  /** A trained node: internal nodes have `left`/`right` (rows with x[splitColumn] < splitValue go left), leaves a `distribution`. */
  export interface TreeNode {
    readonly splitColumn?: number
    readonly splitValue?: number
    readonly left?: TreeNode
    readonly right?: TreeNode
    /** Leaf class frequencies as a 1 × (largest class in the leaf + 1) row vector. */
    readonly distribution?: Matrix
  }

  export class DecisionTreeClassifier {
    constructor(options?: DecisionTreeClassifierOptions)
    readonly root: TreeNode
    train(trainingSet: ReadonlyArray<ReadonlyArray<number>> | Matrix, labels: ReadonlyArray<number>): void
    predict(toPredict: ReadonlyArray<ReadonlyArray<number>> | Matrix): Array<number>
  }
}
