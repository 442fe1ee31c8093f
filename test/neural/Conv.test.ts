import { describe, expect, it } from "vitest"
import type { Ctx } from "../../src/neural/Context.ts"
import { Conv2d, ConvLstm, ConvTranspose2d, Selu } from "../../src/neural/Conv.ts"
import type { Param } from "../../src/neural/Params.ts"
import { Rng, zeroGrads } from "../../src/neural/Params.ts"
import { Lstm } from "../../src/neural/Recurrent.ts"
import type { Probe } from "./gradcheck.ts"
import { dot, expectClose, expectGradientsMatch, kernelsUnderTest, makeCtx, randomArray, sinFill } from "./gradcheck.ts"

// PyTorch 1.13 in double precision: parameter k (weight, bias) = 0.4·sin(0.37·i + 1.3·k + 0.1), x = sin(0.53·i + 0.7).
// nn.Conv2d(2, 3, (3, 2), stride = (2, 1), padding = (1, 0)) on x [1, 2, 5, 4] → [1, 3, 3, 3].
const CONV_OUT = [0.5125752, 0.1478947, -0.1492086, 1.321468, 1.41108, 1.221669, 0.09816949, -0.02222434, -0.02836274, -0.1513016, 0.1388246, 0.4984432, 0.6489966, 0.7432188, 0.7410961, 0.0664296, 0.487385, 0.8821927, 0.5109174, 0.7194908, 0.8230955, -0.728589, -0.8688986, -0.6783453, 0.8081693, 0.7020613, 0.495767]
// nn.ConvTranspose2d(2, 3, 3, stride = 2, padding = 1, output_padding = 1) on x [1, 2, 3, 2] → [1, 3, 6, 4].
const CONVT_OUT = [0.8778879, 1.518017, 1.091725, 0.9682378, 0.9891459, 1.549161, 0.9015942, 0.7580517, 1.114166, 1.553666, 0.9390526, 0.8440812, 0.6748153, 0.6748372, 0.371034, 0.1255653, 0.6144339, 0.4040236, 0.2293807, 0.2600103, 0.4366817, 0.2671328, 0.3691439, 0.4328771, -0.05521402, -0.6635467, -0.2536018, -0.08772968, -0.2016691, -0.6924799, -0.04978401, 0.1217572, -0.274821, -0.6693582, -0.1130493, 0.0151086, 0.223345, 0.3559526, 0.5427751, 0.7736736, 0.1873255, 0.4099016, 0.5438846, 0.5033181, 0.3924443, 0.5307599, 0.3845504, 0.3224238, 0.7320006, 1.287006, 0.9079176, 0.7055312, 0.9084693, 1.312705, 0.6976264, 0.5041578, 0.9271642, 1.262775, 0.7844595, 0.627651, 0.3878141, 0.1272702, 0.06404055, -0.1441157, 0.5189597, 0.2920951, 0.203514, 0.2525817, 0.2937338, 0.1915469, 0.3767802, 0.4351013]
// nn.SELU() of [−2, −0.5, −0.01, 0.25, 1.5].
const SELU_OUT = [-1.520166, -0.6917582, -0.01749338, 0.2626752, 1.576051]

const setReferenceParams = (params: ReadonlyArray<Param>): void => {
  params.forEach((p, k) => p.value.set(sinFill(p.value.length, 0.37, 1.3 * k + 0.1, 0.4)))
}

const probesOf = (params: ReadonlyArray<Param>): Array<Probe> => params.map((p) => ({ name: p.name, values: p.value, analytic: Float32Array.from(p.grad) }))

const probe = (name: string, values: Float32Array, analytic: Float32Array): Probe => ({ name, values, analytic: Float32Array.from(analytic) })

