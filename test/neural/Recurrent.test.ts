import { describe, expect, it } from "vitest"
import type { Param } from "../../src/neural/Params.ts"
import { Rng, zeroGrads } from "../../src/neural/Params.ts"
import { Gru, Lstm } from "../../src/neural/Recurrent.ts"
import type { Probe } from "./gradcheck.ts"
import { checkGradients, dot, expectClose, expectGradientsMatch, kernelsUnderTest, makeCtx, randomArray, sinFill } from "./gradcheck.ts"

// PyTorch 1.13 in double precision (nn.LSTM / nn.GRU, 2 layers, batch_first) on B = 2, T = 3,
// in = 3, H = 4: parameter k (named_parameters order) = 0.4·sin(0.37·i + 1.3·k + 0.1), x = sin(0.53·i + 0.7),
// h0 = 0.3·sin(0.29·i + 2), c0 = 0.3·sin(0.31·i + 3); loss = Σ out ⊙ sin(0.41·i + 5) + Σ h_n ⊙ sin(0.43·i + 6)
// (+ Σ c_n ⊙ sin(0.47·i + 7) for the LSTM).
const LSTM_OUT = [-0.204381, -0.1823746, -0.1088477, 0.1980894, -0.2353769, -0.2181171, -0.1269879, 0.1120442, -0.2538213, -0.22205, -0.09948153, 0.08560942, -0.1366827, -0.1085273, -0.02421652, 0.1118887, -0.2017466, -0.177551, -0.11131, 0.06340724, -0.2382997, -0.2062063, -0.1143507, 0.07176955]
const LSTM_H = [0.02028768, 0.06243098, 0.1579858, 0.1820712, 0.02923578, -0.0701731, 0.03482519, 0.1573253, -0.2538213, -0.22205, -0.09948153, 0.08560942, -0.2382997, -0.2062063, -0.1143507, 0.07176955]
const LSTM_C = [0.04787374, 0.130801, 0.2312438, 0.2357081, 0.04285307, -0.1022835, 0.05401145, 0.2951065, -0.4928429, -0.3993813, -0.1552288, 0.1267561, -0.4396977, -0.3667953, -0.1844004, 0.1068858]
const LSTM_DX = [-0.03305765, -0.03517073, -0.03252362, -0.0635174, -0.07616361, -0.07850143, 0.005484208, 0.0206568, 0.03303358, 0.005829586, -0.02181041, -0.04649847, -0.04567389, -0.1191542, -0.1765076, -0.004753636, -0.1430051, -0.2619014]
const LSTM_DH0 = [0.009402332, 0.009252318, 0.007850046, 0.005385308, 0.01981446, 0.009847343, -0.001452561, -0.01255587, 0.02026724, 0.02125163, 0.01935971, 0.01484755, 0.01368807, 0.04057261, 0.06196583, 0.07497227]
const LSTM_DC0 = [0.007663069, 0.02764096, 0.04991252, 0.1104049, 0.06802864, 0.09999625, 0.0911625, -0.03121897, -0.209386, -0.09281267, -0.08455526, 0.007031162, -0.21884, -0.2051839, -0.2233577, -0.2039775]
const LSTM_DW_HH_L0 = [-0.0007658014, -0.00715559, 0.002208414, 0.007108449, 0.01479819, -0.01414906, -0.01541701, -0.00196864, 0.01451787, -0.02468417, -0.01831469, 0.005491117, 0.0210788, 0.005973974, -0.0030942, 0.006962007, 0.00474974, -0.001764127, -0.001377848, 0.001552215, -0.004781695, 0.02545932, 0.009437403, -0.002448642, -0.004585395, 0.005647465, 0.005182485, 0.003145735, 7.329072e-05, 0.005170551, -0.001746434, -0.00231145, -0.02626478, -0.1891879, -0.01525024, 0.07817591, 0.009532739, -0.1418738, -0.02677339, 0.03919904, 0.01684919, -0.04036848, -0.01207354, 0.0126193, 0.06105989, -0.007899766, -0.01589369, 0.03720489, -0.0008498644, -0.001396333, 0.001147967, 0.002045345, 0.003684752, 0.005533831, -0.001595625, -0.003909181, 0.002749174, -0.005451318, -0.003150512, 0.0007789862, 0.0005613491, -0.008518123, -0.001742323, 0.004203423]
const GRU_OUT = [-0.3570577, -0.4761216, -0.3225309, -0.03834358, -0.3785268, -0.5156512, -0.342236, 0.05799997, -0.5690116, -0.4555558, -0.1176682, 0.003985563, -0.3776048, -0.2721783, -0.157055, -0.0889036, -0.3370789, -0.4211032, -0.3414236, -0.0176597, -0.3736738, -0.477648, -0.3411466, 0.03834823]
const GRU_H = [-0.05695261, 0.3235761, 0.5390735, 0.2452668, -0.01164096, -0.2337992, -0.06645738, 0.2568599, -0.5690116, -0.4555558, -0.1176682, 0.003985563, -0.3736738, -0.477648, -0.3411466, 0.03834823]
const GRU_DX = [-0.0007784647, 0.003103118, 0.006564708, -0.07630568, -0.007147699, 0.06297769, -0.1802676, -0.05698213, 0.07401565, -0.05826322, -0.07274724, -0.07738525, -0.009782548, -0.06873798, -0.1183901, -0.1876293, -0.3596917, -0.4830715]
const GRU_DH0 = [-0.01514236, -0.01453539, -0.01785487, 0.00597218, 0.06283921, 0.07995535, 0.1103289, 0.03121042, -0.2995389, -0.2241375, -0.1520222, 0.01923167, -0.4449043, -0.4364372, -0.4339538, -0.3386633]
const GRU_DW_HH_L0 = [-0.01551002, -0.00436506, 0.01219977, 0.01210261, -0.005278834, -0.01663145, -0.001404636, 0.0112282, -0.00128709, -0.0297475, -0.01014465, 0.01650052, 0.00398216, -0.02813742, -0.01505456, 0.02264265, 0.002402277, 0.007762648, -0.0008293945, -0.01666817, -0.01987629, 0.03507531, 0.02933063, 0.004249861, -0.02713029, 0.03720337, 0.04421187, 0.004724685, 0.0008806226, 0.003062302, 0.001299662, -0.002171765, -0.1117079, -0.09070369, 0.06668464, 0.1081852, -0.04434979, -0.1458292, -0.009370216, 0.1069255, -0.01233419, -0.1123535, -0.0293259, 0.07281135, 0.01747727, -0.1084728, -0.06179764, 0.09179968]

