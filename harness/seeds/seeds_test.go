package seeds

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The formula of the package doc, against SHA-256 sums computed outside Go
// (printf 'tive-seed/2\x000\x00train' | sha256sum).
func TestDeriveIsTheDocumentedHash(t *testing.T) {
	for _, c := range []struct {
		root uint64
		path []string
		want uint64
	}{
		{0, []string{"train"}, 0x2e41741e2c6dc192},
		{math.MaxUint64, []string{"vision", I(12)}, 0xee8323954aee554f},
		{7, nil, 0x43052b6c0609e960},
	} {
		if got := Derive(c.root, c.path...); got != c.want {
			t.Errorf("Derive(%d, %q) = %#x, want %#x", c.root, c.path, got, c.want)
		}
	}
	r := Rand(0, "train")
	want := rand.New(rand.NewPCG(0x2e41741e2c6dc192, 0x97710a5b5a55704d))
	for i := range 4 {
		if g, w := r.Uint64(), want.Uint64(); g != w {
			t.Fatalf("Rand(0, train) draw %d = %#x, want PCG(first, second 8 bytes)'s %#x", i, g, w)
		}
	}
}

// Paths that differ anywhere, roots that differ, and element boundaries
// that differ all give different seeds.
func TestPathsNameDistinctSeeds(t *testing.T) {
	seen := map[uint64]string{}
	for _, c := range []struct {
		root uint64
		path []string
	}{
		{0, nil}, {1, nil}, {0, []string{""}}, {0, []string{"", ""}},
		{0, []string{"ab"}}, {0, []string{"a", "b"}}, {0, []string{"b", "a"}},
		{0, []string{"epoch", "1"}}, {0, []string{"epoch", "10"}}, {0, []string{"epoch1"}}, {1, []string{"epoch", "1"}},
	} {
		s := Derive(c.root, c.path...)
		name := I(int(c.root)) + " " + fmtPath(c.path)
		if prev, dup := seen[s]; dup {
			t.Errorf("%s and %s share seed %#x", prev, name, s)
		}
		seen[s] = name
	}
}

func fmtPath(p []string) string {
	out := "["
	for i, e := range p {
		if i > 0 {
			out += " "
		}
		out += "«" + e + "»"
	}
	return out + "]"
}

func TestNULInAPathPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Derive(0, \"a\\x00b\") did not panic: it would name the seed of path (a, b)")
		}
	}()
	Derive(0, "a\x00b")
}
