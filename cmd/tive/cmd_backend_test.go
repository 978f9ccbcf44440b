package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tive-dev/tive/harness/pipeline"
)

// TestExternalBackendSameBytes runs TIVE's pipeline with `backend: external`
// (this test binary as `tive worker`, spoken to through the worker protocol)
// and checks that the reference model, the feature shards, the subset, the
// trained model, the answer files and the scores equal the in-process run's.
func TestExternalBackendSameBytes(t *testing.T) {
	dir := t.TempDir()
	builtin := filepath.Join(dir, "builtin.yaml")
	study := tinyTIVE + "benchmarks: [pope, mmbench, scienceqa]\npredict: {max_new_tokens: 4}\n"
	os.WriteFile(builtin, []byte(study), 0o644)
	external := filepath.Join(dir, "external.yaml")
	os.WriteFile(external, []byte(study+fmt.Sprintf("backend: {kind: external, argv: [%q, worker], timeout_minutes: 10}\n", os.Args[0])), 0o644)
	t.Setenv("TIVE_TEST_MAIN", "1") // the worker process is this test binary
	var res [2]*pipeline.Results
	for i, spec := range []string{builtin, external} {
		code, out, errs := runTive(t, "run", spec, "--store", filepath.Join(dir, fmt.Sprint("store", i)), "--json")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", spec, code, errs)
		}
		r, err := pipeline.ReadResults(summaryOf(t, out).Results)
		if err != nil {
			t.Fatal(err)
		}
		res[i] = r
	}
	for _, stage := range []string{"reference", "features", "select", "train", "predict", "score"} {
		a, b := res[0].Runs[0].Outputs[stage], res[1].Runs[0].Outputs[stage]
		if a == b {
			t.Fatalf("%s: the two backends share a key; backend.kind must be part of it", stage)
		}
		n := 0
		filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() == "MANIFEST.json" {
				return err
			}
			rel, _ := filepath.Rel(a, p)
			x, _ := os.ReadFile(p)
			y, err := os.ReadFile(filepath.Join(b, rel))
			if err != nil || string(x) != string(y) {
				t.Errorf("%s/%s differs between the builtin and external backends (%v)", stage, rel, err)
			}
			n++
			return nil
		})
		if n == 0 {
			t.Errorf("%s: no files compared", stage)
		}
	}
}
