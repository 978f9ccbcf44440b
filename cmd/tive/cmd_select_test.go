package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tive-dev/tive/harness/grad"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/pipeline/stages"
)

func TestSelectCommandWritesSubsetScoresTasks(t *testing.T) {
	dir := t.TempDir()
	writePool(t, dir, 400, 16)
	p := func(s string) string { return filepath.Join(dir, s) }
	args := []string{"select", "--method", "tive", "--records", p("pool.jsonl"), "--features", p("features.npy"), "--norms", p("norms.npy"),
		"--budget", "0.2", "--seed", "3", "--exclude", "textcaps", "--out", p("subset.json"), "--scores", p("scores.jsonl"), "--tasks", p("tasks.json")}
	code, out, errs := runTive(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "textcaps") || !strings.Contains(out, "total") {
		t.Errorf("summary table:\n%s", out)
	}
	sub, err := data.Load(p("subset.json"))
	if err != nil {
		t.Fatal(err)
	}
	scores, err := stages.ReadScores(p("scores.jsonl"))
	if err != nil || len(scores) != 400 {
		t.Fatalf("scores: %v, %d lines", err, len(scores))
	}
	total := 0
	for _, s := range scores {
		total += s.Selected
		if s.Task == "textcaps" && (s.Selected != 0 || *s.Influence != 0) {
			t.Errorf("excluded record chosen: %+v", s)
		}
		if s.Task != "textcaps" && (s.Influence == nil || s.Norm == nil) {
			t.Errorf("record without influence or norm: %+v", s)
		}
	}
	if total != len(sub) {
		t.Errorf("scores count %d selections, subset has %d", total, len(sub))
	}
	var tasks []map[string]any
	b, _ := os.ReadFile(p("tasks.json"))
	if err := json.Unmarshal(b, &tasks); err != nil || len(tasks) != 5 {
		t.Fatalf("tasks.json: %v %s", err, b)
	}
	// Same seed, same bytes.
	first, _ := os.ReadFile(p("subset.json"))
	runTive(t, args...)
	again, _ := os.ReadFile(p("subset.json"))
	if string(first) != string(again) {
		t.Error("same seed gave different subset bytes")
	}
}

func TestSelectCommandBadInputWritesNothing(t *testing.T) {
	dir := t.TempDir()
	writePool(t, dir, 50, 8)
	other := t.TempDir()
	writePool(t, other, 60, 8)
	p := func(s string) string { return filepath.Join(dir, s) }
	os.WriteFile(p("broken.jsonl"), []byte(`{"id": "a", "conversations": [{"from": "human", "value": "q"}]}`+"\n"+`{"id": "b", "conversations": "x"}`+"\n"), 0o644)
	neg := make([]float64, 50)
	neg[0] = -5
	if err := grad.WriteVector(p("norms_neg.npy"), grad.Float32, neg); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"row count", []string{"--features", filepath.Join(other, "features.npy"), "--norms", p("norms.npy")}, "has 60 rows but " + p("pool.jsonl") + " has 50 records"},
		{"norm count", []string{"--features", p("features.npy"), "--norms", filepath.Join(other, "norms.npy")}, "has 60 norms"},
		{"no features", []string{"--norms", p("norms.npy")}, "method tive needs gradient features"},
		{"malformed record", []string{"--records", p("broken.jsonl"), "--features", p("features.npy"), "--norms", p("norms.npy")}, "broken.jsonl:2: record 1"},
		{"zero budget", []string{"--features", p("features.npy"), "--norms", p("norms.npy"), "--budget", "0.001"}, "tive select: tive with budget 0.001 selects nothing"},
		{"negative norm", []string{"--features", p("features.npy"), "--norms", p("norms_neg.npy")}, p("norms_neg.npy") + ": norm of record 0 is -5"},
	} {
		out := filepath.Join(t.TempDir(), "subset.json")
		args := append([]string{"select", "--records", p("pool.jsonl"), "--out", out}, tc.args...)
		code, _, errs := runTive(t, args...)
		if code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stderr %q, want it to contain %q", tc.name, code, errs, tc.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: output written despite the error", tc.name)
		}
	}
	code, _, errs := runTive(t, "select", "--records", p("pool.jsonl"))
	if code != 2 || !strings.Contains(errs, "--out is required") {
		t.Errorf("usage: exit %d %q", code, errs)
	}
}
