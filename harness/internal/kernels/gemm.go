// Package kernels is the float32 arithmetic under the built-in model and
// the gradient projectors, row-major like the rest of the harness: the
// matrix product
//
//	C = alpha·op(A)·op(B) + beta·C,  op(A) m×k, op(B) k×n, C m×n,
//
// with op(X) = Xᵀ when the matching flag is set and lda, ldb, ldc the row
// strides, and the layers around it (elementwise.go: GELU, attention per
// sequence and head, layer norm, AdamW, row sums), with the pool of helper
// goroutines that runs parallel regions (pool.go). Two back ends compute
// them:
//
//   - "openblas" (native): Debian's OpenBLAS (libopenblas0), loaded at
//     start-up with dlopen when the binary is built with cgo and the library
//     is present, and the C kernels of native.h. OpenBLAS runs one thread
//     per call; products of at least splitFlops are cut into fixed blocks of
//     rows (or, for short wide products, columns) that run on For's
//     workers (pool.go). The cut depends on the shape only, so results
//     are the same bytes for any core count and any number of stages
//     running at once.
//   - "gonum": gonum's pure-Go Sgemm (it splits products over cores itself,
//     each element reduced over k in a fixed order) and Go loops. It is used
//     by CGO_ENABLED=0 builds, where OpenBLAS is missing, and when the
//     environment sets TIVE_BLAS=gonum.
//
// The back ends round differently, so they give different bytes; Backend
// names the one in use (with OpenBLAS's kernel, which also changes the
// bytes) so that the pipeline never lets results of the two share a cache
// entry.
package kernels

import (
	"fmt"
	"os"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Env is the environment variable that picks a back end: "gonum" forces the
// pure-Go one, "openblas" makes a missing OpenBLAS a start-up error, empty
// takes OpenBLAS when it loads.
const Env = "TIVE_BLAS"

// impl is one back end: a product and the element-wise kernels, on the
// calling goroutine.
type impl interface {
	sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	geluForward(y, t, x []float32)
	geluBackward(dx, dy, x, t []float32)
	attentionForward(a Attn, o, p, q, k, v, scratch []float32)
	attentionBackward(a Attn, dq, dk, dv, do, p, q, k, v, scratch []float32)
	layerNormForward(y, mean, rstd, x, g, b []float32, rows, d int)
	layerNormBackward(dx, pg, pb, x, dy, g, mean, rstd []float32, rows, d int)
	adamW(w, g, m, v []float32, h AdamStep)
	addRows(dst, x []float32, rows, cols int)
	softmaxSq(z []float32, sq []float64, V int)
}

var (
	cur              impl
	curKind, curName string
	// native is the OpenBLAS back end when it loaded (nil otherwise) and
	// nativeErr why it did not.
	native     impl
	nativeName string
	nativeErr  error
)

func init() {
	native, nativeName, nativeErr = loadOpenBLAS()
	want := os.Getenv(Env)
	if want == "" {
		want = "openblas"
		if native == nil {
			want = "gonum"
		}
	}
	if err := Use(want); err != nil {
		fmt.Fprintf(os.Stderr, "tive: %s=%s: %v\n", Env, want, err)
		os.Exit(2)
	}
}

// Use switches the back end ("openblas" or "gonum") for every later
// product. It is for start-up and for benchmarks that time both back ends
// in one run; it must not be called while products run.
func Use(name string) error {
	switch name {
	case "gonum":
		cur, curName = gonumImpl{}, "gonum"
		curKind = name
	case "openblas":
		if native == nil {
			return fmt.Errorf("OpenBLAS is not available: %v", nativeErr)
		}
		cur, curName = native, nativeName
		curKind = name
	default:
		return fmt.Errorf("unknown BLAS back end %q (want openblas or gonum)", name)
	}
	return nil
}

// Backend names the back end in use: "gonum", or "openblas <version>
// <kernel>" such as "openblas 0.3.21 Haswell".
func Backend() string { return curName }

// Kind is the back end in use as Use takes it: "openblas" or "gonum".
func Kind() string { return curKind }

// Available lists the back ends this binary can use, "gonum" first.
func Available() []string {
	if native == nil {
		return []string{"gonum"}
	}
	return []string{"gonum", "openblas"}
}

// splitFlops is the size (2·m·n·k) from which the OpenBLAS back end cuts a
// product into blocks; blockRows and blockCols are the block sizes.
//
// smallProduct is the size (m·n·k) up to which the native back end
// multiplies with plain C loops instead of OpenBLAS, whose per-call set-up
// costs about 2 µs (attention over 16 visual tokens is 16·16·16).
const (
	smallProduct = 1 << 13
	splitFlops   = 1 << 21
	blockRows    = 256
	blockCols    = 256
)

// Sgemm computes C = alpha·op(A)·op(B) + beta·C (see the package doc). It
// panics when a stride or a slice is too short for the shape.
func Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	ra, ca := m, k
	if tA {
		ra, ca = k, m
	}
	rb, cb := k, n
	if tB {
		rb, cb = n, k
	}
	if m < 0 || n < 0 || k < 0 || lda < max(1, ca) || ldb < max(1, cb) || ldc < max(1, n) {
		panic(fmt.Sprintf("gemm: bad shape m=%d n=%d k=%d lda=%d ldb=%d ldc=%d", m, n, k, lda, ldb, ldc))
	}
	if k > 0 {
		a = a[:lda*(ra-1)+ca]
		b = b[:ldb*(rb-1)+cb]
	}
	c = c[:ldc*(m-1)+n]
	if _, ok := cur.(gonumImpl); ok || 2*m*n*k < splitFlops {
		cur.sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if m >= 2*blockRows {
		For((m+blockRows-1)/blockRows, func(_, i int) {
			r0, r1 := i*blockRows, min((i+1)*blockRows, m)
			ao := r0 * lda
			if tA {
				ao = r0
			}
			cur.sgemm(tA, tB, r1-r0, n, k, alpha, a[ao:], lda, b, ldb, beta, c[r0*ldc:], ldc)
		})
		return
	}
	if n >= 2*blockCols {
		For((n+blockCols-1)/blockCols, func(_, i int) {
			c0, c1 := i*blockCols, min((i+1)*blockCols, n)
			bo := c0
			if tB {
				bo = c0 * ldb
			}
			cur.sgemm(tA, tB, m, c1-c0, k, alpha, a, lda, b[bo:], ldb, beta, c[c0:], ldc)
		})
		return
	}
	cur.sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

type gonumImpl struct{}

var gonumBLAS gonum.Implementation

func (gonumImpl) sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if k == 0 {
		// gonum wants non-empty A and B even when k is 0.
		for i := range m {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				row[j] *= beta
			}
		}
		return
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if tA {
		ta = blas.Trans
	}
	if tB {
		tb = blas.Trans
	}
	gonumBLAS.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
