/** What every layer's forward and backward pass reads: the kernels, training or inference, the dropout generator. */
import type { Kernels } from "../runtime/Kernels.ts"
import type { Rng } from "./Params.ts"

export interface Ctx {
  readonly kernels: Kernels
  /** Dropout is active only while training. */
  readonly training: boolean
  readonly rng: Rng
}
