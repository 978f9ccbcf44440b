// Package kernelstest runs tests once per kernel back end.
package kernelstest

import (
	"testing"

	"github.com/tive-dev/tive/harness/internal/kernels"
)

// EachBackend runs f once per back end of this binary (gonum, and OpenBLAS
// where it loads) as a subtest named after it, and restores the back end in
// use. Tests that call it must not run in parallel with others.
func EachBackend(t *testing.T, f func(t *testing.T)) {
	for _, be := range kernels.Available() {
		t.Run(be, func(t *testing.T) {
			restore := Use(t, be)
			defer restore()
			f(t)
		})
	}
}

// Use switches to back end be and returns the switch back.
func Use(tb testing.TB, be string) (restore func()) {
	old := kernels.Kind()
	if err := kernels.Use(be); err != nil {
		tb.Fatal(err)
	}
	return func() { kernels.Use(old) }
}
