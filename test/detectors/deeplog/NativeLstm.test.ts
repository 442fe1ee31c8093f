import { describe, expect, it } from "vitest"
import {
  Adam,
  type AdamState,
  flattenWeights,
  forward,
  initWeights,
  lossAndGradients,
  type LstmLoss,
  type LstmShape,
  type LstmWeights,
  parameterCount,
  unflattenWeights
} from "../../../src/detectors/deeplog/NativeLstm.ts"
import { mulberry32 } from "../../../src/artifacts/Random.ts"

// ---------------------------------------------------------------------------------------------
// An independent float64 reference of the model: one sequence at a time, one-hot ids, plain
// numbers, no shared code with the implementation beyond the flat parameter order.

const sig = (x: number): number => 1 / (1 + Math.exp(-x))

const referenceLoss = (
  shape: LstmShape,
  flat: Float64Array,
  input: Int32Array | Float32Array,
  targets: Int32Array | Float32Array,
  B: number,
  T: number,
  loss: LstmLoss
): number => {
  const H = shape.hidden
  const G = 4 * H
  const O = shape.outputSize
  let off = 0
  const take = (n: number): Float64Array => {
    const a = flat.subarray(off, off + n)
    off += n
    return a
  }
  const layers: Array<{ W: Float64Array; R: Float64Array; b: Float64Array; inl: number }> = []
  for (let l = 0; l < shape.layers; l++) {
    const inl = l === 0 ? shape.inputSize : H
    layers.push({ W: take(inl * G), R: take(H * G), b: take(G), inl })
  }
  const Wo = take(H * O)
  const bo = take(O)
  let total = 0
  for (let s = 0; s < B; s++) {
    let xs: Array<Array<number>> = []
    for (let t = 0; t < T; t++) {
      if (shape.inputKind === "ids") {
        const x = new Array<number>(shape.inputSize).fill(0)
        x[input[s * T + t]!] = 1
        xs.push(x)
      } else {
        xs.push(Array.from(input.subarray((s * T + t) * shape.inputSize, (s * T + t + 1) * shape.inputSize)))
      }
    }
    for (const { W, R, b, inl } of layers) {
      let h = new Array<number>(H).fill(0)
      let c = new Array<number>(H).fill(0)
      const out: Array<Array<number>> = []
      for (let t = 0; t < T; t++) {
        const z = Array.from(b)
        for (let j = 0; j < G; j++) {
          for (let k = 0; k < inl; k++) z[j]! += xs[t]![k]! * W[k * G + j]!
          for (let k = 0; k < H; k++) z[j]! += h[k]! * R[k * G + j]!
        }
        const nc = new Array<number>(H)
        const nh = new Array<number>(H)
        for (let j = 0; j < H; j++) {
          const i = sig(z[j]!)
          const f = sig(z[H + j]!)
          const g = Math.tanh(z[2 * H + j]!)
          const o = sig(z[3 * H + j]!)
          nc[j] = f * c[j]! + i * g
          nh[j] = o * Math.tanh(nc[j]!)
        }
        c = nc
        h = nh
        out.push(h)
      }
      xs = out
    }
    const hT = xs[T - 1]!
    const y = Array.from(bo)
    for (let k = 0; k < O; k++) for (let j = 0; j < H; j++) y[k]! += hT[j]! * Wo[j * O + k]!
    if (loss === "softmax_ce") {
      const max = Math.max(...y)
      const lse = max + Math.log(y.reduce((a, v) => a + Math.exp(v - max), 0))
      total += lse - y[targets[s]!]!
    } else {
      for (let k = 0; k < O; k++) total += (y[k]! - targets[s * O + k]!) ** 2
    }
  }
  return loss === "softmax_ce" ? total / B : total / (B * O)
}

// ---------------------------------------------------------------------------------------------
// Fixtures

