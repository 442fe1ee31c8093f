/*
 * GELU's loops for native/kernels.c, compiled on their own with -ffast-math: glibc's vector expf
 * (libmvec) then runs 8 or 16 lanes at a time. Their inputs are finite activations, where
 * fast-math changes only rounding; the other kernels keep IEEE semantics (the softmax tests for −∞).
 */
#include <math.h>

/* erfc with fractional error below 1.2e-7 (Chebyshev fit, Numerical Recipes' erfcc), as src/runtime/KernelLoops.ts. */
static inline float erfc_nr(float x) {
  float z = fabsf(x);
  float t = 1.0f / (1.0f + 0.5f * z);
  float r = t * expf(-z * z - 1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f + t * (-0.18628806f + t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f)))))))));
  return x >= 0 ? r : 2.0f - r;
}

void gelu_loop(const float *restrict x, float *restrict y, int n) {
  for (int i = 0; i < n; i++) y[i] = 0.5f * x[i] * erfc_nr(-x[i] * 0.70710678118654752f);
}

void gelu_backward_loop(const float *restrict x, const float *restrict dy, float *restrict dx, int n) {
  for (int i = 0; i < n; i++) {
    float v = x[i];
    dx[i] = dy[i] * (0.5f * erfc_nr(-v * 0.70710678118654752f) + v * 0.39894228040143268f * expf(-0.5f * v * v));
  }
}
