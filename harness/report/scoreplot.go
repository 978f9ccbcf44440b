package report

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ScorePlot draws the average score of each condition of a study (over its
// benchmarks, points, MME divided by 20) as a bar with its 95% Student-t
// interval, and the best constant answer's average as a dashed line; nil
// when the study has no scores. It is not one of Plots: the report's tables
// carry these numbers, the plot is for looking at one study.
func ScorePlot(st *Study) (*Figure, error) {
	conds := st.Conditions()
	benches := st.Benchmarks()
	if len(conds) == 0 || len(benches) == 0 {
		return nil, nil
	}
	avg := func(r *Run) float64 { return r.Average(benches) }
	var names []string
	vals := make(plotter.Values, len(conds))
	var errs plotter.XYs
	var ebars plotter.YErrors
	top := 0.0
	for i, c := range conds {
		iv := c.Over(avg)
		names = append(names, c.Name)
		vals[i] = iv.Mean
		top = max(top, iv.Mean)
		if iv.HasCI() {
			errs = append(errs, plotter.XY{X: float64(i), Y: iv.Mean})
			ebars = append(ebars, struct{ Low, High float64 }{iv.Mean - iv.Lo, iv.Hi - iv.Mean})
			top = max(top, iv.Hi)
		}
	}
	p := newPlot(fmt.Sprintf("%s: average score (%d seed(s), 95%% t intervals)", st.Name, seeds(conds)),
		"condition", fmt.Sprintf("average score over %d benchmarks (points, MME / 20)", len(benches)))
	bars, err := plotter.NewBarChart(vals, vg.Points(22))
	if err != nil {
		return nil, err
	}
	bars.Color = plotutil.Color(0)
	bars.LineStyle.Width = 0
	p.Add(bars)
	p.Legend.Add("mean over seeds (whiskers: 95% interval)", bars)
	if len(errs) > 0 {
		eb, err := plotter.NewYErrorBars(struct {
			plotter.XYer
			plotter.YErrorer
		}{errs, ebars})
		if err != nil {
			return nil, err
		}
		p.Add(eb)
	}
	if ch := st.Runs[0].Chance; len(ch) > 0 {
		y := (&Run{Scores: ch}).Average(benches)
		if !math.IsNaN(y) {
			l, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: y}, {X: float64(len(conds)) - 0.5, Y: y}})
			if err != nil {
				return nil, err
			}
			l.Color = color.Gray{60}
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(l)
			p.Legend.Add("best constant answer", l)
			top = max(top, y)
		}
	}
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = math.Pi / 6
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YTop
	p.Y.Min, p.Y.Max = 0, 1.4*max(top, 1)
	return &Figure{Name: st.Name + "-scores", Title: p.Title.Text, Plot: p, W: 18 * vg.Centimeter, H: 11 * vg.Centimeter}, nil
}
