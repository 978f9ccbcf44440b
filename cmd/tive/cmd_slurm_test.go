package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tive-dev/tive/harness/pipeline"
)

// needSlurm skips a test unless a Slurm controller answers.
func needSlurm(t *testing.T) {
	t.Helper()
	if err := exec.Command("sinfo", "-h").Run(); err != nil {
		t.Skip("no Slurm cluster answers sinfo here: start one with scripts/slurm-local.sh")
	}
}

// sameOutputs checks that two stores hold the same outputs, byte for byte.
func sameOutputs(t *testing.T, want, got string) {
	t.Helper()
	w, g := outputs(t, want), outputs(t, got)
	if len(g) != len(w) {
		t.Fatalf("%s holds %d outputs, %s %d", got, len(g), want, len(w))
	}
	for k, files := range w {
		for f, b := range files {
			if g[k][f] != b {
				t.Errorf("%s/%s differs between the slurm and local executors", k[:12], f)
			}
		}
	}
}

// localThenSlurm writes spec (its text) into a temporary folder, runs it
// with the local executor into dir/local and then with the Slurm executor
// into dir/slurm, where the job task named by killAt (TIVE_KILL_AT) kills
// itself once; it fails the test, saying notKilled, if no task was killed.
// It returns both stores and the Slurm run's stdout and stderr.
func localThenSlurm(t *testing.T, spec, killAt, notKilled string, args ...string) (local, store, out, errs string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "spec.yaml")
	os.WriteFile(file, []byte(spec), 0o644)
	local = filepath.Join(dir, "local")
	if code, _, errs := runTive(t, "run", file, "--store", local); code != 0 {
		t.Fatalf("local run: %s", errs)
	}
	t.Setenv("TIVE_TEST_MAIN", "1")
	t.Setenv("TIVE_KILL_AT", killAt)
	t.Setenv("TIVE_KILL_ONCE", filepath.Join(dir, "killed-once"))
	store = filepath.Join(dir, "slurm")
	code, out, errs := runTive(t, append([]string{"run", file, "--store", store, "--executor", "slurm", "--poll", "250ms", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("slurm run: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "killed-once")); err != nil {
		t.Fatal(notKilled + ": the test proves nothing")
	}
	return local, store, out, errs
}

// TestSlurmExecutor runs TIVE's pipeline, training and prediction on the
// local Slurm cluster (scripts/slurm-local.sh), with the features and
// predict stages as 4-task job arrays; task 2 of features is killed on its
// first run. It checks that only that task was resubmitted and that every
// output equals the local executor's.
func TestSlurmExecutor(t *testing.T) {
	needSlurm(t)
	// Jobs run this test binary as tive; task 2 of the features array kills
	// itself the first time.
	local, store, out, errs := localThenSlurm(t, tinyTIVE+"benchmarks: [pope, mme, gqa, scienceqa]\npredict: {max_new_tokens: 4}\n",
		"exec:features:2:1", "task 2 was never killed", "--tasks", "4")
	if strings.Count(errs, "--array=0-3 ") != 2 || !regexp.MustCompile(`slurm: features: job \d+: indices \[2\] failed; resubmitting them`).MatchString(errs) ||
		strings.Count(errs, "--array=2 ") != 1 || strings.Count(errs, ": sbatch ") != 11 {
		t.Errorf("submissions (want 11: one per stage, features and predict as 4-task arrays, then index 2 of features alone):\n%s", errs)
	}
	for _, st := range summaryOf(t, out).Stages {
		if st.Status != "ran" {
			t.Errorf("%s: %s", st.Stage, st.Status)
		}
	}
	sameOutputs(t, local, store)
	logs, _ := filepath.Glob(filepath.Join(store, "jobs", "*", "slurm-*.log"))
	if len(logs) < 5 {
		t.Errorf("%d job logs collected in the store, want one per task and stage", len(logs))
	}
}

// TestSlurmSweepAsArrays runs a two-seed sweep of TIVE's selection on the
// local Slurm cluster and checks that it gives the local executor's bytes,
// that the two runs' features went out as one 8-index array and their
// select stages as one 2-index array (from the task logs collected into the
// store), and that when one select task is killed only its index is
// resubmitted.
func TestSlurmSweepAsArrays(t *testing.T) {
	needSlurm(t)
	// The first select task to start (either run's) kills itself.
	local, store, out, errs := localThenSlurm(t, tinyTIVE+"sweep:\n  seed: [0, 1]\n", "exec:select:0:1", "no select task was killed")
	sameOutputs(t, local, store)
	res, err := pipeline.ReadResults(summaryOf(t, out).Results)
	if err != nil || len(res.Runs) != 2 {
		t.Fatalf("results: %v %+v", err, res)
	}
	// stage -> array job -> indices that logged a task of that stage.
	logName := regexp.MustCompile(`^slurm-(\d+)_(\d+)\.log$`)
	arrays := map[string]map[string][]string{}
	for _, st := range []string{"features", "select"} {
		arrays[st] = map[string][]string{}
		for _, run := range res.Runs {
			ents, _ := os.ReadDir(filepath.Join(store, "jobs", run.Keys[st]))
			for _, e := range ents {
				if m := logName.FindStringSubmatch(e.Name()); m != nil {
					arrays[st][m[1]] = append(arrays[st][m[1]], m[2])
				}
			}
		}
	}
	if len(arrays["features"]) != 1 {
		t.Errorf("features of the two runs went out as %d arrays, want 1: %v", len(arrays["features"]), arrays["features"])
	}
	for _, idx := range arrays["features"] {
		if len(idx) != 8 {
			t.Errorf("features array ran indices %v, want 0-7 (2 runs x 4 tasks)", idx)
		}
	}
	// The select array: both indices; the retry: the killed index alone.
	var first, retry []string
	for _, idx := range arrays["select"] {
		if len(idx) == 2 {
			first = idx
		} else {
			retry = idx
		}
	}
	if len(arrays["select"]) != 2 || len(first) != 2 || len(retry) != 1 {
		t.Fatalf("select arrays (job -> indices): %v; want one with both runs' indices and one retry of one index", arrays["select"])
	}
	var subs []string
	for _, m := range regexp.MustCompile(`--job-name=tive-select --array=(\S+) `).FindAllStringSubmatch(errs, -1) {
		subs = append(subs, m[1])
	}
	killed := regexp.MustCompile(`slurm: select: job \d+: indices \[(\d)\] failed; resubmitting them`).FindStringSubmatch(errs)
	if killed == nil || killed[1] != retry[0] || strings.Join(subs, " ") != "0-1 "+retry[0] {
		t.Errorf("select submissions %v, want 0-1 then the killed index %v alone:\n%s", subs, retry, errs)
	}
}
