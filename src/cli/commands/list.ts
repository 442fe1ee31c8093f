/**
 * `flow list`: experiments, groups and concrete runs of a registry (a selection of them), with each
 * run's fingerprint. Needs no data: a source that cannot be resolved is named, and the runs that
 * read it show no fingerprint.
 */
import { Console, Effect } from "effect"
import { Command } from "effect/cli"
import { prepareFlow, unresolvedKeys } from "../../flows/Flow.ts"
import { flowOptions, handleErrors, json, selection } from "./shared.ts"

export const listCommand = Command.make(
  "list",
  { ...selection, json },
  Effect.fn("cli.list")(function*(args) {
    const { registry, plan, unresolved } = yield* prepareFlow(flowOptions(args), { withoutData: true })
    const missing = unresolvedKeys(plan, unresolved)
    const fingerprint = (r: (typeof plan.runs)[number]) => (missing.has(r.nodes.evaluate.key) ? null : r.fingerprint)
    const selected = new Set(plan.runs.map((r) => r.spec.name))
    const picked = (m: ReadonlyMap<string, ReadonlyArray<string>>) =>
      [...m].map(([k, rs]) => [k, rs.filter((r) => selected.has(r))] as const).filter(([, rs]) => rs.length > 0)
    if (args.json) {
      return yield* Console.log(JSON.stringify({
        experiments: Object.fromEntries(picked(registry.experiments)),
        groups: Object.fromEntries(picked(registry.groups)),
        runs: plan.runs.map((r) => ({ name: r.spec.name, experiment: r.spec.experiment, groups: r.spec.groups, fingerprint: fingerprint(r), axes: r.spec.axes })),
        unresolved_sources: Object.fromEntries(unresolved)
      }, null, 2))
    }
    const lines: Array<string> = ["EXPERIMENTS"]
    for (const [e, rs] of picked(registry.experiments)) lines.push(`  ${e}  (${rs.length} runs)`)
    lines.push("GROUPS")
    for (const [g, rs] of picked(registry.groups)) lines.push(`  ${g}  (${rs.length} runs)`)
    lines.push("RUNS")
    for (const r of plan.runs) lines.push(`  ${r.spec.name}  ${fingerprint(r) ?? "(fingerprint unknown: a source is unresolved)"}`)
    lines.push(`${plan.runs.length} runs`)
    for (const [name, why] of unresolved) lines.push(`unresolved source ${name}: ${why}`)
    yield* Console.log(lines.join("\n"))
  }, handleErrors)
).pipe(Command.withDescription("List experiments, groups and concrete runs (no data needed)"))
