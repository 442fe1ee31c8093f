/**
 * The registry of every detector, by tag. Look a detector up from an experiment file with
 * `getDetector(tag)`; `detectors` lists them all. The contract (`Detector`, `FitResult`, ...) and
 * `UnknownDetectorError` stay in `Detector.ts`, which detectors import only as types, so this
 * module is the one place that imports every detector (no import cycle).
 */
import { type AnyDetector, UnknownDetectorError } from "./base/Detector.ts"
import { decisionTree } from "./DecisionTree.ts"
import { deepLog } from "./deeplog/DeepLog.ts"
import { ewmWindow } from "./EwmWindow.ts"
import { invariantsMining } from "./InvariantsMining.ts"
import { isolationForest } from "./IsolationForest.ts"
import { linearSvm } from "./LinearSVM.ts"
import { logClustering } from "./LogClustering.ts"
import { logisticRegression } from "./LogisticRegression.ts"
import { markov } from "./Markov.ts"
import { naiveBayes } from "./NaiveBayes.ts"
import { pca } from "./PCA.ts"
import { templateFrequency } from "./TemplateFrequency.ts"

export { UnknownDetectorError }

/** Every detector, by tag. */
export const detectors: Readonly<Record<string, AnyDetector>> = Object.fromEntries(
  [
    templateFrequency,
    naiveBayes,
    markov,
    pca,
    invariantsMining,
    logClustering,
    isolationForest,
    logisticRegression,
    decisionTree,
    linearSvm,
    deepLog,
    ewmWindow
  ].map((d): [string, AnyDetector] => [d.tag, d])
)

/** The detector with this tag; throws `UnknownDetectorError` (listing the known tags) otherwise. */
export const getDetector = (tag: string): AnyDetector => {
  const detector = Object.hasOwn(detectors, tag) ? detectors[tag] : undefined
  if (detector === undefined) throw new UnknownDetectorError(tag, Object.keys(detectors).sort())
  return detector
}