/** The convolution straight from its definition, in double precision: x [B, C, H, W], w [O, C, kh, kw]. */
const naiveConv = (
  x: ArrayLike<number>, B: number, C: number, H: number, W: number, w: ArrayLike<number>, O: number, kh: number, kw: number,
  bias: ArrayLike<number> | undefined, sh: number, sw: number, ph: number, pw: number
): { y: Float64Array; outH: number; outW: number } => {
  const outH = Math.floor((H + 2 * ph - kh) / sh) + 1
  const outW = Math.floor((W + 2 * pw - kw) / sw) + 1
  const y = new Float64Array(B * O * outH * outW)
  for (let b = 0; b < B; b++) for (let o = 0; o < O; o++) for (let oy = 0; oy < outH; oy++) for (let ox = 0; ox < outW; ox++) {
    let s = bias === undefined ? 0 : bias[o]!
    for (let c = 0; c < C; c++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const iy = oy * sh - ph + i
      const ix = ox * sw - pw + j
      if (iy >= 0 && iy < H && ix >= 0 && ix < W) s += w[((o * C + c) * kh + i) * kw + j]! * x[((b * C + c) * H + iy) * W + ix]!
    }
    y[((b * O + o) * outH + oy) * outW + ox] = s
  }
  return { y, outH, outW }
}

/** A ConvLSTM from its definition (double precision, zero initial state): returns every hidden state [B, T, Hc, H, W]. */
const naiveConvLstm = (x: Float32Array, B: number, T: number, C: number, H: number, W: number, Hc: number, kh: number, kw: number, w: Float32Array, bias: Float32Array): Float64Array => {
  const n = H * W
  const out = new Float64Array(B * T * Hc * n)
  const sig = (v: number): number => 1 / (1 + Math.exp(-v))
  for (let b = 0; b < B; b++) {
    let h = new Float64Array(Hc * n)
    let c = new Float64Array(Hc * n)
    for (let t = 0; t < T; t++) {
      const input = new Float64Array((C + Hc) * n)
      input.set(x.subarray((b * T + t) * C * n, (b * T + t + 1) * C * n))
      input.set(h, C * n)
      const gates = naiveConv(input, 1, C + Hc, H, W, w, 4 * Hc, kh, kw, bias, 1, 1, (kh - 1) / 2, (kw - 1) / 2).y
      const h2 = new Float64Array(Hc * n)
      const c2 = new Float64Array(Hc * n)
      for (let e = 0; e < Hc * n; e++) {
        c2[e] = sig(gates[Hc * n + e]!) * c[e]! + sig(gates[e]!) * Math.tanh(gates[2 * Hc * n + e]!)
        h2[e] = sig(gates[3 * Hc * n + e]!) * Math.tanh(c2[e]!)
      }
      h = h2
      c = c2
      out.set(h, (b * T + t) * Hc * n)
    }
  }
  return out
}

/** Checks Conv2d's gradients on one configuration. */
const convGradCheck = (ctx: Ctx, seed: number, C: number, O: number, kernel: readonly [number, number], stride: readonly [number, number], padding: readonly [number, number], bias: boolean): void => {
  const rng = new Rng(seed)
  const [B, H, W] = [2, 5, 4]
  const conv = new Conv2d("conv", C, O, kernel, rng, { stride, padding, bias })
  const x = randomArray(rng, B * C * H * W)
  const [outH, outW] = conv.outputSize(H, W)
  const w = randomArray(rng, B * O * outH * outW)
  const loss = (): number => dot(conv.forward(ctx, x, B, H, W), w)
  zeroGrads(conv.params())
  loss()
  const dx = conv.backward(ctx, w)
  expectGradientsMatch(loss, [...probesOf(conv.params()), probe("x", x, dx)], rng)
}

