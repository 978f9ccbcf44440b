// Package pyfmt reproduces the rounding of the Python evaluation scripts.
package pyfmt

import (
	"math"
	"strconv"
)

// Round is Python's round(x, n) on a float: the exact binary value rounded
// to n decimals, ties to even.
func Round(x float64, n int) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', n, 64), 64)
	return v
}

// NPRound is numpy's around(x, n) for n >= 0: rint(x * 10**n) / 10**n.
func NPRound(x float64, n int) float64 {
	p := math.Pow(10, float64(n))
	return math.RoundToEven(x*p) / p
}