const randomBatch = (shape: LstmShape, B: number, T: number, loss: LstmLoss, seed: number) => {
  const rand = mulberry32(seed)
  const input =
    shape.inputKind === "ids"
      ? Int32Array.from({ length: B * T }, () => Math.floor(rand() * shape.inputSize))
      : Float32Array.from({ length: B * T * shape.inputSize }, () => 2 * rand() - 1)
  const targets =
    loss === "softmax_ce"
      ? Int32Array.from({ length: B }, () => Math.floor(rand() * shape.outputSize))
      : Float32Array.from({ length: B * shape.outputSize }, () => 2 * rand() - 1)
  return { input, targets }
}

/** initWeights plus noise on the biases, so no coordinate sits at a special value. */
const genericWeights = (shape: LstmShape, seed: number): LstmWeights => {
  const w = initWeights(shape, seed)
  const rand = mulberry32(seed + 1)
  for (const l of w.layers) for (let k = 0; k < l.b.length; k++) l.b[k] = l.b[k]! + 0.5 * (2 * rand() - 1)
  for (let k = 0; k < w.bo.length; k++) w.bo[k] = 0.5 * (2 * rand() - 1)
  return w
}

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length)

const argmaxRows = (y: Float32Array, O: number): Array<number> => {
  const out: Array<number> = []
  for (let r = 0; r < y.length / O; r++) {
    let best = 0
    for (let k = 1; k < O; k++) if (y[r * O + k]! > y[r * O + best]!) best = k
    out.push(best)
  }
  return out
}

// ---------------------------------------------------------------------------------------------

describe("NativeLstm gradients", () => {
  // live: the least share of coordinates with a nonzero gradient (with T = 1, R and the forget
  // gate get none; ids rows a batch never uses get none).
  const cases: Array<{ name: string; shape: LstmShape; loss: LstmLoss; T: number; B: number; live: number }> = [
    { name: "ids, softmax_ce", shape: { inputKind: "ids", inputSize: 5, hidden: 3, layers: 2, outputSize: 5 }, loss: "softmax_ce", T: 4, B: 3, live: 0.5 },
    { name: "ids, mse", shape: { inputKind: "ids", inputSize: 5, hidden: 3, layers: 2, outputSize: 2 }, loss: "mse", T: 4, B: 3, live: 0.5 },
    { name: "dense, softmax_ce", shape: { inputKind: "dense", inputSize: 5, hidden: 3, layers: 2, outputSize: 5 }, loss: "softmax_ce", T: 4, B: 3, live: 0.5 },
    { name: "dense, mse", shape: { inputKind: "dense", inputSize: 5, hidden: 3, layers: 2, outputSize: 2 }, loss: "mse", T: 4, B: 3, live: 0.5 },
    { name: "ids, softmax_ce, 1 layer, T = 1", shape: { inputKind: "ids", inputSize: 4, hidden: 5, layers: 1, outputSize: 3 }, loss: "softmax_ce", T: 1, B: 2, live: 0.15 },
    { name: "dense, mse, 3 layers, H = 4", shape: { inputKind: "dense", inputSize: 2, hidden: 4, layers: 3, outputSize: 3 }, loss: "mse", T: 3, B: 5, live: 0.5 }
  ]

  it.each(cases)("match central finite differences of a float64 reference at every coordinate: $name", ({ shape, loss, T, B, live }) => {
    const w = genericWeights(shape, 7)
    const { input, targets } = randomBatch(shape, B, T, loss, 11)
    const { loss: value, grads } = lossAndGradients(shape, w, input, targets, B, T, loss)
    const flat = Float64Array.from(flattenWeights(w))
    const ref = referenceLoss(shape, flat, input, targets, B, T, loss)
    expect(Math.abs(value - ref)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref)))

    const analytic = flattenWeights(grads)
    expect(analytic.length).toBe(parameterCount(shape))
    const eps = 1e-6
    let worst = 0
    let nonzero = 0
    for (let k = 0; k < flat.length; k++) {
      const saved = flat[k]!
      flat[k] = saved + eps
      const plus = referenceLoss(shape, flat, input, targets, B, T, loss)
      flat[k] = saved - eps
      const minus = referenceLoss(shape, flat, input, targets, B, T, loss)
      flat[k] = saved
      const numeric = (plus - minus) / (2 * eps)
      const err = Math.abs(analytic[k]! - numeric) / (1e-4 + Math.abs(numeric))
      worst = Math.max(worst, err)
      if (Math.abs(numeric) > 1e-6) nonzero++
    }
    // float32 analytic gradients against float64 differences: agreement to ~1e-6 is typical.
    expect(worst).toBeLessThan(1e-4)
    expect(nonzero).toBeGreaterThan(flat.length * live)
  })
})

