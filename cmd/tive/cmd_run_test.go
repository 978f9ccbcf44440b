package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/tive-dev/tive/harness/pipeline"
)

const studySpec = `name: killtest
data:
  records: pool.jsonl
features:
  path: features.npy
  norms: norms.npy
selection:
  budget: 0.2
  exclude: [textcaps]
sweep:
  selection.method: [tive, tive-task, random]
  seed: [0, 1]
`

// summaryOf parses the last stdout line of `tive run --json`.
func summaryOf(t *testing.T, stdout string) pipeline.Summary {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var s pipeline.Summary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
		t.Fatalf("last stdout line is not a JSON summary: %v\n%s", err, stdout)
	}
	return s
}

// outputs maps every committed key of a store to its files' bytes (the
// manifest, which holds times, excepted).
func outputs(t *testing.T, store string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	root := filepath.Join(store, "objects")
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "MANIFEST.json" {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		parts := strings.SplitN(rel, string(filepath.Separator), 3)
		if _, err := os.Stat(filepath.Join(root, parts[0], parts[1], "MANIFEST.json")); err != nil {
			t.Errorf("key folder %s has files but no manifest", parts[1])
		}
		if out[parts[1]] == nil {
			out[parts[1]] = map[string]string{}
		}
		b, _ := os.ReadFile(p)
		out[parts[1]][parts[2]] = string(b)
		return nil
	})
	return out
}

func TestRunIsCachedAndJSONSummary(t *testing.T) {
	dir := t.TempDir()
	writePool(t, dir, 300, 16)
	spec := filepath.Join(dir, "study.yaml")
	os.WriteFile(spec, []byte(studySpec), 0o644)
	store := filepath.Join(dir, "store")
	code, out, errs := runTive(t, "run", spec, "--store", store, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	s := summaryOf(t, out)
	if s.Runs != 6 || len(s.Stages) != 8 {
		t.Fatalf("summary: %d runs, %d stages, want 6 and 8 (2 warm-ups, 6 selects)", s.Runs, len(s.Stages))
	}
	for _, st := range s.Stages {
		if st.Status != "ran" || len(st.Key) != 64 {
			t.Errorf("first run: %+v", st)
		}
	}
	if !strings.Contains(errs, "[8/8] select (selection.method=random seed=1): ran") {
		t.Errorf("progress on stderr:\n%s", errs)
	}
	res, err := pipeline.ReadResults(s.Results)
	if err != nil || len(res.Runs) != 6 || res.Runs[0].Outputs["select"] == "" {
		t.Fatalf("results %s: %v %+v", s.Results, err, res)
	}
	code, out, _ = runTive(t, "run", spec, "--store", store, "--json")
	for _, st := range summaryOf(t, out).Stages {
		if code != 0 || st.Status != "cached" {
			t.Errorf("rerun: %+v", st)
		}
	}
	// A changed parameter reruns only what depends on it.
	os.WriteFile(spec, []byte(strings.Replace(studySpec, "budget: 0.2", "budget: 0.3", 1)), 0o644)
	_, out, _ = runTive(t, "run", spec, "--store", store, "--json")
	ran := 0
	for _, st := range summaryOf(t, out).Stages {
		if st.Status == "ran" {
			ran++
			if st.Stage != "select" {
				t.Errorf("budget change reran %s", st.Stage)
			}
		}
	}
	if ran != 6 {
		t.Errorf("budget change reran %d stages, want the 6 selects", ran)
	}
	code, out, _ = runTive(t, "runs", "list", "--store", store)
	if code != 0 || strings.Count(out, " select ") != 12 || strings.Count(out, " warmup ") != 2 {
		t.Errorf("runs list:\n%s", out)
	}
	code, out, _ = runTive(t, "runs", "show", s.Stages[0].Key[:10], "--store", store)
	if code != 0 || !strings.Contains(out, `"stage": "warmup"`) || !strings.Contains(out, `"warmup.json"`) {
		t.Errorf("runs show:\n%s", out)
	}
}

// TestKilledRunResumesWithSameBytes kills a multi-stage run with SIGKILL at
// several points (before a stage starts, after its outputs are written but
// before the commit, right after a commit) and checks that the resumed runs
// never redo a finished stage and end with the same bytes as an
// uninterrupted run.
func TestKilledRunResumesWithSameBytes(t *testing.T) {
	dir := t.TempDir()
	writePool(t, dir, 300, 16)
	spec := filepath.Join(dir, "study.yaml")
	os.WriteFile(spec, []byte(studySpec), 0o644)
	clean := filepath.Join(dir, "clean")
	if code, _, errs := runTive(t, "run", spec, "--store", clean); code != 0 {
		t.Fatalf("uninterrupted run: %s", errs)
	}
	want := outputs(t, clean)

	store := filepath.Join(dir, "killed")
	committed := map[string]bool{}
	for _, at := range []string{"before-commit:warmup:1", "after-commit:warmup:1", "stage-start:select:2", "before-commit:select:1", "after-commit:select:3"} {
		cmd := exec.Command(os.Args[0], "run", spec, "--store", store)
		cmd.Env = append(os.Environ(), "TIVE_TEST_MAIN=1", "TIVE_KILL_AT="+at)
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("kill at %s: run ended with %v, want SIGKILL", at, err)
		}
		got := outputs(t, store)
		for k := range committed {
			if got[k] == nil {
				t.Errorf("after kill at %s: committed output %s vanished", at, k[:12])
			}
		}
		for k, files := range got {
			committed[k] = true
			if fmt.Sprint(files) != fmt.Sprint(want[k]) {
				t.Errorf("after kill at %s: output %s differs from the uninterrupted run's", at, k[:12])
			}
		}
	}
	if len(committed) == 0 || len(committed) == len(want) {
		t.Fatalf("kills left %d of %d outputs; the test should interrupt part-way", len(committed), len(want))
	}
	code, out, errs := runTive(t, "run", spec, "--store", store, "--json")
	if code != 0 {
		t.Fatalf("resumed run: %s", errs)
	}
	for _, st := range summaryOf(t, out).Stages {
		if committed[st.Key] && st.Status != "cached" {
			t.Errorf("resumed run redid finished stage %s (%s)", st.Stage, st.Key[:12])
		}
		if !committed[st.Key] && st.Status != "ran" {
			t.Errorf("resumed run: %+v", st)
		}
	}
	got := outputs(t, store)
	if len(got) != len(want) {
		t.Fatalf("resumed store holds %d outputs, want %d", len(got), len(want))
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if fmt.Sprint(got[k]) != fmt.Sprint(want[k]) {
			t.Errorf("output %s differs after resume", k[:12])
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(store, "tmp")); len(ents) != 0 {
		t.Errorf("tmp/ holds %d leftovers after a clean finish", len(ents))
	}
}

func TestValidateCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte(studySpec), 0o644)
	os.WriteFile(bad, []byte("name: x\ndata: {records: a.json}\nselection:\n  method: tive\n  budget: -1\nsweep:\n  selection.nope: [1]\n"), 0o644)
	code, out, _ := runTive(t, "validate", good)
	if code != 0 || !strings.Contains(out, "ok (6 runs)") {
		t.Errorf("good spec: exit %d %q", code, out)
	}
	code, _, errs := runTive(t, "validate", good, bad)
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if code != 1 || len(lines) != 3 {
		t.Fatalf("bad spec: exit %d, stderr:\n%s", code, errs)
	}
	for _, w := range []string{bad + ":7:3: sweep.selection.nope: sweeps over a key that does not exist",
		bad + ":5:11: selection.budget: -1 is outside (0, 1]",
		bad + ":4:11: selection.method: method tive needs gradient features"} {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errs)
		}
	}
	// A model that model.New rejects (16 visual tokens leave no room in 20).
	short := filepath.Join(dir, "short.yaml")
	os.WriteFile(short, []byte("name: x\ndata: {records: a.json}\nselection: {method: random}\nmodel:\n  max_len: 20\n"), 0o644)
	code, _, errs = runTive(t, "validate", short)
	if w := short + ":5:12: model.max_len: 20 leaves no room for text after 16 visual tokens"; code != 1 || !strings.Contains(errs, w) {
		t.Errorf("max_len 20: exit %d, stderr lacks %q:\n%s", code, w, errs)
	}
}

