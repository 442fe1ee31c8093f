/**
 * DeepLog LSTM ⇄ ONNX: export the canonical weights (LstmTypes.ts) as an ONNX graph built from the
 * standard `LSTM` operator, score it with onnxruntime-node on the CPU, and a float64 scalar
 * reference forward pass used as an oracle.
 *
 * Graph (names are stable):
 *   ids:   keys int64 [batch, steps] → Gather(onehot_table = I[V]) → onehot [batch, steps, V]
 *   dense: features float [batch, steps, D]
 *   → Transpose(perm 1,0,2) → x0 [steps, batch, in]
 *   → lstm{l}(x{l}, lstm{l}.W, lstm{l}.R, lstm{l}.B); between layers Squeeze(lstm{l}.Y, axis 1) → x{l+1}
 *   → Squeeze(lstm{L-1}.Y_h, axis 0) → h_last [batch, H] → MatMul head.Wo → Add head.bo
 *   → logits (ids) | outputs (dense) float [batch, outputSize]
 * The model carries metadata_props logflow.input_kind / input_size / output_size (and steps when
 * fixed), which OnnxScorer reads to validate its inputs.
 */
import onnxProto from "onnx-proto"
import type { onnx } from "onnx-proto"
import type { InferenceSession, Tensor } from "onnxruntime-node"
import type * as Ort from "onnxruntime-node"
import { requireNative } from "../../runtime/ProjectRoot.ts"
import type { LstmShape, LstmWeights } from "./LstmTypes.ts"

const proto = onnxProto.onnx

export const ONNX_OPSET = 17
export const ONNX_IR_VERSION = 8

/** Graph input / output names by input kind. */
export const onnxNames = {
  ids: { input: "keys", output: "logits" },
  dense: { input: "features", output: "outputs" }
} as const

const META_KIND = "logflow.input_kind"
const META_INPUT_SIZE = "logflow.input_size"
const META_OUTPUT_SIZE = "logflow.output_size"
const META_STEPS = "logflow.steps"

export interface ExportOptions {
  /** Fixed sequence length; omitted: the steps axis is dynamic ("steps"). */
  readonly steps?: number
  readonly producer?: string
  readonly docString?: string
}

// ---------------------------------------------------------------------------------------------
// Validation

const isPositiveInt = (n: number) => Number.isInteger(n) && n > 0

/** Throws unless the shape is sane and every weight array has the length the shape implies. */
export const validateLstm = (shape: LstmShape, weights: LstmWeights): void => {
  if (shape.inputKind !== "ids" && shape.inputKind !== "dense") {
    throw new Error(`inputKind must be "ids" or "dense", got ${JSON.stringify(shape.inputKind)}`)
  }
  for (const key of ["inputSize", "hidden", "layers", "outputSize"] as const) {
    if (!isPositiveInt(shape[key])) throw new Error(`${key} must be a positive integer, got ${shape[key]}`)
  }
  if (weights.layers.length !== shape.layers) {
    throw new Error(`weights has ${weights.layers.length} layers, expected ${shape.layers}`)
  }
  const H = shape.hidden
  const check = (name: string, array: Float32Array, expected: number) => {
    if (!(array instanceof Float32Array)) throw new Error(`${name} must be a Float32Array`)
    if (array.length !== expected) throw new Error(`${name} has ${array.length} values, expected ${expected}`)
  }
  weights.layers.forEach((layer, l) => {
    const inSize = l === 0 ? shape.inputSize : H
    check(`layers[${l}].W`, layer.W, inSize * 4 * H)
    check(`layers[${l}].R`, layer.R, H * 4 * H)
    check(`layers[${l}].b`, layer.b, 4 * H)
  })
  check("Wo", weights.Wo, H * shape.outputSize)
  check("bo", weights.bo, shape.outputSize)
}

