//go:build cgo

package kernels

/*
#cgo CFLAGS: -O3 -Wno-psabi
#cgo LDFLAGS: -ldl -lm
#include <dlfcn.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
typedef void (*set_threads_fn)(int);
typedef char *(*str_fn)(void);

static sgemm_fn tive_sgemm_p;
static str_fn tive_corename_p, tive_config_p;

// tive_openblas_load opens OpenBLAS, keeps its cblas_sgemm and pins it to
// one thread. It returns NULL or an error message.
static const char *tive_openblas_load(const char *path) {
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) return dlerror();
	set_threads_fn set = (set_threads_fn)dlsym(h, "openblas_set_num_threads");
	tive_sgemm_p = (sgemm_fn)dlsym(h, "cblas_sgemm");
	tive_corename_p = (str_fn)dlsym(h, "openblas_get_corename");
	tive_config_p = (str_fn)dlsym(h, "openblas_get_config");
	if (set == NULL || tive_sgemm_p == NULL || tive_corename_p == NULL || tive_config_p == NULL) {
		tive_sgemm_p = NULL;
		return "the library lacks cblas_sgemm or openblas_set_num_threads, openblas_get_corename, openblas_get_config";
	}
	set(1);
	return NULL;
}

static const char *tive_openblas_corename(void) { return tive_corename_p(); }
static const char *tive_openblas_config(void) { return tive_config_p(); }

// CBLAS: 101 row-major, 111 no transpose, 112 transpose.
static void tive_sgemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                       const float *b, int ldb, float beta, float *c, int ldc) {
	tive_sgemm_p(101, ta ? 112 : 111, tb ? 112 : 111, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// tive_v8 is 8 floats that GCC adds and multiplies lane by lane (two SSE
// registers on baseline x86-64, one AVX2 register).
typedef float tive_v8 __attribute__((vector_size(32)));

// Comparisons may not trap, so the clamps of exp32 and tanh32 become
// vector selects (the values computed are the same).
#pragma GCC optimize("no-trapping-math")
#define SUFFIX base
#include "native.h"
#undef SUFFIX
#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx2")
#define SUFFIX avx2
#include "native.h"
#undef SUFFIX
#pragma GCC pop_options
#define TIVE_PICK(name, avx2) ((avx2) ? name##_avx2 : name##_base)
#else
#define TIVE_PICK(name, avx2) (name##_base)
#endif

static void tive_gelu_fwd(int avx2, float *y, float *t, const float *x, long n) { TIVE_PICK(gelu_fwd, avx2)(y, t, x, n); }
static void tive_gelu_bwd(int avx2, float *dx, const float *dy, const float *x, const float *t, long n) { TIVE_PICK(gelu_bwd, avx2)(dx, dy, x, t, n); }
static void tive_sgemm_small(int avx2, int ta, int tb, long m, long n, long k, float alpha, const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc) {
	TIVE_PICK(sgemm_small, avx2)(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
static void tive_attn_fwd(int avx2, long t, long hd, long ld, float scale, int causal, int sinked, float sink, float *o, float *p, const float *q, const float *k, const float *v, float *scratch) {
	TIVE_PICK(attn_fwd, avx2)(t, hd, ld, scale, causal, sinked, sink, o, p, q, k, v, scratch);
}
static void tive_attn_bwd(int avx2, long t, long hd, long ld, float scale, int causal, float *dq, float *dk, float *dv, const float *dout, const float *p, const float *q, const float *k, const float *v, float *scratch) {
	TIVE_PICK(attn_bwd, avx2)(t, hd, ld, scale, causal, dq, dk, dv, dout, p, q, k, v, scratch);
}
static void tive_adamw(int avx2, float *w, const float *g, float *m, float *v, long n, float b1, float b2, float decay, float a, float s2, float eps) {
	TIVE_PICK(adamw, avx2)(w, g, m, v, n, b1, b2, decay, a, s2, eps);
}
static void tive_softmax_sq(int avx2, float *z, double *sq, long rows, long V) { TIVE_PICK(softmax_sq, avx2)(z, sq, rows, V); }
static void tive_add_rows(int avx2, float *dst, const float *x, long rows, long cols) { TIVE_PICK(add_rows, avx2)(dst, x, rows, cols); }
static void tive_layernorm_fwd(int avx2, float *y, float *mean, float *rstd, const float *x, const float *g, const float *b, long rows, long d) {
	TIVE_PICK(layernorm_fwd, avx2)(y, mean, rstd, x, g, b, rows, d);
}
static void tive_layernorm_bwd(int avx2, float *dx, float *pg, float *pb, const float *x, const float *dy, const float *g, const float *mean, const float *rstd, long rows, long d, float *xh) {
	TIVE_PICK(layernorm_bwd, avx2)(dx, pg, pb, x, dy, g, mean, rstd, rows, d, xh);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// libraries are the names tried in turn: Debian's libopenblas0 provides the
// first, a plain build of OpenBLAS the second.
var libraries = []string{"libopenblas.so.0", "libopenblas.so"}

func loadOpenBLAS() (impl, string, error) {
	var errs []string
	for _, lib := range libraries {
		cs := C.CString(lib)
		msg := C.tive_openblas_load(cs)
		C.free(unsafe.Pointer(cs))
		if msg == nil {
			return openblasImpl{}, "openblas " + openblasVersion(C.GoString(C.tive_openblas_config())) + " " + C.GoString(C.tive_openblas_corename()), nil
		}
		errs = append(errs, C.GoString(msg))
	}
	return nil, "", errors.New(strings.Join(errs, "; "))
}

// openblasVersion is the version word of openblas_get_config's
// "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
func openblasVersion(config string) string {
	f := strings.Fields(config)
	if len(f) >= 2 && f[0] == "OpenBLAS" {
		return f[1]
	}
	return fmt.Sprintf("(%s)", config)
}

type openblasImpl struct{}

// avx2 picks the AVX2 build of the C kernels (the same bytes as the
// baseline build, faster).
var avx2 = cbool(cpu.X86.HasAVX2)

func ptr(s []float32) *C.float { return (*C.float)(unsafe.Pointer(unsafe.SliceData(s))) }

func (openblasImpl) geluForward(y, t, x []float32) {
	C.tive_gelu_fwd(avx2, ptr(y), ptr(t), ptr(x), C.long(len(x)))
}

func (openblasImpl) geluBackward(dx, dy, x, t []float32) {
	C.tive_gelu_bwd(avx2, ptr(dx), ptr(dy), ptr(x), ptr(t), C.long(len(x)))
}

func (openblasImpl) attentionForward(a Attn, o, p, q, k, v, scratch []float32) {
	C.tive_attn_fwd(avx2, C.long(a.T), C.long(a.HD), C.long(a.LD), C.float(a.Scale), cbool(a.Causal), cbool(a.Sinked), C.float(a.Sink), ptr(o), ptr(p), ptr(q), ptr(k), ptr(v), ptr(scratch))
}

func (openblasImpl) attentionBackward(a Attn, dq, dk, dv, do, p, q, k, v, scratch []float32) {
	C.tive_attn_bwd(avx2, C.long(a.T), C.long(a.HD), C.long(a.LD), C.float(a.Scale), cbool(a.Causal), ptr(dq), ptr(dk), ptr(dv), ptr(do), ptr(p), ptr(q), ptr(k), ptr(v), ptr(scratch))
}

func (openblasImpl) sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m*n*k <= smallProduct {
		C.tive_sgemm_small(avx2, cbool(tA), cbool(tB), C.long(m), C.long(n), C.long(k), C.float(alpha), ptr(a), C.long(lda), ptr(b), C.long(ldb), C.float(beta), ptr(c), C.long(ldc))
		return
	}
	C.tive_sgemm(cbool(tA), cbool(tB), C.int(m), C.int(n), C.int(k), C.float(alpha), ptr(a), C.int(lda), ptr(b), C.int(ldb), C.float(beta), ptr(c), C.int(ldc))
}

func (openblasImpl) adamW(w, g, m, v []float32, h AdamStep) {
	C.tive_adamw(avx2, ptr(w), ptr(g), ptr(m), ptr(v), C.long(len(w)), C.float(h.Beta1), C.float(h.Beta2), C.float(h.Decay), C.float(h.LR), C.float(h.S2), C.float(h.Eps))
}

func (openblasImpl) softmaxSq(z []float32, sq []float64, V int) {
	C.tive_softmax_sq(avx2, ptr(z), (*C.double)(unsafe.Pointer(unsafe.SliceData(sq))), C.long(len(sq)), C.long(V))
}

func (openblasImpl) addRows(dst, x []float32, rows, cols int) {
	C.tive_add_rows(avx2, ptr(dst), ptr(x), C.long(rows), C.long(cols))
}

func (openblasImpl) layerNormForward(y, mean, rstd, x, g, b []float32, rows, d int) {
	C.tive_layernorm_fwd(avx2, ptr(y), ptr(mean), ptr(rstd), ptr(x), ptr(g), ptr(b), C.long(rows), C.long(d))
}

func (openblasImpl) layerNormBackward(dx, pg, pb, x, dy, g, mean, rstd []float32, rows, d int) {
	xh := make([]float32, d) // a row of x̂
	C.tive_layernorm_bwd(avx2, ptr(dx), ptr(pg), ptr(pb), ptr(x), ptr(dy), ptr(g), ptr(mean), ptr(rstd), C.long(rows), C.long(d), ptr(xh))
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
