package report

import (
	"strings"
	"testing"
)

// TestTaskDraws: a run's TaskDraw is the share of its distinct chosen
// records that the tive-task run of the same seed and budget chose; runs of
// another seed or budget get none.
func TestTaskDraws(t *testing.T) {
	task := &Run{Method: "tive-task", Seed: 1, Budget: 0.15, chosen: []int{1, 2, 3, 4}}
	tive := &Run{Method: "tive", Seed: 1, Budget: 0.15, chosen: []int{2, 4, 6, 8, 9}}
	other := &Run{Method: "tive", Seed: 2, Budget: 0.15, chosen: []int{1, 2}}
	small := &Run{Method: "random", Seed: 1, Budget: 0.05, chosen: []int{1}}
	taskDraws([]*Run{tive, task, other, small})
	if tive.TaskDraw == nil || *tive.TaskDraw != 40 {
		t.Errorf("tive: TaskDraw %v, want 40 (2 of 5 records)", tive.TaskDraw)
	}
	if task.TaskDraw == nil || *task.TaskDraw != 100 {
		t.Errorf("tive-task: TaskDraw %v, want 100", task.TaskDraw)
	}
	if other.TaskDraw != nil || small.TaskDraw != nil {
		t.Errorf("another seed or budget got a TaskDraw: %v, %v", other.TaskDraw, small.TaskDraw)
	}
}

// withinStudy is an ablation study of three seeds: TIVE as released (q =
// 0.001) sharing share% of its records with tive-task and scoring tive
// points on every benchmark, TIVE at q = 100 sharing 30%, and tive-task
// scoring task points.
func withinStudy(share, tive, task float64) *Summary {
	st := &Study{Name: "ablation", Sweep: []string{"selection.method", "selection.q"}}
	add := func(method, q string, draw, score float64) {
		for seed := range 3 {
			d := draw + float64(seed)*0.1
			st.Runs = append(st.Runs, &Run{Method: method, Seed: uint64(seed), Budget: 0.15, Sweep: map[string]string{"selection.method": method, "selection.q": q},
				TaskDraw: &d, Scores: map[string]float64{"gqa": score + float64(seed)*0.2, "pope": score}, Chance: map[string]float64{"gqa": 10, "pope": 50}})
		}
	}
	add("tive", "0.001", share, tive)
	add("tive", "100", 30, tive)
	add("tive-task", "0.001", 100, task)
	return &Summary{Profile: "quick", Studies: []*Study{st}}
}

// TestWithinClaim: the claim holds when TIVE's draw leaves the uniform one
// and its score moves, does not hold when neither happens, and is mixed
// when one does; its numbers name every condition's share.
func TestWithinClaim(t *testing.T) {
	for _, c := range []struct {
		share, tive, task float64
		want              string
	}{
		{99.5, 40, 40.1, DoesNotHold},
		{60, 50, 40, Holds},
		{60, 40, 40.1, Mixed},
		{99.5, 50, 40, Mixed},
	} {
		got := withinClaim(withinStudy(c.share, c.tive, c.task))
		if got.Verdict != c.want {
			t.Errorf("share %v%%, scores %v vs %v: %s (%s), want %s", c.share, c.tive, c.task, got.Verdict, got.Numbers, c.want)
		}
		if !strings.Contains(got.Numbers, "TIVE (q=0.001) shares") || !strings.Contains(got.Numbers, "[q=100 30.1 ± 0.2%]") {
			t.Errorf("numbers lack q = 100's share: %s", got.Numbers)
		}
	}
	if got := withinClaim(&Summary{}); got.Verdict != NotRun {
		t.Errorf("without the ablation study: %s, want %s", got.Verdict, NotRun)
	}
}

// TestWithinTableAndPlot: the ablation's score table gets an "as tive-task
// %" column, and the within plot has a point per condition.
func TestWithinTableAndPlot(t *testing.T) {
	s := withinStudy(99.5, 40, 40)
	tab := ScoreTable(s.Studies[0])
	if tab.Header[3] != "as tive-task %" || len(tab.Rows[0]) != len(tab.Header) {
		t.Fatalf("header %q, first row %d cells", tab.Header, len(tab.Rows[0]))
	}
	if got := tab.Rows[1][3].format(false); got != "30.1 ± 0.2" {
		t.Errorf("q = 100's share cell %q, want 30.1 ± 0.2", got)
	}
	if got := strings.Join(shortNames(s.Studies[0], s.Studies[0].Conditions()), " | "); got != "q=0.001 | q=100 | method=tive-task" {
		t.Errorf("short names %q", got)
	}
	fig, err := WithinPlot(s)
	if err != nil || fig == nil || fig.Name != "within" {
		t.Fatalf("WithinPlot: %v, %v", fig, err)
	}
	if err := fig.Save(t.TempDir()); err != nil {
		t.Fatal(err)
	}
}
