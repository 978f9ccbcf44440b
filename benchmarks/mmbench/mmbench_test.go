package mmbench

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tive-dev/tive/benchmarks/internal/input"
	"github.com/tive-dev/tive/benchmarks/internal/testenv"
)

var catDog = map[string]string{"A": "cat", "B": "dog", "C": "bird", "D": "fish"}

func TestCanInfer(t *testing.T) {
	tests := []struct {
		answer  string
		choices map[string]string
		want    string
	}{
		{"b", catDog, ""}, // case-sensitive letter, not a substring of any option
		{"Z", catDog, "Z"},
		{"category", map[string]string{"A": "cat", "B": "category"}, ""},
		{"A and B", catDog, ""},
		{"(C) bird", catDog, "C"},
		{"The option B is right", catDog, "B"},
		{"Cannot determine the answer", catDog, "Z"},
		{"A dog", catDog, "A"}, // the article counts as a letter
		{"The answer is dog", catDog, "B"},
		{"It is a dog.", catDog, "B"},
		{"Dog", catDog, "B"},
		{"B.", map[string]string{"A": "yes", "B": "no"}, "B"},
		{"(A)", map[string]string{"A": "yes", "B": "no"}, "A"},
		{"D: dog", catDog, "D"},
		{"Answer: C", catDog, "C"},
		{"I think it's B or C", catDog, ""},
		{"E", catDog, ""},                                     // not a choice
		{"A A", catDog, "A"},                                  // one distinct letter
		{"C", map[string]string{"A": "x", "B": "y"}, ""},      // letter of a NaN option
		{"Failed to obtain answer via API. dog", catDog, "B"}, // option step fails, text step runs
		{"I'm sorry, but without the image provided B", catDog, "Z"},
		{"nan", map[string]string{"A": "an", "B": "b"}, "A"}, // an empty cell reads back as "nan"
		{"{B}", catDog, "B"},
		{"B\u00a0is it", catDog, "B"},
	}
	for _, tt := range tests {
		if got := CanInfer(tt.answer, tt.choices); got != tt.want {
			t.Errorf("CanInfer(%q, %v) = %q, want %q", tt.answer, tt.choices, got, tt.want)
		}
	}
}

// rotations builds the 4 circular copies of a question with answer "dog".
func sheetFor(groups [][]string) (*Sheet, map[int64]string) {
	s := &Sheet{}
	preds := map[int64]string{}
	opts := []string{"cat", "dog", "bird", "fish"}
	for g, ps := range groups {
		if len(ps) == 2 { // g6: yes/no, answer "no"
			yn := []string{"yes", "no"}
			for k := range 2 {
				idx := int64(k*1_000_000 + g)
				o := map[string]string{"A": yn[k%2], "B": yn[(k+1)%2]}
				ans := "B"
				if k == 1 {
					ans = "A"
				}
				s.Rows = append(s.Rows, Row{Index: idx, Options: o, Answer: ans})
				preds[idx] = ps[k]
			}
			continue
		}
		for k := range 4 {
			idx := int64(k*1_000_000 + g)
			o := map[string]string{}
			ans := ""
			for j := range 4 {
				letter := string(rune('A' + j))
				o[letter] = opts[(j+k)%4]
				if o[letter] == "dog" {
					ans = letter
				}
			}
			s.Rows = append(s.Rows, Row{Index: idx, Options: o, Answer: ans})
			preds[idx] = ps[k]
		}
	}
	return s, preds
}

// The CircularEval test vector of scoring.md §3.
func TestCircularVector(t *testing.T) {
	s, preds := sheetFor([][]string{
		{"B", "A", "D", "C"},
		{"B", "A", "D", "D"},
		{"The answer is dog", "dog", "It is a dog.", "Dog"},
		{"A dog", "A", "D", "C"},
		{"I think it's B or C", "A", "D", "C"},
		{"B.", "(A)"},
		{"B. dog", "A. dog", "D: dog", "Answer: C"},
	})
	r := Evaluate(s, preds)
	if r.Groups != 7 || r.Hits != 4 || math.Abs(r.Circular-400.0/7) > 1e-9 {
		t.Errorf("groups %d hits %d circular %v, want 7 4 57.14", r.Groups, r.Hits, r.Circular)
	}
	if r.Vanilla != 5 {
		t.Errorf("vanilla = %d/7, want 5/7", r.Vanilla)
	}
	if r.Unresolved != 1 {
		t.Errorf("unresolved = %d, want 1 (g5)", r.Unresolved)
	}
}