const validateInput = (
  shape: LstmShape,
  input: Int32Array | Float32Array,
  batch: number,
  steps: number
): void => {
  if (!Number.isInteger(batch) || batch < 0) throw new Error(`batch must be a non-negative integer, got ${batch}`)
  if (!isPositiveInt(steps)) throw new Error(`steps must be a positive integer, got ${steps}`)
  if (shape.inputKind === "ids") {
    if (!(input instanceof Int32Array)) throw new Error("ids input must be an Int32Array of keys")
    if (input.length !== batch * steps) {
      throw new Error(`input has ${input.length} keys, expected batch·steps = ${batch * steps}`)
    }
    for (let i = 0; i < input.length; i++) {
      const k = input[i]
      if (k < 0 || k >= shape.inputSize) {
        throw new Error(`input[${i}] = ${k} is not a key in [0, ${shape.inputSize})`)
      }
    }
  } else {
    if (!(input instanceof Float32Array)) throw new Error("dense input must be a Float32Array")
    const expected = batch * steps * shape.inputSize
    if (input.length !== expected) {
      throw new Error(`input has ${input.length} values, expected batch·steps·inputSize = ${expected}`)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Export

/** Our gate blocks are i, f, g, o; ONNX's are i, o, f, c. ONNX block q holds our block OURS_OF_ONNX[q]. */
const OURS_OF_ONNX = [0, 3, 1, 2] as const

/** [in, 4H] row-major (gates i f g o) → ONNX [1, 4H, in] (gates i o f c). */
const toOnnxGateMajor = (m: Float32Array, inSize: number, H: number): Float32Array => {
  const out = new Float32Array(4 * H * inSize)
  for (let q = 0; q < 4; q++) {
    const block = OURS_OF_ONNX[q] * H
    for (let j = 0; j < H; j++) {
      const row = (q * H + j) * inSize
      for (let k = 0; k < inSize; k++) out[row + k] = m[k * 4 * H + block + j]
    }
  }
  return out
}

/** b [4H] (i f g o) → ONNX B [1, 8H]: Wb in gate order i o f c, then Rb = 0. */
const toOnnxBias = (b: Float32Array, H: number): Float32Array => {
  const out = new Float32Array(8 * H)
  for (let q = 0; q < 4; q++) out.set(b.subarray(OURS_OF_ONNX[q] * H, OURS_OF_ONNX[q] * H + H), q * H)
  return out
}

const floatTensor = (name: string, dims: ReadonlyArray<number>, data: Float32Array): onnx.ITensorProto => {
  const raw = new Uint8Array(data.length * 4)
  const view = new DataView(raw.buffer)
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true)
  return { name, dims: [...dims], dataType: proto.TensorProto.DataType.FLOAT, rawData: raw }
}

const int64Tensor = (name: string, values: ReadonlyArray<number>): onnx.ITensorProto => {
  const raw = new Uint8Array(values.length * 8)
  const view = new DataView(raw.buffer)
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true))
  return { name, dims: [values.length], dataType: proto.TensorProto.DataType.INT64, rawData: raw }
}

type Dim = number | string

const valueInfo = (name: string, elemType: number, dims: ReadonlyArray<Dim>): onnx.IValueInfoProto => ({
  name,
  type: {
    tensorType: {
      elemType,
      shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) }
    }
  }
})

const node = (
  opType: string,
  name: string,
  input: ReadonlyArray<string>,
  output: ReadonlyArray<string>,
  attribute: ReadonlyArray<onnx.IAttributeProto> = []
): onnx.INodeProto => ({ opType, name, input: [...input], output: [...output], attribute: [...attribute] })

const intAttr = (name: string, i: number): onnx.IAttributeProto => ({
  name,
  type: proto.AttributeProto.AttributeType.INT,
  i
})

const intsAttr = (name: string, ints: ReadonlyArray<number>): onnx.IAttributeProto => ({
  name,
  type: proto.AttributeProto.AttributeType.INTS,
  ints: [...ints]
})

