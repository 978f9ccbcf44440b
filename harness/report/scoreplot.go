package report

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// ScorePlot draws the average score of each condition of a study (over its
// benchmarks, points, MME divided by 20) as a horizontal bar with its 95%
// Student-t interval, the first condition at the top, and the best constant
// answer's average as a dashed line; nil when the study has no scores. It
// is not one of Plots: the report's tables carry these numbers, the plot is
// for looking at one study.
func ScorePlot(st *Study) (*Figure, error) {
	conds := st.Conditions()
	benches := st.Benchmarks()
	if len(conds) == 0 || len(benches) == 0 {
		return nil, nil
	}
	avg := func(r *Run) float64 { return r.Average(benches) }
	n := len(conds)
	names := make([]string, n)
	vals := make(plotter.Values, n)
	var errs plotter.XYs
	var ebars plotter.XErrors
	top := 0.0
	for i, c := range conds {
		iv := c.Over(avg)
		y := n - 1 - i // the first condition at the top
		names[y] = c.Name
		vals[y] = iv.Mean
		top = max(top, iv.Mean)
		if iv.HasCI() {
			errs = append(errs, plotter.XY{X: iv.Mean, Y: float64(y)})
			ebars = append(ebars, struct{ Low, High float64 }{iv.Mean - iv.Lo, iv.Hi - iv.Mean})
			top = max(top, iv.Hi)
		}
	}
	p := newPlot(fmt.Sprintf("%s: average score (%d seed(s), 95%% t intervals)", st.Name, seeds(conds)),
		fmt.Sprintf("average score over %d benchmarks (points, MME / 20)", len(benches)), "")
	bars, err := plotter.NewBarChart(vals, vg.Points(14))
	if err != nil {
		return nil, err
	}
	bars.Horizontal = true
	bars.Color = plotutil.Color(1)
	bars.LineStyle.Width = 0
	p.Add(bars)
	p.Legend.Add("mean over seeds (whiskers: 95% interval)", bars)
	if len(errs) > 0 {
		eb, err := plotter.NewXErrorBars(struct {
			plotter.XYer
			plotter.XErrorer
		}{errs, ebars})
		if err != nil {
			return nil, err
		}
		p.Add(eb)
	}
	if x := chanceAverage(st, benches); !math.IsNaN(x) {
		if err := addChance(p, plotter.XYs{{X: x, Y: -0.5}, {X: x, Y: float64(n) - 0.5}}); err != nil {
			return nil, err
		}
		top = max(top, x)
	}
	p.NominalY(names...)
	p.Legend.Top, p.Legend.Left = true, false
	p.X.Min, p.X.Max = 0, 1.1*max(top, 1)
	p.Y.Min, p.Y.Max = -0.5, float64(n)+0.9 // room for the legend above the top bar
	return &Figure{Name: st.Name + "-scores", Title: p.Title.Text, Plot: p, W: 20 * vg.Centimeter, H: vg.Length(4+0.8*float64(n)) * vg.Centimeter}, nil
}

// chanceAverage is the average of the best constant answers of st's first
// run over benches (NaN without them).
func chanceAverage(st *Study, benches []string) float64 {
	if len(st.Runs) == 0 || len(st.Runs[0].Chance) == 0 {
		return math.NaN()
	}
	return (&Run{Scores: st.Runs[0].Chance}).Average(benches)
}

// addChance draws the best constant answer's line through pts, dashed grey,
// with its legend entry.
func addChance(p *plot.Plot, pts plotter.XYs) error {
	l, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	l.Color = color.Gray{60}
	l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(l)
	p.Legend.Add("best constant answer", l)
	return nil
}
