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
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return NULL;
  return exports;
}
