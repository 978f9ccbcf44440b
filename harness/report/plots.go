package report

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tive-dev/tive/harness/atomic"
	"github.com/tive-dev/tive/harness/selection"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Figure is one plot of the report, saved as <Name>.png and <Name>.svg.
type Figure struct {
	Name, Title string
	Plot        *plot.Plot
	W, H        vg.Length
}

// Save writes the figure as PNG and SVG into dir (atomically).
func (f *Figure) Save(dir string) error {
	for _, ext := range []string{"png", "svg"} {
		wt, err := f.Plot.WriterTo(f.W, f.H, ext)
		if err != nil {
			return err
		}
		err = atomic.Write(filepath.Join(dir, f.Name+"."+ext), 0o644, func(w io.Writer) error {
			_, err := wt.WriteTo(w)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Plots returns every plot the summary supports.
func Plots(s *Summary) ([]*Figure, error) {
	var out []*Figure
	for _, mk := range []func(*Summary) (*Figure, error){RedundancyPlot, RatioPlot, ProportionPlot, InfluencePlot, WithinPlot, CostPlot} {
		f, err := mk(s)
		if err != nil {
			return nil, err
		}
		if f != nil {
			out = append(out, f)
		}
	}
	return out, nil
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.Top = true
	return p
}

// tab10 is the Tableau 10 palette: distinct colours for up to ten series.
var tab10 = []color.Color{
	color.RGBA{31, 119, 180, 255}, color.RGBA{255, 127, 14, 255}, color.RGBA{44, 160, 44, 255}, color.RGBA{214, 39, 40, 255},
	color.RGBA{148, 103, 189, 255}, color.RGBA{140, 86, 75, 255}, color.RGBA{227, 119, 194, 255}, color.RGBA{127, 127, 127, 255},
	color.RGBA{188, 189, 34, 255}, color.RGBA{23, 190, 207, 255},
}

// nameTicks labels integer positions 0..n-1 with names.
type nameTicks []string

func (t nameTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for i, n := range t {
		if float64(i) >= min-0.5 && float64(i) <= max+0.5 {
			out = append(out, plot.Tick{Value: float64(i), Label: n})
		}
	}
	return out
}

// grid is a heat map grid: cell (c, r) at x = c, y = r.
type grid struct {
	z          [][]float64 // z[r][c]
	cols, rows int
}

func (g grid) Dims() (int, int)   { return g.cols, g.rows }
func (g grid) Z(c, r int) float64 { return g.z[r][c] }
func (g grid) X(c int) float64    { return float64(c) }
func (g grid) Y(r int) float64    { return float64(r) }

// maxAbs is max |z| over the grid's values (1 when all are 0 or NaN), the
// half-range of the symmetric colour scale.
func (g grid) maxAbs() float64 {
	m := 0.0
	for _, row := range g.z {
		for _, v := range row {
			if !math.IsNaN(v) {
				m = max(m, math.Abs(v))
			}
		}
	}
	if m == 0 {
		return 1
	}
	return m
}

// swatch is a legend thumbnail filled with one colour.
type swatch struct{ c color.Color }

func (s swatch) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.c, []vg.Point{c.Min, {X: c.Max.X, Y: c.Min.Y}, c.Max, {X: c.Min.X, Y: c.Max.Y}})
}

// RedundancyPlot is the redundancy heat map: rows are task kept at a
// fraction, columns benchmarks and their average, colour the score change
// against full data (points on a 0-100 scale: MME × 1/20), symmetric around
// 0; cells marked * have intervals that do not overlap full data's.
func RedundancyPlot(s *Summary) (*Figure, error) {
	st := s.Study("redundancy")
	if st == nil {
		return nil, nil
	}
	conds := st.Conditions()
	full := Find(conds, selection.Full)
	benches := st.Benchmarks()
	if full == nil || len(benches) == 0 {
		return nil, nil
	}
	cols := append(slices.Clone(benches), "avg")
	names := slices.Clone(cols)
	for i, b := range benches {
		if c, ok := scale[b]; ok {
			names[i] = fmt.Sprintf("%s × %g", b, c)
		}
	}
	var rows []string
	g := grid{cols: len(cols)}
	var labels plotter.XYLabels
	for _, c := range conds {
		if c == full {
			continue
		}
		r := len(rows)
		rows = append(rows, c.Name)
		z := make([]float64, len(cols))
		for j, b := range cols {
			f := func(r *Run) float64 { return r.Scores[b] }
			if c, ok := scale[b]; ok {
				f = func(r *Run) float64 { return c * r.Scores[b] }
			}
			if b == "avg" {
				f = func(r *Run) float64 { return r.Average(benches) }
			}
			cell := deltaCell(c, full, f)
			z[j] = cell.IV.Mean
			lab := strconv.FormatFloat(cell.IV.Mean, 'f', 1, 64)
			if cell.Mark != 0 {
				lab += "*"
			}
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(j), Y: float64(r)})
			labels.Labels = append(labels.Labels, lab)
		}
		g.z = append(g.z, z)
	}
	g.rows = len(rows)
	if g.rows == 0 {
		return nil, nil
	}
	// The first condition is drawn at the top.
	for i := range labels.XYs {
		labels.XYs[i].Y = float64(g.rows-1) - labels.XYs[i].Y
	}
	slices.Reverse(rows)
	slices.Reverse(g.z)
	m := g.maxAbs()
	cm := moreland.SmoothBlueRed()
	cm.SetMin(-m)
	cm.SetMax(m)
	h := plotter.NewHeatMap(g, cm.Palette(255))
	h.Min, h.Max = -m, m
	p := newPlot(fmt.Sprintf("Redundancy: score change when one task is cut (%s profile, %d seed(s))", s.Profile, seeds(conds)),
		"benchmark (official headline score, points; MME × 0.05 for a 0–100 scale)", "task kept at a fraction, the others whole")
	p.Add(h)
	lb, err := plotter.NewLabels(labels)
	if err != nil {
		return nil, err
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i].Font.Size = vg.Points(6)
		lb.TextStyle[i].XAlign, lb.TextStyle[i].YAlign = draw.XCenter, draw.YCenter
	}
	p.Add(lb)
	// The legend sits in empty columns right of the grid.
	p.X.Min, p.X.Max = -0.5, float64(len(cols))+3.5
	p.Y.Min, p.Y.Max = -0.5, float64(len(rows))-0.5
	p.X.Tick.Marker = nameTicks(names)
	p.Y.Tick.Marker = nameTicks(rows)
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	p.Legend.Top = true
	for _, v := range []float64{m, m / 2, 0, -m / 2, -m} {
		c, err := cm.At(v)
		if err != nil {
			return nil, err
		}
		p.Legend.Add(fmt.Sprintf("Δ %+.1f points", v), swatch{c})
	}
	p.Legend.Add("* = intervals apart", swatch{color.White})
	return &Figure{Name: "redundancy", Title: p.Title.Text, Plot: p, W: 22 * vg.Centimeter, H: vg.Length(6+0.45*float64(len(rows))) * vg.Centimeter}, nil
}

