package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tive-dev/tive/harness/pipeline/stages"
	"github.com/tive-dev/tive/harness/selection"
)

// seedsText states the statistic of a table's cells for n seeds.
func seedsText(n int) string {
	if n < 2 {
		return fmt.Sprintf("Cells are the value of %d seed (no interval: no difference is called).", n)
	}
	return fmt.Sprintf("Cells are mean ± half-width of the 95%% Student-t interval over %d seeds (t with %d degrees of freedom).", n, n-1)
}

// seeds is the smallest number of seeds of any condition.
func seeds(conds []*Condition) int {
	n := math.MaxInt
	for _, c := range conds {
		n = min(n, len(c.Runs))
	}
	if n == math.MaxInt {
		return 0
	}
	return n
}

// mark compares a with ref: +1 / -1 when the intervals do not overlap.
func mark(c Cell, ref Interval) Cell {
	c.Mark = Compare(c.IV, ref)
	return c
}

// Tables returns every table the summary supports, in a fixed order.
func Tables(s *Summary) []*Table {
	var out []*Table
	add := func(t *Table) {
		if t != nil {
			out = append(out, t)
		}
	}
	for _, st := range s.Studies {
		switch st.Name {
		case "main":
			add(MainTable(st))
			add(TaskTable(st))
			add(PartsTable(st))
		case "redundancy":
			add(RedundancyTable(st))
		case "ratio":
			add(RatioTable(st))
		case "planted":
			add(PlantedTable(st))
			add(ScoreTable(st))
		case "cost":
			add(CostTable(st))
		default:
			add(ScoreTable(st))
		}
	}
	return out
}

// scoreRows are the rows condition, seeds, subset %, benchmarks, average,
// marked against ref's intervals (no marks when ref is nil).
func scoreRows(conds []*Condition, ref *Condition, benches []string, relative bool) [][]Cell {
	var rows [][]Cell
	for _, c := range conds {
		row := []Cell{Text(c.Name), Text(strconv.Itoa(len(c.Runs))), Num(c.Over(func(r *Run) float64 {
			return 100 * float64(r.Selected) / float64(r.Pool)
		}), 1)}
		cols := append(slices.Clone(benches), "")
		for _, b := range cols {
			f := func(r *Run) float64 { return r.Average(benches) }
			if b != "" {
				f = func(r *Run) float64 {
					if v, ok := r.Scores[b]; ok {
						return v
					}
					return math.NaN()
				}
			}
			cell := Num(c.Over(f), 1)
			if ref != nil && c != ref {
				cell = mark(cell, ref.Over(f))
			}
			row = append(row, cell)
		}
		if relative {
			row = append(row, relCell(c, ref, benches))
		}
		rows = append(rows, row)
	}
	return rows
}

// relCell is the relative performance (% of full data, paired by seed).
func relCell(c, full *Condition, benches []string) Cell {
	if full == nil {
		return Text("–")
	}
	return Num(c.Over(func(r *Run) float64 {
		ref := full.seedRun(r.Seed)
		if ref == nil {
			return math.NaN()
		}
		return r.Relative(ref, benches)
	}), 1)
}

// MainTable is the main comparison: every method at the budget against
// full data, with average and relative performance, and the chance row.
func MainTable(st *Study) *Table {
	conds := st.Conditions()
	benches := st.Benchmarks()
	if len(benches) == 0 {
		return nil
	}
	full := Find(conds, selection.Full)
	t := &Table{Name: "main", Header: append(append([]string{"method", "seeds", "subset %"}, benches...), "avg", "rel. %")}
	t.Rows = scoreRows(conds, full, benches, true)
	if ch := st.Runs[0].Chance; len(ch) > 0 {
		row := []Cell{Text("best constant answer"), Text("–"), Text("–")}
		for _, b := range benches {
			row = append(row, Value(ch[b], 1))
		}
		t.Rows = append(t.Rows, append(row, Value((&Run{Scores: ch}).Average(benches), 1), Text("–")))
	}
	t.Caption = fmt.Sprintf("Table: %s. Benchmark scores (official headline metric, points) of each selection method; avg = mean over the %d benchmarks with MME (0–2000) divided by 20; rel. %% = mean over benchmarks of score / full-data score of the same seed × 100. %s ▲/▼: interval wholly above/below the full-data row's. The last row is the best constant answer of each suite (chance level).",
		st.Description, len(benches), seedsText(seeds(conds)))
	return t
}

