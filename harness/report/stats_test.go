package report

import (
	"math"
	"testing"
)

func TestMeanCI(t *testing.T) {
	// t_{0.975, 2} = 4.302653; s = 1 for {1, 2, 3}.
	iv := MeanCI([]float64{1, 2, 3})
	if iv.Mean != 2 || iv.N != 3 || math.Abs(iv.Half()-4.302653/math.Sqrt(3)) > 1e-5 {
		t.Errorf("MeanCI(1,2,3) = %+v (half %v)", iv, iv.Half())
	}
	one := MeanCI([]float64{5, math.NaN()})
	if one.Mean != 5 || one.N != 1 || one.HasCI() {
		t.Errorf("one value: %+v", one)
	}
	if none := MeanCI(nil); !math.IsNaN(none.Mean) {
		t.Errorf("no values: %+v", none)
	}
}

func TestCompare(t *testing.T) {
	a := Interval{Mean: 2, Lo: 1, Hi: 3, N: 3}
	for _, c := range []struct {
		b    Interval
		want int
	}{
		{Interval{Mean: 5, Lo: 4, Hi: 6, N: 3}, -1},
		{Interval{Mean: 0, Lo: -1, Hi: 0.5, N: 3}, 1},
		{Interval{Mean: 3.5, Lo: 2.5, Hi: 4.5, N: 3}, 0},
		{MeanCI([]float64{100}), 0},
	} {
		if got := Compare(a, c.b); got != c.want {
			t.Errorf("Compare(%+v, %+v) = %d, want %d", a, c.b, got, c.want)
		}
	}
}
