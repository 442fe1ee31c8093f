/**
 * Canonical DeepLog LSTM shape and weights: the contract between training (NativeLstm.ts), the
 * TensorFlow.js comparison (bench/lib/tfjsLstm.ts), checkpoints and the ONNX export (Onnx.ts).
 *
 * Layer l reads in_l = inputSize (l = 0) or hidden (l > 0) values per step. `W` is row-major
 * [in_l, 4H], `R` row-major [H, 4H], `b` [4H]; the 4H columns are four blocks of H in gate order
 * i, f, g, o. Head: y = h_T(last layer)·Wo + bo with `Wo` row-major [H, outputSize], `bo` [outputSize].
 */
export interface LstmShape {
  /** ids: each step is an integer key in [0, inputSize), fed as one-hot; dense: a float vector of length inputSize. */
  readonly inputKind: "ids" | "dense"
  readonly inputSize: number
  readonly hidden: number
  readonly layers: number
  readonly outputSize: number
}

export interface LstmLayerWeights {
  readonly W: Float32Array
  readonly R: Float32Array
  readonly b: Float32Array
}

export interface LstmWeights {
  readonly layers: ReadonlyArray<LstmLayerWeights>
  readonly Wo: Float32Array
  readonly bo: Float32Array
}
