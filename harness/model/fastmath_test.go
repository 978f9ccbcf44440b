package model

import (
	"math"
	"testing"
)

// TestExp32 compares exp32 with math.Exp over [−87, 88] (relative error
// within 3e-7, a few float32 ulp) and checks its limits.
func TestExp32(t *testing.T) {
	worst := 0.0
	for x := float32(-87); x <= 88; x += 0.000731 * (1 + float32(math.Abs(float64(x)))) {
		want := math.Exp(float64(x))
		if e := math.Abs(float64(exp32(x))-want) / want; e > worst {
			worst = e
		}
	}
	if worst > 3e-7 {
		t.Errorf("exp32: worst relative error %g over [−87, 88], want ≤ 3e-7", worst)
	}
	if exp32(0) != 1 || exp32(-100) != 0 || !math.IsInf(float64(exp32(100)), 1) {
		t.Errorf("exp32(0, −100, 100) = %g, %g, %g", exp32(0), exp32(-100), exp32(100))
	}
}

// TestTanh32 compares tanh32 with math.Tanh (absolute error within 2e-7)
// and checks it is odd.
func TestTanh32(t *testing.T) {
	worst := 0.0
	for x := float32(-12); x <= 12; x += 0.000373 {
		if e := math.Abs(float64(tanh32(x)) - math.Tanh(float64(x))); e > worst {
			worst = e
		}
		if tanh32(-x) != -tanh32(x) {
			t.Fatalf("tanh32(%g) = %g but tanh32(%g) = %g", x, tanh32(x), -x, tanh32(-x))
		}
	}
	if worst > 2e-7 {
		t.Errorf("tanh32: worst absolute error %g over [−12, 12], want ≤ 2e-7", worst)
	}
}

func BenchmarkExp32(b *testing.B) {
	xs := make([]float32, 4096)
	for i := range xs {
		xs[i] = -float32(i) / 256
	}
	var s float32
	for range b.N {
		for _, x := range xs {
			s += exp32(x)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(xs)), "ns/exp")
	sink = s
}

var sink float32

func BenchmarkMathExp(b *testing.B) {
	xs := make([]float32, 4096)
	for i := range xs {
		xs[i] = -float32(i) / 256
	}
	var s float32
	for range b.N {
		for _, x := range xs {
			s += float32(math.Exp(float64(x)))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(xs)), "ns/exp")
	sink = s
}
