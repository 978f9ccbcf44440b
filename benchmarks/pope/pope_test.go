package pope

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tive-dev/tive/benchmarks/internal/input"
	"github.com/tive-dev/tive/benchmarks/internal/testenv"
)

func TestIsYes(t *testing.T) {
	tests := []struct {
		text string
		yes  bool
	}{
		{"Yes", true},
		{"No", false},
		{"no", false},
		{"NO", true}, // case-sensitive
		{"Not sure", true},
		{"There is not a dog.", false},
		{"Yes, there is a dog.", true},
		{"No.", false},
		{"No,", false},    // comma deleted
		{"No\n", true},    // split on ' ' only
		{"no\tway", true}, // tab is not a separator
		{"Yes. No", true}, // only the first sentence
		{"", true},        // empty answer is yes
		{"I see no dog", false},
		{"nothing", true},
		{"...no", true},
	}
	for _, tt := range tests {
		if got := IsYes(tt.text); got != tt.yes {
			t.Errorf("IsYes(%q) = %v, want %v", tt.text, got, tt.yes)
		}
	}
}

func parse(texts ...string) []bool {
	out := make([]bool, len(texts))
	for i, s := range texts {
		out[i] = IsYes(s)
	}
	return out
}

// The test vector of scoring.md §6.
func TestVector(t *testing.T) {
	y, n := true, false
	rnd := Evaluate("random", parse("Yes", "No", "Yes, there is a dog.", "No.", "There is not a dog.", "Not sure"), []bool{y, y, y, n, n, n})
	if rnd.TP != 2 || rnd.FP != 1 || rnd.TN != 2 || rnd.FN != 1 {
		t.Errorf("random counts = %+v", rnd)
	}
	for _, v := range []float64{rnd.Accuracy, rnd.Precision, rnd.Recall, rnd.F1} {
		if math.Abs(v-2.0/3) > 1e-12 {
			t.Errorf("random metric %v, want 0.6667", v)
		}
	}
	if rnd.YesRatio != 0.5 {
		t.Errorf("random yes-ratio %v", rnd.YesRatio)
	}
	adv := Evaluate("adversarial", parse("NO", "No", "Yes.", "no"), []bool{y, n, y, n})
	if adv.Accuracy != 1 || adv.Precision != 1 || adv.Recall != 1 || adv.F1 != 1 || adv.YesRatio != 0.5 {
		t.Errorf("adversarial = %+v", adv)
	}
	if mean := (rnd.F1 + adv.F1) / 2; math.Abs(mean-0.8333333333) > 1e-9 {
		t.Errorf("mean F1 = %v", mean)
	}
}

func TestZeroDivision(t *testing.T) {
	c := Evaluate("random", []bool{false, false}, []bool{true, false})
	if c.Precision != 0 || c.F1 != 0 || !c.ZeroDivision || c.Accuracy != 0.5 {
		t.Errorf("all-no predictions: %+v", c)
	}
	c = Evaluate("random", []bool{true}, []bool{true})
	if c.ZeroDivision || c.F1 != 1 {
		t.Errorf("perfect: %+v", c)
	}
}

