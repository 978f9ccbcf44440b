package report

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/tive-dev/tive/harness/atomic"
	"github.com/tive-dev/tive/harness/pipeline"
	"github.com/tive-dev/tive/harness/pipeline/stages"
	"github.com/tive-dev/tive/harness/selection"
	"github.com/tive-dev/tive/harness/spec"
	"github.com/tive-dev/tive/harness/store"
	"github.com/tive-dev/tive/harness/world"
)

// Summary is everything the report shows, for one profile: tables, plots and
// claims are computed from it alone (summary.json).
type Summary struct {
	Profile string   `json:"profile"`
	Studies []*Study `json:"studies"`
}

// Study is one experiment spec's runs.
type Study struct {
	Name        string `json:"name"`
	Spec        string `json:"spec"`
	Description string `json:"description,omitempty"`
	// Sweep lists the key paths whose values differ between runs, the root
	// seed excluded, in the order they first appear in the resolved spec.
	Sweep []string `json:"sweep"`
	Runs  []*Run   `json:"runs"`
}

// Run is one run of a study: its sweep values and what its stages produced.
type Run struct {
	Label string `json:"label"`
	// Sweep holds the value of each of the study's sweep keys in this run
	// (keys a run does not set are absent, e.g. selection.keep.vqav2 of a
	// full-data run).
	Sweep  map[string]string `json:"sweep"`
	Seed   uint64            `json:"seed"`
	Method string            `json:"method"`
	Budget float64           `json:"budget"`
	// Pool is N, the number of records of the pool; Selected the size of
	// the chosen subset (repeats counted).
	Pool     int `json:"pool"`
	Selected int `json:"selected"`
	// Scores and Chance map a benchmark to its official headline score and
	// to the score of its best constant answer.
	Scores map[string]float64 `json:"scores,omitempty"`
	Chance map[string]float64 `json:"chance,omitempty"`
	// Tasks is the select stage's per-task table (tasks.json).
	Tasks []TaskCount `json:"tasks"`
	// Influence summarises the instance influence I(s) of each task, for
	// methods that compute one (tive, tive-instance, less).
	Influence []Distribution `json:"influence,omitempty"`
	// Duplicates measures planted redundancy kept, in worlds that plant it.
	Duplicates *Duplicates `json:"duplicates,omitempty"`
	// TaskDraw is, in a study with a tive-task run of the same seed and
	// budget, the percentage of this run's distinct chosen records that
	// tive-task (TIVE's task budgets, uniform within each task) also chose.
	// The draws share their random numbers (selection's package doc), so for
	// tive it is what the influence weights leave of the uniform draw.
	TaskDraw *float64 `json:"task_draw,omitempty"`
	// Seconds is the wall time of each stage of the run (MANIFEST.json),
	// stages shared with other runs included.
	Seconds map[string]float64 `json:"seconds"`
	// Pretraining names the pretrained parts the run starts from (the
	// store key of its pretrain stage's output, which its vision and
	// language stages' keys determine), and Parts is what their stages
	// measured of them (stages.ReadParts); "" and nil without a language
	// or vision stage.
	Pretraining string        `json:"pretraining,omitempty"`
	Parts       *stages.Parts `json:"parts,omitempty"`
	// Arith is the float32 arithmetic its model stages (pipeline.Stage.Arith)
	// computed with, as their manifests record it (pipeline.Arith); "" when
	// no stage of the run runs the model. Another arithmetic is another draw
	// of every model stage (README, "Arithmetic").
	Arith string `json:"arith,omitempty"`

	chosen []int // distinct chosen record indices, ascending (Build only)
}

// TaskCount is one task of a selection.
type TaskCount struct {
	Task       string  `json:"task"`
	N          int     `json:"n"`
	Selected   int     `json:"selected"`
	Difficulty float64 `json:"difficulty"`
}

// Distribution summarises one task's influence values: count, mean,
// quantiles (P05, P25, P50, P75, P95, linear interpolation between order
// statistics) and a histogram of Bins equal bins over [Lo, Hi], the range of
// the whole run, so the tasks of one run share bins.
type Distribution struct {
	Task         string  `json:"task"`
	N            int     `json:"n"`
	Mean         float64 `json:"mean"`
	SelectedMean float64 `json:"selected_mean"` // mean over chosen records (NaN-free: 0 when none)
	P05          float64 `json:"p05"`
	P25          float64 `json:"p25"`
	P50          float64 `json:"p50"`
	P75          float64 `json:"p75"`
	P95          float64 `json:"p95"`
	Lo           float64 `json:"lo"`
	Hi           float64 `json:"hi"`
	Counts       []int   `json:"counts"`
}

