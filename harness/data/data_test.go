package data

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLLaVA665KRulesLabelEachSource(t *testing.T) {
	recs, err := Load("testdata/llava665k-sample.json")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := LoadRules("llava665k")
	if err != nil {
		t.Fatal(err)
	}
	if err := AssignTasks("sample", recs, rules); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		var w struct{ Want string }
		raw, err := r.RawJSON()
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(raw, &w)
		if r.Task != w.Want {
			t.Errorf("record %d (id %s): label %q, want %q", r.Index, r.ID, r.Task, w.Want)
		}
		seen[r.Task] = true
	}
	if len(seen) != 10 {
		t.Errorf("sample covers %d labels, want all 10: %v", len(seen), seen)
	}
	if recs[6].ID != "2316637" {
		t.Errorf("numeric GQA id read as %q", recs[6].ID)
	}
}

func TestRulesFallbackAndNoMatch(t *testing.T) {
	rs, err := ParseRules("r.yaml", []byte("rules:\n  - label: a\n    image: absent\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := Record{ID: "x", Image: "coco/1.jpg", Conversations: []Turn{{"human", "q"}, {"gpt", "a"}}}
	if _, err := rs.Label(&r); err == nil || !strings.Contains(err.Error(), "matches no rule of r.yaml") {
		t.Errorf("no-match error = %v", err)
	}
	rs.Fallback = "other"
	if l, _ := rs.Label(&r); l != "other" {
		t.Errorf("fallback label %q", l)
	}
}

func TestParseRulesErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"rules:\n  - label: a\n    imagez: absent\n", "r.yaml:3: field imagez not found"},
		{"rules:\n  - image: absent\n", "rules[0].label: missing"},
		{"rules:\n  - label: a\n    image: maybe\n", `rules[0].image: "maybe" (want present or absent)`},
		{"fallback: x\n", "rules: no rules"},
	} {
		_, err := ParseRules("r.yaml", []byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseRules(%q) error = %v, want it to contain %q", tc.in, err, tc.want)
		}
	}
}

func TestParseErrorsNameLineAndIndex(t *testing.T) {
	good := `{"id": "a", "conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}`
	for _, tc := range []struct{ name, in, want string }{
		{"list bad from", "[\n" + good + ",\n" + `{"id": "b", "conversations": [{"from": "system", "value": "q"}]}` + "\n]", `f.json:3: record 1: conversations[0].from is "system" (want "human" or "gpt")`},
		{"list no id", "[\n" + good + ",\n\n" + `{"conversations": [{"from": "human", "value": "q"}]}` + "\n]", `f.json:4: record 1: missing "id"`},
		{"jsonl malformed", good + "\n" + good + "\n{\"id\": \"c\",\n", "f.json:3: record 2: malformed JSON line"},
		{"jsonl empty conv", good + "\n" + `{"id": "c", "conversations": []}`, `f.json:2: record 1: "conversations" is missing or empty`},
		{"list truncated", "[\n" + good + ",\n" + `{"id": "b", "conv`, "f.json:3: record 1: malformed JSON"},
		{"empty", "  \n", "f.json: no records (empty file)"},
		{"value not string", `{"id": "a", "conversations": [{"from": "human", "value": 3}]}`, `conversations[0]: want {"from": "human"|"gpt", "value": string}`},
	} {
		_, err := Parse("f.json", []byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

func TestAssignTasksNeedsDatasetWithoutRules(t *testing.T) {
	recs, err := Parse("f.jsonl", []byte(`{"id": "a", "dataset": "vqav2", "conversations": [{"from": "human", "value": "q"}]}`+"\n"+`{"id": "b", "conversations": [{"from": "human", "value": "q"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	err = AssignTasks("f.jsonl", recs, nil)
	var re *RecordError
	if !errors.As(err, &re) || re.Index != 1 || !strings.Contains(err.Error(), `no "dataset" field`) {
		t.Fatalf("error = %v", err)
	}
}

func TestWriteJSONRoundTripsRawRecords(t *testing.T) {
	in := `[{"id": 7, "image": "gqa/images/7.jpg", "conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}], "dataset": "gqa"},
	        {"dataset": "x", "id": "b", "conversations": [{"from": "human", "value": "é \u003c"}]}]`
	recs, err := Parse("in.json", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "out.json")
	if err := WriteJSON(p, recs, []int{1, 0, 1}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	want := "[\n" + `{"dataset":"x","id":"b","conversations":[{"from":"human","value":"é \u003c"}]}` + ",\n" +
		`{"id":7,"image":"gqa/images/7.jpg","conversations":[{"from":"human","value":"q"},{"from":"gpt","value":"a"}],"dataset":"gqa"}` + ",\n" +
		`{"dataset":"x","id":"b","conversations":[{"from":"human","value":"é \u003c"}]}` + "\n]\n"
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}
	back, err := Parse("out.json", b)
	if err != nil || len(back) != 3 || back[1].ID != "7" {
		t.Errorf("round trip: %v %+v", err, back)
	}
	// The same from a file, which Load does not keep in memory: the subset
	// is read from it again, and a file changed since is noticed.
	in2 := filepath.Join(t.TempDir(), "in.json")
	os.WriteFile(in2, []byte(in), 0o644)
	recs, err = Load(in2)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(p, recs, []int{1, 0, 1}); err != nil {
		t.Fatal(err)
	}
	if b2, _ := os.ReadFile(p); string(b2) != want {
		t.Errorf("from a file: got\n%s\nwant\n%s", b2, want)
	}
	os.WriteFile(in2, []byte(strings.Replace(in, `"q"`, `"Q"`, 1)), 0o644)
	if err := WriteJSON(p, recs, []int{0}); err == nil || !strings.Contains(err.Error(), "changed since") {
		t.Errorf("a record changed after Load: %v", err)
	}
	// A record made in memory is written in LLaVA's form and reads back
	// as it was.
	mem := Record{ID: "t1", Conversations: []Turn{{"human", "Is there a \"cat\"?"}, {"gpt", "No"}}, Dataset: "language"}
	if raw, err := mem.RawJSON(); err != nil || string(raw) != `{"id":"t1","conversations":[{"from":"human","value":"Is there a \"cat\"?"},{"from":"gpt","value":"No"}],"dataset":"language"}` {
		t.Errorf("in-memory record: %s, %v", raw, err)
	}
	raws, _ := Parse("in.json", []byte(in))
	if err := WriteJSON(p, append(raws[:1:1], mem), []int{0, 1}); err != nil {
		t.Fatal(err)
	}
	back, err = Load(p)
	if err != nil || len(back) != 2 || back[1].ID != "t1" || back[1].Dataset != "language" || back[1].HasImage() ||
		!slices.Equal(back[1].Conversations, mem.Conversations) || back[0].ID != "7" {
		t.Errorf("read back: %+v, %v", back, err)
	}
}

// TestFieldsCountsAsStringsFields: ResponseWords counts words as
// strings.Fields splits them (Unicode spaces, invalid UTF-8 as a letter).
func TestFieldsCountsAsStringsFields(t *testing.T) {
	for _, s := range []string{"", " ", "a", " a  b\t\nc ", "\u00a0x\u2003y", "\xff \xfe", "a\u0085b", "x\u200by"} {
		if got, want := fields(s), len(strings.Fields(s)); got != want {
			t.Errorf("fields(%q) = %d, strings.Fields gives %d", s, got, want)
		}
	}
}
