package gqa

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tive-dev/tive/benchmarks/internal/input"
)

func TestConvert(t *testing.T) {
	for in, want := range map[string]string{"Yes": "yes", "Woman.": "woman", "Yes...": "yes", "The woman": "the woman", "T shirt": "t shirt", "3.5": "3.5", ". ": ". ", "": ""} {
		if got := Convert(in); got != want {
			t.Errorf("Convert(%q) = %q, want %q", in, got, want)
		}
	}
}

func q(answer, structural string, balanced bool) map[string]any {
	return map[string]any{"answer": answer, "isBalanced": balanced, "types": map[string]any{"structural": structural, "semantic": "obj"}}
}

func setup(t *testing.T, qs map[string]any, answers string) (string, string) {
	dir := t.TempDir()
	b, _ := json.Marshal(qs)
	af := filepath.Join(dir, "testdev_balanced_questions.json")
	os.WriteFile(af, b, 0o644)
	pf := filepath.Join(dir, "answers.jsonl")
	os.WriteFile(pf, []byte(answers), 0o644)
	return af, pf
}

// The test vector of scoring.md §9.
func TestVector(t *testing.T) {
	qs := map[string]any{
		"1": q("yes", "verify", true), "2": q("woman", "query", true), "3": q("woman", "query", true),
		"4": q("left", "choose", true), "5": q("yes", "logical", true), "6": q("t-shirt", "query", true),
		"7": q("no", "verify", false), // not balanced: ignored, answer or not
	}
	preds := []string{"Yes", "Woman.", "The woman", "Left.", "Yes...", "T shirt"}
	var lines strings.Builder
	for i, p := range preds {
		fmt.Fprintf(&lines, `{"question_id": "%d", "text": %q}`+"\n", i+1, p)
	}
	af, pf := setup(t, qs, lines.String())
	r, err := Score("", pf, af)
	if err != nil {
		t.Fatal(err)
	}
	m := r.Metrics()
	if got := fmt.Sprintf("%.2f %.2f %.2f", m["accuracy"], m["binary"], m["open"]); got != "66.67 100.00 33.33" {
		t.Errorf("accuracy binary open = %s", got)
	}
	// As eval.py's dict of predictions: the last answer for an id counts,
	// ids that are no question are never looked up.
	for _, tt := range []struct {
		name, body        string
		acc               float64
		replaced, ignored int
		warning           string
	}{
		{"unknown", lines.String() + `{"question_id": "99", "text": "yes"}` + "\n", 200.0 / 3, 0, 1, "1 answers are for questions the questions file does not have; ignored, as eval.py ignores them"},
		{"duplicate", lines.String() + `{"question_id": "1", "text": "no"}` + "\n", 50, 1, 0, "1 answers were replaced by a later answer to the same question (the last one counts, as in eval.py)"},
	} {
		_, pf := setup(t, qs, tt.body)
		r, err := Score("", pf, af)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		w := strings.Join(r.Warnings(), "\n")
		if math.Abs(r.Accuracy()-tt.acc) > 1e-9 || r.Replaced != tt.replaced || r.Ignored != tt.ignored || !strings.Contains(w, tt.warning) {
			t.Errorf("%s: accuracy %v replaced %d ignored %d warnings %q; want %v %d %d %q", tt.name, r.Accuracy(), r.Replaced, r.Ignored, w, tt.acc, tt.replaced, tt.ignored, tt.warning)
		}
	}
	for _, tt := range []struct {
		name, body string
		kind       error
	}{
		{"missing", `{"question_id": "1", "text": "yes"}` + "\n", input.ErrMissing},
		{"empty", "", input.ErrEmpty},
	} {
		_, pf := setup(t, qs, tt.body)
		if _, err := Score("", pf, af); !errors.Is(err, tt.kind) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.kind)
		}
	}
}
