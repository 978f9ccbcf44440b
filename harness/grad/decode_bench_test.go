package grad

import (
	"math/rand/v2"
	"testing"
)

func BenchmarkDecodeF16(b *testing.B) {
	d := 8192
	src := make([]byte, 2*d)
	r := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < d; i++ {
		h := F16FromF32(float32(r.NormFloat64()))
		src[2*i], src[2*i+1] = byte(h), byte(h>>8)
	}
	dst := make([]float32, d)
	b.SetBytes(int64(2 * d))
	for i := 0; i < b.N; i++ {
		decode(dst, src, Float16)
	}
}
