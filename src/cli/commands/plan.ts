/**
 * `flow plan`: the DAG, each stage node once with its key prefix and state (cached, to run,
 * uncached, or unresolved when a source it reads cannot be found), as text, JSON or Graphviz DOT.
 * Needs no data: unresolved sources are named on stderr.
 */
import { Console, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { planStates, prepareFlow, unresolvedKeys } from "../../flows/Flow.ts"
import { planDot, planJson, planText } from "../view/PlanView.ts"
import { flowOptions, handleErrors, json, selection, withCache } from "./shared.ts"

export const planCommand = Command.make(
  "plan",
  { ...selection, json, dot: Flag.Boolean("dot").pipe(Flag.withDescription("Print Graphviz DOT"), Flag.withDefault(false)) },
  Effect.fn("cli.plan")(function*(args) {
    const { plan, unresolved } = yield* prepareFlow(flowOptions(args), { withoutData: true })
    const states = yield* withCache(args.cacheDir, planStates(plan, unresolvedKeys(plan, unresolved)))
    const view = planJson(plan, new Map(states.map((s) => [s.node.key, s.state])))
    for (const [name, why] of unresolved) yield* Console.error(`unresolved source ${name}: ${why}`)
    yield* Console.log(args.json ? JSON.stringify(view, null, 2) : args.dot ? planDot(view) : planText(view))
  }, handleErrors)
).pipe(Command.withDescription("Show the DAG: each stage node once, its key prefix and state (cached / to run); no data needed"))