// TestValidateRefusesBudgetsThatSelectNothing: tive validate refuses, as the
// select stage would at run time, a budget that rounds every task's share
// down to zero on a pool known before the run (the world's mixture; a
// records file), and says when the pool is not known.
func TestValidateRefusesBudgetsThatSelectNothing(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	world := "name: v\ndata: {source: world}\nworld: {profile: tiny, assets: shapes}\nselection: {method: %s, budget: %s}\n"
	for _, c := range []struct {
		method, budget string
		code           int
		out            string
	}{
		{"tive", "1e-7", 1, "the run: selection.budget: tive with budget 1e-07 selects nothing from 667 records"},
		{"random", "0.001", 1, "random with budget 0.001 selects nothing from 667 records"},
		{"random-per-task", "0.002", 1, "random-per-task with budget 0.002 selects nothing"},
		{"random", "0.002", 0, "ok (1 runs)"}, // one record, from the whole pool
		{"tive", "0.01", 0, "depends on the gradient norms"},
		{"tive", "0.15", 0, "ok (1 runs)\n"},
	} {
		code, out, errs := runTive(t, "validate", write("w.yaml", fmt.Sprintf(world, c.method, c.budget)))
		if code != c.code || !strings.Contains(out+errs, c.out) {
			t.Errorf("%s %s: exit %d, want %d and %q in\n%s%s", c.method, c.budget, code, c.code, c.out, out, errs)
		}
	}
	recs := write("r.jsonl", `{"id": "a", "conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}], "dataset": "x"}`+"\n")
	code, _, errs := runTive(t, "validate", write("f.yaml", "name: v\ndata: {source: file, records: "+recs+"}\nselection: {method: random, budget: 0.5}\n"))
	if code != 1 || !strings.Contains(errs, "random with budget 0.5 selects nothing from 1 records") {
		t.Errorf("records file: exit %d\n%s", code, errs)
	}
	code, out, _ := runTive(t, "validate", write("g.yaml", "name: v\ndata: {source: file, records: "+filepath.Join(dir, "later.jsonl")+"}\nselection: {method: random, budget: 0.5}\n"))
	if code != 0 || !strings.Contains(out, "budgets not checked: the pool is not known before the run") {
		t.Errorf("records made later: exit %d\n%s", code, out)
	}
}