// TaskTable compares TIVE's per-task share of the subset with the
// mixture's (main study, method tive).
func TaskTable(st *Study) *Table {
	c := Find(st.Conditions(), selection.TIVE)
	if c == nil {
		return nil
	}
	t := &Table{Name: "tasks", Header: []string{"task", "pool n", "pool %", "TIVE %", "difficulty d_t"}}
	for i, tc := range c.Runs[0].Tasks {
		share := func(r *Run) float64 {
			if i >= len(r.Tasks) || r.Selected == 0 {
				return math.NaN()
			}
			return 100 * float64(r.Tasks[i].Selected) / float64(r.Selected)
		}
		diff := c.Over(func(r *Run) float64 { return r.Tasks[i].Difficulty })
		poolShare := 100 * float64(tc.N) / float64(c.Runs[0].Pool)
		row := []Cell{Text(tc.Task), Text(strconv.Itoa(tc.N)), Value(poolShare, 1), Num(c.Over(share), 1), Num(diff, 3)}
		row[3].Mark = Compare(row[3].IV, Interval{Mean: poolShare, Lo: poolShare, Hi: poolShare, N: 2})
		t.Rows = append(t.Rows, row)
	}
	t.Caption = fmt.Sprintf("Table: per-task share of TIVE's subset (%% of chosen records) against the task's share of the mixture; d_t = mean gradient norm of the task (TIVE's difficulty). %s ▲/▼: interval wholly above/below the mixture share.", seedsText(len(c.Runs)))
	return t
}

// deltaCell is mean(c) - mean(ref) of f, marked when the intervals of c and
// ref do not overlap.
func deltaCell(c, ref *Condition, f func(*Run) float64) Cell {
	a, b := c.Over(f), ref.Over(f)
	cell := Value(a.Mean-b.Mean, 1)
	cell.Mark = Compare(a, b)
	return cell
}

// RedundancyTable lists, for each task kept at a fraction (others whole),
// the change of every benchmark against full data.
func RedundancyTable(st *Study) *Table {
	conds := st.Conditions()
	full := Find(conds, selection.Full)
	benches := st.Benchmarks()
	if full == nil || len(benches) == 0 {
		return nil
	}
	t := &Table{Name: "redundancy", Header: append(append([]string{"kept", "seeds", "subset %"}, benches...), "avg")}
	for _, c := range conds {
		if c == full {
			continue
		}
		row := []Cell{Text(c.Name), Text(strconv.Itoa(len(c.Runs))), Num(c.Over(func(r *Run) float64 { return 100 * float64(r.Selected) / float64(r.Pool) }), 1)}
		for _, b := range benches {
			row = append(row, deltaCell(c, full, func(r *Run) float64 { return r.Scores[b] }))
		}
		row = append(row, deltaCell(c, full, func(r *Run) float64 { return r.Average(benches) }))
		t.Rows = append(t.Rows, row)
	}
	avg := full.Over(func(r *Run) float64 { return r.Average(benches) })
	t.Caption = fmt.Sprintf("Table: redundancy. Each row keeps a random fraction of one task and all of the others; cells are Δ = mean score minus the full-data mean (points; avg on the 0–100 scale with MME divided by 20, where full data averages %.1f). %s ▲/▼: the row's interval lies wholly above/below the full-data interval; unmarked differences are not called.",
		avg.Mean, seedsText(seeds(conds)))
	return t
}

// RatioTable lists the average score of each method at each budget.
func RatioTable(st *Study) *Table {
	conds := st.Conditions()
	benches := st.Benchmarks()
	if len(benches) == 0 {
		return nil
	}
	var methods []string
	var budgets []float64
	cell := map[string]*Condition{}
	for _, c := range conds {
		r := c.Runs[0]
		if !slices.Contains(methods, r.Method) {
			methods = append(methods, r.Method)
		}
		if !slices.Contains(budgets, r.Budget) {
			budgets = append(budgets, r.Budget)
		}
		cell[r.Method+"@"+strconv.FormatFloat(r.Budget, 'g', -1, 64)] = c
	}
	slices.Sort(budgets)
	t := &Table{Name: "ratio", Header: []string{"budget"}}
	for _, m := range methods {
		t.Header = append(t.Header, m+" avg")
	}
	avg := func(r *Run) float64 { return r.Average(benches) }
	for _, b := range budgets {
		row := []Cell{Text(pct(b))}
		var first *Condition
		for i, m := range methods {
			c := cell[m+"@"+strconv.FormatFloat(b, 'g', -1, 64)]
			if c == nil {
				row = append(row, Text("–"))
				continue
			}
			x := Num(c.Over(avg), 1)
			if i == 0 {
				first = c
			} else if first != nil {
				x = mark(x, first.Over(avg))
			}
			row = append(row, x)
		}
		t.Rows = append(t.Rows, row)
	}
	t.Caption = fmt.Sprintf("Table: selection ratio. Average score over %d benchmarks (points, MME divided by 20) of each method at each budget (%% of the pool). %s ▲/▼: interval wholly above/below that of %s at the same budget.",
		len(benches), seedsText(seeds(conds)), methods[0])
	return t
}