func TestOfficialFiles(t *testing.T) {
	dir := filepath.Join(testenv.LlavaEval(t), "pope")
	var want struct {
		MeanF1     float64 `json:"mean_f1"`
		Categories map[string]struct {
			N, TP, FP, TN, FN                          int
			Accuracy, Precision, Recall, F1, Yes_ratio float64
		} `json:"categories"`
	}
	testenv.Expected(t, "pope", &want)
	r, err := Score(filepath.Join(dir, "llava_pope_test.jsonl"), filepath.Join(dir, "answers", "llava-v1.5-13b.jsonl"), filepath.Join(dir, "coco"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Categories) != 3 {
		t.Fatalf("got %d categories", len(r.Categories))
	}
	for _, c := range r.Categories {
		w := want.Categories[c.Name]
		if c.N != w.N || c.TP != w.TP || c.FP != w.FP || c.TN != w.TN || c.FN != w.FN {
			t.Errorf("%s: counts %+v, want %+v", c.Name, c, w)
		}
		for _, p := range []struct {
			name      string
			got, want float64
		}{{"acc", c.Accuracy, w.Accuracy}, {"P", c.Precision, w.Precision}, {"R", c.Recall, w.Recall}, {"F1", c.F1, w.F1}, {"yes", c.YesRatio, w.Yes_ratio}} {
			if math.Abs(p.got-p.want) > 1e-12 {
				t.Errorf("%s %s = %v, want %v", c.Name, p.name, p.got, p.want)
			}
		}
	}
	if math.Abs(r.MeanF1-want.MeanF1) > 1e-12 {
		t.Errorf("mean F1 = %v, want %v", r.MeanF1, want.MeanF1)
	}
	if got := fmt.Sprintf("%.1f", r.Headline()); got != "85.9" {
		t.Errorf("headline %s, want 85.9", got)
	}
}

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBadInput(t *testing.T) {
	qs := `{"question_id": 1, "category": "random"}
{"question_id": 2, "category": "random"}
`
	labels := `{"label": "yes"}
{"label": "no"}
`
	tests := []struct {
		name, questions, answers, labels string
		kind                             error // nil: SyntaxError expected
		msg                              string
	}{
		{"malformed", qs, "{\"question_id\": 1, \"text\": \"Yes\"}\n{oops\n", labels, nil, "answers.jsonl:2:"},
		{"missing text", qs, "{\"question_id\": 1}\n", labels, nil, `answers.jsonl:1: missing "text"`},
		{"blank line", qs, "{\"question_id\": 1, \"text\": \"Yes\"}\n\n{\"question_id\": 2, \"text\": \"No\"}\n", labels, nil, "answers.jsonl:2: blank line"},
		{"unknown id", qs, "{\"question_id\": 1, \"text\": \"Yes\"}\n{\"question_id\": 9, \"text\": \"No\"}\n", labels, input.ErrUnknown, "answers.jsonl:2:"},
		{"string id is not int id", qs, "{\"question_id\": 1, \"text\": \"Yes\"}\n{\"question_id\": \"2\", \"text\": \"No\"}\n", labels, input.ErrUnknown, `"2"`},
		{"no answers in a category", qs + "{\"question_id\": 3, \"category\": \"popular\"}\n", "{\"question_id\": 3, \"text\": \"Yes\"}\n", labels, input.ErrMissing, `category "random" has no answers`},
		{"empty answers", qs, "", labels, input.ErrEmpty, "answers.jsonl"},
		{"empty labels", qs, "{\"question_id\": 1, \"text\": \"Yes\"}\n", "", input.ErrEmpty, "coco_pope_random.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			q := write(t, dir, "questions.jsonl", tt.questions)
			a := write(t, dir, "answers.jsonl", tt.answers)
			write(t, dir, "coco/coco_pope_random.json", tt.labels)
			_, err := Score(q, a, filepath.Join(dir, "coco"))
			if err == nil {
				t.Fatal("no error")
			}
			if tt.kind == nil {
				var se *input.SyntaxError
				if !errors.As(err, &se) {
					t.Errorf("error %v is not a SyntaxError", err)
				}
			} else if !errors.Is(err, tt.kind) {
				t.Errorf("error %v is not %v", err, tt.kind)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
		})
	}
}

func TestNoYesPredictions(t *testing.T) {
	dir := t.TempDir()
	q := write(t, dir, "q.jsonl", "{\"question_id\": 1, \"category\": \"random\"}\n{\"question_id\": 2, \"category\": \"random\"}\n")
	a := write(t, dir, "a.jsonl", "{\"question_id\": 1, \"text\": \"No\"}\n{\"question_id\": 2, \"text\": \"no\"}\n")
	l := write(t, dir, "coco_pope_random.json", "{\"label\": \"yes\"}\n{\"label\": \"no\"}\n")
	r, err := Score(q, a, l)
	if err != nil {
		t.Fatal(err)
	}
	m := r.Metrics()
	if m["random/zero_division"] != 1 || m["random/precision"] != 0 || m["random/accuracy"] != 0.5 || r.Headline() != 0 {
		t.Errorf("metrics %v", m)
	}
}

// TestMisalignedAsTheScript: where eval_pope.py silently misaligns, the
// score is its number and the warnings say what happened: a repeated answer
// takes the next label, a short category is paired up to its last answer
// (zip), a question listed again takes its last category.
func TestMisalignedAsTheScript(t *testing.T) {
	qs := "{\"question_id\": 1, \"category\": \"random\"}\n{\"question_id\": 2, \"category\": \"random\"}\n"
	labels := "{\"label\": \"yes\"}\n{\"label\": \"no\"}\n"
	for _, tt := range []struct {
		name, questions, answers string
		tp, fp, tn, fn           int
		yes                      float64
		warning                  string
	}{
		{"repeated answer", qs, "{\"question_id\": 1, \"text\": \"Yes\"}\n{\"question_id\": 1, \"text\": \"No\"}\n", 1, 0, 1, 0, 0.5,
			"1 answers are to a question already answered; each is paired with a label by position"},
		{"missing answer", qs, "{\"question_id\": 2, \"text\": \"No\"}\n", 0, 0, 0, 1, 0,
			`category "random" has 1 answers for the 2 labels of coco_pope_random.json; they are paired by position up to 1`},
		{"question listed again", qs + "{\"question_id\": 2, \"category\": \"popular\"}\n", "{\"question_id\": 1, \"text\": \"Yes\"}\n{\"question_id\": 2, \"text\": \"Yes\"}\n", 1, 0, 0, 0, 1,
			"1 questions are listed again in the question file; the last listing gives the category"},
	} {
		dir := t.TempDir()
		q := write(t, dir, "questions.jsonl", tt.questions)
		a := write(t, dir, "answers.jsonl", tt.answers)
		write(t, dir, "coco/coco_pope_random.json", labels)
		r, err := Score(q, a, filepath.Join(dir, "coco"))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		c := r.Categories[0]
		if c.TP != tt.tp || c.FP != tt.fp || c.TN != tt.tn || c.FN != tt.fn || c.YesRatio != tt.yes || !strings.Contains(strings.Join(r.Warnings(), "\n"), tt.warning) {
			t.Errorf("%s: %+v, warnings %q; want TP FP TN FN %d %d %d %d, yes-ratio %v, %q", tt.name, c, r.Warnings(), tt.tp, tt.fp, tt.tn, tt.fn, tt.yes, tt.warning)
		}
	}
}
