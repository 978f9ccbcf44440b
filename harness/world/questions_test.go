package world

import (
	"context"
	"image"
	"os"
	"path/filepath"
	"testing"
)

// TestQuestionsCoverEverySuite checks that every suite's questions come with
// a readable image and an empty answer to fill.
func TestQuestionsCoverEverySuite(t *testing.T) {
	dir := t.TempDir()
	if err := Generate(context.Background(), Config{Profile: "tiny", Assets: "shapes", Seed: 5}, dir, nil); err != nil {
		t.Fatal(err)
	}
	for _, s := range Suites() {
		qs, err := Questions(dir, s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if len(qs) == 0 {
			t.Fatalf("%s: no questions", s)
		}
		f, _ := Files(dir, s)
		for _, q := range qs {
			if q.Answer.Text != "" || q.Answer.Prompt == "" {
				t.Fatalf("%s: question %v: text %q prompt %q", s, q.Answer.QuestionID, q.Answer.Text, q.Answer.Prompt)
			}
			if q.Embedded != nil || q.Image == "" && s == "scienceqa" { // text-only problems
				continue
			}
			fh, err := os.Open(filepath.Join(f.Images, q.Image))
			if err != nil {
				t.Fatalf("%s: question %v: %v", s, q.Answer.QuestionID, err)
			}
			_, _, err = image.DecodeConfig(fh)
			fh.Close()
			if err != nil {
				t.Fatalf("%s: %s: %v", s, q.Image, err)
			}
		}
	}
}

// TestOneLine: answers reach the answer files without line breaks or tabs
// (MME's official tool splits its input at them); spaces are kept as they
// are and nothing is trimmed.
func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"Yes":                      "Yes",
		"The scene takes place\n2": "The scene takes place 2",
		"a\r\nb\rc\td":             "a b c d",
		" No \n":                   " No  ",
		"two  spaces stay two":     "two  spaces stay two",
	} {
		if got := OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
