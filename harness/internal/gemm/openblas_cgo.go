//go:build cgo

package gemm

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>

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
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"
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

func (openblasImpl) sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	var pa, pb *C.float
	if k > 0 {
		pa, pb = (*C.float)(&a[0]), (*C.float)(&b[0])
	}
	C.tive_sgemm(cbool(tA), cbool(tB), C.int(m), C.int(n), C.int(k), C.float(alpha), pa, C.int(lda), pb, C.int(ldb), C.float(beta), (*C.float)(&c[0]), C.int(ldc))
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
