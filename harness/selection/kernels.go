package selection

// The influence kernels, unrolled by four with independent accumulators so
// that the scalar floating-point pipeline is not serialised on one sum.

// sumSquares returns Σ x_j².
func sumSquares(x []float32) float64 {
	var s0, s1, s2, s3 float64
	j := 0
	for ; j+4 <= len(x); j += 4 {
		a, b, c, d := float64(x[j]), float64(x[j+1]), float64(x[j+2]), float64(x[j+3])
		s0 += a * a
		s1 += b * b
		s2 += c * c
		s3 += d * d
	}
	for ; j < len(x); j++ {
		s0 += float64(x[j]) * float64(x[j])
	}
	return (s0 + s1) + (s2 + s3)
}

// axpy adds s·x to acc (len(acc) == len(x)).
func axpy(acc []float64, s float64, x []float32) {
	acc = acc[:len(x)]
	j := 0
	for ; j+4 <= len(x); j += 4 {
		acc[j] += s * float64(x[j])
		acc[j+1] += s * float64(x[j+1])
		acc[j+2] += s * float64(x[j+2])
		acc[j+3] += s * float64(x[j+3])
	}
	for ; j < len(x); j++ {
		acc[j] += s * float64(x[j])
	}
}

// dot returns Σ x_j m_j (len(m) == len(x)).
func dot(x []float32, m []float64) float64 {
	m = m[:len(x)]
	var s0, s1, s2, s3 float64
	j := 0
	for ; j+4 <= len(x); j += 4 {
		s0 += float64(x[j]) * m[j]
		s1 += float64(x[j+1]) * m[j+1]
		s2 += float64(x[j+2]) * m[j+2]
		s3 += float64(x[j+3]) * m[j+3]
	}
	for ; j < len(x); j++ {
		s0 += float64(x[j]) * m[j]
	}
	return (s0 + s1) + (s2 + s3)
}