// ScoreTable is the generic table of a study: every condition's scores,
// marked against the first condition.
func ScoreTable(st *Study) *Table {
	conds := st.Conditions()
	benches := st.Benchmarks()
	if len(benches) == 0 {
		return nil
	}
	t := &Table{Name: st.Name, Header: append(append([]string{"condition", "seeds", "subset %"}, benches...), "avg")}
	t.Rows = scoreRows(conds, conds[0], benches, false)
	t.Caption = fmt.Sprintf("Table: %s. Benchmark scores (points). %s ▲/▼: interval wholly above/below the first row's (%s).",
		st.Description, seedsText(seeds(conds)), conds[0].Name)
	if !slices.ContainsFunc(st.Runs, func(r *Run) bool { return r.TaskDraw != nil }) {
		return t
	}
	// The share of each condition's records that tive-task chose as well,
	// after "subset %" ("–" where no tive-task run matches its budget).
	t.Header = slices.Insert(t.Header, 3, "as tive-task %")
	for i, c := range conds {
		cell := Text("–")
		if iv, ok := c.TaskDraw(); ok {
			cell = Num(iv, 1)
		}
		t.Rows[i] = slices.Insert(t.Rows[i], 3, cell)
	}
	t.Caption += " as tive-task % = the share of a run's chosen records that tive-task (TIVE's task budgets, a uniform draw within each task) chose at the same seed and budget; every method draws a task from the same random numbers, so for TIVE it is what the influence weights leave of the uniform draw."
	return t
}

// PlantedTable measures how much planted redundancy each method keeps.
func PlantedTable(st *Study) *Table {
	conds := st.Conditions()
	if len(conds) == 0 || st.Runs[0].Duplicates == nil {
		return nil
	}
	ref := Find(conds, selection.Random)
	d0 := st.Runs[0].Duplicates
	t := &Table{Name: "planted-kept", Header: []string{"method", "seeds", "subset n", "groups covered %", "groups with ≥ 2 kept %", "redundant % of subset"}}
	multi := func(r *Run) float64 {
		n := 0
		for k := 2; k < len(r.Duplicates.Kept); k++ {
			n += r.Duplicates.Kept[k]
		}
		return 100 * float64(n) / float64(max(1, r.Duplicates.Groups))
	}
	red := func(r *Run) float64 {
		return 100 * float64(r.Duplicates.Redundant) / float64(max(1, r.Duplicates.Distinct))
	}
	cov := func(r *Run) float64 {
		return 100 * float64(r.Duplicates.Covered) / float64(max(1, r.Duplicates.Groups))
	}
	for _, c := range conds {
		row := []Cell{Text(c.Name), Text(strconv.Itoa(len(c.Runs))), Num(c.Over(func(r *Run) float64 { return float64(r.Selected) }), 0), Num(c.Over(cov), 1), Num(c.Over(multi), 1), Num(c.Over(red), 1)}
		if ref != nil && c != ref {
			row[3], row[4], row[5] = mark(row[3], ref.Over(cov)), mark(row[4], ref.Over(multi)), mark(row[5], ref.Over(red))
		}
		t.Rows = append(t.Rows, row)
	}
	t.Caption = fmt.Sprintf("Table: planted duplicates. The world plants %d duplicate groups (%d records, %d of them redundant copies: %.1f%% of the %d-record pool). Groups covered = groups with at least one chosen record; ≥ 2 kept = groups with two or more distinct chosen records (a duplicate kept); redundant = Σ_g max(0, k_g - 1) over groups with k_g distinct chosen records, as %% of the distinct chosen records. %s ▲/▼: interval wholly above/below random's.",
		d0.Groups, d0.GroupRecords, d0.PoolRedundant, 100*float64(d0.PoolRedundant)/float64(st.Runs[0].Pool), st.Runs[0].Pool, seedsText(seeds(conds)))
	return t
}

// sharedStages run once for every run of a world (the cost table lists
// them, the cost plot leaves them out).
var sharedStages = []string{"world", "pretrain", "tokens", "chance"}

// stageOrder is the order stages run in.
var stageOrder = []string{"world", "pretrain", "tokens", "warmup", "reference", "features", "valfeatures", "select", "train", "predict", "score", "chance"}