describe("NativeLstm forward", () => {
  it("equals the formula on a 1-layer H = 1 case, by hand", () => {
    const shape: LstmShape = { inputKind: "ids", inputSize: 2, hidden: 1, layers: 1, outputSize: 1 }
    // Gate columns i, f, g, o.
    const w: LstmWeights = {
      layers: [{ W: Float32Array.from([0.5, -0.25, 0.75, 1, -0.5, 0.25, -1, 0.5]), R: Float32Array.from([0.3, -0.2, 0.6, 0.1]), b: Float32Array.from([0.1, 1, 0, -0.1]) }],
      Wo: Float32Array.from([2]),
      bo: Float32Array.from([-0.5])
    }
    const W = Array.from(w.layers[0]!.W)
    const R = Array.from(w.layers[0]!.R)
    const b = Array.from(w.layers[0]!.b)
    const ids = [1, 0, 1]
    let h = 0
    let c = 0
    for (const id of ids) {
      const z = [0, 1, 2, 3].map((q) => W[id * 4 + q]! + h * R[q]! + b[q]!)
      const i = sig(z[0]!)
      const f = sig(z[1]!)
      const g = Math.tanh(z[2]!)
      const o = sig(z[3]!)
      c = f * c + i * g
      h = o * Math.tanh(c)
    }
    const expected = h * 2 - 0.5
    const y = forward(shape, w, Int32Array.from(ids), 1, 3)
    expect(y.length).toBe(1)
    expect(y[0]).toBeCloseTo(expected, 6)

    // The same as a dense one-hot input.
    const dense: LstmShape = { ...shape, inputKind: "dense" }
    const x = Float32Array.from([0, 1, 1, 0, 0, 1])
    expect(forward(dense, w, x, 1, 3)[0]).toBeCloseTo(expected, 6)
  })

  it("treats each sequence independently and reuses scratch space without leaking state", () => {
    const shape: LstmShape = { inputKind: "ids", inputSize: 7, hidden: 6, layers: 2, outputSize: 7 }
    const w = initWeights(shape, 3)
    const { input } = randomBatch(shape, 5, 4, "softmax_ce", 5)
    const all = forward(shape, w, input, 5, 4)
    for (let s = 0; s < 5; s++) {
      const one = forward(shape, w, input.slice(s * 4, s * 4 + 4), 1, 4)
      expect(bits(one)).toEqual(bits(all.slice(s * 7, s * 7 + 7)))
    }
    forward(shape, w, input.slice(0, 12), 2, 6)
    expect(bits(forward(shape, w, input, 5, 4))).toEqual(bits(all))
  })
})