const setReferenceParams = (params: ReadonlyArray<Param>): void => {
  params.forEach((p, k) => p.value.set(sinFill(p.value.length, 0.37, 1.3 * k + 0.1, 0.4)))
}

const probesOf = (params: ReadonlyArray<Param>): Array<Probe> => params.map((p) => ({ name: p.name, values: p.value, analytic: Float32Array.from(p.grad) }))

const probe = (name: string, values: Float32Array, analytic: Float32Array): Probe => ({ name, values, analytic: Float32Array.from(analytic) })

const TORCH_NAMES = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"]

for (const kernels of kernelsUnderTest()) {
  describe(`Lstm (${kernels.name} kernels)`, () => {
    it("matches PyTorch's nn.LSTM: hidden states, final states and gradients", () => {
      const ctx = makeCtx(kernels)
      const [B, T, I, H, L] = [2, 3, 3, 4, 2]
      const lstm = new Lstm("lstm", I, H, new Rng(1), { layers: L })
      expect(lstm.params().map((p) => p.name)).toEqual(TORCH_NAMES.map((n) => `lstm.${n}`))
      expect(lstm.params().map((p) => p.shape)).toEqual([[16, 3], [16, 4], [16], [16], [16, 4], [16, 4], [16], [16]])
      setReferenceParams(lstm.params())
      const x = sinFill(B * T * I, 0.53, 0.7, 1)
      const h0 = sinFill(L * B * H, 0.29, 2, 0.3)
      const c0 = sinFill(L * B * H, 0.31, 3, 0.3)
      const r = lstm.forward(ctx, x, B, T, h0, c0)
      expectClose(r.out, LSTM_OUT, 2e-6)
      expectClose(r.h, LSTM_H, 2e-6)
      expectClose(r.c, LSTM_C, 2e-6)
      zeroGrads(lstm.params())
      const g = lstm.backward(ctx, sinFill(B * T * H, 0.41, 5, 1), sinFill(L * B * H, 0.43, 6, 1), sinFill(L * B * H, 0.47, 7, 1))
      expectClose(g.dx, LSTM_DX, 2e-6)
      expectClose(g.dh0, LSTM_DH0, 2e-6)
      expectClose(g.dc0, LSTM_DC0, 2e-6)
      expectClose(lstm.layers[0]!.weightHh.grad, LSTM_DW_HH_L0, 2e-6)
    })

    it("has finite-difference gradients: 2 layers, inter-layer dropout, initial state, all three outputs", () => {
      const ctx = makeCtx(kernels, true)
      const rng = new Rng(11)
      const [B, T, I, H, L] = [2, 4, 3, 5, 2]
      const lstm = new Lstm("lstm", I, H, rng, { layers: L, dropout: 0.3 })
      const x = randomArray(rng, B * T * I)
      const h0 = randomArray(rng, L * B * H, 0.5)
      const c0 = randomArray(rng, L * B * H, 0.5)
      const wOut = randomArray(rng, B * T * H)
      const wH = randomArray(rng, L * B * H)
      const wC = randomArray(rng, L * B * H)
      const loss = (): number => {
        ctx.rng.state = 99
        const r = lstm.forward(ctx, x, B, T, h0, c0)
        return dot(r.out, wOut) + dot(r.h, wH) + dot(r.c, wC)
      }
      zeroGrads(lstm.params())
      loss()
      const g = lstm.backward(ctx, wOut, wH, wC)
      expectGradientsMatch(loss, [...probesOf(lstm.params()), probe("x", x, g.dx), probe("h0", h0, g.dh0), probe("c0", c0, g.dc0)], rng)
    })

    it("has finite-difference gradients from the final hidden state alone, starting from zeros", () => {
      const ctx = makeCtx(kernels)
      const rng = new Rng(12)
      const [B, T, I, H] = [3, 5, 2, 4]
      const lstm = new Lstm("enc", I, H, rng)
      const x = randomArray(rng, B * T * I)
      const wH = randomArray(rng, B * H)
      const loss = (): number => dot(lstm.forward(ctx, x, B, T).h, wH)
      zeroGrads(lstm.params())
      loss()
      const g = lstm.backward(ctx, undefined, wH)
      expectGradientsMatch(loss, [...probesOf(lstm.params()), probe("x", x, g.dx)], rng)
    })

    it("reuses its buffers across batch sizes without changing results", () => {
      const ctx = makeCtx(kernels)
      const rng = new Rng(13)
      const lstm = new Lstm("lstm", 3, 4, new Rng(5))
      const fresh = new Lstm("lstm", 3, 4, new Rng(5))
      lstm.forward(ctx, randomArray(rng, 5 * 2 * 3), 5, 2)
      const x = randomArray(rng, 2 * 3 * 3)
      expect(Array.from(lstm.forward(ctx, x, 2, 3).out)).toEqual(Array.from(fresh.forward(ctx, x, 2, 3).out))
      expect(() => lstm.forward(ctx, x, 2, 4)).toThrow(/input of 18 values/)
    })
  })

  describe(`Gru (${kernels.name} kernels)`, () => {
    it("matches PyTorch's nn.GRU: hidden states, final state and gradients", () => {
      const ctx = makeCtx(kernels)
      const [B, T, I, H, L] = [2, 3, 3, 4, 2]
      const gru = new Gru("gru", I, H, new Rng(1), { layers: L })
      expect(gru.params().map((p) => p.name)).toEqual(TORCH_NAMES.map((n) => `gru.${n}`))
      expect(gru.params().map((p) => p.shape)).toEqual([[12, 3], [12, 4], [12], [12], [12, 4], [12, 4], [12], [12]])
      setReferenceParams(gru.params())
      const x = sinFill(B * T * I, 0.53, 0.7, 1)
      const h0 = sinFill(L * B * H, 0.29, 2, 0.3)
      const r = gru.forward(ctx, x, B, T, h0)
      expectClose(r.out, GRU_OUT, 2e-6)
      expectClose(r.h, GRU_H, 2e-6)
      zeroGrads(gru.params())
      const g = gru.backward(ctx, sinFill(B * T * H, 0.41, 5, 1), sinFill(L * B * H, 0.43, 6, 1))
      expectClose(g.dx, GRU_DX, 2e-6)
      expectClose(g.dh0, GRU_DH0, 2e-6)
      expectClose(gru.layers[0]!.weightHh.grad, GRU_DW_HH_L0, 2e-6)
    })

    it("computes one step by hand: n = tanh(W_in·x + b_in + r·(W_hn·h + b_hn)), h' = (1 − z)·n + z·h", () => {
      const ctx = makeCtx(kernels)
      const gru = new Gru("gru", 1, 1, new Rng(1))
      const [wih, whh, bih, bhh] = gru.params()
      wih!.value.set([0.5, -0.25, 0.75])
      whh!.value.set([-0.5, 0.3, 0.2])
      bih!.value.set([0.1, 0.2, -0.3])
      bhh!.value.set([0.05, -0.1, 0.4])
      const x = 0.8
      const h = -0.6
      const sig = (v: number): number => 1 / (1 + Math.exp(-v))
      const r = sig(0.5 * x + 0.1 - 0.5 * h + 0.05)
      const z = sig(-0.25 * x + 0.2 + 0.3 * h - 0.1)
      const n = Math.tanh(0.75 * x - 0.3 + r * (0.2 * h + 0.4))
      const out = gru.forward(ctx, new Float32Array([x]), 1, 1, new Float32Array([h])).out
      expect(out[0]).toBeCloseTo((1 - z) * n + z * h, 6)
    })

    it("has finite-difference gradients: 2 layers, inter-layer dropout, initial state (a decoder seeded with a context)", () => {
      const ctx = makeCtx(kernels, true)
      const rng = new Rng(21)
      const [B, T, I, H, L] = [2, 4, 3, 5, 2]
      const gru = new Gru("gru", I, H, rng, { layers: L, dropout: 0.3 })
      const x = randomArray(rng, B * T * I)
      const h0 = randomArray(rng, L * B * H, 0.5)
      const wOut = randomArray(rng, B * T * H)
      const wH = randomArray(rng, L * B * H)
      const loss = (): number => {
        ctx.rng.state = 99
        const r = gru.forward(ctx, x, B, T, h0)
        return dot(r.out, wOut) + dot(r.h, wH)
      }
      zeroGrads(gru.params())
      loss()
      const g = gru.backward(ctx, wOut, wH)
      expectGradientsMatch(loss, [...probesOf(gru.params()), probe("x", x, g.dx), probe("h0", h0, g.dh0)], rng)
    })

    it("has finite-difference gradients from the hidden states alone, starting from zeros", () => {
      const ctx = makeCtx(kernels)
      const rng = new Rng(22)
      const [B, T, I, H] = [3, 5, 2, 4]
      const gru = new Gru("enc", I, H, rng)
      const x = randomArray(rng, B * T * I)
      const wOut = randomArray(rng, B * T * H)
      const loss = (): number => dot(gru.forward(ctx, x, B, T).out, wOut)
      zeroGrads(gru.params())
      loss()
      const g = gru.backward(ctx, wOut)
      expectGradientsMatch(loss, [...probesOf(gru.params()), probe("x", x, g.dx)], rng)
    })
  })
}

describe("the gradient check", () => {
  it("reports a gradient that is 5% off", () => {
    const ctx = makeCtx(kernelsUnderTest()[0]!)
    const rng = new Rng(31)
    const gru = new Gru("gru", 2, 3, rng)
    const x = randomArray(rng, 2 * 3 * 2)
    const w = randomArray(rng, 2 * 3 * 3)
    const loss = (): number => dot(gru.forward(ctx, x, 2, 3).out, w)
    zeroGrads(gru.params())
    loss()
    gru.backward(ctx, w)
    const whh = gru.layers[0]!.weightHh
    const right = [probe("weight_hh", whh.value, whh.grad)]
    expect(checkGradients(loss, right, rng, { samples: 27 })).toEqual([])
    const wrong = [probe("weight_hh", whh.value, whh.grad.map((v) => v * 1.05))]
    expect(checkGradients(loss, wrong, rng, { samples: 27 }).length).toBeGreaterThan(0)
  })
})