// band returns the polygon of an interval band [lo(x), hi(x)] over xs.
func band(xs, lo, hi []float64, c color.Color) (*plotter.Polygon, error) {
	var pts plotter.XYs
	for i := range xs {
		pts = append(pts, plotter.XY{X: xs[i], Y: lo[i]})
	}
	for i := len(xs) - 1; i >= 0; i-- {
		pts = append(pts, plotter.XY{X: xs[i], Y: hi[i]})
	}
	poly, err := plotter.NewPolygon(pts)
	if err != nil {
		return nil, err
	}
	r, g, b, _ := c.RGBA()
	poly.Color = color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 60}
	poly.LineStyle.Width = 0
	return poly, nil
}

// RatioPlot is the average score against the selection ratio, one line per
// method with its 95% interval as a band, and full data (main study) as a
// horizontal reference.
func RatioPlot(s *Summary) (*Figure, error) {
	st := s.Study("ratio")
	if st == nil {
		return nil, nil
	}
	benches := st.Benchmarks()
	if len(benches) == 0 {
		return nil, nil
	}
	avg := func(r *Run) float64 { return r.Average(benches) }
	conds := st.Conditions()
	var methods []string
	for _, c := range conds {
		if m := c.Runs[0].Method; !slices.Contains(methods, m) {
			methods = append(methods, m)
		}
	}
	p := newPlot(fmt.Sprintf("Score vs selection ratio (%s profile, 95%% t intervals over %d seed(s))", s.Profile, seeds(conds)),
		"selection ratio (% of the pool)", fmt.Sprintf("average score over %d benchmarks (points, MME / 20)", len(benches)))
	p.Legend.Top, p.Legend.Left = true, true
	xmin, xmax := math.Inf(1), math.Inf(-1)
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for i, m := range methods {
		var xs, ys, lo, hi []float64
		for _, c := range conds {
			if c.Runs[0].Method != m {
				continue
			}
			iv := c.Over(avg)
			x := 100 * c.Runs[0].Budget
			xs, ys = append(xs, x), append(ys, iv.Mean)
			l, h := iv.Lo, iv.Hi
			if !iv.HasCI() {
				l, h = iv.Mean, iv.Mean
			}
			lo, hi = append(lo, l), append(hi, h)
			xmin, xmax = min(xmin, x), max(xmax, x)
			ymin, ymax = min(ymin, l), max(ymax, h)
		}
		idx := make([]int, len(xs))
		for j := range idx {
			idx[j] = j
		}
		slices.SortFunc(idx, func(a, b int) int { return cmpFloat(xs[a], xs[b]) })
		xs, ys, lo, hi = permute(xs, idx), permute(ys, idx), permute(lo, idx), permute(hi, idx)
		col := plotutil.Color(i)
		poly, err := band(xs, lo, hi, col)
		if err != nil {
			return nil, err
		}
		pts := make(plotter.XYs, len(xs))
		for j := range xs {
			pts[j] = plotter.XY{X: xs[j], Y: ys[j]}
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		l.Color, sc.Color = col, col
		sc.Shape = plotutil.Shape(i)
		p.Add(poly, l, sc)
		p.Legend.Add(m+" (mean, 95% band)", l, sc)
	}
	if main := s.Study("main"); main != nil {
		if full := Find(main.Conditions(), selection.Full); full != nil {
			iv := full.Over(func(r *Run) float64 { return r.Average(benches) })
			for _, ln := range []struct {
				y    float64
				name string
				dash bool
			}{{iv.Mean, "full data (100%)", false}, {iv.Lo, "full data 95% interval", true}, {iv.Hi, "", true}} {
				if math.IsNaN(ln.y) {
					continue
				}
				l, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: ln.y}, {X: xmax, Y: ln.y}})
				if err != nil {
					return nil, err
				}
				l.Color = color.Gray{60}
				ymin, ymax = min(ymin, ln.y), max(ymax, ln.y)
				if ln.dash {
					l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
				}
				p.Add(l)
				if ln.name != "" {
					p.Legend.Add(ln.name, l)
				}
			}
		}
	}
	// Room above the data for the legend.
	if span := ymax - ymin; span > 0 {
		p.Y.Min, p.Y.Max = ymin-0.05*span, ymax+0.45*span
	}
	p.X.Tick.Marker = budgetTicks{}
	return &Figure{Name: "ratio", Title: p.Title.Text, Plot: p, W: 18 * vg.Centimeter, H: 12 * vg.Centimeter}, nil
}