func TestOfficialFiles(t *testing.T) {
	dir := filepath.Join(testenv.LlavaEval(t), "mmbench")
	var want struct {
		Rows, Groups, Hits int
		Circular_accuracy  float64
		Unresolved_groups  int
	}
	testenv.Expected(t, "mmbench", &want)
	tsv := filepath.Join(dir, "mmbench_dev_20230712.tsv")
	r, err := Score(tsv, filepath.Join(dir, "answers", "mmbench_dev_20230712", "llava-v1.5-13b.jsonl"), tsv)
	if err != nil {
		t.Fatal(err)
	}
	if r.Groups != want.Groups || r.Hits != want.Hits || r.Unresolved != want.Unresolved_groups || r.Missing != 0 {
		t.Errorf("groups %d hits %d unresolved %d missing %d, want %+v", r.Groups, r.Hits, r.Unresolved, r.Missing, want)
	}
	if math.Abs(r.Circular-want.Circular_accuracy) > 1e-9 {
		t.Errorf("circular %v, want %v", r.Circular, want.Circular_accuracy)
	}
	sheet, err := ReadTSV(tsv)
	if err != nil || len(sheet.Rows) != want.Rows {
		t.Errorf("rows %d (err %v), want %d", len(sheet.Rows), err, want.Rows)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	tsv := filepath.Join(dir, "dev.tsv")
	os.WriteFile(tsv, []byte("index\tquestion\tA\tB\tC\tD\tanswer\tcategory\n0\tq\tcat\tdog\t\t\tB\tfoo\n1000000\tq\tdog\tcat\t\t\tA\tfoo\n1\tq2\tx\ty\tNA\t\tA\tbar\n"), 0o644)
	write := func(body string) string {
		p := filepath.Join(t.TempDir(), "answers.jsonl")
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	r, err := Score(tsv, write(`{"question_id": 0, "text": "B"}`+"\n"+`{"question_id": 1000000, "text": "A"}`+"\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	// Row 1 has no answer: scored as "nan", which resolves to nothing, so the group misses.
	if r.Hits != 1 || r.Groups != 2 || r.Missing != 1 || r.Category["foo"] != 100 || r.Category["bar"] != 0 {
		t.Errorf("report %+v", r)
	}
	// As the script's cur_df.loc[index == id]: a later answer overwrites,
	// an id that is no index (a string included) matches no row.
	base := `{"question_id": 0, "text": "B"}` + "\n" + `{"question_id": 1000000, "text": "A"}` + "\n"
	for _, tt := range []struct {
		name, body        string
		replaced, ignored int
	}{
		{"unknown", base + `{"question_id": 7, "text": "B"}` + "\n", 0, 1},
		{"string id", base + `{"question_id": "0", "text": "A"}` + "\n", 0, 1},
		{"duplicate", `{"question_id": 0, "text": "A"}` + "\n" + base, 1, 0},
	} {
		r, err := Score(tsv, write(tt.body), tsv)
		if err != nil || r.Hits != 1 || r.Replaced != tt.replaced || r.Ignored != tt.ignored || len(r.Warnings()) != 1 {
			t.Errorf("%s: %+v %v, warnings %q", tt.name, r, err, r.Warnings())
		}
	}
	tests := []struct {
		name, body string
		kind       error
		msg        string
	}{
		{"empty", "", input.ErrEmpty, ""},
		{"malformed", `{"question_id": 0, "text": B}` + "\n", nil, "answers.jsonl:1:"},
	}
	for _, tt := range tests {
		_, err := Score(tsv, write(tt.body), tsv)
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if tt.kind != nil && !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: error %v, want %v mentioning %q", tt.name, err, tt.kind, tt.msg)
		}
	}
	bad := filepath.Join(dir, "bad.tsv")
	os.WriteFile(bad, []byte("index\tA\tB\tanswer\n0\tx\ty\tA\nzero\tx\ty\tA\n"), 0o644)
	_, err = Score(bad, write(`{"question_id": 0, "text": "A"}`+"\n"), "")
	var se *input.SyntaxError
	if !errors.As(err, &se) || se.Line != 3 {
		t.Errorf("bad index: %v", err)
	}
}

func TestReadTSVRows(t *testing.T) {
	s, err := ReadTSV(writeTemp(t, "index\tquestion\tA\tB\tC\tanswer\n0\tq\tx\ty\n"))
	if err != nil || len(s.Rows) != 1 || len(s.Rows[0].Options) != 2 || s.Rows[0].Answer != "" {
		t.Errorf("short row: %+v %v", s, err)
	}
	_, err = ReadTSV(writeTemp(t, "index\tA\tB\tanswer\n0\tx\ty\tA\textra\n"))
	var se *input.SyntaxError
	if !errors.As(err, &se) || se.Line != 2 {
		t.Errorf("long row: %v", err)
	}
	s, err = ReadTSV(writeTemp(t, "index\tquestion\tA\tB\tanswer\n3\t\"multi\nline\"\t\"say \"\"hi\"\"\"\tnull\tA\n4\tq\tx\ty\tB\n"))
	if err != nil || s.Rows[0].Question != "multi\nline" || s.Rows[0].Options["A"] != `say "hi"` || len(s.Rows[0].Options) != 1 || s.Rows[1].Line != 4 {
		t.Errorf("quoted fields: %+v %v", s, err)
	}
}

func writeTemp(t *testing.T, body string) string {
	p := filepath.Join(t.TempDir(), "x.tsv")
	os.WriteFile(p, []byte(body), 0o644)
	return p
}