// Bins is the number of histogram bins of a Distribution.
const Bins = 24

// Duplicates is how much of the planted duplicate groups a selection kept.
// A group of g records (an original and its copies) is redundant by g-1
// records; Redundant counts, over groups, max(0, k_g - 1) for k_g distinct
// chosen records of the group.
type Duplicates struct {
	Groups        int `json:"groups"`         // planted groups
	GroupRecords  int `json:"group_records"`  // records in planted groups
	PoolRedundant int `json:"pool_redundant"` // Σ_g (g - 1): redundant records in the pool
	Covered       int `json:"covered"`        // groups with at least one chosen record
	Redundant     int `json:"redundant"`      // Σ_g max(0, k_g - 1)
	Distinct      int `json:"distinct"`       // distinct chosen records
	// Kept[k] is the number of groups with k distinct chosen records.
	Kept []int `json:"kept"`
}

// ariths lists, sorted, the distinct arithmetics (Run.Arith) the model
// stages of s's runs computed with.
func (s *Summary) ariths() []string {
	var out []string
	for _, st := range s.Studies {
		for _, r := range st.Runs {
			if r.Arith != "" && !slices.Contains(out, r.Arith) {
				out = append(out, r.Arith)
			}
		}
	}
	slices.Sort(out)
	return out
}

// arithNote is the sentence that ends the opening paragraph of report.md
// and CLAIMS.md, with a space in front: the arithmetics of s's model stages
// ("" when no run ran the model).
func arithNote(s *Summary) string {
	a := s.ariths()
	if len(a) == 0 {
		return ""
	}
	return fmt.Sprintf(" The model stages computed their float32 matrix products with `%s`; on another arithmetic every model stage recomputes, another draw of the same recipe (README, Arithmetic).", strings.Join(a, "`, `"))
}

// BuildFile is Build of the results file at path.
func BuildFile(st *spec.Study, path string) (*Study, error) {
	res, err := pipeline.ReadResults(path)
	if err != nil {
		return nil, err
	}
	return Build(st, res)
}

// Build reads a study's results file (written by pipeline.Runner.Run for
// st) and the stage outputs it names, and summarises every run.
func Build(st *spec.Study, res *pipeline.Results) (*Study, error) {
	if len(st.Runs) != len(res.Runs) {
		return nil, fmt.Errorf("%s: the results file has %d runs, the study %d (rerun it)", st.File, len(res.Runs), len(st.Runs))
	}
	out := &Study{Spec: filepath.Base(st.File)}
	if len(st.Runs) > 0 {
		out.Name, out.Description = st.Runs[0].Name, st.Runs[0].Description
	}
	flat := make([][]kv, len(st.Runs))
	for i := range st.Runs {
		flat[i] = flatten(st.Runs[i].Spec)
	}
	out.Sweep = varying(flat)
	worlds := map[string]map[int]string{}
	parts := map[[3]string]*stages.Parts{} // by vision, language, pretrain folders
	for i := range st.Runs {
		sr, rr := &st.Runs[i], &res.Runs[i]
		if rr.SpecHash != sr.Hash() {
			return nil, fmt.Errorf("%s: run %d (%s) of the results file is for another spec (rerun the study)", st.File, i, sr.Label)
		}
		r := &Run{Label: sr.Label, Seed: sr.Seed, Method: sr.Selection.Method, Budget: sr.Selection.Budget, Sweep: map[string]string{}, Seconds: map[string]float64{}}
		for _, p := range flat[i] {
			if slices.Contains(out.Sweep, p.key) {
				r.Sweep[p.key] = p.value
			}
		}
		if err := r.read(rr, sr.Selection.Exclude, worlds, parts); err != nil {
			return nil, fmt.Errorf("%s: run %q: %w", st.File, sr.Label, err)
		}
		out.Runs = append(out.Runs, r)
	}
	taskDraws(out.Runs)
	return out, nil
}

