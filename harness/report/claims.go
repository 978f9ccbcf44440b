package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tive-dev/tive/harness/selection"
)

// Verdicts of a claim.
const (
	Holds        = "holds"
	DoesNotHold  = "does not hold"
	Mixed        = "mixed"
	Undetermined = "undetermined (fewer than 2 seeds: no intervals)"
	NotRun       = "not run"
	// NoSignal replaces the verdict of a claim about benchmark scores when
	// the main study's full-data model does not beat the best constant
	// answers on average (its interval is not wholly above their average):
	// a model that has not learned the suites can neither confirm nor refute
	// a claim about which data teaches them.
	NoSignal = "undetermined (the full-data model does not beat the best constant answer)"
)

// Claim is one claim of the paper checked against a summary.
type Claim struct {
	Text    string
	Verdict string
	Numbers string
}

// fmtIV formats an interval as "12.3 ± 0.4" (or "12.3" without one).
func fmtIV(iv Interval) string {
	if !iv.HasCI() {
		return fmt.Sprintf("%.1f", iv.Mean)
	}
	return fmt.Sprintf("%.1f ± %.1f", iv.Mean, iv.Half())
}

// Claims checks the paper's claims (and ours, marked) on s. A verdict
// rests only on differences the intervals call; "holds" for a parity claim
// means no difference was called.
func Claims(s *Summary) []Claim {
	scores := []Claim{parityClaim(s), baselineClaim(s), ablationClaim(s), withinClaim(s), redundancyClaim(s), ratioClaim(s)}
	if ok, why := learned(s); !ok {
		for i, c := range scores {
			if c.Verdict == Holds || c.Verdict == DoesNotHold || c.Verdict == Mixed {
				scores[i].Verdict = NoSignal
				scores[i].Numbers += "; " + why
			}
		}
	}
	return append(scores, plantedClaim(s), costClaim(s))
}

// learned reports whether the main study's full-data average lies wholly
// above the average of the best constant answers (its chance row), and
// says what the two are. Without a main study, a full-data condition or
// chance scores there is nothing to check, and it reports true.
func learned(s *Summary) (bool, string) {
	conds, benches := mainStudy(s)
	full := Find(conds, selection.Full)
	if full == nil || len(full.Runs) == 0 || len(full.Runs[0].Chance) == 0 {
		return true, ""
	}
	f := full.Over(func(r *Run) float64 { return r.Average(benches) })
	chance := (&Run{Scores: full.Runs[0].Chance}).Average(benches)
	return f.HasCI() && f.Lo > chance, fmt.Sprintf("full data averages %s points, the best constant answers %.1f", fmtIV(f), chance)
}

// mainStudy returns the main study's conditions and benchmarks.
func mainStudy(s *Summary) ([]*Condition, []string) {
	st := s.Study("main")
	if st == nil {
		return nil, nil
	}
	return st.Conditions(), st.Benchmarks()
}

func parityClaim(s *Summary) Claim {
	c := Claim{Text: "TIVE with 15% of the data performs on par with full data (average and every benchmark)", Verdict: NotRun}
	conds, benches := mainStudy(s)
	tive, full := Find(conds, selection.TIVE), Find(conds, selection.Full)
	if tive == nil || full == nil || len(benches) == 0 {
		return c
	}
	avg := func(r *Run) float64 { return r.Average(benches) }
	a, f := tive.Over(avg), full.Over(avg)
	var below, above []string
	for _, b := range benches {
		g := func(r *Run) float64 { return r.Scores[b] }
		switch Compare(tive.Over(g), full.Over(g)) {
		case -1:
			below = append(below, b)
		case 1:
			above = append(above, b)
		}
	}
	rel := relCell(tive, full, benches).IV
	c.Numbers = fmt.Sprintf("average %s vs full %s points, relative %s%%; below full on [%s], above on [%s]",
		fmtIV(a), fmtIV(f), fmtIV(rel), strings.Join(below, ", "), strings.Join(above, ", "))
	switch {
	case !a.HasCI():
		c.Verdict = Undetermined
	case Compare(a, f) < 0:
		c.Verdict = DoesNotHold
	case len(below) > 0:
		c.Verdict = Mixed
	default:
		c.Verdict = Holds
	}
	return c
}

// beats sorts the named methods by how TIVE's average compares with theirs.
func beats(conds []*Condition, methods []string, benches []string) (above, tied, below []string, ok bool) {
	tive := Find(conds, selection.TIVE)
	if tive == nil {
		return nil, nil, nil, false
	}
	avg := func(r *Run) float64 { return r.Average(benches) }
	t := tive.Over(avg)
	for _, m := range methods {
		c := Find(conds, m)
		if c == nil {
			continue
		}
		name := fmt.Sprintf("%s %s", m, fmtIV(c.Over(avg)))
		switch Compare(t, c.Over(avg)) {
		case 1:
			above = append(above, name)
		case -1:
			below = append(below, name)
		default:
			tied = append(tied, name)
		}
	}
	return above, tied, below, t.HasCI()
}

