package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tive-dev/tive/harness/grad"
)

func TestFeaturesMerge(t *testing.T) {
	dir := t.TempDir()
	id := grad.ProjectorID{Kind: "rademacher", Seed: 3, Dim: 2, Dtype: grad.Float16}
	sw := &grad.ShardWriter{Dir: dir, Projector: id, Records: 5}
	sw.Write(0, 2, []float32{1, 2, 3, 4}, map[string][]float64{"norms": {1, 2}})
	sw.Write(2, 5, []float32{5, 6, 7, 8, 9, 10}, map[string][]float64{"norms": {3, 4, 5}})
	out := t.TempDir()
	code, stdout, errs := runTive(t, "features", "merge", dir, "--out", out)
	if code != 0 || !strings.Contains(stdout, "merged 2 shards: 5 x 2 float16") {
		t.Fatalf("exit %d: %s %s", code, stdout, errs)
	}
	m, err := grad.OpenMatrix(filepath.Join(out, "features.npy"))
	if err != nil || m.Len() != 5 {
		t.Fatalf("%v %v", err, m)
	}
	// A missing shard is refused and named.
	sw2 := &grad.ShardWriter{Dir: t.TempDir(), Projector: id, Records: 5}
	sw2.Write(0, 2, []float32{1, 2, 3, 4}, nil)
	code, _, errs = runTive(t, "features", "merge", sw2.Dir, "--out", t.TempDir())
	if code != 1 || !strings.Contains(errs, "rows [2, 5) are missing") {
		t.Errorf("incomplete store: exit %d %s", code, errs)
	}
}
