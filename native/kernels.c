/*
 * logflow's native kernels (an N-API addon built at install by scripts/build-native.ts; the
 * neural core falls back to TypeScript loops when it is absent, src/runtime/Kernels.ts).
 *
 * gemm: row-major C = alpha·op(A)·op(B) + beta·C over Float32Array views with offsets and leading
 * dimensions, the BLAS sgemm contract. It calls OpenBLAS's cblas_sgemm when the shared library
 * can be opened at load time (the BLAS PyTorch uses on Debian), else the blocked loops below
 * (compiled with the vector units of the machine that built the addon). Both are deterministic:
 * the same operands and thread count give the same bits.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <stdint.h>
#include <stdbool.h>

typedef void (*sgemm_fn)(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                         const float *b, int ldb, float beta, float *c, int ldc);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);

static sgemm_fn blas_sgemm = NULL;
static set_threads_fn blas_set_threads = NULL;
static get_threads_fn blas_get_threads = NULL;
static const char *blas_name = "none";

static void open_blas(void) {
  if (blas_sgemm != NULL || getenv("FLOW_NO_BLAS") != NULL) return;
  const char *names[] = {"libopenblas.so.0", "libopenblasp.so.0", "libopenblas.so", NULL};
  for (int i = 0; names[i] != NULL; i++) {
    void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) continue;
    sgemm_fn f = (sgemm_fn)dlsym(h, "cblas_sgemm");
    if (f == NULL) continue;
    blas_sgemm = f;
    blas_set_threads = (set_threads_fn)dlsym(h, "openblas_set_num_threads");
    blas_get_threads = (get_threads_fn)dlsym(h, "openblas_get_num_threads");
    blas_name = names[i];
    return;
  }
}

/* Fallback: C = alpha·op(A)·op(B) + beta·C with op applied by copying into row-major scratch. */
static void loops_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                        const float *B, int ldb, float beta, float *C, int ldc) {
  for (int i = 0; i < M; i++) {
    float *c = C + (size_t)i * ldc;
    if (beta == 0.0f) memset(c, 0, sizeof(float) * N);
    else if (beta != 1.0f) for (int j = 0; j < N; j++) c[j] *= beta;
  }
  if (K == 0 || alpha == 0.0f) return;
  /* B as [K, N] rows */
  float *Bt = NULL;
  const float *Bk = B;
  int ldbk = ldb;
  if (tb) {
    Bt = (float *)malloc(sizeof(float) * (size_t)K * N);
    for (int j = 0; j < N; j++)
      for (int k = 0; k < K; k++) Bt[(size_t)k * N + j] = B[(size_t)j * ldb + k];
    Bk = Bt;
    ldbk = N;
  }
  for (int i = 0; i < M; i++) {
    float *restrict c = C + (size_t)i * ldc;
    for (int k = 0; k < K; k++) {
      float a = alpha * (ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]);
      if (a == 0.0f) continue;
      const float *restrict b = Bk + (size_t)k * ldbk;
      for (int j = 0; j < N; j++) c[j] += a * b[j];
    }
  }
  free(Bt);
}

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, "kernels: bad call " #call); return NULL; } } while (0)

static int get_f32(napi_env env, napi_value v, float **data, size_t *length) {
  napi_typedarray_type type;
  void *p;
  size_t len;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, &len, &p, &ab, &off) != napi_ok || type != napi_float32_array) return 0;
  *data = (float *)p;
  *length = len;
  return 1;
}

static int get_i32(napi_env env, napi_value v, int *out) { return napi_get_value_int32(env, v, out) == napi_ok; }
static int get_f(napi_env env, napi_value v, float *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return 0;
  *out = (float)d;
  return 1;
}
static int get_b(napi_env env, napi_value v, int *out) {
  bool b;
  if (napi_get_value_bool(env, v, &b) != napi_ok) return 0;
  *out = b ? 1 : 0;
  return 1;
}

