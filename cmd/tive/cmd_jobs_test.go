package main

import (
	"os"
	"path/filepath"
	"testing"
)

// jobsSpec trains, decodes and scores two subsets of a tiny shapes world
// (stages that run the model's matrix products: pretrain, reference,
// features, train, predict) so that a sweep's stages run side by side.
const jobsSpec = `name: jobs-bytes
data: {source: world}
world: {profile: tiny, assets: shapes, seed: 2}
model: {width: 32, heads: 2, layers: 1, vision_layers: 1, max_len: 96}
pretrain: {epochs: 1, batch_size: 32}
reference: {train: {epochs: 1, batch_size: 16}}
features: {projector: {kind: rademacher, dim: 64, seed: 0}, shard_size: 256}
selection: {method: tive, budget: 0.3, exclude: [textcaps]}
train: {mode: lora, epochs: 1, batch_size: 16}
predict: {max_new_tokens: 3}
benchmarks: [pope, gqa]
sweep:
  selection.method: [tive, random]
`

// TestJobsSameBytes: the same spec run with --jobs 1, with --jobs 2, and
// again with --jobs 2 on a fresh store writes the same bytes in every stage
// output (the matrix-product back end of this binary, whichever it is).
func TestJobsSameBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("trains four small models three times")
	}
	dir := t.TempDir()
	spec := filepath.Join(dir, "jobs.yaml")
	os.WriteFile(spec, []byte(jobsSpec), 0o644)
	var first map[string]map[string]string
	for i, jobs := range []string{"1", "2", "2"} {
		store := filepath.Join(dir, "store", string(rune('a'+i)))
		code, out, errs := runTive(t, "run", spec, "--store", store, "--jobs", jobs, "--json")
		if code != 0 {
			t.Fatalf("--jobs %s: exit %d: %s", jobs, code, errs)
		}
		ran := map[string]int{}
		for _, s := range summaryOf(t, out).Stages {
			ran[s.Stage]++
		}
		if ran["train"] != 2 || ran["predict"] == 0 || ran["features"] != 1 {
			t.Fatalf("--jobs %s ran %v, want two trainings, predictions and one feature pass", jobs, ran)
		}
		got := outputs(t, store)
		if first == nil {
			first = got
			continue
		}
		if len(got) != len(first) {
			t.Errorf("run %d (--jobs %s): %d stage outputs, the first run %d", i, jobs, len(got), len(first))
		}
		for k, files := range first {
			for f, b := range files {
				if got[k][f] != b {
					t.Errorf("run %d (--jobs %s): %s/%s differs from --jobs 1", i, jobs, k[:12], f)
				}
			}
		}
	}
}
