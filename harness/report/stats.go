package report

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Level is the confidence level of every interval of the report.
const Level = 0.95

// Interval is the mean of n values and its 95% Student-t interval [Lo, Hi]
// (Lo = Hi = NaN when n < 2).
type Interval struct {
	Mean, Lo, Hi float64
	N            int
}

// MeanCI returns mean(xs) ± t_{(1+Level)/2, n-1} · s/sqrt(n) with s the
// sample standard deviation. NaN values are skipped; with no values Mean is NaN.
func MeanCI(xs []float64) Interval {
	var vals []float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			vals = append(vals, x)
		}
	}
	n := len(vals)
	iv := Interval{Mean: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), N: n}
	if n == 0 {
		return iv
	}
	var sum float64
	for _, x := range vals {
		sum += x
	}
	iv.Mean = sum / float64(n)
	if n < 2 {
		return iv
	}
	var ss float64
	for _, x := range vals {
		ss += (x - iv.Mean) * (x - iv.Mean)
	}
	s := math.Sqrt(ss / float64(n-1))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile((1 + Level) / 2)
	half := t * s / math.Sqrt(float64(n))
	iv.Lo, iv.Hi = iv.Mean-half, iv.Mean+half
	return iv
}

// Half is the interval's half-width (NaN without an interval).
func (iv Interval) Half() float64 { return (iv.Hi - iv.Lo) / 2 }

// HasCI reports whether the interval exists (n >= 2).
func (iv Interval) HasCI() bool { return !math.IsNaN(iv.Lo) && !math.IsNaN(iv.Hi) }

// Compare returns +1 when a's interval lies wholly above b's, -1 when wholly
// below, and 0 when they overlap or either has no interval: a difference is
// called only when the intervals say so.
func Compare(a, b Interval) int {
	if !a.HasCI() || !b.HasCI() {
		return 0
	}
	switch {
	case a.Lo > b.Hi:
		return 1
	case a.Hi < b.Lo:
		return -1
	}
	return 0
}
