/**
 * Flow events: what the runner tells the outside world (stage started, cached, done, failed,
 * skipped; progress; run written). The CLI renders them as a live view or plain log lines;
 * tests collect them. The runner never formats output itself.
 */
import { Context, Effect, Layer } from "effect"

export type FlowEvent =
  | { readonly _tag: "Planned"; readonly runs: number; readonly nodes: number }
  | { readonly _tag: "StageCached"; readonly key: string; readonly stage: string; readonly label: string }
  | { readonly _tag: "StageStarted"; readonly key: string; readonly stage: string; readonly label: string }
  /** Another flow on the same cache is computing this stage: this one waits for its entry. */
  | { readonly _tag: "StageWaiting"; readonly key: string; readonly stage: string; readonly label: string; readonly pid: number; readonly host: string }
  | { readonly _tag: "StageProgress"; readonly key: string; readonly stage: string; readonly fraction: number; readonly message?: string }
  | { readonly _tag: "StageResumed"; readonly key: string; readonly stage: string; readonly label: string; readonly step: number }
  | { readonly _tag: "StageCheckpoint"; readonly key: string; readonly stage: string; readonly label: string; readonly step: number; readonly bytes: number }
  | { readonly _tag: "StageDone"; readonly key: string; readonly stage: string; readonly label: string; readonly ms: number; readonly bytes: number }
  | { readonly _tag: "StageFailed"; readonly key: string; readonly stage: string; readonly label: string; readonly error: string }
  | { readonly _tag: "StageSkipped"; readonly key: string; readonly stage: string; readonly label: string; readonly reason: string }
  /** Something the user should know about a stage that does not stop it (e.g. it runs uncached). */
  | { readonly _tag: "StageWarning"; readonly key: string; readonly stage: string; readonly label: string; readonly message: string }
  | { readonly _tag: "RunWritten"; readonly run: string; readonly dir: string; readonly status: "written" | "complete" }
  | { readonly _tag: "RunFailed"; readonly run: string; readonly error: string }

export class FlowEvents extends Context.Service<FlowEvents, {
  /** Deliver one event; never fails. */
  emit(event: FlowEvent): Effect.Effect<void>
}>()("logflow/flows/FlowEvents") {
  /** Deliver events to a plain callback. */
  static readonly layerCallback = (f: (event: FlowEvent) => void) =>
    Layer.succeed(FlowEvents, FlowEvents.of({ emit: (event) => Effect.sync(() => f(event)) }))

  /** Drop every event. */
  static readonly layerSilent = Layer.succeed(FlowEvents, FlowEvents.of({ emit: () => Effect.void }))
}
