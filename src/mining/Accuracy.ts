/**
 * Log parsing accuracy against ground truth, per line: grouping accuracy (GA, Zhu et al. ICSE-SEIP
 * 2019), group F1 (FGA, Khan et al. ICSE 2022 / LogPM), exact-template accuracy (PA) and
 * template-level F1 (FTA, Khan et al. ICSE 2022 / Loghub-2.0). Use it to score a miner on
 * LogHub's `*_structured.csv` (`bench/parse.ts`, `flow parse --truth`). Inputs are per-line group
 * keys (any value; equal keys are one group) and, for PA and FTA, per-line template strings.
 */

/** Group F1: a predicted group is correct iff it holds exactly the lines of one true group. */
export interface GroupF1 {
  readonly precision: number
  readonly recall: number
  readonly f1: number
  /** Predicted groups equal to a true group. */
  readonly correct: number
  readonly predictedGroups: number
  readonly trueGroups: number
}

/**
 * GA: the fraction of lines whose predicted group holds exactly the same lines as their true
 * group (logparser's `get_accuracy`). NaN for no lines.
 */
export const groupingAccuracy = (predicted: ArrayLike<unknown>, truth: ArrayLike<unknown>): number => {
  const { correctLines, n } = matchGroups(predicted, truth)
  return n === 0 ? NaN : correctLines / n
}

/**
 * FGA: precision = correct / predicted groups, recall = correct / true groups, F1 their
 * harmonic mean (0 when both are 0). NaN fields for no lines.
 */
export const groupF1 = (predicted: ArrayLike<unknown>, truth: ArrayLike<unknown>): GroupF1 => {
  const { correctGroups, predictedGroups, trueGroups, n } = matchGroups(predicted, truth)
  if (n === 0) return { precision: NaN, recall: NaN, f1: NaN, correct: 0, predictedGroups: 0, trueGroups: 0 }
  return { ...precisionRecallF1(correctGroups, predictedGroups, trueGroups), correct: correctGroups, predictedGroups, trueGroups }
}

/** precision = correct / predicted, recall = correct / truth, F1 their harmonic mean (0 when both are 0). */
export const precisionRecallF1 = (correct: number, predicted: number, truth: number): { precision: number; recall: number; f1: number } => {
  const precision = correct / predicted
  const recall = correct / truth
  return { precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall) }
}

/**
 * PA: the fraction of lines whose predicted template equals the true one after
 * `normalizeTemplate` on both. NaN for no lines.
 */
export const templateAccuracy = (predicted: ArrayLike<string>, truth: ArrayLike<string>): number => {
  if (predicted.length !== truth.length) {
    throw new Error(`templateAccuracy: ${predicted.length} predicted templates but ${truth.length} true ones`)
  }
  const n = predicted.length
  if (n === 0) return NaN
  // Templates repeat: normalise each distinct string once.
  const memo = new Map<string, string>()
  const norm = (t: string): string => {
    let v = memo.get(t)
    if (v === undefined) {
      v = normalizeTemplate(t)
      memo.set(t, v)
    }
    return v
  }
  let correct = 0
  for (let i = 0; i < n; i++) if (norm(predicted[i]!) === norm(truth[i]!)) correct++
  return correct / n
}

/** Template-level F1 (FTA): see `templateF1`. */
export interface TemplateF1 {
  readonly precision: number
  readonly recall: number
  readonly f1: number
  /** Predicted templates that are correct. */
  readonly correct: number
  readonly predictedTemplates: number
  readonly trueTemplates: number
}

/**
 * FTA (Khan et al. ICSE 2022, as Loghub-2.0 computes it): the true templates are the distinct
 * `truth` strings, each with its lines; a predicted template is a predicted group (equal keys in
 * `predicted`) with the text `predictedTemplates` gives its first line. It is correct when the
 * group holds exactly the lines of one true template and its text equals that template after
 * `normalizeTemplate` on both. precision = correct / predicted templates, recall = correct / true
 * templates, F1 their harmonic mean. NaN fields for no lines.
 */
export const templateF1 = (predicted: ArrayLike<unknown>, predictedTemplates: ArrayLike<string>, truth: ArrayLike<string>): TemplateF1 => {
  if (predictedTemplates.length !== predicted.length) {
    throw new Error(`templateF1: ${predicted.length} predicted groups but ${predictedTemplates.length} predicted templates`)
  }
  const { groups, trueSize, predictedGroups, trueGroups, n } = matchGroups(predicted, truth)
  if (n === 0) return { precision: NaN, recall: NaN, f1: NaN, correct: 0, predictedTemplates: 0, trueTemplates: 0 }
  let correct = 0
  for (const g of groups.values()) {
    if (g.mixed || trueSize.get(g.label) !== g.size) continue
    if (normalizeTemplate(predictedTemplates[g.first]!) === normalizeTemplate(String(g.label))) correct++
  }
  return { ...precisionRecallF1(correct, predictedGroups, trueGroups), correct, predictedTemplates: predictedGroups, trueTemplates: trueGroups }
}

/**
 * The normalisation PA compares under: a run of `<*>` separated only by whitespace (or nothing)
 * is one `<*>` ("<*> <*>" and "<*><*>" are "<*>", so writing a two-token value as one or two
 * wildcards is not a difference), whitespace runs are one space, and the ends are trimmed.
 * Nothing else changes: "<*>:<*>" stays, and so does every literal character.
 */
export const normalizeTemplate = (template: string): string =>
  template.replace(PARAM_RUN, "<*>").replace(WHITESPACE_RUN, " ").trim()

// ---------------------------------------------------------------------------------------------

const PARAM_RUN = /<\*>(?:\s*<\*>)+/g
const WHITESPACE_RUN = /\s+/g

/** One pass: true group sizes, and per predicted group its size and its single true group (or mixed). */
const matchGroups = (predicted: ArrayLike<unknown>, truth: ArrayLike<unknown>) => {
  if (predicted.length !== truth.length) {
    throw new Error(`accuracy: ${predicted.length} predicted groups but ${truth.length} ground-truth labels`)
  }
  const n = predicted.length
  const trueSize = new Map<unknown, number>()
  for (let i = 0; i < n; i++) trueSize.set(truth[i], (trueSize.get(truth[i]) ?? 0) + 1)
  const groups = new Map<unknown, { size: number; label: unknown; mixed: boolean; first: number }>()
  for (let i = 0; i < n; i++) {
    const g = groups.get(predicted[i])
    if (g === undefined) groups.set(predicted[i], { size: 1, label: truth[i], mixed: false, first: i })
    else {
      g.size++
      if (g.label !== truth[i]) g.mixed = true
    }
  }
  // A predicted group equals a true group iff all its lines share one true label and it has all of them.
  let correctLines = 0
  let correctGroups = 0
  for (const g of groups.values()) {
    if (!g.mixed && trueSize.get(g.label) === g.size) {
      correctLines += g.size
      correctGroups++
    }
  }
  return { correctLines, correctGroups, predictedGroups: groups.size, trueGroups: trueSize.size, n, groups, trueSize }
}
