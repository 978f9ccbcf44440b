package seed

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tive-dev/tive/benchmarks/internal/input"
)

func setup(t *testing.T, answers string) (string, string) {
	dir := t.TempDir()
	bench := map[string]any{
		"question_type": map[string]int{"Scene Understanding": 1, "Instance Identity": 2, "Action Recognition": 10},
		"questions": []map[string]any{
			{"answer": "A", "data_type": "image", "question_id": "1", "question_type_id": 1},
			{"answer": "B", "data_type": "image", "question_id": "2", "question_type_id": 1},
			{"answer": "C", "data_type": "image", "question_id": "3", "question_type_id": 2},
			{"answer": "D", "data_type": "image", "question_id": "4", "question_type_id": 2},
			{"answer": "B", "data_type": "video", "question_id": "6", "question_type_id": 10},
		},
	}
	b, _ := json.Marshal(bench)
	af := filepath.Join(dir, "SEED-Bench.json")
	os.WriteFile(af, b, 0o644)
	pf := filepath.Join(dir, "merge.jsonl")
	os.WriteFile(pf, []byte(answers), 0o644)
	return af, pf
}

const vector = `{"question_id": 1, "text": "A"}
{"question_id": 2, "text": "B."}
{"question_id": 3, "text": "C"}
{"question_id": 4, "text": " D"}
{"question_id": 6, "text": "B"}
`

// The test vector of scoring.md §4.
func TestVector(t *testing.T) {
	af, pf := setup(t, vector)
	r, err := Score("", pf, af)
	if err != nil {
		t.Fatal(err)
	}
	m := r.Metrics()
	got := fmt.Sprintf("%.2f %.2f %.2f %.2f %.2f %.2f", m["type/Scene Understanding"], m["type/Instance Identity"], m["type/Action Recognition"], m["all"], m["image"], m["video"])
	if got != "50.00 50.00 100.00 60.00 50.00 100.00" {
		t.Errorf("got %s", got)
	}
	if r.Headline() != 50 {
		t.Errorf("headline %v", r.Headline())
	}
	// The upload lines, as json.dumps writes them.
	up := filepath.Join(t.TempDir(), "upload.jsonl")
	if err := WriteUpload(up, pf, af); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(up)
	want := `{"question_id": "1", "prediction": "A"}
{"question_id": "2", "prediction": "B."}
{"question_id": "3", "prediction": "C"}
{"question_id": "4", "prediction": " D"}
{"question_id": "6", "prediction": "B"}
`
	if string(b) != want {
		t.Errorf("upload:\n%s\nwant:\n%s", b, want)
	}
}

func TestBadInput(t *testing.T) {
	// A missing prediction is wrong, as in the official script.
	af, pf := setup(t, `{"question_id": 1, "text": "A"}`+"\n")
	r, err := Score("", pf, af)
	if err != nil || r.Missing != 4 || r.Image.Total != 25 {
		t.Errorf("missing: %+v %v", r, err)
	}
	if err := WriteUpload(filepath.Join(t.TempDir(), "u"), pf, af); !errors.Is(err, input.ErrMissing) {
		t.Errorf("upload with a missing answer: %v", err)
	}
	// As the script's results dict: the last answer to a question counts,
	// answers to questions it lacks are never looked up.
	for _, tt := range []struct {
		name, body                 string
		image                      float64
		missing, replaced, ignored int
		warning                    string
	}{
		{"unknown", vector + `{"question_id": 7, "text": "A"}` + "\n", 50, 0, 0, 1, "1 answers are for questions SEED-Bench.json does not have; ignored"},
		{"string id", `{"question_id": "1", "text": "A"}` + "\n", 0, 5, 0, 1, "ignored, as convert_seed_for_submission.py ignores them"},
		{"duplicate", vector + `{"question_id": 1, "text": "B"}` + "\n", 25, 0, 1, 0, "1 answers were replaced by a later answer to the same question"},
		{"duplicate, first wrong", `{"question_id": 2, "text": "A"}` + "\n" + vector, 50, 0, 1, 0, "the last one counts"},
	} {
		af, pf := setup(t, tt.body)
		r, err := Score("", pf, af)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		w := strings.Join(r.Warnings(), "\n")
		if r.Image.Total != tt.image || r.Missing != tt.missing || r.Replaced != tt.replaced || r.Ignored != tt.ignored || !strings.Contains(w, tt.warning) {
			t.Errorf("%s: image %v missing %d replaced %d ignored %d warnings %q; want %v %d %d %d %q",
				tt.name, r.Image.Total, r.Missing, r.Replaced, r.Ignored, w, tt.image, tt.missing, tt.replaced, tt.ignored, tt.warning)
		}
	}
	af, pf = setup(t, "")
	if _, err := Score("", pf, af); !errors.Is(err, input.ErrEmpty) {
		t.Errorf("empty: %v, want %v", err, input.ErrEmpty)
	}
}
