/**
 * The DeepLog LSTM on TensorFlow.js (cpu or wasm backend), as a gradient function over the
 * canonical weights of src/detectors/deeplog (gate order i, f, g, o; W [in, 4H], R [H, 4H]).
 * It is a training-backend candidate measured by `npm run bench:train` and the oracle that the
 * native LSTM's gradients are checked against; logflow itself trains on the native LSTM.
 */
import * as tf from "@tensorflow/tfjs"
import { setThreadsCount } from "@tensorflow/tfjs-backend-wasm"
import type { LstmShape, LstmWeights } from "../../src/detectors/deeplog/LstmTypes.ts"
import type { GradientFn } from "../../src/detectors/deeplog/Training.ts"

export type TfjsBackend = "cpu" | "wasm"

/** Select and initialise a backend (wasm: single-threaded unless `threads` is given). */
export const useBackend = async (backend: TfjsBackend, threads?: number): Promise<void> => {
  if (backend === "wasm" && threads !== undefined) setThreadsCount(threads)
  await tf.setBackend(backend)
  await tf.ready()
  if (tf.getBackend() !== backend) throw new Error(`tfjs backend ${backend} did not initialise (got ${tf.getBackend()})`)
}

interface Vars {
  readonly layers: ReadonlyArray<{ readonly W: tf.Variable; readonly R: tf.Variable; readonly b: tf.Variable }>
  readonly Wo: tf.Variable
  readonly bo: tf.Variable
}

const makeVars = (shape: LstmShape): Vars => ({
  layers: Array.from({ length: shape.layers }, (_, l) => ({
    W: tf.variable(tf.zeros([l === 0 ? shape.inputSize : shape.hidden, 4 * shape.hidden])),
    R: tf.variable(tf.zeros([shape.hidden, 4 * shape.hidden])),
    b: tf.variable(tf.zeros([4 * shape.hidden]))
  })),
  Wo: tf.variable(tf.zeros([shape.hidden, shape.outputSize])),
  bo: tf.variable(tf.zeros([shape.outputSize]))
})

const assign = (vars: Vars, w: LstmWeights): void => {
  vars.layers.forEach((v, l) => {
    const src = w.layers[l]!
    v.W.assign(tf.tensor(src.W, v.W.shape))
    v.R.assign(tf.tensor(src.R, v.R.shape))
    v.b.assign(tf.tensor(src.b, v.b.shape))
  })
  vars.Wo.assign(tf.tensor(w.Wo, vars.Wo.shape))
  vars.bo.assign(tf.tensor(w.bo, vars.bo.shape))
}

/** Logits [B, K] of id windows [B, T] (inside a tidy). */
const logits = (shape: LstmShape, vars: Vars, ids: tf.Tensor2D): tf.Tensor2D => {
  const H = shape.hidden
  const [B, T] = ids.shape
  // One-hot inputs times W (a gather would be cheaper, but its gradient kernel, UnsortedSegmentSum,
  // is missing from the wasm backend).
  let xs = tf.unstack(tf.cast(tf.oneHot(ids, shape.inputSize), "float32"), 1) as Array<tf.Tensor2D>
  for (let l = 0; l < shape.layers; l++) {
    const v = vars.layers[l]!
    let h: tf.Tensor2D = tf.zeros([B, H])
    let c: tf.Tensor2D = tf.zeros([B, H])
    const out: Array<tf.Tensor2D> = []
    for (let t = 0; t < T; t++) {
      const xw = tf.matMul(xs[t]!, v.W)
      const z = tf.add(tf.add(xw, tf.matMul(h, v.R)), v.b) as tf.Tensor2D
      const [i, f, g, o] = tf.split(z, 4, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D]
      c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)))
      h = tf.mul(tf.sigmoid(o), tf.tanh(c))
      out.push(h)
    }
    xs = out
  }
  return tf.add(tf.matMul(xs[T - 1]!, vars.Wo), vars.bo)
}

const read = (shape: LstmShape, vars: Vars, grads: tf.NamedTensorMap): LstmWeights => {
  const get = (v: tf.Variable) => grads[v.name]!.dataSync() as Float32Array
  return {
    layers: vars.layers.map((v) => ({ W: get(v.W).slice(), R: get(v.R).slice(), b: get(v.b).slice() })),
    Wo: get(vars.Wo).slice(),
    bo: get(vars.bo).slice()
  }
}

/** A softmax cross-entropy gradient function on the current tfjs backend (ids input only). */
export const tfjsGradients = (): GradientFn => {
  let vars: Vars | undefined
  let varsShape = ""
  return (shape, weights, inputs, targets, batch, steps) => {
    if (shape.inputKind !== "ids") throw new Error("tfjsGradients: ids input only")
    if (vars === undefined || varsShape !== JSON.stringify(shape)) {
      vars = makeVars(shape)
      varsShape = JSON.stringify(shape)
    }
    const v = vars
    assign(v, weights)
    const ids = tf.tensor2d(inputs, [batch, steps], "int32")
    const labels = tf.oneHot(tf.tensor1d(targets, "int32"), shape.outputSize)
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, logits(shape, v, ids)) as tf.Scalar)
    const loss = value.dataSync()[0]!
    const out = read(shape, v, grads)
    tf.dispose([ids, labels, value, ...Object.values(grads)])
    return { loss, grads: out }
  }
}

/** Logits [B, K] on the current tfjs backend (for scoring-throughput comparisons). */
export const tfjsForward = (shape: LstmShape, weights: LstmWeights) => {
  const vars = makeVars(shape)
  assign(vars, weights)
  return (inputs: Int32Array, batch: number, steps: number): Float32Array =>
    tf.tidy(() => logits(shape, vars, tf.tensor2d(inputs, [batch, steps], "int32")).dataSync() as Float32Array)
}
