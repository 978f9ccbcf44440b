//go:build cgo

package kernels

import (
	"slices"
	"testing"
)

// TestNativeBuildsSameBytes: the AVX2 and the baseline builds of the C
// kernels, SoftmaxRows among them, give the same bytes (on a machine
// without AVX2 both runs take the baseline build).
func TestNativeBuildsSameBytes(t *testing.T) {
	if native == nil {
		t.Skip("OpenBLAS is not available: the native back end is off")
	}
	defer use(t, "openblas")()
	old := avx2
	defer func() { avx2 = old }()
	avx2 = 0
	base := elementwiseCase()
	bz, bsq := softmaxCase()
	avx2 = old
	fast := elementwiseCase()
	fz, fsq := softmaxCase()
	if !slices.Equal(bz, fz) || !slices.Equal(bsq, fsq) {
		t.Fatal("SoftmaxRows differs between the baseline and the AVX2 build")
	}
	for i := range base {
		if !slices.Equal(base[i], fast[i]) {
			t.Fatalf("output %d differs between the baseline and the AVX2 build", i)
		}
	}
}
