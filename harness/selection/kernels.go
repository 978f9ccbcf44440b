package selection

import (
	"math"

	"github.com/tive-dev/tive/harness/grad"
)

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

// groupMeans makes one pass over f and returns, for each group g in
// [0, groups), m_g = (1/n_g) Σ_{i: group[i] = g} ĝ_i with
// ĝ_i = row_i / max(‖row_i‖, 1e-12) (rows in [g·d, (g+1)·d) of mean), and
// inv[i] = 1 / max(‖row_i‖, 1e-12). Rows with group -1 are skipped. A row
// holding NaN or Inf is an error; rowName formats its index.
func groupMeans(f grad.Features, group []int, groups, workers int, rowName string) (mean, inv []float64, err error) {
	d := f.Dim()
	inv = make([]float64, f.Len())
	acc := make([][]float64, workers) // per worker: groups x d sums of ĝ
	for w := range acc {
		acc[w] = make([]float64, groups*d)
	}
	err = f.Scan(workers, func(w, i int, row []float32) error {
		k := group[i]
		if k < 0 {
			return nil
		}
		ss := sumSquares(row)
		if math.IsNaN(ss) || math.IsInf(ss, 0) {
			return errorf(rowName+" holds a NaN or infinite value", i)
		}
		inv[i] = 1 / math.Max(math.Sqrt(ss), 1e-12)
		axpy(acc[w][k*d:(k+1)*d], inv[i], row)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	count := make([]float64, groups)
	for _, k := range group {
		if k >= 0 {
			count[k]++
		}
	}
	mean = make([]float64, groups*d)
	for w := range acc {
		for j, v := range acc[w] {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= math.Max(count[j/d], 1)
	}
	return mean, inv, nil
}