// budgetTicks marks the selection ratios of the paper (in %).
type budgetTicks struct{}

func (budgetTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for _, v := range []float64{5, 7.5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 100} {
		if v >= min && v <= max {
			out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
		}
	}
	return out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func permute(xs []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for i, j := range idx {
		out[i] = xs[j]
	}
	return out
}

// tiveCondition is the main study's TIVE condition (nil if none).
func tiveCondition(s *Summary) *Condition {
	st := s.Study("main")
	if st == nil {
		return nil
	}
	return Find(st.Conditions(), selection.TIVE)
}

// ProportionPlot sets each task's share of the mixture against its share
// of TIVE's subset (mean over seeds).
func ProportionPlot(s *Summary) (*Figure, error) {
	c := tiveCondition(s)
	if c == nil || len(c.Runs[0].Tasks) == 0 {
		return nil, nil
	}
	var names []string
	var pool, chosen plotter.Values
	for i, t := range c.Runs[0].Tasks {
		names = append(names, t.Task)
		pool = append(pool, 100*float64(t.N)/float64(c.Runs[0].Pool))
		chosen = append(chosen, c.Over(func(r *Run) float64 { return 100 * float64(r.Tasks[i].Selected) / float64(max(1, r.Selected)) }).Mean)
	}
	p := newPlot(fmt.Sprintf("Task proportions: mixture vs TIVE's 15%% subset (%s profile, mean of %d seed(s))", s.Profile, len(c.Runs)),
		"task (dataset label)", "share (% of records)")
	w := vg.Points(9)
	a, err := plotter.NewBarChart(pool, w)
	if err != nil {
		return nil, err
	}
	b, err := plotter.NewBarChart(chosen, w)
	if err != nil {
		return nil, err
	}
	a.Color, b.Color = plotutil.Color(1), plotutil.Color(0)
	a.LineStyle.Width, b.LineStyle.Width = 0, 0
	a.Offset, b.Offset = -w/2, w/2
	p.Add(a, b)
	p.Legend.Add("mixture (pool)", a)
	p.Legend.Add("TIVE subset", b)
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = math.Pi / 6
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YTop
	p.Legend.Left = false
	p.Y.Min, p.Y.Max = 0, 1.25*max(floats.Max(pool), floats.Max(chosen))
	return &Figure{Name: "proportions", Title: p.Title.Text, Plot: p, W: 18 * vg.Centimeter, H: 11 * vg.Centimeter}, nil
}

// InfluencePlot draws, for each task, the density of instance influence
// I(s) (fraction of the task's records per unit of I) in the first seed's
// TIVE run of the main study.
func InfluencePlot(s *Summary) (*Figure, error) {
	c := tiveCondition(s)
	if c == nil || len(c.Runs[0].Influence) == 0 {
		return nil, nil
	}
	r := c.Runs[0]
	p := newPlot(fmt.Sprintf("Instance influence per task (TIVE, %s profile, seed %d)", s.Profile, r.Seed),
		"instance influence I(s) (mean cosine to the task's gradients, unitless)", "density (fraction of the task's records per unit of I)")
	p.Legend.Left = true
	top := 0.0
	for i, d := range r.Influence {
		width := (d.Hi - d.Lo) / float64(len(d.Counts))
		pts := make(plotter.XYs, 0, 2*len(d.Counts))
		for k, n := range d.Counts {
			y := float64(n) / float64(max(1, d.N)) / width
			top = max(top, y)
			x0 := d.Lo + float64(k)*width
			pts = append(pts, plotter.XY{X: x0, Y: y}, plotter.XY{X: x0 + width, Y: y})
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		l.Color = tab10[i%len(tab10)]
		l.Dashes = plotutil.Dashes(i / len(tab10))
		l.Width = vg.Points(1.2)
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (n=%d, median %.3f)", d.Task, d.N, d.P50), l)
	}
	// Room above the curves for the legend.
	p.Y.Min, p.Y.Max = 0, 1.6*top
	return &Figure{Name: "influence", Title: p.Title.Text, Plot: p, W: 18 * vg.Centimeter, H: 12 * vg.Centimeter}, nil
}

// WithinPlot sets, for each condition of the ablation study that has a
// tive-task run to compare with (Run.TaskDraw), the share of its records
// that tive-task chose as well against its average score, each with its 95%
// interval over seeds: how far a within-task draw moves from the uniform
// one, and what that does to the scores. Each condition is a colour of the
// legend, named by what sets it apart (shortNames); the best constant
// answer's average is the dashed line.
func WithinPlot(s *Summary) (*Figure, error) {
	st := s.Study("ablation")
	if st == nil {
		return nil, nil
	}
	benches, conds := st.Benchmarks(), st.Conditions()
	if len(benches) == 0 {
		return nil, nil
	}
	names := shortNames(st, conds)
	p := newPlot(fmt.Sprintf("Within-task draw: records shared with the uniform draw vs score (%s profile, 95%% t intervals)", s.Profile),
		"records also chosen by tive-task (%)", fmt.Sprintf("average score over %d benchmarks (points, MME / 20)", len(benches)))
	shown := 0
	for i, c := range conds {
		x, ok := c.TaskDraw()
		if !ok {
			continue
		}
		y := c.Over(func(r *Run) float64 { return r.Average(benches) })
		pt := plotter.XYs{{X: x.Mean, Y: y.Mean}}
		sc, err := plotter.NewScatter(pt)
		if err != nil {
			return nil, err
		}
		col := tab10[shown%len(tab10)]
		sc.Color, sc.Shape, sc.Radius = col, plotutil.Shape(shown), vg.Points(4)
		xe, err := plotter.NewXErrorBars(struct {
			plotter.XYer
			plotter.XErrorer
		}{pt, plotter.XErrors{whiskers(x)}})
		if err != nil {
			return nil, err
		}
		ye, err := plotter.NewYErrorBars(struct {
			plotter.XYer
			plotter.YErrorer
		}{pt, plotter.YErrors{whiskers(y)}})
		if err != nil {
			return nil, err
		}
		xe.Color, ye.Color = col, col
		p.Add(sc, xe, ye)
		p.Legend.Add(names[i], sc)
		shown++
	}
	if shown == 0 {
		return nil, nil
	}
	if y := chanceAverage(st, benches); !math.IsNaN(y) {
		if err := addChance(p, plotter.XYs{{X: 0, Y: y}, {X: 100, Y: y}}); err != nil {
			return nil, err
		}
	}
	p.X.Min, p.X.Max = 0, 100
	p.Legend.Left, p.Legend.Top = true, false
	return &Figure{Name: "within", Title: p.Title.Text, Plot: p, W: 18 * vg.Centimeter, H: 12 * vg.Centimeter}, nil
}

// shortNames names each condition of st by the sweep values that set it
// apart from the first condition (the first one by those that set it apart
// from the second), "key=value" joined by ", ": "q=100" where the full
// name is "method=tive, q=100, within=sample, difficulty=norm".
func shortNames(st *Study, conds []*Condition) []string {
	out := make([]string, len(conds))
	for i, c := range conds {
		ref := conds[0]
		if i == 0 && len(conds) > 1 {
			ref = conds[1]
		}
		var parts []string
		for _, k := range st.Sweep {
			if v, ok := c.Sweep[k]; ok && v != ref.Sweep[k] {
				parts = append(parts, shortKey(k)+"="+v)
			}
		}
		out[i] = strings.Join(parts, ", ")
		if out[i] == "" {
			out[i] = c.Name
		}
	}
	return out
}

// whiskers are the distances from an interval's mean down to its low end
// and up to its high end (none without an interval).
func whiskers(iv Interval) struct{ Low, High float64 } {
	if !iv.HasCI() {
		return struct{ Low, High float64 }{}
	}
	return struct{ Low, High float64 }{iv.Mean - iv.Lo, iv.Hi - iv.Mean}
}

// CostPlot stacks the mean wall time of each per-run stage for every
// condition of the cost study (sharedStages are shared by all runs and
// left out).
func CostPlot(s *Summary) (*Figure, error) {
	st := s.Study("cost")
	if st == nil {
		return nil, nil
	}
	conds := st.Conditions()
	var names []string
	for _, c := range conds {
		names = append(names, c.Name)
	}
	p := newPlot(fmt.Sprintf("Stage wall time per run (%s profile, mean of %d seed(s))", s.Profile, seeds(conds)),
		"selection method", "wall time (seconds)")
	p.Legend.Left = true
	var below *plotter.BarChart
	totals := make([]float64, len(conds))
	i := 0
	for _, stage := range stageOrder {
		if slices.Contains(sharedStages, stage) {
			continue
		}
		vals := make(plotter.Values, len(conds))
		any := false
		for j, c := range conds {
			iv := c.Over(func(r *Run) float64 { return r.Seconds[stage] })
			vals[j] = iv.Mean
			any = any || iv.Mean > 0
		}
		if !any {
			continue
		}
		b, err := plotter.NewBarChart(vals, vg.Points(28))
		if err != nil {
			return nil, err
		}
		b.Color = tab10[i%len(tab10)]
		b.LineStyle.Width = 0
		for j, v := range vals {
			totals[j] += v
		}
		if below != nil {
			b.StackOn(below)
		}
		below = b
		p.Add(b)
		p.Legend.Add(stage, b)
		i++
	}
	p.NominalX(names...)
	p.Y.Min, p.Y.Max = 0, 1.5*floats.Max(totals)
	return &Figure{Name: "cost", Title: p.Title.Text, Plot: p, W: 16 * vg.Centimeter, H: 12 * vg.Centimeter}, nil
}