/* gemm(transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc) */
static napi_value Gemm(napi_env env, napi_callback_info info) {
  size_t argc = 16;
  napi_value a[16];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  if (argc != 16) { napi_throw_type_error(env, NULL, "gemm: 16 arguments expected"); return NULL; }
  int ta, tb, M, N, K, aOff, lda, bOff, ldb, cOff, ldc;
  float alpha, beta;
  float *A, *B, *C;
  size_t lenA, lenB, lenC;
  if (!get_b(env, a[0], &ta) || !get_b(env, a[1], &tb) || !get_i32(env, a[2], &M) || !get_i32(env, a[3], &N) ||
      !get_i32(env, a[4], &K) || !get_f(env, a[5], &alpha) || !get_f32(env, a[6], &A, &lenA) || !get_i32(env, a[7], &aOff) ||
      !get_i32(env, a[8], &lda) || !get_f32(env, a[9], &B, &lenB) || !get_i32(env, a[10], &bOff) || !get_i32(env, a[11], &ldb) ||
      !get_f(env, a[12], &beta) || !get_f32(env, a[13], &C, &lenC) || !get_i32(env, a[14], &cOff) || !get_i32(env, a[15], &ldc)) {
    napi_throw_type_error(env, NULL, "gemm: bad argument types");
    return NULL;
  }
  if (M < 0 || N < 0 || K < 0 || aOff < 0 || bOff < 0 || cOff < 0) { napi_throw_range_error(env, NULL, "gemm: negative size or offset"); return NULL; }
  if (M == 0 || N == 0) return NULL;
  /* bounds: the last element each operand reads */
  size_t aRows = ta ? K : M, aCols = ta ? M : K, bRows = tb ? N : K, bCols = tb ? K : N;
  if ((aCols > 0 && aRows > 0 && ((size_t)lda < aCols || (size_t)aOff + (aRows - 1) * lda + aCols > lenA)) ||
      (bCols > 0 && bRows > 0 && ((size_t)ldb < bCols || (size_t)bOff + (bRows - 1) * ldb + bCols > lenB)) ||
      ((size_t)ldc < (size_t)N || (size_t)cOff + (size_t)(M - 1) * ldc + N > lenC)) {
    napi_throw_range_error(env, NULL, "gemm: operand out of bounds");
    return NULL;
  }
  if (blas_sgemm != NULL && K > 0) {
    blas_sgemm(101, ta ? 112 : 111, tb ? 112 : 111, M, N, K, alpha, A + aOff, lda < 1 ? 1 : lda, B + bOff, ldb < 1 ? 1 : ldb, beta, C + cOff, ldc);
  } else {
    loops_sgemm(ta, tb, M, N, K, alpha, A + aOff, lda, B + bOff, ldb, beta, C + cOff, ldc);
  }
  return NULL;
}


/* ---- elementwise kernels of the neural core (the TypeScript loops in src/runtime/KernelLoops.ts compute the same) ---- */

static int arg_f32(napi_env env, napi_value v, float **data, size_t need) {
  size_t len;
  if (!get_f32(env, v, data, &len) || len < need) return 0;
  return 1;
}

static int arg_u8(napi_env env, napi_value v, uint8_t **data, size_t need) {
  napi_typedarray_type type;
  void *p;
  size_t len;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, &len, &p, &ab, &off) != napi_ok || type != napi_uint8_array || len < need) return 0;
  *data = (uint8_t *)p;
  return 1;
}

static int arg_n(napi_env env, napi_value v, int *out) { return get_i32(env, v, out) && *out >= 0; }

