package pyfmt

import "testing"

func TestRound(t *testing.T) {
	tests := []struct {
		x    float64
		n    int
		py   float64 // Python round(x, n)
		nump float64 // numpy around(x, n)
	}{
		{2.675, 2, 2.67, 2.68},    // 2.675*100 == 267.5 exactly
		{16.055, 2, 16.05, 16.06}, // numpy's documented example
		{0.125, 2, 0.12, 0.12},
		{0.375, 2, 0.38, 0.38},
		{88.88888888888889, 1, 88.9, 88.9},
		{66.66666666666667, 1, 66.7, 66.7},
		{0.5, 0, 0, 0},
		{1.5, 0, 2, 2},
		{-0.05, 1, -0.1, 0}, // -0.05*10 == -0.5, rint gives -0
		{1.0000000000000002, 3, 1, 1},
	}
	for _, tt := range tests {
		if got := Round(tt.x, tt.n); got != tt.py {
			t.Errorf("Round(%v, %d) = %v, want %v", tt.x, tt.n, got, tt.py)
		}
		if got := NPRound(tt.x, tt.n); got != tt.nump {
			t.Errorf("NPRound(%v, %d) = %v, want %v", tt.x, tt.n, got, tt.nump)
		}
	}
	// 1.005 * 100 rounds to 100.49999999999999 in binary: Python gives 1.0 and
	// numpy too; 0.285*100 = 28.499999999999996: both 0.28.
	if Round(1.005, 2) != 1 || NPRound(0.285, 2) != 0.28 {
		t.Error("binary-exact rounding")
	}
}
