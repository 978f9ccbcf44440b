package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tive-dev/tive/harness/grad"
	"github.com/tive-dev/tive/harness/pipeline"
	"github.com/tive-dev/tive/harness/pipeline/stages"
)

// tinyTIVE is TIVE's whole pipeline on a tiny shapes world with a small model.
const tinyTIVE = `name: tiny-tive
data: {source: world}
world: {profile: tiny, assets: shapes, seed: 1}
model: {width: 32, heads: 2, layers: 1, vision_layers: 1, max_len: 96}
pretrain: {epochs: 1, batch_size: 32}
reference: {train: {epochs: 1, batch_size: 16}}
features: {projector: {kind: rademacher, dim: 64, seed: 0}, shard_size: 200}
selection: {method: tive, budget: 0.2, exclude: [textcaps]}
`

// TestTIVEOnBuiltinWorld runs world -> pretrain -> warmup -> reference ->
// features -> select, kills it after the second feature shard, and checks
// that the resumed run keeps the shards it had and ends as a clean run does.
func TestTIVEOnBuiltinWorld(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "tive.yaml")
	os.WriteFile(spec, []byte(tinyTIVE), 0o644)

	clean := filepath.Join(dir, "clean")
	code, out, errs := runTive(t, "run", spec, "--store", clean, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	s := summaryOf(t, out)
	var names []string
	for _, st := range s.Stages {
		names = append(names, st.Stage)
	}
	if strings.Join(names, " ") != "world warmup pretrain reference features select" {
		t.Fatalf("stages %v", names)
	}
	res, _ := pipeline.ReadResults(s.Results)
	st, err := grad.OpenStore(res.Runs[0].Outputs["features"], true)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Shards) < 3 || st.Projector().Dim != 64 {
		t.Fatalf("feature store: %d shards, projector %+v", len(st.Shards), st.Projector())
	}
	norms, err := st.Vector("norms")
	if err != nil || norms[0] <= 0 {
		t.Fatalf("norms: %v %v", err, norms[:1])
	}
	scores, err := stages.ReadScores(filepath.Join(res.Runs[0].Outputs["select"], "scores.jsonl"))
	if err != nil || len(scores) != st.Len() {
		t.Fatalf("scores: %v (%d lines for %d records)", err, len(scores), st.Len())
	}
	want := outputs(t, clean)

	killed := filepath.Join(dir, "killed")
	cmd := exec.Command(os.Args[0], "run", spec, "--store", killed)
	cmd.Env = append(os.Environ(), "TIVE_TEST_MAIN=1", "TIVE_KILL_AT=shard-written:features:2")
	var ee *exec.ExitError
	if err := cmd.Run(); !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("kill: %v", err)
	}
	shards, _ := filepath.Glob(filepath.Join(killed, "tmp", "resume-*", "shard-*.json"))
	if len(shards) != 2 {
		t.Fatalf("after the kill, %d complete shards wait in tmp/, want 2", len(shards))
	}
	kept := map[string]os.FileInfo{}
	for _, p := range shards {
		fi, _ := os.Stat(p)
		kept[filepath.Base(p)] = fi
	}
	code, out, errs = runTive(t, "run", spec, "--store", killed, "--json")
	if code != 0 {
		t.Fatalf("resume: %s", errs)
	}
	for _, st := range summaryOf(t, out).Stages {
		if wantRan := st.Stage == "features" || st.Stage == "select"; (st.Status == "ran") != wantRan {
			t.Errorf("resume: %s %s", st.Stage, st.Status)
		}
	}
	res2, _ := pipeline.ReadResults(summaryOf(t, out).Results)
	for name, fi := range kept {
		now, err := os.Stat(filepath.Join(res2.Runs[0].Outputs["features"], name))
		if err != nil || !now.ModTime().Equal(fi.ModTime()) {
			t.Errorf("shard %s was recomputed on resume", name)
		}
	}
	got := outputs(t, killed)
	for k, files := range want {
		for f, b := range files {
			if got[k][f] != b {
				t.Errorf("after resume %s/%s differs from the clean run", k[:12], f)
			}
		}
	}
}

