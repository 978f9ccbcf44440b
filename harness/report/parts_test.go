package report

import (
	"reflect"
	"testing"

	"github.com/tive-dev/tive/harness/pipeline/stages"
)

// TestPartsTable: one column per pretraining, with its number of runs; one
// row per measure in the order the parts list them; "–" where a pretraining
// lacks a measure; no table without pretrained parts.
func TestPartsTable(t *testing.T) {
	a := &stages.Parts{
		Tower:    []stages.TowerScore{{Style: "noto", Concept: 0.921, Colour: 0.958}},
		Language: []stages.SkillScore{{Skill: "yesno", Accuracy: 0.878}, {Skill: "choice", Accuracy: 0.673}},
		Align:    &stages.AlignScore{ObjectWord: 0.665, Background: 0.9, YesNoImage: 0.865, YesNoBlack: 0.475},
	}
	b := &stages.Parts{Language: []stages.SkillScore{{Skill: "yesno", Accuracy: 0.941}}}
	st := &Study{Runs: []*Run{
		{Pretraining: "0123456789abcdef", Parts: a}, {Pretraining: "0123456789abcdef", Parts: a},
		{Pretraining: "fedcba9876543210", Parts: b}, {},
	}}
	tab := PartsTable(st)
	if want := []string{"part", "measure", "0123456789ab (2 runs)", "fedcba987654 (1 runs)"}; !reflect.DeepEqual(tab.Header, want) {
		t.Fatalf("header %q, want %q", tab.Header, want)
	}
	var got [][]string
	for _, row := range tab.Rows {
		var cells []string
		for _, c := range row {
			cells = append(cells, c.format(false))
		}
		got = append(got, cells)
	}
	want := [][]string{
		{"vision tower", "concept probe, noto", "92.1", "–"},
		{"vision tower", "colour probe, noto", "95.8", "–"},
		{"language model", "yesno", "87.8", "94.1"},
		{"language model", "choice", "67.3", "–"},
		{"alignment", "object tokens' word", "66.5", "–"},
		{"alignment", "background tokens' word", "90.0", "–"},
		{"alignment", `"Is there", with the image`, "86.5", "–"},
		{"alignment", `"Is there", with a black image`, "47.5", "–"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows\n%q\nwant\n%q", got, want)
	}
	if PartsTable(&Study{Runs: []*Run{{}}}) != nil {
		t.Error("a table for runs without pretrained parts")
	}
}
