package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tive-dev/tive/harness/pipeline"
)

// TestCorruptInputIsRecomputed changes one byte of a stored output (the
// world's mixture.json) that a later stage reads, removes that stage's
// output, and runs again: `tive runs verify` finds it first; the run moves
// it aside to corrupt/ and recomputes it before the stage reads it, and
// every output ends as in the clean run.
func TestCorruptInputIsRecomputed(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "w.yaml")
	os.WriteFile(spec, []byte(`name: world-random
data: {source: world}
world: {profile: tiny, assets: shapes, seed: 3}
selection: {method: random-per-task, budget: 0.3}
`), 0o644)
	store := filepath.Join(dir, "store")
	code, out, errs := runTive(t, "run", spec, "--store", store, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := outputs(t, store)
	res, _ := pipeline.ReadResults(summaryOf(t, out).Results)
	world, warm := res.Runs[0].Outputs["world"], res.Runs[0].Outputs["warmup"]
	mix := filepath.Join(world, "mixture.json")
	b, _ := os.ReadFile(mix)
	i := strings.Index(string(b), `"id": "`) + 7
	b[i] ^= 1 // still valid JSON, another id
	os.WriteFile(mix, b, 0o644)
	os.RemoveAll(warm)

	code, vout, _ := runTive(t, "runs", "verify", "--store", store)
	if code != 1 || !strings.Contains(vout, "world: mixture.json: SHA-256") || !strings.Contains(vout, "outputs, 1 corrupt") {
		t.Errorf("runs verify: exit %d\n%s", code, vout)
	}
	code, out, errs = runTive(t, "run", spec, "--store", store, "--json")
	if code != 0 {
		t.Fatalf("rerun: exit %d: %s", code, errs)
	}
	if code, vout, _ := runTive(t, "runs", "verify", "--store", store); code != 0 || !strings.Contains(vout, "outputs, 0 corrupt") {
		t.Errorf("runs verify after the repair: exit %d\n%s", code, vout)
	}
	if !strings.Contains(errs, "is corrupt: mixture.json: SHA-256") {
		t.Errorf("the rerun did not say what was corrupt:\n%s", errs)
	}
	ran := map[string]string{}
	for _, s := range summaryOf(t, out).Stages {
		ran[s.Stage] = s.Status
	}
	if ran["world"] != "ran" || ran["warmup"] != "ran" || ran["select"] != "cached" {
		t.Errorf("rerun: %v; want world and warmup recomputed, select cached", ran)
	}
	if aside, _ := filepath.Glob(filepath.Join(store, "corrupt", "*", "mixture.json")); len(aside) != 1 {
		t.Errorf("corrupt/ holds %d mixture.json, want the corrupt one", len(aside))
	}
	got := outputs(t, store)
	for k, files := range want {
		for f, b := range files {
			if got[k][f] != b {
				t.Errorf("after the repair %s/%s differs from the clean run", k[:12], f)
			}
		}
	}

	// --repair moves a corrupt output aside; the next run recomputes it.
	sel := filepath.Join(res.Runs[0].Outputs["select"], "subset.json")
	b, _ = os.ReadFile(sel)
	b[len(b)/2] ^= 1
	os.WriteFile(sel, b, 0o644)
	if code, vout, _ := runTive(t, "runs", "verify", "--repair", "--store", store); code != 1 || !strings.Contains(vout, "select: subset.json: SHA-256") || !strings.Contains(vout, "moved to") {
		t.Errorf("runs verify --repair: exit %d\n%s", code, vout)
	}
	code, out, errs = runTive(t, "run", spec, "--store", store, "--json")
	if code != 0 {
		t.Fatalf("run after the repair: exit %d: %s", code, errs)
	}
	for _, s := range summaryOf(t, out).Stages {
		if (s.Status == "ran") != (s.Stage == "select") {
			t.Errorf("run after the repair: %s %s; want only select recomputed", s.Stage, s.Status)
		}
	}
	got = outputs(t, store)
	for k, files := range want {
		for f, b := range files {
			if got[k][f] != b {
				t.Errorf("after runs verify --repair and a run %s/%s differs from the clean run", k[:12], f)
			}
		}
	}
}