#define ARGS(n) size_t argc = n; napi_value a[n]; CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL)); \
  if (argc != n) { napi_throw_type_error(env, NULL, "kernels: " #n " arguments expected"); return NULL; }
#define BAD(what) do { napi_throw_type_error(env, NULL, "kernels: bad arguments to " what); return NULL; } while (0)

/* mulberry32, the generator of src/neural/Params.ts's Rng: the same state gives the same draws. */
static inline double mulberry_next(uint32_t *state) {
  *state += 0x6d2b79f5u;
  uint32_t t = *state;
  t = (t ^ (t >> 15)) * (t | 1u);
  t ^= t + (t ^ (t >> 7)) * (t | 61u);
  return (double)(t ^ (t >> 14)) / 4294967296.0;
}

/* dropout(x, y, mask, n, p, state) -> state: mask[i] = draw < p ? 0 : 1/(1-p); y = x·mask */
static napi_value Dropout(napi_env env, napi_callback_info info) {
  ARGS(6)
  int n;
  double p, st;
  float *x, *y, *mask;
  if (!arg_n(env, a[3], &n) || !arg_f32(env, a[0], &x, n) || !arg_f32(env, a[1], &y, n) || !arg_f32(env, a[2], &mask, n) ||
      napi_get_value_double(env, a[4], &p) != napi_ok || napi_get_value_double(env, a[5], &st) != napi_ok) BAD("dropout");
  uint32_t state = (uint32_t)st;
  float keep = (float)(1.0 / (1.0 - p));
  for (int i = 0; i < n; i++) {
    float m = mulberry_next(&state) < p ? 0.0f : keep;
    mask[i] = m;
    y[i] = x[i] * m;
  }
  napi_value out;
  CHECK(napi_create_double(env, (double)state, &out));
  return out;
}

/* GELU's loops live in gelu.c, compiled with fast-math so that glibc's vector expf (libmvec) runs them. */
void gelu_loop(const float *x, float *y, int n);
void gelu_backward_loop(const float *x, const float *dy, float *dx, int n);

/* gelu(x, y, n): y = x·Φ(x) */
static napi_value Gelu(napi_env env, napi_callback_info info) {
  ARGS(3)
  int n;
  float *x, *y;
  if (!arg_n(env, a[2], &n) || !arg_f32(env, a[0], &x, n) || !arg_f32(env, a[1], &y, n)) BAD("gelu");
  gelu_loop(x, y, n);
  return NULL;
}

/* geluBackward(x, dy, dx, n): dx = dy·(Φ(x) + x·φ(x)) */
static napi_value GeluBackward(napi_env env, napi_callback_info info) {
  ARGS(4)
  int n;
  float *x, *dy, *dx;
  if (!arg_n(env, a[3], &n) || !arg_f32(env, a[0], &x, n) || !arg_f32(env, a[1], &dy, n) || !arg_f32(env, a[2], &dx, n)) BAD("geluBackward");
  gelu_backward_loop(x, dy, dx, n);
  return NULL;
}

/* attnSoftmax(probs, B, H, T, causal, keyPad): each T-row of the B·H score blocks -> masked softmax (all masked -> zeros) */
static napi_value AttnSoftmax(napi_env env, napi_callback_info info) {
  ARGS(6)
  int B, H, T;
  bool causal;
  float *pr;
  uint8_t *pad;
  if (!arg_n(env, a[1], &B) || !arg_n(env, a[2], &H) || !arg_n(env, a[3], &T) || napi_get_value_bool(env, a[4], &causal) != napi_ok ||
      !arg_f32(env, a[0], &pr, (size_t)B * H * T * T) || !arg_u8(env, a[5], &pad, (size_t)B * T)) BAD("attnSoftmax");
  for (int b = 0; b < B; b++) {
    const uint8_t *kp = pad + (size_t)b * T;
    for (int h = 0; h < H; h++) {
      float *blk = pr + ((size_t)b * H + h) * T * T;
      for (int i = 0; i < T; i++) {
        float *row = blk + (size_t)i * T;
        int last = causal ? i : T - 1;
        float max = -INFINITY;
        for (int j = 0; j <= last; j++) if (!kp[j] && row[j] > max) max = row[j];
        if (max == -INFINITY) { memset(row, 0, sizeof(float) * T); continue; }
        float sum = 0.0f;
        for (int j = 0; j < T; j++) {
          if (j > last || kp[j]) { row[j] = 0.0f; continue; }
          float e = expf(row[j] - max);
          row[j] = e;
          sum += e;
        }
        float inv = 1.0f / sum;
        for (int j = 0; j <= last; j++) row[j] *= inv;
      }
    }
  }
  return NULL;
}

/* softmaxBackward(dP, probs, pOff, T, scale): dP = P ⊙ (dP − rowsum(dP ⊙ P)) · scale for one T×T block */
static napi_value SoftmaxBackward(napi_env env, napi_callback_info info) {
  ARGS(5)
  int off, T;
  double scale;
  float *dP, *P;
  if (!arg_n(env, a[2], &off) || !arg_n(env, a[3], &T) || napi_get_value_double(env, a[4], &scale) != napi_ok ||
      !arg_f32(env, a[0], &dP, (size_t)T * T) || !arg_f32(env, a[1], &P, (size_t)off + (size_t)T * T)) BAD("softmaxBackward");
  P += off;
  float sc = (float)scale;
  for (int i = 0; i < T; i++) {
    float *d = dP + (size_t)i * T;
    const float *p = P + (size_t)i * T;
    float dot = 0.0f;
    for (int j = 0; j < T; j++) dot += d[j] * p[j];
    for (int j = 0; j < T; j++) d[j] = p[j] * (d[j] - dot) * sc;
  }
  return NULL;
}

/* layerNorm(x, y, xhat, rstd, rows, D, gamma, beta, eps) */
static napi_value LayerNormK(napi_env env, napi_callback_info info) {
  ARGS(9)
  int rows, D;
  double eps;
  float *x, *y, *xh, *rs, *g, *be;
  if (!arg_n(env, a[4], &rows) || !arg_n(env, a[5], &D) || napi_get_value_double(env, a[8], &eps) != napi_ok) BAD("layerNorm");
  size_t n = (size_t)rows * D;
  if (!arg_f32(env, a[0], &x, n) || !arg_f32(env, a[1], &y, n) || !arg_f32(env, a[2], &xh, n) || !arg_f32(env, a[3], &rs, rows) ||
      !arg_f32(env, a[6], &g, D) || !arg_f32(env, a[7], &be, D)) BAD("layerNorm");
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * D;
    float mean = 0.0f;
    for (int j = 0; j < D; j++) mean += xr[j];
    mean /= D;
    float v = 0.0f;
    for (int j = 0; j < D; j++) { float c = xr[j] - mean; v += c * c; }
    float s = 1.0f / sqrtf(v / D + (float)eps);
    rs[r] = s;
    float *hr = xh + (size_t)r * D, *yr = y + (size_t)r * D;
    for (int j = 0; j < D; j++) { float hh = (xr[j] - mean) * s; hr[j] = hh; yr[j] = hh * g[j] + be[j]; }
  }
  return NULL;
}

/* layerNormBackward(dy, xhat, rstd, gamma, dgamma, dbeta, dx, rows, D) */
static napi_value LayerNormBackward(napi_env env, napi_callback_info info) {
  ARGS(9)
  int rows, D;
  float *dy, *xh, *rs, *g, *dg, *db, *dx;
  if (!arg_n(env, a[7], &rows) || !arg_n(env, a[8], &D)) BAD("layerNormBackward");
  size_t n = (size_t)rows * D;
  if (!arg_f32(env, a[0], &dy, n) || !arg_f32(env, a[1], &xh, n) || !arg_f32(env, a[2], &rs, rows) || !arg_f32(env, a[3], &g, D) ||
      !arg_f32(env, a[4], &dg, D) || !arg_f32(env, a[5], &db, D) || !arg_f32(env, a[6], &dx, n)) BAD("layerNormBackward");
  for (int r = 0; r < rows; r++) {
    const float *d = dy + (size_t)r * D, *h = xh + (size_t)r * D;
    float sg = 0.0f, sgx = 0.0f;
    for (int j = 0; j < D; j++) {
      dg[j] += d[j] * h[j];
      db[j] += d[j];
      float gh = d[j] * g[j];
      sg += gh;
      sgx += gh * h[j];
    }
    float s = rs[r], mg = sg / D, mgx = sgx / D;
    float *o = dx + (size_t)r * D;
    for (int j = 0; j < D; j++) o[j] = s * (d[j] * g[j] - mg - h[j] * mgx);
  }
  return NULL;
}

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int n;
  if (argc != 1 || !get_i32(env, a[0], &n) || n < 1) { napi_throw_type_error(env, NULL, "setThreads: a positive integer expected"); return NULL; }
  if (blas_set_threads != NULL) blas_set_threads(n);
  return NULL;
}

