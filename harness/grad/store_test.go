package grad

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeStore(t *testing.T, dir string, id ProjectorID, n int, cuts []int) {
	t.Helper()
	sw := &ShardWriter{Dir: dir, Projector: id, Records: n}
	for k := 0; k+1 < len(cuts); k++ {
		lo, hi := cuts[k], cuts[k+1]
		f := make([]float32, (hi-lo)*id.Dim)
		for i := range f {
			f[i] = float32(lo*id.Dim + i)
		}
		norms := make([]float64, hi-lo)
		for i := range norms {
			norms[i] = float64(lo + i)
		}
		if err := sw.Write(lo, hi, f, map[string][]float64{"norms": norms}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStoreMergeAndScan(t *testing.T) {
	dir := t.TempDir()
	id := ProjectorID{Kind: "rademacher", Seed: 0, Dim: 4, Dtype: Float32}
	writeStore(t, dir, id, 10, []int{0, 3, 7, 10})
	st, err := OpenStore(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	if err := st.Scan(2, func(w, i int, row []float32) error {
		if row[0] != float32(i*4) {
			t.Errorf("row %d starts with %v", i, row[0])
		}
		seen++
		return nil
	}); err != nil || seen != 10 {
		t.Fatalf("scan: %v, %d rows", err, seen)
	}
	out := t.TempDir()
	if err := st.Merge(out, ""); err != nil {
		t.Fatal(err)
	}
	m, err := OpenMatrix(filepath.Join(out, "features.npy"))
	if err != nil || m.Len() != 10 || m.Dim() != 4 {
		t.Fatalf("merged: %v %v", err, m)
	}
	norms, err := ReadVector(filepath.Join(out, "norms.npy"))
	if err != nil || len(norms) != 10 || norms[9] != 9 {
		t.Fatalf("norms: %v %v", err, norms)
	}
	sw := &ShardWriter{Dir: dir, Projector: id, Records: 10}
	if !sw.Done(3, 7) || sw.Done(3, 8) {
		t.Error("Done does not recognise written shards")
	}
}

func TestStoreRefusesBadShards(t *testing.T) {
	id := ProjectorID{Kind: "rademacher", Seed: 0, Dim: 4, Dtype: Float32}
	for _, tc := range []struct {
		name  string
		setup func(dir string)
		want  string
	}{
		{"gap", func(dir string) { writeStore(t, dir, id, 10, []int{0, 3}); writeStore(t, dir, id, 10, []int{5, 10}) }, "rows [3, 5) are missing"},
		{"tail", func(dir string) { writeStore(t, dir, id, 10, []int{0, 3, 7}) }, "rows [7, 10) are missing"},
		{"overlap", func(dir string) { writeStore(t, dir, id, 10, []int{0, 5, 10}); writeStore(t, dir, id, 10, []int{3, 6}) }, "overlaps"},
		{"seed", func(dir string) {
			writeStore(t, dir, id, 10, []int{0, 5})
			id2 := id
			id2.Seed = 1
			writeStore(t, dir, id2, 10, []int{5, 10})
		}, "shards from different projectors cannot be merged"},
		{"truncated", func(dir string) {
			writeStore(t, dir, id, 10, []int{0, 5, 10})
			p := filepath.Join(dir, "shard-000000005-000000010.features.npy")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)-5], 0o644)
		}, "truncated"},
		{"corrupt", func(dir string) {
			writeStore(t, dir, id, 10, []int{0, 5, 10})
			p := filepath.Join(dir, "shard-000000000-000000005.norms.npy")
			b, _ := os.ReadFile(p)
			b[len(b)-1] ^= 0x40
			os.WriteFile(p, b, 0o644)
		}, "is corrupt"},
	} {
		dir := t.TempDir()
		tc.setup(dir)
		_, err := OpenStore(dir, true)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}
