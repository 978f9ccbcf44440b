package world

import (
	"math/rand/v2"

	"github.com/tive-dev/tive/harness/seeds"
)

// stream returns the random stream of one purpose of a world:
// seeds.Rand(world seed, purpose, indices as decimals...), so streams are
// independent of the order in which they are used.
func stream(seed uint64, purpose string, idx ...int) *rand.Rand {
	path := make([]string, 1, 1+len(idx))
	path[0] = purpose
	for _, i := range idx {
		path = append(path, seeds.I(i))
	}
	return seeds.Rand(seed, path...)
}

// pick returns a uniformly chosen element of xs.
func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// otherThan draws an index of [0, n) other than i, uniformly (n ≥ 2).
func otherThan(r *rand.Rand, i, n int) int { return (i + 1 + r.IntN(n-1)) % n }