/** Serialize the LSTM as an ONNX ModelProto (opset 17, IR 8). Deterministic: same inputs, same bytes. */
export const exportOnnx = (shape: LstmShape, weights: LstmWeights, options: ExportOptions = {}): Uint8Array => {
  validateLstm(shape, weights)
  const { steps } = options
  if (steps !== undefined && !isPositiveInt(steps)) throw new Error(`steps must be a positive integer, got ${steps}`)
  const H = shape.hidden
  const V = shape.inputSize
  const names = onnxNames[shape.inputKind]
  const stepsDim: Dim = steps ?? "steps"
  const FLOAT = proto.TensorProto.DataType.FLOAT

  const nodes: Array<onnx.INodeProto> = []
  const initializers: Array<onnx.ITensorProto> = []
  let graphInput: onnx.IValueInfoProto
  let transposeFrom: string
  if (shape.inputKind === "ids") {
    graphInput = valueInfo(names.input, proto.TensorProto.DataType.INT64, ["batch", stepsDim])
    const identity = new Float32Array(V * V)
    for (let k = 0; k < V; k++) identity[k * V + k] = 1
    initializers.push(floatTensor("onehot_table", [V, V], identity))
    nodes.push(node("Gather", "onehot", ["onehot_table", names.input], ["onehot"], [intAttr("axis", 0)]))
    transposeFrom = "onehot"
  } else {
    graphInput = valueInfo(names.input, FLOAT, ["batch", stepsDim, V])
    transposeFrom = names.input
  }
  nodes.push(node("Transpose", "to_time_major", [transposeFrom], ["x0"], [intsAttr("perm", [1, 0, 2])]))
  initializers.push(int64Tensor("axis0", [0]))
  if (shape.layers > 1) initializers.push(int64Tensor("axis1", [1]))

  weights.layers.forEach((layer, l) => {
    const inSize = l === 0 ? V : H
    const p = `lstm${l}`
    initializers.push(
      floatTensor(`${p}.W`, [1, 4 * H, inSize], toOnnxGateMajor(layer.W, inSize, H)),
      floatTensor(`${p}.R`, [1, 4 * H, H], toOnnxGateMajor(layer.R, H, H)),
      floatTensor(`${p}.B`, [1, 8 * H], toOnnxBias(layer.b, H))
    )
    const last = l === shape.layers - 1
    nodes.push(
      node("LSTM", p, [`x${l}`, `${p}.W`, `${p}.R`, `${p}.B`], last ? ["", `${p}.Y_h`] : [`${p}.Y`], [
        intAttr("hidden_size", H)
      ])
    )
    if (last) nodes.push(node("Squeeze", "h_last", [`${p}.Y_h`, "axis0"], ["h_last"]))
    else nodes.push(node("Squeeze", `x${l + 1}`, [`${p}.Y`, "axis1"], [`x${l + 1}`]))
  })

  initializers.push(
    floatTensor("head.Wo", [H, shape.outputSize], weights.Wo),
    floatTensor("head.bo", [shape.outputSize], weights.bo)
  )
  nodes.push(
    node("MatMul", "head.matmul", ["h_last", "head.Wo"], ["head.matmul"]),
    node("Add", "head.add", ["head.matmul", "head.bo"], [names.output])
  )

  const metadataProps: Array<onnx.IStringStringEntryProto> = [
    { key: META_KIND, value: shape.inputKind },
    { key: META_INPUT_SIZE, value: String(V) },
    { key: META_OUTPUT_SIZE, value: String(shape.outputSize) }
  ]
  if (steps !== undefined) metadataProps.push({ key: META_STEPS, value: String(steps) })

  const model: onnx.IModelProto = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: "", version: ONNX_OPSET }],
    producerName: options.producer ?? "logflow",
    docString: options.docString ?? "",
    graph: {
      name: "deeplog_lstm",
      node: nodes,
      initializer: initializers,
      input: [graphInput],
      output: [valueInfo(names.output, FLOAT, ["batch", shape.outputSize])]
    },
    metadataProps
  }
  const bytes = proto.ModelProto.encode(model).finish()
  return new Uint8Array(bytes) // own buffer (protobufjs may hand back a pooled Node Buffer)
}

// ---------------------------------------------------------------------------------------------
// Scoring with onnxruntime-node

export interface ScorerOptions {
  /** ORT intra-op threads; default 1 so benchmarks compare like with like. */
  readonly intraOpThreads?: number
}

interface ModelInfo {
  readonly inputKind: "ids" | "dense"
  readonly inputSize: number
  readonly outputSize: number
  readonly steps: number | undefined
}

const readModelInfo = (model: Uint8Array): ModelInfo => {
  const decoded = proto.ModelProto.decode(model)
  const meta = new Map<string, string>()
  for (const { key, value } of decoded.metadataProps) if (key != null && value != null) meta.set(key, value)
  const kind = meta.get(META_KIND)
  const inputSize = Number(meta.get(META_INPUT_SIZE))
  const outputSize = Number(meta.get(META_OUTPUT_SIZE))
  const steps = meta.get(META_STEPS)
  if ((kind !== "ids" && kind !== "dense") || !isPositiveInt(inputSize) || !isPositiveInt(outputSize)) {
    throw new Error(`model lacks the ${META_KIND} / ${META_INPUT_SIZE} / ${META_OUTPUT_SIZE} metadata of exportOnnx`)
  }
  return { inputKind: kind, inputSize, outputSize, steps: steps === undefined ? undefined : Number(steps) }
}

/** A compiled ONNX DeepLog model on onnxruntime-node's CPU provider. */
export class OnnxScorer {
  readonly inputKind: "ids" | "dense"
  readonly inputSize: number
  readonly outputSize: number
  /** Fixed sequence length of the export, or undefined when the steps axis is dynamic. */
  readonly steps: number | undefined
  readonly #session: InferenceSession
  readonly #Tensor: typeof Tensor
  readonly #inputName: string
  readonly #outputName: string
  readonly #shape: LstmShape
  #released = false

  private constructor(session: InferenceSession, tensor: typeof Tensor, info: ModelInfo) {
    this.#session = session
    this.#Tensor = tensor
    this.inputKind = info.inputKind
    this.inputSize = info.inputSize
    this.outputSize = info.outputSize
    this.steps = info.steps
    this.#inputName = onnxNames[info.inputKind].input
    this.#outputName = onnxNames[info.inputKind].output
    // Only inputKind / inputSize matter to input validation; the rest is filler.
    this.#shape = { inputKind: info.inputKind, inputSize: info.inputSize, hidden: 1, layers: 1, outputSize: info.outputSize }
  }