// selectionStages are the stages that only selection needs.
var selectionStages = []string{"warmup", "reference", "features", "valfeatures", "select"}

// CostTable lists the wall time of every stage for each method, with the
// selection overhead (warm-up, reference model, features, select) set
// against training.
func CostTable(st *Study) *Table {
	conds := st.Conditions()
	if len(conds) == 0 {
		return nil
	}
	t := &Table{Name: "cost", Header: []string{"stage"}}
	for _, c := range conds {
		t.Header = append(t.Header, c.Name+" s")
	}
	sec := func(stages ...string) func(r *Run) float64 {
		return func(r *Run) float64 {
			var s float64
			for _, x := range stages {
				s += r.Seconds[x]
			}
			return s
		}
	}
	rowOf := func(name string, f func(*Run) float64) []Cell {
		row := []Cell{Text(name)}
		for _, c := range conds {
			row = append(row, Num(c.Over(f), 1))
		}
		return row
	}
	for _, s := range stageOrder {
		if slices.ContainsFunc(st.Runs, func(r *Run) bool { _, ok := r.Seconds[s]; return ok }) {
			t.Rows = append(t.Rows, rowOf(s, sec(s)))
		}
	}
	t.Rows = append(t.Rows, rowOf("selection (warmup..select)", sec(selectionStages...)), rowOf("selection + train", sec(append(slices.Clone(selectionStages), "train")...)))
	t.Caption = fmt.Sprintf("Table: stage wall time (seconds, as recorded in each stage's manifest when it ran; %s and %s are shared by all runs of a world). %s",
		strings.Join(sharedStages[:len(sharedStages)-1], ", "), sharedStages[len(sharedStages)-1], seedsText(seeds(conds)))
	return t
}

// PartsTable lists what the pretraining stages measured of the parts the
// study's runs start from (Run.Parts): one column per pretraining (every
// seed of a study on one world shares one), one row per measure, in %.
// Nil when no run has pretrained parts.
func PartsTable(st *Study) *Table {
	var keys []string
	parts := map[string]*stages.Parts{}
	runs := map[string]int{}
	for _, r := range st.Runs {
		if r.Parts == nil {
			continue
		}
		if _, ok := parts[r.Pretraining]; !ok {
			keys = append(keys, r.Pretraining)
			parts[r.Pretraining] = r.Parts
		}
		runs[r.Pretraining]++
	}
	if len(keys) == 0 {
		return nil
	}
	t := &Table{Name: "parts", Header: []string{"part", "measure"}}
	for _, k := range keys {
		t.Header = append(t.Header, fmt.Sprintf("%.12s (%d runs)", k, runs[k]))
	}
	// rows in order of first appearance; cells[row][key] is a fraction.
	var order [][2]string
	cells := map[[2]string]map[string]float64{}
	put := func(part, measure, key string, v float64) {
		id := [2]string{part, measure}
		if cells[id] == nil {
			order = append(order, id)
			cells[id] = map[string]float64{}
		}
		cells[id][key] = v
	}
	for _, k := range keys {
		p := parts[k]
		for _, s := range p.Tower {
			put("vision tower", "concept probe, "+s.Style, k, s.Concept)
			put("vision tower", "colour probe, "+s.Style, k, s.Colour)
		}
		for _, s := range p.Language {
			put("language model", s.Skill, k, s.Accuracy)
		}
		if a := p.Align; a != nil {
			put("alignment", "object tokens' word", k, a.ObjectWord)
			put("alignment", "background tokens' word", k, a.Background)
			put("alignment", "\"Is there\", with the image", k, a.YesNoImage)
			put("alignment", "\"Is there\", with a black image", k, a.YesNoBlack)
		}
	}
	for _, id := range order {
		row := []Cell{Text(id[0]), Text(id[1])}
		for _, k := range keys {
			v, ok := cells[id][k]
			if !ok {
				v = math.NaN()
			}
			row = append(row, Value(100*v, 1))
		}
		t.Rows = append(t.Rows, row)
	}
	t.Caption = "Table: the pretrained parts, as their stages measured them (%): the vision tower's linear probes of each object's concept and colour on new scenes, per art style (all: pooled); the language model's exact-match accuracy per skill on held-out texts, with more filler sentences than training saw; the aligned base model's share of visual tokens that read as their patch's word, and its zero-shot yes/no on \"Is there ...?\" with the image and with a black one (chance 50). One column per pretraining (its store key, cut to 12 characters); one draw of each part, so no interval."
	return t
}