// taskDraws sets Run.TaskDraw of every run that has a tive-task run of the
// same seed and budget among runs (the tive-task run itself included).
func taskDraws(runs []*Run) {
	for _, ref := range runs {
		if ref.Method != selection.TIVETask {
			continue
		}
		for _, r := range runs {
			if r.Seed != ref.Seed || r.Budget != ref.Budget || len(r.chosen) == 0 {
				continue
			}
			n := 0
			for _, i := range r.chosen {
				if _, ok := slices.BinarySearch(ref.chosen, i); ok {
					n++
				}
			}
			share := 100 * float64(n) / float64(len(r.chosen))
			r.TaskDraw = &share
		}
	}
}

// read fills r from the run's stage outputs.
// worlds and parts cache what runs sharing a world or a pretraining read.
func (r *Run) read(rr *pipeline.RunResult, exclude []string, worlds map[string]map[int]string, parts map[[3]string]*stages.Parts) error {
	for stage, dir := range rr.Outputs {
		m, err := store.ReadManifest(dir)
		if err != nil {
			return err
		}
		r.Seconds[stage] = m.Seconds
		if st := pipeline.Lookup(stage); st != nil && st.Arith {
			if r.Arith != "" && r.Arith != m.Code.Arith {
				return fmt.Errorf("%s: stage %s computed with %q, another model stage of the run with %q (their keys name the arithmetic; is the store mixed by hand?)", dir, stage, m.Code.Arith, r.Arith)
			}
			r.Arith = m.Code.Arith
		}
	}
	if id := [3]string{rr.Outputs["vision"], rr.Outputs["language"], rr.Outputs["pretrain"]}; id[0] != "" || id[1] != "" {
		if parts[id] == nil {
			p, err := stages.ReadParts(rr.Outputs)
			if err != nil {
				return err
			}
			parts[id] = &p
		}
		r.Parts = parts[id]
		if dir := id[2]; dir != "" {
			r.Pretraining = filepath.Base(dir)
		}
	}
	sel, ok := rr.Outputs["select"]
	if !ok {
		return fmt.Errorf("no select stage output")
	}
	lines, tasks, err := stages.ReadSelection(sel)
	if err != nil {
		return err
	}
	r.Tasks = make([]TaskCount, 0, len(tasks))
	for _, t := range tasks {
		r.Tasks = append(r.Tasks, TaskCount{Task: t.Task, N: t.N, Selected: t.Selected, Difficulty: t.Difficulty})
	}
	r.Pool = len(lines)
	for _, t := range r.Tasks {
		r.Selected += t.Selected
	}
	r.Influence = influence(lines, exclude)
	for _, l := range lines {
		if l.Selected > 0 {
			r.chosen = append(r.chosen, l.Index)
		}
	}
	slices.Sort(r.chosen)
	if w, ok := rr.Outputs["world"]; ok {
		groups, ok := worlds[w]
		if !ok {
			if groups, err = dupGroups(filepath.Join(w, world.MixtureFile)); err != nil {
				return err
			}
			worlds[w] = groups
		}
		r.Duplicates = duplicates(groups, lines)
	}
	if dir, ok := rr.Outputs["score"]; ok {
		bs, err := stages.ReadBenchScores(dir)
		if err != nil {
			return err
		}
		r.Scores = map[string]float64{}
		for b, s := range bs {
			r.Scores[b] = s.Score
		}
	}
	if dir, ok := rr.Outputs["chance"]; ok {
		ch, err := stages.ReadChance(dir)
		if err != nil {
			return err
		}
		r.Chance = map[string]float64{}
		for b, c := range ch {
			r.Chance[b] = c.Score
		}
	}
	return nil
}