static napi_value Info(napi_env env, napi_callback_info info) {
  napi_value obj, name, threads;
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_string_utf8(env, blas_name, NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_int32(env, blas_get_threads != NULL ? blas_get_threads() : 1, &threads));
  CHECK(napi_set_named_property(env, obj, "blas", name));
  CHECK(napi_set_named_property(env, obj, "threads", threads));
  return obj;
}

NAPI_MODULE_INIT() {
  open_blas();
  napi_property_descriptor props[] = {
    {"gemm", NULL, Gemm, NULL, NULL, NULL, napi_default, NULL},
    {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_default, NULL},
    {"info", NULL, Info, NULL, NULL, NULL, napi_default, NULL},
    {"dropout", NULL, Dropout, NULL, NULL, NULL, napi_default, NULL},
    {"gelu", NULL, Gelu, NULL, NULL, NULL, napi_default, NULL},
    {"geluBackward", NULL, GeluBackward, NULL, NULL, NULL, napi_default, NULL},
    {"attnSoftmax", NULL, AttnSoftmax, NULL, NULL, NULL, napi_default, NULL},
    {"softmaxBackward", NULL, SoftmaxBackward, NULL, NULL, NULL, napi_default, NULL},
    {"layerNorm", NULL, LayerNormK, NULL, NULL, NULL, napi_default, NULL},
    {"layerNormBackward", NULL, LayerNormBackward, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return NULL;
  return exports;
}
