package report

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tive-dev/tive/harness/pipeline/stages"
	"github.com/tive-dev/tive/harness/selection"
	"github.com/tive-dev/tive/harness/spec"
)

func TestDuplicates(t *testing.T) {
	// Groups a = {0, 1, 2}, b = {3, 4}; record 5 is unique.
	groups := map[int]string{0: "a", 1: "a", 2: "a", 3: "b", 4: "b"}
	sel := []int{1, 1, 0, 2, 0, 1} // record 1 twice (a repeat is not a second record)
	var lines []stages.ScoreLine
	for i, n := range sel {
		lines = append(lines, stages.ScoreLine{Index: i, Selected: n})
	}
	got := duplicates(groups, lines)
	want := &Duplicates{Groups: 2, GroupRecords: 5, PoolRedundant: 3, Covered: 2, Redundant: 1, Distinct: 4, Kept: []int{0, 1, 1}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("duplicates (-want +got):\n%s", d)
	}
	if duplicates(nil, lines) != nil {
		t.Error("a world without planted groups has no duplicate summary")
	}
}

func TestInfluence(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	lines := []stages.ScoreLine{
		{Task: "a", Influence: f(0), Selected: 1}, {Task: "a", Influence: f(1)}, {Task: "b", Influence: f(0.5), Selected: 1},
		{Task: "x", Influence: f(0)}, {Task: "c"},
	}
	d := influence(lines, []string{"x"})
	if len(d) != 2 || d[0].Task != "a" || d[0].N != 2 || d[0].Mean != 0.5 || d[0].SelectedMean != 0 || d[0].P50 != 0.5 || d[0].P25 != 0.25 {
		t.Fatalf("influence = %+v", d)
	}
	if d[0].Counts[0] != 1 || d[0].Counts[Bins-1] != 1 || d[1].Counts[Bins/2] != 1 {
		t.Errorf("histograms %v %v", d[0].Counts, d[1].Counts)
	}
}

func TestVarying(t *testing.T) {
	run := func(method string, keep map[string]float64) []kv {
		s := spec.Spec{Name: "x", Selection: spec.Selection{Options: selection.Options{Method: method, Keep: keep}}}
		return flatten(s)
	}
	got := varying([][]kv{run("full", nil), run("keep", map[string]float64{"vqav2": 0.5}), run("keep", map[string]float64{"gqa": 0.05})})
	want := []string{"selection.method", "selection.keep.vqav2", "selection.keep.gqa"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("varying (-want +got):\n%s", d)
	}
}

// TestAriths: the distinct arithmetics of every study's runs, sorted; runs
// that ran no model stage add none, and without any there is no note.
func TestAriths(t *testing.T) {
	s := &Summary{Studies: []*Study{
		{Runs: []*Run{{Arith: "openblas 0.3.21 Haswell, numerics 2"}, {}, {Arith: "gonum, numerics 2"}}},
		{Runs: []*Run{{Arith: "openblas 0.3.21 Haswell, numerics 2"}}},
	}}
	if got, want := s.ariths(), []string{"gonum, numerics 2", "openblas 0.3.21 Haswell, numerics 2"}; !slices.Equal(got, want) {
		t.Errorf("ariths() = %q, want %q", got, want)
	}
	if note := arithNote(s); !strings.Contains(note, "`gonum, numerics 2`, `openblas 0.3.21 Haswell, numerics 2`") {
		t.Errorf("note %q does not name both", note)
	}
	if note := arithNote(&Summary{Studies: []*Study{{Runs: []*Run{{}}}}}); note != "" {
		t.Errorf("note %q for runs without model stages", note)
	}
}
