// Package gemmtest runs tests once per matrix-product back end.
package gemmtest

import (
	"testing"

	"github.com/tive-dev/tive/harness/internal/gemm"
)

// EachBackend runs f once per back end of this binary (gonum, and OpenBLAS
// where it loads) as a subtest named after it, and restores the back end in
// use. Tests that call it must not run in parallel with others.
func EachBackend(t *testing.T, f func(t *testing.T)) {
	for _, be := range gemm.Available() {
		t.Run(be, func(t *testing.T) {
			restore := Use(t, be)
			defer restore()
			f(t)
		})
	}
}

// Use switches to back end be and returns the switch back.
func Use(tb testing.TB, be string) (restore func()) {
	old := gemm.Kind()
	if err := gemm.Use(be); err != nil {
		tb.Fatal(err)
	}
	return func() { gemm.Use(old) }
}
