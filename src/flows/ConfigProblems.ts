/**
 * Config errors found by stages: a stage that throws a `StageConfigError` (the label stage when
 * no sequence received a label) fails its node like any failure, and the flow then reports it as a
 * ConfigError in the dataset file of each run that reads the node, naming the keys with that
 * run's values, so `flow run` exits 2 with one `error:` line per dataset, as for a config error
 * found before any stage ran.
 */
import * as path from "node:path"
import { combineConfigErrors, ConfigError } from "../config/ConfigError.ts"
import { datasetFile } from "../config/Dataset.ts"
import type { ConfigProblem } from "../executor/Executor.ts"
import type { FlowReport } from "./Outcomes.ts"
import { type Plan, runNodeList } from "./Plan.ts"

/** One ConfigError for every config problem of `report`'s failed nodes, or undefined when there is none. */
export const stageConfigErrors = (plan: Plan, report: FlowReport, registryFile: string): ConfigError | undefined =>
  combineConfigErrors(
    plan.runs.flatMap((run) =>
      runNodeList(run).flatMap((n) => {
        const problem = report.nodes.get(n.key)?.config
        if (problem === undefined) return []
        const file = datasetFile(path.dirname(registryFile), run.spec.datasetName)
        return [new ConfigError({ file, ...namedKeys(run.spec.dataset, problem) })]
      })
    )
  )

/**
 * The problem's keys as the dataset spells them, and its detail followed by their values: a
 * top-level table (`grouping`) stands for its own keys but `type` (`grouping.pattern`); a key the
 * dataset lacks is left out; a table's value is not written out (the detail names what it is).
 */
export const namedKeys = (dataset: unknown, problem: ConfigProblem): { readonly keyPath: string; readonly detail: string } => {
  const named = problem.keys.flatMap((key): Array<readonly [string, unknown]> => {
    const value = valueAt(dataset, key)
    if (value === undefined) return []
    if (!key.includes(".") && isTable(value)) {
      return Object.entries(value).filter(([k, v]) => k !== "type" && !isTable(v) && !Array.isArray(v)).map(([k, v]) => [`${key}.${k}`, v])
    }
    return [[key, value]]
  })
  const values = named.filter(([, v]) => !isTable(v)).map(([k, v]) => `${k} = ${tomlValue(v)}`)
  return {
    keyPath: named.map(([k]) => k).join(", "),
    detail: values.length === 0 ? problem.detail : `${problem.detail} (${values.join(", ")})`
  }
}

const isTable = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

const valueAt = (root: unknown, dotted: string): unknown =>
  dotted.split(".").reduce<unknown>((at, k) => (isTable(at) ? at[k] : undefined), root)

/** A value as TOML writes it: a string as a literal string ('...', no escapes) where it can be one. */
const tomlValue = (v: unknown): string =>
  typeof v === "string" ? (/['\n\r]/.test(v) ? JSON.stringify(v) : `'${v}'`) : JSON.stringify(v)