// versus states a "TIVE beats them all" claim's verdict and numbers.
func versus(c Claim, conds []*Condition, methods, benches []string) Claim {
	above, tied, below, ci := beats(conds, methods, benches)
	if len(above)+len(tied)+len(below) == 0 {
		return c
	}
	tive := Find(conds, selection.TIVE)
	c.Numbers = fmt.Sprintf("TIVE average %s points; TIVE above: [%s]; no difference called: [%s]; TIVE below: [%s]",
		fmtIV(tive.Over(func(r *Run) float64 { return r.Average(benches) })), strings.Join(above, "; "), strings.Join(tied, "; "), strings.Join(below, "; "))
	c.Verdict = tally(ci, len(above), len(above)+len(tied)+len(below))
	return c
}

// tally is the verdict of a claim made of n parts, holding of which
// hold: undetermined without intervals (ci false), holds when every part
// does, does not hold when none does, mixed otherwise.
func tally(ci bool, holding, n int) string {
	switch {
	case !ci:
		return Undetermined
	case holding == n:
		return Holds
	case holding == 0:
		return DoesNotHold
	}
	return Mixed
}

func baselineClaim(s *Summary) Claim {
	conds, benches := mainStudy(s)
	return versus(Claim{Text: "TIVE outperforms every baseline at the same 15% budget (average score)", Verdict: NotRun}, conds, selection.Baselines, benches)
}

func ablationClaim(s *Summary) Claim {
	conds, benches := mainStudy(s)
	return versus(Claim{Text: "Both task-level and instance-level value matter: TIVE beats tive-task and tive-instance", Verdict: NotRun}, conds, []string{selection.TIVETask, selection.TIVEInstance}, benches)
}

func redundancyClaim(s *Summary) Claim {
	c := Claim{Text: "The mixture is redundant: keeping only a fraction of any one task does not lower the average score", Verdict: NotRun}
	st := s.Study("redundancy")
	if st == nil {
		return c
	}
	conds, benches := st.Conditions(), st.Benchmarks()
	full := Find(conds, selection.Full)
	if full == nil || len(conds) < 2 {
		return c
	}
	avg := func(r *Run) float64 { return r.Average(benches) }
	f := full.Over(avg)
	var below, above []string
	n := 0
	for _, k := range conds {
		if k == full {
			continue
		}
		n++
		switch Compare(k.Over(avg), f) {
		case -1:
			below = append(below, k.Name)
		case 1:
			above = append(above, k.Name)
		}
	}
	c.Numbers = fmt.Sprintf("of %d cuts, %d lower the average [%s] and %d raise it [%s] (full data %s points)",
		n, len(below), strings.Join(below, ", "), len(above), strings.Join(above, ", "), fmtIV(f))
	switch {
	case !f.HasCI():
		c.Verdict = Undetermined
	case len(below) == 0:
		c.Verdict = Holds
	case 2*len(below) > n:
		c.Verdict = DoesNotHold
	default:
		c.Verdict = Mixed
	}
	return c
}

func ratioClaim(s *Summary) Claim {
	c := Claim{Text: "TIVE beats random selection at every selection ratio (5% to 50%)", Verdict: NotRun}
	st := s.Study("ratio")
	if st == nil {
		return c
	}
	benches := st.Benchmarks()
	avg := func(r *Run) float64 { return r.Average(benches) }
	byBudget := map[float64][2]*Condition{}
	var budgets []float64
	for _, k := range st.Conditions() {
		r := k.Runs[0]
		if !slices.Contains(budgets, r.Budget) {
			budgets = append(budgets, r.Budget)
		}
		p := byBudget[r.Budget]
		switch r.Method {
		case selection.TIVE:
			p[0] = k
		case selection.Random:
			p[1] = k
		}
		byBudget[r.Budget] = p
	}
	slices.Sort(budgets)
	var parts []string
	wins, ci := 0, true
	for _, b := range budgets {
		p := byBudget[b]
		if p[0] == nil || p[1] == nil {
			continue
		}
		t, r := p[0].Over(avg), p[1].Over(avg)
		ci = ci && t.HasCI()
		verdict := "no difference called"
		switch Compare(t, r) {
		case 1:
			verdict, wins = "TIVE above", wins+1
		case -1:
			verdict = "TIVE below"
		}
		parts = append(parts, fmt.Sprintf("%s: %s vs %s (%s)", pct(b), fmtIV(t), fmtIV(r), verdict))
	}
	if len(parts) == 0 {
		return c
	}
	c.Numbers = strings.Join(parts, "; ")
	c.Verdict = tally(ci, wins, len(parts))
	return c
}

// sameDraw is the share of records (%) from which a within-task draw counts
// as practically the uniform one (withinClaim).
const sameDraw = 95

