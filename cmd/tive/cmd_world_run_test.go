package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/pipeline"
)

// TestRunOnBuiltinWorld runs the world -> warmup -> select pipeline on a tiny
// shapes world (no download needed).
func TestRunOnBuiltinWorld(t *testing.T) {
	dir := t.TempDir()
	spec := writeSpec(t, dir, "w.yaml", `name: world-random
data: {source: world}
world: {profile: tiny, assets: shapes, seed: 3}
selection: {method: random-per-task, budget: 0.3}
sweep:
  seed: [0, 1]
`)
	store := filepath.Join(dir, "store")
	code, out, errs := runTive(t, "run", spec, "--store", store, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	s := summaryOf(t, out)
	if len(s.Stages) != 5 || s.Stages[0].Stage != "world" {
		t.Fatalf("stages: %+v", s.Stages)
	}
	res, err := pipeline.ReadResults(s.Results)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := data.Load(filepath.Join(res.Runs[0].Outputs["world"], "mixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := data.Load(filepath.Join(res.Runs[0].Outputs["select"], "subset.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sub) == 0 || len(sub) > len(pool)*3/10 {
		t.Errorf("subset of %d from a pool of %d at budget 0.3", len(sub), len(pool))
	}
	if res.Runs[0].Keys["world"] != res.Runs[1].Keys["world"] {
		t.Error("the two seeds of one world generated it twice")
	}
	if _, err := os.Stat(filepath.Join(res.Runs[1].Outputs["warmup"], "warmup.json")); err != nil {
		t.Error(err)
	}
}

// TestShippedSpecsValidate keeps every spec under experiments/ valid.
func TestShippedSpecsValidate(t *testing.T) {
	specs, _ := filepath.Glob("../../experiments/*.yaml")
	if len(specs) == 0 {
		t.Fatal("no specs under experiments/")
	}
	code, out, errs := runTive(t, append([]string{"validate"}, specs...)...)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, errs)
	}
	if strings.Count(out, ": ok") != len(specs) {
		t.Errorf("validate output:\n%s", out)
	}
}
