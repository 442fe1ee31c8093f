/**
 * Every stage by name. Worker threads look stages up here, so a stage runs the same code
 * whichever thread runs it; a new stage is one file in this folder and one line below.
 */
import { evaluateStage } from "./EvaluateStage.ts"
import { fitStage } from "./FitStage.ts"
import { groupStage } from "./GroupStage.ts"
import { labelStage } from "./LabelStage.ts"
import { mineStage } from "./MineStage.ts"
import { parseStage } from "./ParseStage.ts"
import { representStage } from "./RepresentStage.ts"
import { scoreStage } from "./ScoreStage.ts"
import { sessionsStage } from "./SessionsStage.ts"
import { sourceStage } from "./SourceStage.ts"
import { splitStage } from "./SplitStage.ts"
import { eraseStage, type AnyStage } from "./Task.ts"

export const stages: Readonly<Record<string, AnyStage>> = Object.fromEntries(
  [
    eraseStage(sourceStage),
    eraseStage(parseStage),
    eraseStage(mineStage),
    eraseStage(groupStage),
    eraseStage(labelStage),
    eraseStage(sessionsStage),
    eraseStage(splitStage),
    eraseStage(representStage),
    eraseStage(fitStage),
    eraseStage(scoreStage),
    eraseStage(evaluateStage)
  ].map((s) => [s.name, s])
)

/** The stage named `name`; throws listing the known stages. */
export const stageByName = (name: string): AnyStage => {
  const s = stages[name]
  if (s === undefined) throw new Error(`unknown stage "${name}"; known: ${Object.keys(stages).join(", ")}`)
  return s
}