describe("NativeLstm training", () => {
  // A repeating pattern of period 6 over 4 keys; the next key after 0 or 2 depends on older context.
  const pattern = [0, 1, 0, 2, 3, 2]
  const T = 4
  const B = 6
  const ids = new Int32Array(B * T)
  const targets = new Int32Array(B)
  for (let s = 0; s < B; s++) {
    for (let t = 0; t < T; t++) ids[s * T + t] = pattern[(s + t) % 6]!
    targets[s] = pattern[(s + T) % 6]!
  }
  const shape: LstmShape = { inputKind: "ids", inputSize: 4, hidden: 12, layers: 2, outputSize: 4 }

  const train = (w: LstmWeights, adam: Adam, steps: number): Array<number> => {
    const losses: Array<number> = []
    for (let k = 0; k < steps; k++) {
      const { loss, grads } = lossAndGradients(shape, w, ids, targets, B, T, "softmax_ce")
      losses.push(loss)
      adam.step(w, grads)
    }
    return losses
  }

  it("learns a next-key task with Adam", () => {
    const w = initWeights(shape, 1)
    const before = argmaxRows(forward(shape, w, ids, B, T), 4)
    const losses = train(w, new Adam(0.02), 150)
    const predicted = argmaxRows(forward(shape, w, ids, B, T), 4)
    const accuracy = predicted.filter((p, s) => p === targets[s]).length / B
    expect(accuracy).toBeGreaterThan(0.95)
    expect(before.filter((p, s) => p === targets[s]).length / B).toBeLessThan(1)
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! / 10)
  })

  it("is bit-for-bit deterministic from a seed", () => {
    const a = initWeights(shape, 9)
    const b = initWeights(shape, 9)
    expect(bits(flattenWeights(a))).toEqual(bits(flattenWeights(b)))
    expect(bits(flattenWeights(initWeights(shape, 10)))).not.toEqual(bits(flattenWeights(a)))
    train(a, new Adam(0.01), 10)
    train(b, new Adam(0.01), 10)
    expect(bits(flattenWeights(a))).toEqual(bits(flattenWeights(b)))
  })

  it("resumes bit-exactly from a checkpoint of weights and Adam state", () => {
    const straight = initWeights(shape, 4)
    train(straight, new Adam(0.01), 6)

    const w = initWeights(shape, 4)
    const adam = new Adam(0.01)
    train(w, adam, 3)
    // A checkpoint as it would be written to disk: flat weights and flat moments.
    const savedWeights = flattenWeights(w)
    const st = adam.state()
    const saved = { t: st.t, m: flattenWeights(st.m), v: flattenWeights(st.v) }
    // Training on afterwards must not disturb the snapshot.
    train(w, adam, 2)

    const resumed = unflattenWeights(shape, savedWeights)
    const restored: AdamState = { t: saved.t, m: unflattenWeights(shape, saved.m), v: unflattenWeights(shape, saved.v) }
    train(resumed, Adam.restore(0.01, restored), 3)
    expect(bits(flattenWeights(resumed))).toEqual(bits(flattenWeights(straight)))

    const viaSetState = unflattenWeights(shape, savedWeights)
    const adam2 = new Adam(0.01)
    adam2.setState(restored)
    train(viaSetState, adam2, 3)
    expect(bits(flattenWeights(viaSetState))).toEqual(bits(flattenWeights(straight)))
  })
})

describe("NativeLstm weights and Adam", () => {
  it("flattens in the order layers (W, R, b), then Wo, bo, and back", () => {
    const shape: LstmShape = { inputKind: "ids", inputSize: 3, hidden: 2, layers: 2, outputSize: 4 }
    const w = initWeights(shape, 2)
    expect(w.layers[0]!.W.length).toBe(3 * 8)
    expect(w.layers[1]!.W.length).toBe(2 * 8)
    expect(w.layers[0]!.R.length).toBe(2 * 8)
    expect(w.Wo.length).toBe(2 * 4)
    // Forget-gate bias block is 1, the rest 0.
    expect(Array.from(w.layers[1]!.b)).toEqual([0, 0, 1, 1, 0, 0, 0, 0])
    const flat = flattenWeights(w)
    expect(flat.length).toBe(parameterCount(shape))
    const parts = [w.layers[0]!.W, w.layers[0]!.R, w.layers[0]!.b, w.layers[1]!.W, w.layers[1]!.R, w.layers[1]!.b, w.Wo, w.bo]
    let off = 0
    for (const p of parts) {
      expect(bits(flat.slice(off, off + p.length))).toEqual(bits(p))
      off += p.length
    }
    const back = unflattenWeights(shape, flat)
    flat.fill(0)
    expect(bits(flattenWeights(back))).toEqual(bits(flattenWeights(w)))
  })

  it("takes a standard bias-corrected Adam step", () => {
    const shape: LstmShape = { inputKind: "ids", inputSize: 1, hidden: 1, layers: 1, outputSize: 1 }
    const p = unflattenWeights(shape, new Float32Array(parameterCount(shape)))
    const g = unflattenWeights(shape, new Float32Array(parameterCount(shape)).fill(0.5))
    const adam = new Adam(0.1)
    expect(adam.state().t).toBe(0)
    adam.step(p, g)
    // m̂ = g, v̂ = g²: p = −lr · g / (|g| + ε).
    for (const x of flattenWeights(p)) expect(x).toBeCloseTo(-0.1 * (0.5 / (0.5 + 1e-7)), 7)
    adam.step(p, g)
    for (const x of flattenWeights(p)) expect(x).toBeCloseTo(-0.2, 6)
    expect(adam.state().t).toBe(2)
  })
})

