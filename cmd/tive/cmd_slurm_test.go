package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSlurmExecutor runs TIVE's pipeline, training and prediction on the
// local Slurm cluster (scripts/slurm-local.sh), with the features and
// predict stages as 4-task job arrays; task 2 of features is killed on its
// first run. It checks that only that task was resubmitted and that every
// output equals the local executor's.
func TestSlurmExecutor(t *testing.T) {
	if err := exec.Command("sinfo", "-h").Run(); err != nil {
		t.Skip("no Slurm cluster answers sinfo here: start one with scripts/slurm-local.sh")
	}
	dir := t.TempDir()
	spec := filepath.Join(dir, "tive.yaml")
	os.WriteFile(spec, []byte(tinyTIVE+"benchmarks: [pope, mme, gqa, scienceqa]\npredict: {max_new_tokens: 4}\n"), 0o644)
	local := filepath.Join(dir, "local")
	if code, _, errs := runTive(t, "run", spec, "--store", local); code != 0 {
		t.Fatalf("local run: %s", errs)
	}
	// Jobs run this test binary as tive; task 2 of the features array kills
	// itself the first time.
	t.Setenv("TIVE_TEST_MAIN", "1")
	t.Setenv("TIVE_KILL_AT", "exec:features:2:1")
	t.Setenv("TIVE_KILL_ONCE", filepath.Join(dir, "killed-once"))
	store := filepath.Join(dir, "slurm")
	code, out, errs := runTive(t, "run", spec, "--store", store, "--executor", "slurm", "--tasks", "4", "--json")
	if code != 0 {
		t.Fatalf("slurm run: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "killed-once")); err != nil {
		t.Fatal("task 2 was never killed: the test proves nothing")
	}
	if strings.Count(errs, "--array=0,1,2,3") != 2 || !strings.Contains(errs, "tasks [2] failed; resubmitting them") || !strings.Contains(errs, "--array=2 ") {
		t.Errorf("submissions:\n%s", errs)
	}
	for _, st := range summaryOf(t, out).Stages {
		if st.Status != "ran" {
			t.Errorf("%s: %s", st.Stage, st.Status)
		}
	}
	want, got := outputs(t, local), outputs(t, store)
	if len(got) != len(want) {
		t.Fatalf("slurm store holds %d outputs, local %d", len(got), len(want))
	}
	for k, files := range want {
		for f, b := range files {
			if got[k][f] != b {
				t.Errorf("%s/%s differs between the slurm and local executors", k[:12], f)
			}
		}
	}
	logs, _ := filepath.Glob(filepath.Join(store, "jobs", "*", "slurm-*.log"))
	if len(logs) < 5 {
		t.Errorf("%d job logs collected in the store, want one per task and stage", len(logs))
	}
}