for (const kernels of kernelsUnderTest()) {
  describe(`Conv2d (${kernels.name} kernels)`, () => {
    it("matches PyTorch's nn.Conv2d with a non-square kernel, stride and padding", () => {
      const ctx = makeCtx(kernels)
      const conv = new Conv2d("conv", 2, 3, [3, 2], new Rng(1), { stride: [2, 1], padding: [1, 0] })
      expect(conv.params().map((p) => [p.name, p.shape])).toEqual([["conv.weight", [3, 2, 3, 2]], ["conv.bias", [3]]])
      setReferenceParams(conv.params())
      const y = conv.forward(ctx, sinFill(40, 0.53, 0.7, 1), 1, 5, 4)
      expect([conv.outH, conv.outW]).toEqual([3, 3])
      expectClose(y, CONV_OUT, 2e-6)
    })

    it("equals the convolution's definition on a batch (stride 2 × 1, padding 1 × 2)", () => {
      const ctx = makeCtx(kernels)
      const rng = new Rng(2)
      const [B, C, O, H, W] = [2, 3, 4, 6, 5]
      const conv = new Conv2d("conv", C, O, [3, 2], rng, { stride: [2, 1], padding: [1, 2] })
      const x = randomArray(rng, B * C * H * W)
      const ref = naiveConv(x, B, C, H, W, conv.weight.value, O, 3, 2, conv.bias!.value, 2, 1, 1, 2)
      const y = conv.forward(ctx, x, B, H, W)
      expect([conv.outH, conv.outW]).toEqual([ref.outH, ref.outW])
      expectClose(y, ref.y, 1e-5)
    })

    it("with a 1×1 kernel is a linear map over channels at every pixel", () => {
      const ctx = makeCtx(kernels)
      const conv = new Conv2d("conv", 2, 3, 1, new Rng(3))
      conv.weight.value.set([1, 2, -1, 0.5, 0, 3])
      conv.bias!.value.set([0.25, -1, 2])
      // x [1, 2, 1, 2]: channel 0 = (1, 2), channel 1 = (−3, 4)
      const y = conv.forward(ctx, new Float32Array([1, 2, -3, 4]), 1, 1, 2)
      expect(Array.from(y)).toEqual([1 - 6 + 0.25, 2 + 8 + 0.25, -1 - 1.5 - 1, -2 + 2 - 1, 0 - 9 + 2, 0 + 12 + 2])
    })

    it("has finite-difference gradients (3×3, stride 2, padding 1)", () => {
      convGradCheck(makeCtx(kernels), 4, 2, 3, [3, 3], [2, 2], [1, 1], true)
    })

    it("has finite-difference gradients (2×3 without bias, stride 1 × 2, padding 0 × 1)", () => {
      convGradCheck(makeCtx(kernels), 5, 3, 2, [2, 3], [1, 2], [0, 1], false)
    })

    it("has finite-difference gradients (1×1, the input read as its own columns)", () => {
      convGradCheck(makeCtx(kernels), 6, 3, 2, [1, 1], [1, 1], [0, 0], true)
    })
  })

  describe(`ConvTranspose2d (${kernels.name} kernels)`, () => {
    it("matches PyTorch's nn.ConvTranspose2d with stride, padding and output padding", () => {
      const ctx = makeCtx(kernels)
      const convT = new ConvTranspose2d("deconv", 2, 3, 3, new Rng(1), { stride: 2, padding: 1, outputPadding: 1 })
      expect(convT.params().map((p) => [p.name, p.shape])).toEqual([["deconv.weight", [2, 3, 3, 3]], ["deconv.bias", [3]]])
      setReferenceParams(convT.params())
      const y = convT.forward(ctx, sinFill(12, 0.53, 0.7, 1), 1, 3, 2)
      expect([convT.outH, convT.outW]).toEqual([6, 4])
      expectClose(y, CONVT_OUT, 2e-6)
    })

    it("scatters each input pixel over its own block with a 2×2 kernel of ones and stride 2", () => {
      const ctx = makeCtx(kernels)
      const convT = new ConvTranspose2d("deconv", 1, 1, 2, new Rng(1), { stride: 2, bias: false })
      convT.weight.value.fill(1)
      const y = convT.forward(ctx, new Float32Array([1, 2, 3, 4]), 1, 2, 2)
      expect(Array.from(y)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
    })

    const adjointCases: ReadonlyArray<{ kernel: readonly [number, number]; stride: readonly [number, number]; padding: readonly [number, number]; outputPadding: readonly [number, number] }> = [
      { kernel: [3, 3], stride: [2, 2], padding: [1, 1], outputPadding: [1, 1] },
      { kernel: [3, 4], stride: [2, 3], padding: [0, 1], outputPadding: [1, 2] },
      { kernel: [3, 3], stride: [1, 1], padding: [1, 1], outputPadding: [0, 0] }
    ]
    for (const { kernel, stride, padding, outputPadding } of adjointCases) {
      it(`is the adjoint of Conv2d: <conv(x), y> = <x, convT(y)> (kernel ${kernel}, stride ${stride}, padding ${padding}, output padding ${outputPadding})`, () => {
        const ctx = makeCtx(kernels)
        const rng = new Rng(7)
        const [B, C, O, Hy, Wy] = [2, 3, 2, 3, 4]
        const conv = new Conv2d("conv", C, O, kernel, rng, { stride, padding, bias: false })
        const convT = new ConvTranspose2d("deconv", O, C, kernel, rng, { stride, padding, outputPadding, bias: false })
        convT.weight.value.set(conv.weight.value)
        const y = randomArray(rng, B * O * Hy * Wy)
        const ty = convT.forward(ctx, y, B, Hy, Wy)
        const [Hx, Wx] = [convT.outH, convT.outW]
        expect(conv.outputSize(Hx, Wx)).toEqual([Hy, Wy])
        const x = randomArray(rng, B * C * Hx * Wx)
        const left = dot(conv.forward(ctx, x, B, Hx, Wx), y)
        const right = dot(x, ty)
        expect(Math.abs(left - right)).toBeLessThan(1e-5 * (1 + Math.abs(left)))
      })
    }

    it("has finite-difference gradients (3×3, stride 2, padding 1, output padding 1)", () => {
      const ctx = makeCtx(kernels)
      const rng = new Rng(8)
      const [B, Ci, Co, H, W] = [2, 3, 2, 3, 2]
      const convT = new ConvTranspose2d("deconv", Ci, Co, 3, rng, { stride: 2, padding: 1, outputPadding: 1 })
      const x = randomArray(rng, B * Ci * H * W)
      const [outH, outW] = convT.outputSize(H, W)
      const w = randomArray(rng, B * Co * outH * outW)
      const loss = (): number => dot(convT.forward(ctx, x, B, H, W), w)
      zeroGrads(convT.params())
      loss()
      const dx = convT.backward(ctx, w)
      expectGradientsMatch(loss, [...probesOf(convT.params()), probe("x", x, dx)], rng)
    })

    it("rejects an output padding not below the stride", () => {
      expect(() => new ConvTranspose2d("deconv", 1, 1, 3, new Rng(1), { stride: 2, outputPadding: 2 })).toThrow(/output padding 2/)
    })
  })

  describe(`ConvLstm (${kernels.name} kernels)`, () => {
    it("with a 1×1 kernel on 1×1 images is an LSTM (W_ih, W_hh the columns of the conv weight)", () => {
      const ctx = makeCtx(kernels)
      const rng = new Rng(9)
      const [B, T, C, Hc] = [2, 3, 3, 4]
      const cell = new ConvLstm("cell", C, Hc, 1, rng)
      const lstm = new Lstm("lstm", C, Hc, rng)
      const [wih, whh, bih, bhh] = lstm.params()
      for (let r = 0; r < 4 * Hc; r++) {
        wih!.value.set(cell.weight.value.subarray(r * (C + Hc), r * (C + Hc) + C), r * C)
        whh!.value.set(cell.weight.value.subarray(r * (C + Hc) + C, (r + 1) * (C + Hc)), r * Hc)
      }
      bih!.value.set(cell.bias!.value)
      bhh!.value.fill(0)
      const x = randomArray(rng, B * T * C)
      const h0 = randomArray(rng, B * Hc, 0.5)
      const c0 = randomArray(rng, B * Hc, 0.5)
      const a = cell.forward(ctx, x, B, T, 1, 1, h0, c0)
      const outA = Float32Array.from(a.out)
      const b = lstm.forward(ctx, x, B, T, h0, c0)
      expectClose(outA, b.out, 1e-6)
      expectClose(a.h, b.h, 1e-6)
      expectClose(a.c, b.c, 1e-6)
      const dOut = randomArray(rng, B * T * Hc)
      const ga = cell.backward(ctx, dOut)
      const gb = lstm.backward(ctx, dOut)
      expectClose(ga.dx, gb.dx, 1e-6)
      expectClose(ga.dh0, gb.dh0, 1e-6)
      expectClose(ga.dc0, gb.dc0, 1e-6)
    })

    it("equals its definition: gates = conv(concat(x_t, h_{t−1})) with same padding, split i, f, g, o", () => {
      const ctx = makeCtx(kernels)
      const rng = new Rng(10)
      const [B, T, C, Hc, H, W] = [2, 3, 2, 3, 4, 5]
      const cell = new ConvLstm("cell", C, Hc, [3, 5], rng)
      expect(cell.params().map((p) => [p.name, p.shape])).toEqual([["cell.conv.weight", [12, 5, 3, 5]], ["cell.conv.bias", [12]]])
      const x = randomArray(rng, B * T * C * H * W)
      const r = cell.forward(ctx, x, B, T, H, W)
      expectClose(r.out, naiveConvLstm(x, B, T, C, H, W, Hc, 3, 5, cell.weight.value, cell.bias!.value), 1e-5)
      const S = Hc * H * W
      for (let b = 0; b < B; b++) expectClose(r.h.subarray(b * S, (b + 1) * S), r.out.subarray((b * T + T - 1) * S, (b * T + T) * S), 0)
    })

    it("has finite-difference gradients through time (3×3, initial state, all three outputs)", () => {
      const ctx = makeCtx(kernels)
      const rng = new Rng(11)
      const [B, T, C, Hc, H, W] = [2, 3, 2, 3, 4, 3]
      const cell = new ConvLstm("cell", C, Hc, 3, rng)
      const S = Hc * H * W
      const x = randomArray(rng, B * T * C * H * W)
      const h0 = randomArray(rng, B * S, 0.5)
      const c0 = randomArray(rng, B * S, 0.5)
      const wOut = randomArray(rng, B * T * S)
      const wH = randomArray(rng, B * S)
      const wC = randomArray(rng, B * S)
      const loss = (): number => {
        const r = cell.forward(ctx, x, B, T, H, W, h0, c0)
        return dot(r.out, wOut) + dot(r.h, wH) + dot(r.c, wC)
      }
      zeroGrads(cell.params())
      loss()
      const g = cell.backward(ctx, wOut, wH, wC)
      expectGradientsMatch(loss, [...probesOf(cell.params()), probe("x", x, g.dx), probe("h0", h0, g.dh0), probe("c0", c0, g.dc0)], rng, { samples: 10 })
    })

    it("has finite-difference gradients (3×1 kernel without bias, zero initial state, hidden states only)", () => {
      const ctx = makeCtx(kernels)
      const rng = new Rng(12)
      const [B, T, C, Hc, H, W] = [1, 4, 1, 2, 3, 2]
      const cell = new ConvLstm("cell", C, Hc, [3, 1], rng, false)
      const x = randomArray(rng, B * T * C * H * W)
      const wOut = randomArray(rng, B * T * Hc * H * W)
      const loss = (): number => dot(cell.forward(ctx, x, B, T, H, W).out, wOut)
      zeroGrads(cell.params())
      loss()
      const g = cell.backward(ctx, wOut)
      expectGradientsMatch(loss, [...probesOf(cell.params()), probe("x", x, g.dx)], rng, { samples: 10 })
    })
  })
}

describe("Selu", () => {
  const ctx = makeCtx(kernelsUnderTest()[0]!)

  it("matches PyTorch's nn.SELU", () => {
    expectClose(new Selu().forward(ctx, new Float32Array([-2, -0.5, -0.01, 0.25, 1.5])), SELU_OUT, 2e-6)
  })

  it("has finite-difference gradients away from the kink at 0", () => {
    const rng = new Rng(13)
    const selu = new Selu()
    const x = randomArray(rng, 40, 3).map((v) => (Math.abs(v) < 0.1 ? v + Math.sign(v || 1) * 0.2 : v))
    const w = randomArray(rng, 40)
    const loss = (): number => dot(selu.forward(ctx, x), w)
    loss()
    const dx = selu.backward(ctx, w)
    expectGradientsMatch(loss, [probe("x", x, dx)], rng, { samples: 40 })
  })
})