// influence summarises the influence values of each task (in order of first
// appearance) but the excluded ones (whose influence is not computed); nil
// when no record has one.
func influence(lines []stages.ScoreLine, exclude []string) []Distribution {
	lo, hi := math.Inf(1), math.Inf(-1)
	byTask := map[string][]float64{}
	chosen := map[string][]float64{}
	var order []string
	for _, l := range lines {
		if l.Influence == nil || slices.Contains(exclude, l.Task) {
			continue
		}
		v := *l.Influence
		if _, ok := byTask[l.Task]; !ok {
			order = append(order, l.Task)
		}
		byTask[l.Task] = append(byTask[l.Task], v)
		if l.Selected > 0 {
			chosen[l.Task] = append(chosen[l.Task], v)
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	if len(order) == 0 {
		return nil
	}
	if hi == lo {
		hi = lo + 1
	}
	var out []Distribution
	for _, t := range order {
		xs := byTask[t]
		sort.Float64s(xs)
		d := Distribution{Task: t, N: len(xs), Mean: mean(xs), SelectedMean: mean(chosen[t]),
			P05: quantile(xs, 0.05), P25: quantile(xs, 0.25), P50: quantile(xs, 0.5), P75: quantile(xs, 0.75), P95: quantile(xs, 0.95),
			Lo: lo, Hi: hi, Counts: make([]int, Bins)}
		for _, x := range xs {
			d.Counts[min(Bins-1, int((x-lo)/(hi-lo)*Bins))]++
		}
		out = append(out, d)
	}
	return out
}

// mean is Σx/n, or 0 for no values.
func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// quantile of sorted xs at p: x[h] interpolated linearly at h = p·(n-1).
func quantile(xs []float64, p float64) float64 {
	h := p * float64(len(xs)-1)
	i := int(h)
	if i+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[i] + (h-float64(i))*(xs[i+1]-xs[i])
}

// dupGroups reads the planted dup_group of each record of a world's
// mixture.json (nil when the world plants none).
func dupGroups(path string) (map[int]string, error) {
	var recs []struct {
		DupGroup string `json:"dup_group"`
	}
	if err := pipeline.ReadJSON(path, &recs); err != nil {
		return nil, err
	}
	var out map[int]string
	for i, r := range recs {
		if r.DupGroup != "" {
			if out == nil {
				out = map[int]string{}
			}
			out[i] = r.DupGroup
		}
	}
	return out, nil
}

// duplicates counts the planted groups a selection covers and the redundant
// records it keeps (nil without planted groups).
func duplicates(groups map[int]string, lines []stages.ScoreLine) *Duplicates {
	if len(groups) == 0 {
		return nil
	}
	size, kept := map[string]int{}, map[string]int{}
	d := &Duplicates{}
	for _, l := range lines {
		if l.Selected > 0 {
			d.Distinct++
		}
		g, ok := groups[l.Index]
		if !ok {
			continue
		}
		size[g]++
		if l.Selected > 0 {
			kept[g]++
		}
	}
	d.Groups = len(size)
	for g, n := range size {
		d.GroupRecords += n
		d.PoolRedundant += n - 1
		k := kept[g]
		if k > 0 {
			d.Covered++
			d.Redundant += k - 1
		}
		for len(d.Kept) <= k {
			d.Kept = append(d.Kept, 0)
		}
		d.Kept[k]++
	}
	return d
}

type kv struct{ key, value string }

// flatten lists the scalar values of a resolved spec as dotted key paths
// (lists as JSON), in field order; a null (an unset list or mapping) is
// left out.
func flatten(s spec.Spec) []kv {
	b, _ := json.Marshal(s)
	var m json.RawMessage = b
	var out []kv
	var walk func(prefix string, raw json.RawMessage)
	walk = func(prefix string, raw json.RawMessage) {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		tok, err := dec.Token()
		if d, ok := tok.(json.Delim); err == nil && ok && d == '{' {
			for dec.More() {
				k, _ := dec.Token()
				var v json.RawMessage
				dec.Decode(&v)
				p := k.(string)
				if prefix != "" {
					p = prefix + "." + p
				}
				walk(p, v)
			}
			return
		}
		var v any
		json.Unmarshal(raw, &v)
		switch x := v.(type) {
		case nil:
		case string:
			out = append(out, kv{prefix, x})
		case float64:
			out = append(out, kv{prefix, strconv.FormatFloat(x, 'g', -1, 64)})
		default:
			out = append(out, kv{prefix, string(raw)})
		}
	}
	walk("", m)
	return out
}

// varying lists the keys whose values differ between runs (a key missing in
// some run counts as different), "seed" excluded, in first-seen order.
func varying(runs [][]kv) []string {
	var order []string
	vals := map[string]map[string]bool{}
	count := map[string]int{}
	for _, r := range runs {
		for _, p := range r {
			if vals[p.key] == nil {
				vals[p.key] = map[string]bool{}
				order = append(order, p.key)
			}
			vals[p.key][p.value] = true
			count[p.key]++
		}
	}
	var out []string
	for _, k := range order {
		if k != "seed" && (len(vals[k]) > 1 || count[k] != len(runs)) {
			out = append(out, k)
		}
	}
	return out
}

// WriteSummary writes s as indented JSON (atomically).
func WriteSummary(path string, s *Summary) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return atomic.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadSummary reads a summary.json.
func ReadSummary(path string) (*Summary, error) {
	var s Summary
	if err := pipeline.ReadJSON(path, &s); err != nil {
		return nil, err
	}
	return &s, nil
}
