package input

import (
	"errors"
	"strings"
	"testing"
)

func TestReadAnswers(t *testing.T) {
	tests := []struct {
		name, in string
		n        int
		line     int   // for a SyntaxError
		kind     error // for a DataError
	}{
		{"ok", `{"question_id": 1, "prompt": "p", "text": "t"}` + "\n" + `{"question_id": "a/b", "prompt": "", "text": ""}`, 2, 0, nil},
		{"crlf", "{\"question_id\": 1, \"prompt\": \"p\", \"text\": \"t\"}\r\n", 1, 0, nil},
		{"empty", "", 0, 0, ErrEmpty},
		{"blank line", `{"question_id": 1, "prompt": "p", "text": "t"}` + "\n\n", 0, 2, nil},
		{"two values", `{"question_id": 1, "prompt": "p", "text": "t"} {}`, 0, 1, nil},
		{"float id", `{"question_id": 1.5, "prompt": "p", "text": "t"}`, 0, 1, nil},
		{"null text", `{"question_id": 1, "prompt": "p", "text": null}`, 0, 1, nil},
		{"text not a string", `{"question_id": 1, "prompt": "p", "text": 3}`, 0, 1, nil},
		{"missing id", `{"prompt": "p", "text": "t"}`, 0, 1, nil},
		{"missing prompt", `{"question_id": 1, "text": "t"}`, 0, 1, nil},
		{"array", `[1]`, 0, 1, nil},
	}
	for _, tt := range tests {
		as, err := ReadAnswers(strings.NewReader(tt.in), "a.jsonl", true)
		var se *SyntaxError
		switch {
		case tt.line > 0:
			if !errors.As(err, &se) || se.Line != tt.line || se.File != "a.jsonl" {
				t.Errorf("%s: %v, want a SyntaxError on line %d", tt.name, err, tt.line)
			}
		case tt.kind != nil:
			if !errors.Is(err, tt.kind) {
				t.Errorf("%s: %v, want %v", tt.name, err, tt.kind)
			}
		default:
			if err != nil || len(as) != tt.n {
				t.Errorf("%s: %d answers, %v", tt.name, len(as), err)
			}
		}
	}
	as, _ := ReadAnswers(strings.NewReader(`{"question_id": 1, "text": "t"}`+"\n"+`{"question_id": "1", "text": "t"}`), "a", false)
	if len(as) != 2 || as[0].QuestionID == as[1].QuestionID || as[0].QuestionID.String() != "1" || as[1].QuestionID.String() != `"1"` {
		t.Errorf("1 and \"1\" must differ: %+v", as)
	}
	if _, err := UniqueByID("a", append(as, as[0])); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate: %v", err)
	}
}

func TestLongLine(t *testing.T) {
	long := `{"question_id": 1, "text": "` + strings.Repeat("x", 200000) + `"}`
	as, err := ReadAnswers(strings.NewReader(long+"\n"+long), "a", false)
	if err != nil || len(as) != 2 || len(as[1].Text) != 200000 {
		t.Errorf("long lines: %d, %v", len(as), err)
	}
}

func FuzzReadAnswers(f *testing.F) {
	f.Add([]byte(`{"question_id": 1, "prompt": "p", "text": "t"}` + "\n"))
	f.Add([]byte(`{"question_id": "x", "prompt": "p", "text": "t"}` + "\r\n\n"))
	f.Add([]byte(`{"question_id": 1e3, "text": 1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		as, err := ReadAnswers(strings.NewReader(string(data)), "a.jsonl", true)
		if err == nil {
			if len(as) == 0 {
				t.Fatal("no error and no answers")
			}
			return
		}
		var se *SyntaxError
		var de *DataError
		if !errors.As(err, &se) && !errors.As(err, &de) {
			t.Fatalf("untyped error %v", err)
		}
		if se != nil && (se.Line < 1 || se.Line > strings.Count(string(data), "\n")+1) {
			t.Fatalf("line %d out of range: %v", se.Line, err)
		}
	})
}
