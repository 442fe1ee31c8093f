/**
 * Seeded randomness shared by every layer: mulberry32 and a Fisher-Yates shuffle over it, so a
 * split, a detector's initial weights and an epoch's batch order are the same for the same seed on
 * any machine. Use these rather than Math.random anywhere a result must be reproducible.
 */

/** Fisher-Yates in place, driven by `next`: for i = n−1 … 1, j = floor(next() · (i + 1)), swap a[i] and a[j]. */
export const shuffleInPlace = (a: Int32Array, next: () => number): Int32Array => {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    const t = a[i]!
    a[i] = a[j]!
    a[j] = t
  }
  return a
}

/** 0 … n−1 shuffled by `shuffleInPlace` with `mulberry32(seed)`: the same seed, the same order. */
export const seededPermutation = (n: number, seed: number): Int32Array => {
  const order = new Int32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  return shuffleInPlace(order, mulberry32(seed))
}

/**
 * mulberry32 (Tommy Ettinger's 32-bit PRNG): state += 0x6D2B79F5; t = imul(s ^ s>>>15, 1 | s);
 * t ^= t + imul(t ^ t>>>7, 61 | t); result = ((t ^ t>>>14) >>> 0) / 2^32, uniform in [0, 1).
 */
export const mulberry32 = (seed: number): (() => number) => {
  let state = seed | 0
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
