package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tive-dev/tive/harness/pipeline"
)

// cleanRun runs spec into store and returns every output's bytes and the
// run's results.
func cleanRun(t *testing.T, spec, store string) (map[string]map[string]string, *pipeline.Results) {
	t.Helper()
	code, out, errs := runTive(t, "run", spec, "--store", store, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	res, err := pipeline.ReadResults(summaryOf(t, out).Results)
	if err != nil {
		t.Fatal(err)
	}
	return outputs(t, store), res
}

// matchesClean checks that every output of want is in store, byte for byte.
func matchesClean(t *testing.T, store string, want map[string]map[string]string, when string) {
	t.Helper()
	got := outputs(t, store)
	for k, files := range want {
		for f, b := range files {
			if got[k][f] != b {
				t.Errorf("%s: %s/%s differs from the clean run", when, k[:12], f)
			}
		}
	}
}

// TestCorruptInputIsRecomputed changes one byte of a stored output (the
// world's mixture.json) that a later stage reads, removes that stage's
// output, and runs again: `tive runs verify` finds it first; the run moves
// it aside to corrupt/ and recomputes it before the stage reads it, and
// every output ends as in the clean run.
func TestCorruptInputIsRecomputed(t *testing.T) {
	dir := t.TempDir()
	spec := writeSpec(t, dir, "w.yaml", `name: world-random
data: {source: world}
world: {profile: tiny, assets: shapes, seed: 3}
selection: {method: random-per-task, budget: 0.3}
`)
	store := filepath.Join(dir, "store")
	want, res := cleanRun(t, spec, store)
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
	code, out, errs := runTive(t, "run", spec, "--store", store, "--json")
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
	matchesClean(t, store, want, "after the repair")

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
	matchesClean(t, store, want, "after runs verify --repair and a run")
}

// TestCorruptionTrials changes one byte in the output of each kind of stage
// in turn (world, warm-up, base and reference weights, features, selection,
// instruction-tuned weights, answers, chance answers, scores). `tive runs
// verify` names each one without running a stage; then, in alternate cases,
// a plain run (which moves it aside and recomputes it before anything reads
// it) or `runs verify --repair` followed by a plain run fixes the store, and
// every output ends as in the clean run, byte for byte. A corrupt results
// file (the report's index of outputs) is rewritten by the next run. Last, a
// half-written object, a file no manifest lists, a stray folder and a stale
// temporary folder are found and repaired.
func TestCorruptionTrials(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the pipeline a dozen times")
	}
	dir := t.TempDir()
	spec := writeSpec(t, dir, "c.yaml", `name: corrupt-trial
data: {source: world}
world: {profile: tiny, assets: shapes, seed: 3}
model: {width: 32, heads: 2, layers: 1, vision_layers: 1, max_len: 96}
pretrain: {epochs: 1, batch_size: 32}
reference: {train: {epochs: 1, batch_size: 16}}
features: {source: builtin, params: lora-attn, projector: {kind: rademacher, dim: 64, dtype: float16}, shard_size: 256}
selection: {method: tive, budget: 0.15}
train: {mode: full, epochs: 1}
predict: {max_new_tokens: 4}
benchmarks: [pope, gqa]
`)
	store := filepath.Join(dir, "store")
	want, res := cleanRun(t, spec, store)
	same := func(when string) { t.Helper(); matchesClean(t, store, want, when) }
	for i, c := range []struct{ stage, file string }{
		{"world", "mixture.json"}, {"warmup", "warmup.json"}, {"pretrain", "model/model.safetensors"},
		{"reference", "model/model.safetensors"}, {"features", "shard-000000256-000000512.features.npy"},
		{"select", "subset.json"}, {"train", "model/model.safetensors"}, {"predict", "answers/pope.jsonl"},
		{"chance", "answers/gqa-No.jsonl"}, {"score", "scores.json"},
	} {
		outDir := res.Runs[0].Outputs[c.stage]
		if outDir == "" {
			t.Fatalf("no %s output in the run", c.stage)
		}
		p := filepath.Join(outDir, filepath.FromSlash(c.file))
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0x10
		os.WriteFile(p, b, 0o644)
		key := filepath.Base(outDir)
		named := fmt.Sprintf("corrupt %s %s: %s: SHA-256", key[:12], c.stage, c.file)
		if code, vout, _ := runTive(t, "runs", "verify", "--store", store); code != 1 || !strings.Contains(vout, named) {
			t.Errorf("%s: runs verify: exit %d, want 1 and %q in\n%s", c.stage, code, named, vout)
		}
		if i%2 == 1 {
			if code, vout, _ := runTive(t, "runs", "verify", "--repair", "--store", store); code != 1 || !strings.Contains(vout, "moved to") {
				t.Errorf("%s: runs verify --repair: exit %d\n%s", c.stage, code, vout)
			}
		}
		code, out, errs := runTive(t, "run", spec, "--store", store, "--json")
		if code != 0 {
			t.Fatalf("%s: rerun: exit %d: %s", c.stage, code, errs)
		}
		if i%2 == 0 && !strings.Contains(errs, "is corrupt: "+c.file+": SHA-256") {
			t.Errorf("%s: the run did not say what was corrupt:\n%s", c.stage, errs)
		}
		for _, s := range summaryOf(t, out).Stages {
			if s.Key == key && s.Status != "ran" {
				t.Errorf("%s: %s after the corruption; want it recomputed", c.stage, s.Status)
			}
		}
		if aside, _ := filepath.Glob(filepath.Join(store, "corrupt", key+"-*", filepath.FromSlash(c.file))); len(aside) != 1 {
			t.Errorf("%s: corrupt/ holds %d copies of %s, want the corrupt one", c.stage, len(aside), c.file)
		}
		same("after repairing " + c.stage)
	}

	// The results file (what the report reads: every run's output keys) is
	// no stored object: each run writes it anew, so a corrupt one is
	// replaced by the next run.
	_, out, _ := runTive(t, "run", spec, "--store", store, "--json")
	resFile := summaryOf(t, out).Results
	b, _ := os.ReadFile(resFile)
	b[len(b)/3] ^= 0x10
	os.WriteFile(resFile, b, 0o644)
	if code, _, errs := runTive(t, "run", spec, "--store", store, "--json"); code != 0 {
		t.Fatalf("run after corrupting the results file: exit %d: %s", code, errs)
	}
	if again, err := pipeline.ReadResults(resFile); err != nil {
		t.Error(err)
	} else if d := cmp.Diff(res.Runs, again.Runs); d != "" {
		t.Errorf("the results file after a run (-want +got):\n%s", d)
	}

	// What a crash or a stray hand leaves: an object without a manifest, a
	// file no manifest lists, a folder outside its key's prefix, a killed
	// run's temporary folder.
	obj := filepath.Join(store, "objects")
	os.MkdirAll(filepath.Join(obj, "ab", "ab"+strings.Repeat("0", 62), "model"), 0o755)
	sel := res.Runs[0].Outputs["select"]
	os.WriteFile(filepath.Join(sel, "notes.txt"), []byte("mine"), 0o644)
	os.MkdirAll(filepath.Join(obj, "cd", "ef01"), 0o755)
	os.MkdirAll(filepath.Join(store, "tmp", "0123456789ab-42"), 0o755)
	code, vout, _ := runTive(t, "runs", "verify", "--store", store)
	for _, w := range []string{"half-written objects/ab/ab000", "corrupt " + filepath.Base(sel)[:12] + " select: notes.txt: not in the manifest",
		"orphaned objects/cd/ef01", "stale tmp/0123456789ab-42", "1 corrupt, 1 half-written, 1 orphaned, 1 stale"} {
		if code != 1 || !strings.Contains(vout, w) {
			t.Errorf("runs verify: exit %d, want 1 and %q in\n%s", code, w, vout)
		}
	}
	if code, _, _ := runTive(t, "runs", "verify", "--repair", "--store", store); code != 1 {
		t.Errorf("runs verify --repair: exit %d, want 1 (it found problems)", code)
	}
	if code, out, errs := runTive(t, "run", spec, "--store", store, "--json"); code != 0 {
		t.Fatalf("run after the repair: exit %d: %s", code, errs)
	} else {
		for _, s := range summaryOf(t, out).Stages {
			if (s.Status == "ran") != (s.Stage == "select") {
				t.Errorf("run after the repair: %s %s; want only select recomputed", s.Stage, s.Status)
			}
		}
	}
	if code, vout, _ := runTive(t, "runs", "verify", "--store", store); code != 0 || !strings.Contains(vout, "0 corrupt, 0 half-written, 0 orphaned, 0 stale") {
		t.Errorf("runs verify after the repair: exit %d\n%s", code, vout)
	}
	same("after the last repair")
}
