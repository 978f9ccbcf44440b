package world

import (
	"hash/fnv"
	"math/rand/v2"
)

// stream returns the PCG generator for one purpose of a world: seeded by the
// world seed and a hash of the purpose name and indices, so streams are
// independent of the order in which they are used.
func stream(seed uint64, purpose string, idx ...int) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(purpose))
	for _, i := range idx {
		var b [8]byte
		for k := range b {
			b[k] = byte(uint64(i) >> (8 * k))
		}
		h.Write(b[:])
	}
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// pick returns a uniformly chosen element of xs.
func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }
