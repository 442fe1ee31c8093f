import { afterAll, describe, expect, it } from "vitest"
import onnxProto from "onnx-proto"
import { exportOnnx, OnnxScorer, referenceForward } from "../../../src/detectors/deeplog/Onnx.ts"
import type { LstmShape, LstmWeights } from "../../../src/detectors/deeplog/LstmTypes.ts"
import { mulberry32 } from "../../../src/artifacts/Random.ts"

const { onnx } = onnxProto

const prng = mulberry32

const uniform = (rand: () => number, n: number, scale: number) =>
  Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale)

const randomWeights = (shape: LstmShape, seed: number, scale = 0.3): LstmWeights => {
  const rand = prng(seed)
  const H = shape.hidden
  return {
    layers: Array.from({ length: shape.layers }, (_, l) => ({
      W: uniform(rand, (l === 0 ? shape.inputSize : H) * 4 * H, scale),
      R: uniform(rand, H * 4 * H, scale),
      b: uniform(rand, 4 * H, scale)
    })),
    Wo: uniform(rand, H * shape.outputSize, scale),
    bo: uniform(rand, shape.outputSize, scale)
  }
}

const randomInput = (shape: LstmShape, batch: number, steps: number, seed: number): Int32Array | Float32Array => {
  const rand = prng(seed)
  return shape.inputKind === "ids"
    ? Int32Array.from({ length: batch * steps }, () => Math.floor(rand() * shape.inputSize))
    : Float32Array.from({ length: batch * steps * shape.inputSize }, () => rand() * 2 - 1)
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

const ids = (V: number, H: number, layers: number): LstmShape => ({
  inputKind: "ids",
  inputSize: V,
  hidden: H,
  layers,
  outputSize: V
})

const scorers: Array<OnnxScorer> = []
const scorerFor = async (model: Uint8Array) => {
  const scorer = await OnnxScorer.create(model)
  scorers.push(scorer)
  return scorer
}
afterAll(async () => {
  for (const s of scorers) await s.release()
})

/** Decoded repeated fields are typed optional; they are always arrays after decode. */
const list = <T>(xs: Array<T> | null | undefined): Array<T> => xs ?? []

/** protobufjs decodes int64 fields as Long objects (or numbers); either to a number. */
const int64 = (v: unknown): number => {
  if (typeof v === "number") return v
  if (typeof v === "object" && v !== null && "toNumber" in v && typeof v.toNumber === "function") {
    const n: unknown = v.toNumber()
    if (typeof n === "number") return n
  }
  throw new Error(`not an int64: ${String(v)}`)
}

describe("referenceForward", () => {
  it("follows the contract's gate order i, f, g, o on hand-computed steps", () => {
    // dense, D = 1, H = 1, one layer, two steps; R = 0 so each step sees only x and c. All
    // weights are exact in float32, so float64 arithmetic here matches the reference.
    const shape: LstmShape = { inputKind: "dense", inputSize: 1, hidden: 1, layers: 1, outputSize: 1 }
    const weights: LstmWeights = {
      layers: [{ W: Float32Array.of(0.5, -1, 2, 1.5), R: new Float32Array(4), b: Float32Array.of(0.125, 0.25, -0.375, 0.5) }],
      Wo: Float32Array.of(2),
      bo: Float32Array.of(-1)
    }
    const s = (v: number) => 1 / (1 + Math.exp(-v))
    let c = 0
    let h = 0
    for (const x of [1, -0.5]) {
      const [i, f, g, o] = [s(0.5 * x + 0.125), s(-x + 0.25), Math.tanh(2 * x - 0.375), s(1.5 * x + 0.5)]
      c = f * c + i * g
      h = o * Math.tanh(c)
    }
    expect(referenceForward(shape, weights, Float32Array.of(1, -0.5), 1, 2)[0]).toBeCloseTo(2 * h - 1, 12)
  })
})

describe("exportOnnx + OnnxScorer", () => {
  const cases: Array<[string, LstmShape, number, number]> = [
    ["ids V=7 H=5 2 layers", ids(7, 5, 2), 10, 4],
    ["ids V=30 H=64 2 layers", ids(30, 64, 2), 10, 64],
    ["ids V=7 H=5 1 layer", ids(7, 5, 1), 10, 4],
    ["ids V=9 H=6 3 layers", ids(9, 6, 3), 8, 5],
    ["dense D=3 H=4 1 layer", { inputKind: "dense", inputSize: 3, hidden: 4, layers: 1, outputSize: 2 }, 6, 5],
    ["dense D=3 H=4 2 layers", { inputKind: "dense", inputSize: 3, hidden: 4, layers: 2, outputSize: 3 }, 6, 5]
  ]

  it.each(cases)("%s matches referenceForward within 1e-5", async (_, shape, steps, batch) => {
    const weights = randomWeights(shape, 11 + shape.hidden * 7 + shape.layers)
    const input = randomInput(shape, batch, steps, 99)
    const expected = referenceForward(shape, weights, input, batch, steps)
    const scorer = await scorerFor(exportOnnx(shape, weights))
    const got = await scorer.run(input, batch, steps)
    expect(got.length).toBe(batch * shape.outputSize)
    expect(maxAbsDiff(got, expected)).toBeLessThan(1e-5)
  })

  it("a model exported with fixed steps scores the same and rejects other lengths", async () => {
    const shape = ids(7, 5, 2)
    const weights = randomWeights(shape, 5)
    const input = randomInput(shape, 3, 10, 6)
    const scorer = await scorerFor(exportOnnx(shape, weights, { steps: 10 }))
    expect(maxAbsDiff(await scorer.run(input, 3, 10), referenceForward(shape, weights, input, 3, 10))).toBeLessThan(1e-5)
    await expect(scorer.run(input, 5, 6)).rejects.toThrow("exported for 10 steps")
  })

  it("scores rows one at a time the same as in one batch", async () => {
    const shape = ids(30, 64, 2)
    const weights = randomWeights(shape, 3)
    const [batch, steps] = [16, 10]
    const input = randomInput(shape, batch, steps, 4)
    const scorer = await scorerFor(exportOnnx(shape, weights))
    const all = await scorer.run(input, batch, steps)
    const rows = new Float32Array(batch * shape.outputSize)
    for (let r = 0; r < batch; r++) {
      rows.set(await scorer.run(input.subarray(r * steps, (r + 1) * steps), 1, steps), r * shape.outputSize)
    }
    expect(maxAbsDiff(all, rows)).toBeLessThan(1e-6)
  })

  it("rejects bad input before running", async () => {
    const shape = ids(7, 5, 1)
    const scorer = await scorerFor(exportOnnx(shape, randomWeights(shape, 1)))
    await expect(scorer.run(Int32Array.of(0, 1, 7), 1, 3)).rejects.toThrow("input[2] = 7 is not a key in [0, 7)")
    await expect(scorer.run(Int32Array.of(0, 1, -1), 1, 3)).rejects.toThrow("input[2] = -1")
    await expect(scorer.run(Int32Array.of(0, 1), 1, 3)).rejects.toThrow("expected batch·steps = 3")
    await expect(scorer.run(Float32Array.of(0, 1, 2), 1, 3)).rejects.toThrow("Int32Array")
    expect(await scorer.run(new Int32Array(0), 0, 3)).toEqual(new Float32Array(0))
  })
})

describe("exported bytes", () => {
  it("are deterministic and decode with the expected graph", () => {
    const shape = ids(30, 64, 2)
    const a = exportOnnx(shape, randomWeights(shape, 8), { producer: "test", docString: "doc" })
    const b = exportOnnx(shape, randomWeights(shape, 8), { producer: "test", docString: "doc" })
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true)

    const model = onnx.ModelProto.decode(a)
    expect(int64(model.irVersion)).toBe(8)
    expect(model.opsetImport.map((o) => [o.domain, int64(o.version)])).toEqual([["", 17]])
    expect(model.producerName).toBe("test")
    expect(model.docString).toBe("doc")
    const graph = model.graph
    if (graph == null) throw new Error("no graph")
    expect(list(graph.input).map((i) => i.name)).toEqual(["keys"])
    expect(list(graph.output).map((o) => o.name)).toEqual(["logits"])
    const inputType = list(graph.input)[0].type?.tensorType
    expect(inputType?.elemType).toBe(onnx.TensorProto.DataType.INT64)
    expect(list(inputType?.shape?.dim).map((d) => d.dimParam || int64(d.dimValue))).toEqual(["batch", "steps"])
    const lstms = list(graph.node).filter((n) => n.opType === "LSTM")
    expect(lstms.map((n) => n.name)).toEqual(["lstm0", "lstm1"])
    const w0 = list(graph.initializer).find((t) => t.name === "lstm0.W")
    expect(list(w0?.dims).map(int64)).toEqual([1, 256, 30])
    expect(list(list(graph.initializer).find((t) => t.name === "lstm1.B")?.dims).map(int64)).toEqual([1, 512])
  })

  it("name the dense graph's input and output", () => {
    const shape: LstmShape = { inputKind: "dense", inputSize: 3, hidden: 4, layers: 3, outputSize: 3 }
    const graph = onnx.ModelProto.decode(exportOnnx(shape, randomWeights(shape, 2), { steps: 6 })).graph
    expect(list(graph?.input).map((i) => i.name)).toEqual(["features"])
    expect(list(graph?.output).map((o) => o.name)).toEqual(["outputs"])
    expect(list(list(graph?.input)[0].type?.tensorType?.shape?.dim).map((d) => d.dimParam || int64(d.dimValue))).toEqual([
      "batch",
      6,
      3
    ])
    expect(list(graph?.node).filter((n) => n.opType === "LSTM").length).toBe(3)
  })

  it("reject a weights array of the wrong length, naming it", () => {
    const shape = ids(30, 64, 2)
    const good = randomWeights(shape, 1)
    const badR: LstmWeights = { ...good, layers: [good.layers[0], { ...good.layers[1], R: new Float32Array(100) }] }
    expect(() => exportOnnx(shape, badR)).toThrow("layers[1].R has 100 values, expected 16384")
    expect(() => exportOnnx(shape, { ...good, bo: new Float32Array(29) })).toThrow("bo has 29 values, expected 30")
    expect(() => exportOnnx(shape, { ...good, layers: [good.layers[0]] })).toThrow("weights has 1 layers, expected 2")
    expect(() => referenceForward(shape, badR, new Int32Array(10), 1, 10)).toThrow("layers[1].R has 100 values")
  })
})