  static async create(model: Uint8Array, options: ScorerOptions = {}): Promise<OnnxScorer> {
    const info = readModelInfo(model)
    const threads = options.intraOpThreads ?? 1
    if (!isPositiveInt(threads)) throw new Error(`intraOpThreads must be a positive integer, got ${threads}`)
    // Loaded on first use: the native runtime is only needed where a model is scored.
    const ort = requireNative<typeof Ort>("onnxruntime-node")
    const session = await ort.InferenceSession.create(model, {
      executionProviders: ["cpu"],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: "all"
    })
    return new OnnxScorer(session, ort.Tensor, info)
  }

  /**
   * Score `batch` sequences of `steps` steps: ids as Int32Array [batch, steps], dense as
   * Float32Array [batch, steps, inputSize]. Returns the outputs row-major [batch, outputSize].
   */
  async run(input: Int32Array | Float32Array, batch: number, steps: number): Promise<Float32Array> {
    if (this.#released) throw new Error("OnnxScorer was released")
    validateInput(this.#shape, input, batch, steps)
    if (this.steps !== undefined && steps !== this.steps) {
      throw new Error(`model was exported for ${this.steps} steps, got ${steps}`)
    }
    if (batch === 0) return new Float32Array(0)
    let feed: Tensor
    if (input instanceof Int32Array) {
      const keys = new BigInt64Array(input.length)
      for (let i = 0; i < input.length; i++) keys[i] = BigInt(input[i])
      feed = new this.#Tensor(keys, [batch, steps])
    } else {
      feed = new this.#Tensor(input, [batch, steps, this.inputSize])
    }
    const results = await this.#session.run({ [this.#inputName]: feed })
    const out = results[this.#outputName]
    if (out === undefined) throw new Error(`ONNX session returned no ${this.#outputName}`)
    const data = out.data
    if (!(data instanceof Float32Array) || data.length !== batch * this.outputSize) {
      throw new Error(`ONNX output ${this.#outputName} is not float32 [${batch}, ${this.outputSize}]`)
    }
    return data
  }

  async release(): Promise<void> {
    if (this.#released) return
    this.#released = true
    await this.#session.release()
  }
}

// ---------------------------------------------------------------------------------------------
// Reference forward pass (float64, scalar, for tests and as an oracle)

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x))

/**
 * The LSTM in float64, one sequence at a time, exactly as the contract states: per step
 * z = x·W + h·R + b; i, f, o = σ(z_i, z_f, z_o), g = tanh(z_g); c = f⊙c + i⊙g; h = o⊙tanh(c);
 * then y = h_T·Wo + bo. Returns [batch, outputSize] row-major.
 */
export const referenceForward = (
  shape: LstmShape,
  weights: LstmWeights,
  input: Int32Array | Float32Array,
  batch: number,
  steps: number
): Float64Array => {
  validateLstm(shape, weights)
  validateInput(shape, input, batch, steps)
  const H = shape.hidden
  const O = shape.outputSize
  const out = new Float64Array(batch * O)
  for (let s = 0; s < batch; s++) {
    // seq[t] = the layer input at step t
    let seq: Array<Float64Array> = []
    for (let t = 0; t < steps; t++) {
      const x = new Float64Array(shape.inputSize)
      if (input instanceof Int32Array) x[input[s * steps + t]] = 1
      else for (let k = 0; k < shape.inputSize; k++) x[k] = input[(s * steps + t) * shape.inputSize + k]
      seq.push(x)
    }
    for (const { W, R, b } of weights.layers) {
      const h = new Float64Array(H)
      const c = new Float64Array(H)
      const next: Array<Float64Array> = []
      for (const x of seq) {
        const z = new Float64Array(4 * H)
        for (let col = 0; col < 4 * H; col++) {
          let acc = b[col]
          for (let k = 0; k < x.length; k++) acc += x[k] * W[k * 4 * H + col]
          for (let k = 0; k < H; k++) acc += h[k] * R[k * 4 * H + col]
          z[col] = acc
        }
        for (let j = 0; j < H; j++) {
          const i = sigmoid(z[j])
          const f = sigmoid(z[H + j])
          const g = Math.tanh(z[2 * H + j])
          const o = sigmoid(z[3 * H + j])
          c[j] = f * c[j] + i * g
          h[j] = o * Math.tanh(c[j])
        }
        next.push(Float64Array.from(h))
      }
      seq = next
    }
    const hT = seq[steps - 1]
    for (let o = 0; o < O; o++) {
      let acc = weights.bo[o]
      for (let k = 0; k < H; k++) acc += hT[k] * weights.Wo[k * O + o]
      out[s * O + o] = acc
    }
  }
  return out
}