// withinClaim checks, on the ablation study, whether TIVE's influence
// weights as released (its first condition, q = 0.001) move its draw away
// from tive-task's uniform one (Run.TaskDraw below sameDraw) and its average
// score (intervals that do not overlap): holds when both do, does not hold
// when neither does, mixed otherwise.
func withinClaim(s *Summary) Claim {
	c := Claim{Text: fmt.Sprintf("(ours) Instance influence as released (q = 0.001) changes which records TIVE picks (fewer than %d%% of them the uniform per-task draw's) and its scores", sameDraw), Verdict: NotRun}
	st := s.Study("ablation")
	if st == nil {
		return c
	}
	conds, benches := st.Conditions(), st.Benchmarks()
	tive, task := Find(conds, selection.TIVE), Find(conds, selection.TIVETask)
	if tive == nil || task == nil || len(benches) == 0 {
		return c
	}
	share, ok := tive.TaskDraw()
	if !ok {
		return c
	}
	avg := func(r *Run) float64 { return r.Average(benches) }
	a, u := tive.Over(avg), task.Over(avg)
	names := shortNames(st, conds)
	var others []string
	for i, o := range conds {
		if iv, ok := o.TaskDraw(); ok && o != tive && o != task {
			others = append(others, fmt.Sprintf("%s %s%%", names[i], fmtIV(iv)))
		}
	}
	c.Numbers = fmt.Sprintf("TIVE (%s) shares %s%% of its records with tive-task's draw from the same random numbers (other conditions: [%s]); average score %s vs tive-task %s points",
		names[slices.Index(conds, tive)], fmtIV(share), strings.Join(others, "; "), fmtIV(a), fmtIV(u))
	holding := 0 // of the claim's two parts: it changes the picks, and the scores
	for _, part := range []bool{share.Mean < sameDraw, Compare(a, u) != 0} {
		if part {
			holding++
		}
	}
	c.Verdict = tally(share.HasCI() && a.HasCI(), holding, 2)
	return c
}

func plantedClaim(s *Summary) Claim {
	c := Claim{Text: "(ours) TIVE keeps fewer planted duplicates than random selection at the same budget", Verdict: NotRun}
	st := s.Study("planted")
	if st == nil || len(st.Runs) == 0 || st.Runs[0].Duplicates == nil {
		return c
	}
	conds := st.Conditions()
	tive, rnd := Find(conds, selection.TIVE), Find(conds, selection.Random)
	if tive == nil || rnd == nil {
		return c
	}
	red := func(r *Run) float64 {
		return 100 * float64(r.Duplicates.Redundant) / float64(max(1, r.Duplicates.Distinct))
	}
	t, r := tive.Over(red), rnd.Over(red)
	c.Numbers = fmt.Sprintf("redundant copies are %s%% of TIVE's subset vs %s%% of random's", fmtIV(t), fmtIV(r))
	switch {
	case !t.HasCI():
		c.Verdict = Undetermined
	case Compare(t, r) < 0:
		c.Verdict = Holds
	default:
		c.Verdict = DoesNotHold
	}
	return c
}

func costClaim(s *Summary) Claim {
	c := Claim{Text: "Selecting with TIVE (warm-up, reference model, gradients, selection) plus training on 15% costs less wall time than training on full data", Verdict: NotRun}
	st := s.Study("cost")
	if st == nil {
		return c
	}
	conds := st.Conditions()
	tive, full := Find(conds, selection.TIVE), Find(conds, selection.Full)
	if tive == nil || full == nil {
		return c
	}
	sel := tive.Over(func(r *Run) float64 {
		var x float64
		for _, stage := range selectionStages {
			x += r.Seconds[stage]
		}
		return x
	})
	tr := tive.Over(func(r *Run) float64 { return r.Seconds["train"] })
	total := tive.Over(func(r *Run) float64 {
		x := r.Seconds["train"]
		for _, stage := range selectionStages {
			x += r.Seconds[stage]
		}
		return x
	})
	f := full.Over(func(r *Run) float64 { return r.Seconds["train"] })
	c.Numbers = fmt.Sprintf("TIVE selection %s s + training %s s = %s s vs full-data training %s s", fmtIV(sel), fmtIV(tr), fmtIV(total), fmtIV(f))
	switch Compare(total, f) {
	case -1:
		c.Verdict = Holds
	case 1:
		c.Verdict = DoesNotHold
	default:
		c.Verdict = DoesNotHold + " (no difference called)"
		if !total.HasCI() {
			c.Verdict = Undetermined
		}
	}
	return c
}

// WriteClaims writes CLAIMS.md: one line per claim with its verdict and numbers.
func WriteClaims(w io.Writer, s *Summary) {
	fmt.Fprintf(w, "# Claims of the paper on the built-in world (profile %s)\n\n", s.Profile)
	fmt.Fprintf(w, "Generated by `tive reproduce --profile %s` from results/%s/summary.json. Scores are official headline metrics in points; ", s.Profile, s.Profile)
	fmt.Fprintf(w, "x ± h is the mean over seeds ± the half-width of its 95%% Student-t interval, and a difference is called only when two intervals do not overlap. Nothing was tuned to make a claim hold.%s\n\n", arithNote(s))
	for _, c := range Claims(s) {
		nums := c.Numbers
		if nums == "" {
			nums = "the study was not in this reproduction"
		}
		fmt.Fprintf(w, "- **%s** — %s: %s.\n", c.Verdict, c.Text, nums)
	}
}
