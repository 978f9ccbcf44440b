package model

import "math"

// exp32 is eˣ in float32 within 2 ulp over the range it is used on (the
// Cephes expf scheme): x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in two
// parts so n·ln2 is exact), eʳ by a degree-7 polynomial, 2ⁿ by the exponent
// bits. Below −87.3 (where 2ⁿ is no longer a normal float) it is 0, above
// 88.7 +Inf. math.Exp in float64 costs several times as much, and softmax,
// GELU and the cross-entropy call it for every element.
func exp32(x float32) float32 {
	switch {
	case x > 88.72283:
		return float32(math.Inf(1))
	case x < -87.33654:
		return 0
	}
	// Round x/ln2 to the nearest integer with the 1.5·2²³ trick: adding it
	// leaves the integer in the low mantissa bits.
	f := x*1.44269504088896341 + 12582912
	n := f - 12582912
	bits := int32(math.Float32bits(f)) - 0x4B400000
	r := x - n*0.693359375 - n*-2.12194440e-4
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	p = p*r*r + r + 1
	return p * math.Float32frombits(uint32(bits+127)<<23)
}

// tanh32 is tanh(x) = sign(x)·(1 − 2/(e^{2|x|} + 1)) in float32, within
// 1e-7 of the true value (absolute; the form cancels near 0, where GELU
// multiplies it by x). Past |x| = 9 it is ±1 in float32.
func tanh32(x float32) float32 {
	a := x
	if a < 0 {
		a = -a
	}
	if a > 9 {
		return float32(math.Copysign(1, float64(x)))
	}
	t := 1 - 2/(exp32(2*a)+1)
	if x < 0 {
		return -t
	}
	return t
}