describe("NativeLstm rejects bad input", () => {
  const shape: LstmShape = { inputKind: "ids", inputSize: 5, hidden: 3, layers: 2, outputSize: 4 }
  const w = initWeights(shape, 1)
  const ids = Int32Array.from([0, 1, 2, 3, 4, 0])

  it("ids outside [0, inputSize)", () => {
    expect(() => forward(shape, w, Int32Array.from([0, 1, 5, 0, 1, 2]), 2, 3)).toThrow(/id 5 .*outside \[0, 5\)/)
    expect(() => lossAndGradients(shape, w, Int32Array.from([0, -1, 2, 0, 1, 2]), Int32Array.from([0, 1]), 2, 3, "softmax_ce")).toThrow(
      /id -1 .*outside \[0, 5\)/
    )
  })

  it("targets out of range or of the wrong kind", () => {
    expect(() => lossAndGradients(shape, w, ids, Int32Array.from([0, 4]), 2, 3, "softmax_ce")).toThrow(/target 4 .*outside \[0, 4\)/)
    expect(() => lossAndGradients(shape, w, ids, Int32Array.from([-1, 0]), 2, 3, "softmax_ce")).toThrow(/target -1/)
    expect(() => lossAndGradients(shape, w, ids, new Float32Array(2), 2, 3, "softmax_ce")).toThrow(/Int32Array/)
    expect(() => lossAndGradients(shape, w, ids, new Int32Array(8), 2, 3, "mse")).toThrow(/Float32Array/)
  })

  it("wrong buffer lengths", () => {
    expect(() => forward(shape, w, ids, 2, 4)).toThrow(/ids input has length 6, expected/)
    expect(() => lossAndGradients(shape, w, ids, Int32Array.from([0, 1, 2]), 2, 3, "softmax_ce")).toThrow(/3 targets, expected B = 2/)
    expect(() => lossAndGradients(shape, w, ids, new Float32Array(7), 2, 3, "mse")).toThrow(/mse targets have length 7, expected/)
    const dense: LstmShape = { ...shape, inputKind: "dense" }
    expect(() => forward(dense, w, new Float32Array(29), 2, 3)).toThrow(/dense input has length 29, expected/)
    expect(() => forward(dense, w, ids, 2, 3)).toThrow(/Float32Array/)
    const short: LstmWeights = { ...w, Wo: new Float32Array(5) }
    expect(() => forward(shape, short, ids, 2, 3)).toThrow(/Wo has length 5, expected 12/)
    expect(() => unflattenWeights(shape, new Float32Array(3))).toThrow(/length 3, expected/)
    expect(() => forward(shape, w, ids, 0, 6)).toThrow(/batch size/)
    expect(() => new Adam(0.01).step(w, initWeights({ ...shape, hidden: 4 }, 1))).toThrow(/layout/)
  })
})
