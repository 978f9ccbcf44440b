package report

import (
	"bytes"
	"image/png"
	"path/filepath"
	"testing"

	"gonum.org/v1/plot"
)

// TestScorePlot draws the main study of the committed test summary: one
// labelled bar per condition, the first at the top, room for the highest
// interval, and a PNG.
func TestScorePlot(t *testing.T) {
	s, err := ReadSummary(filepath.Join("testdata", "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	st := s.Study("main")
	f, err := ScorePlot(st)
	if err != nil {
		t.Fatal(err)
	}
	if f == nil || f.Name != "main-scores" {
		t.Fatalf("figure %+v", f)
	}
	conds := st.Conditions()
	ticks, ok := f.Plot.Y.Tick.Marker.(plot.ConstantTicks)
	if !ok || len(ticks) != len(conds) || ticks[len(ticks)-1].Label != conds[0].Name {
		t.Errorf("y ticks %v, want the %d condition names, the first at the top", f.Plot.Y.Tick.Marker, len(conds))
	}
	for _, c := range conds {
		if iv := c.Over(func(r *Run) float64 { return r.Average(st.Benchmarks()) }); iv.Hi > f.Plot.X.Max {
			t.Errorf("%s: interval up to %.1f beyond the axis (%.1f)", c.Name, iv.Hi, f.Plot.X.Max)
		}
	}
	wt, err := f.Plot.WriterTo(f.W, f.H, "png")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(&b); err != nil {
		t.Error(err)
	}
	if f, err := ScorePlot(&Study{Name: "empty"}); f != nil || err != nil {
		t.Errorf("a study without runs: %v, %v", f, err)
	}
}
