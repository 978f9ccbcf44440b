package report

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/tive-dev/tive/harness/selection"
)

// benchOrder is the paper's column order of the eight benchmarks.
var benchOrder = []string{"mme", "mmbench", "seed", "scienceqa", "pope", "textvqa", "gqa", "vizwiz"}

// Condition is the runs of a study that differ only in their root seed.
type Condition struct {
	Name  string
	Sweep map[string]string
	Runs  []*Run
}

// Conditions groups a study's runs by their sweep values, in order of
// first appearance.
func (st *Study) Conditions() []*Condition {
	var out []*Condition
	by := map[string]*Condition{}
	for _, r := range st.Runs {
		var parts []string
		for _, k := range st.Sweep {
			if v, ok := r.Sweep[k]; ok {
				parts = append(parts, shortKey(k)+"="+v)
			}
		}
		key := strings.Join(parts, ", ")
		c, ok := by[key]
		if !ok {
			c = &Condition{Name: conditionName(r, parts), Sweep: r.Sweep}
			by[key] = c
			out = append(out, c)
		}
		c.Runs = append(c.Runs, r)
	}
	return out
}

// conditionName is a short display name: "vqav2 keep 20%" for the
// redundancy study's keep runs, the value alone for one sweep key, else
// "key=value" pairs.
func conditionName(r *Run, parts []string) string {
	if r.Method == selection.Keep {
		var ks []string
		for k, v := range r.Sweep {
			if t, ok := strings.CutPrefix(k, "selection.keep."); ok {
				f, _ := strconv.ParseFloat(v, 64)
				ks = append(ks, t+" keep "+pct(f))
			}
		}
		sort.Strings(ks)
		return strings.Join(ks, ", ")
	}
	if len(parts) == 0 {
		return "(all runs)"
	}
	if len(parts) == 1 {
		_, v, _ := strings.Cut(parts[0], "=")
		return v
	}
	return strings.Join(parts, ", ")
}

func shortKey(k string) string {
	switch {
	case strings.HasPrefix(k, "selection.keep."):
		return k
	case strings.HasPrefix(k, "features.projector."):
		return "projector." + k[len("features.projector."):]
	}
	return k[strings.LastIndex(k, ".")+1:]
}

// pct formats a fraction as a percentage: 0.075 -> "7.5%".
func pct(f float64) string { return strconv.FormatFloat(f*100, 'f', -1, 64) + "%" }

// Benchmarks lists the benchmarks scored in the study, in the paper's order
// (others after, sorted).
func (st *Study) Benchmarks() []string {
	seen := map[string]bool{}
	for _, r := range st.Runs {
		for b := range r.Scores {
			seen[b] = true
		}
	}
	var out []string
	for _, b := range benchOrder {
		if seen[b] {
			out = append(out, b)
			delete(seen, b)
		}
	}
	var rest []string
	for b := range seen {
		rest = append(rest, b)
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// scale puts a headline score on a 0-100 scale for averaging: MME's
// perception score (0-2000, ten subtasks of up to 200) is divided by 20.
var scale = map[string]float64{"mme": 1.0 / 20}

// Average is the mean headline score over benches on a 0-100 scale:
// Σ_b c_b·s_b / |benches| with c_mme = 1/20 and c_b = 1 otherwise (NaN
// when a benchmark is missing).
func (r *Run) Average(benches []string) float64 {
	var s float64
	for _, b := range benches {
		v, ok := r.Scores[b]
		if !ok {
			return math.NaN()
		}
		if c, ok := scale[b]; ok {
			v *= c
		}
		s += v
	}
	return s / float64(len(benches))
}

// Relative is the paper's relative performance of r against ref (the
// full-data run of the same seed): 100 · Σ_b (s_b / ref_b) / |benches|,
// over benchmarks where ref scores above zero.
func (r *Run) Relative(ref *Run, benches []string) float64 {
	var s float64
	n := 0
	for _, b := range benches {
		if ref.Scores[b] > 0 {
			s += r.Scores[b] / ref.Scores[b]
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return 100 * s / float64(n)
}

// Over returns the interval over a condition's runs of f(run).
func (c *Condition) Over(f func(*Run) float64) Interval {
	xs := make([]float64, len(c.Runs))
	for i, r := range c.Runs {
		xs[i] = f(r)
	}
	return MeanCI(xs)
}

// TaskDraw is the interval over c's runs of Run.TaskDraw, and whether every
// run has one (false: no interval).
func (c *Condition) TaskDraw() (Interval, bool) {
	if slices.ContainsFunc(c.Runs, func(r *Run) bool { return r.TaskDraw == nil }) {
		return Interval{}, false
	}
	return c.Over(func(r *Run) float64 { return *r.TaskDraw }), true
}

// Find returns the first condition whose runs use method (nil if none).
func Find(conds []*Condition, method string) *Condition {
	i := slices.IndexFunc(conds, func(c *Condition) bool { return c.Runs[0].Method == method })
	if i < 0 {
		return nil
	}
	return conds[i]
}

// Study returns the study named name (nil if the summary has none).
func (s *Summary) Study(name string) *Study {
	for _, st := range s.Studies {
		if st.Name == name {
			return st
		}
	}
	return nil
}

// seedRun returns c's run with the given root seed (nil if none).
func (c *Condition) seedRun(seed uint64) *Run {
	for _, r := range c.Runs {
		if r.Seed == seed {
			return r
		}
	}
	return nil
}