// TestLESSOnBuiltinWorld selects with LESS: validation gradients of oracle
// answers to benchmark questions, drawn per suite, against the pool's plain
// gradients and then (features.precondition: adam, same store) against its
// Adam gradient features. The Adam run's reference keeps its optimizer state
// and trains the same weights; its validation gradients stay plain (the same
// bytes); its pool features differ and say so in their identity.
func TestLESSOnBuiltinWorld(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	var runs []pipeline.RunResult
	for _, pre := range []string{"none", "adam"} {
		spec := filepath.Join(dir, pre+".yaml")
		y := strings.Replace(tinyTIVE, "selection: {method: tive, budget: 0.2, exclude: [textcaps]}",
			"selection: {method: less, budget: 0.2, validation_per_suite: 4}", 1)
		y = strings.Replace(y, "shard_size: 200}", "shard_size: 200, precondition: "+pre+"}", 1)
		os.WriteFile(spec, []byte(y), 0o644)
		code, out, errs := runTive(t, "run", spec, "--store", store, "--json")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", pre, code, errs)
		}
		res, _ := pipeline.ReadResults(summaryOf(t, out).Results)
		run := res.Runs[0]
		runs = append(runs, run)
		val, err := grad.OpenStore(run.Outputs["valfeatures"], true)
		if err != nil || val.Len() != 8*4 {
			t.Fatalf("%s: validation store: %v (%d rows, want 32)", pre, err, val.Len())
		}
		if id := val.Shards[0].Projector; id.Precondition != "" {
			t.Errorf("%s: validation features are preconditioned: %+v", pre, id)
		}
		pool, err := grad.OpenStore(run.Outputs["features"], true)
		if err != nil {
			t.Fatal(err)
		}
		if id := pool.Shards[0].Projector; id.Precondition != strings.TrimPrefix(pre, "none") {
			t.Errorf("%s: pool features identity %+v", pre, id)
		}
		_, err = os.Stat(filepath.Join(run.Outputs["reference"], "model", "optimizer.json"))
		if (pre == "adam") != (err == nil) {
			t.Errorf("%s: reference optimizer state: %v", pre, err)
		}
		scores, err := stages.ReadScores(filepath.Join(run.Outputs["select"], "scores.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		chosen, lo, hi := 0, 2.0, -2.0
		for _, s := range scores {
			if s.Influence == nil {
				t.Fatalf("%s: record %d has no LESS score", pre, s.Index)
			}
			if s.Selected > 0 {
				chosen++
				lo = min(lo, *s.Influence)
			} else {
				hi = max(hi, *s.Influence)
			}
		}
		if chosen != int(0.2*float64(len(scores))) || hi > lo {
			t.Errorf("%s: chose %d of %d; unchosen max score %v above chosen min %v", pre, chosen, len(scores), hi, lo)
		}
	}
	same := func(stage, file string) bool {
		a, _ := os.ReadFile(filepath.Join(runs[0].Outputs[stage], file))
		b, _ := os.ReadFile(filepath.Join(runs[1].Outputs[stage], file))
		return len(a) > 0 && string(a) == string(b)
	}
	if runs[0].Outputs["reference"] == runs[1].Outputs["reference"] || !same("reference", "model/model.safetensors") {
		t.Errorf("the Adam run's reference should be its own stage with the same weights")
	}
	val, _ := grad.OpenStore(runs[0].Outputs["valfeatures"], false)
	if f := val.Shards[0].Features.File; !same("valfeatures", f) {
		t.Errorf("validation features %s differ between the plain and the Adam run", f)
	}
	pool, _ := grad.OpenStore(runs[0].Outputs["features"], false)
	if f := pool.Shards[0].Features.File; same("features", f) {
		t.Errorf("pool features %s are the same with and without Adam preconditioning", f)
	}
}
