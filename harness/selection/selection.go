// Package selection chooses a subset of an instruction pool: TIVE (Liu et
// al., "Less is More: High-value Data Selection for Visual Instruction
// Tuning"), its two ablations, the baselines, and the redundancy study's
// per-task keep. Every method is a pure, seeded function of the pool.
//
// TIVE as released (simplelifetime/TIVE select_data_TIVE.py), with N the size
// of the whole pool (excluded tasks included) and p the budget:
//
//	d_t  = mean_{s in t} ||∇ℓ(s)||              task difficulty (difficulty: norm; sqnorm squares it)
//	B_t  = d_t / Σ_{t' not excluded} d_t' · p·N  task budget (float)
//	I(s) = ĝ(s) · m_t,  m_t = mean_{s' in t} ĝ(s')  instance influence, ĝ = g/max(||g||, 1e-12)
//	       (= mean cosine of s to every example of its task, itself included)
//	w(s) = softmax_t(q · I(s))                    within-task weights
//
// A task with B_t < n_t gets int(B_t) weighted draws without replacement; one
// with B_t >= n_t gets every record floor(B_t/n_t) times plus int(B_t mod n_t)
// weighted draws. Excluded tasks get nothing. Draws use Efraimidis–Spirakis
// keys E_s / w(s), E_s ~ Exp(1), smallest first: the same distribution as
// numpy's sequential np.random.choice(replace=False, p=w), and seeded.
//
// Every per-task draw of every method (tive, tive-task, tive-instance,
// random-per-task, keep) uses the same E_s for the same seed and task
// (common random numbers): methods differ only in their budgets and
// weights, not in their luck. So tive with q = 0 picks tive-task's records,
// tive-instance with q = 0 random-per-task's (both share budgets by task
// size), and the overlap of tive with tive-task at one seed measures what
// the influence weights change.
//
// full keeps every record (the full-data baseline).
//
// The output order is TIVE's: task by task in order of first appearance,
// full copies first (in pool order), then draws in draw order (topk: by
// descending influence). The baselines list their picks in pool order.
package selection

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/tive-dev/tive/harness/field"
	"github.com/tive-dev/tive/harness/grad"
	"github.com/tive-dev/tive/harness/seeds"
)

// The names of the methods that other packages single out.
const (
	Full = "full" // every record, the reference the others are held to
	TIVE = "tive"
	// TIVETask and TIVEInstance are TIVE with one of its two scores: the
	// task difficulties alone (uniform draws within a task), or the
	// instance influences alone (task shares by size).
	TIVETask     = "tive-task"
	TIVEInstance = "tive-instance"
	Keep         = "keep"   // the redundancy study: a fraction of named tasks
	Random       = "random" // uniform over the pool, the plainest baseline
)

// A method is one selection method: its name, its role in the paper's
// comparisons, the inputs it reads, how its budget becomes draws (shares),
// and how it picks (run).
type method struct {
	name   string
	role   role
	needs  Inputs
	shares shares
	run    func(s *selector, res *Result) error
}

// role is what a method is in the paper's comparisons.
type role int

const (
	reference role = iota // full data
	ours                  // TIVE and its two ablations
	baseline              // a method the paper compares TIVE with
	study                 // the redundancy study's keep
)

// shares is how a method spends its budget p·N over the included tasks.
type shares int

const (
	whole        shares = iota // full and keep: no budget
	byDifficulty               // tive, tive-task: shares by mean gradient norm
	bySize                     // tive-instance, random-per-task: shares by task size
	pooled                     // the global methods: int(p·N) records of all included tasks
)

// methods is every method, in the order documentation shows them.
var methods = []method{
	{name: Full, role: reference, shares: whole, run: (*selector).all},
	{name: TIVE, role: ours, needs: Inputs{Features: true, Norms: true}, shares: byDifficulty, run: (*selector).tive},
	{name: TIVETask, role: ours, needs: Inputs{Norms: true}, shares: byDifficulty, run: (*selector).tive},
	{name: TIVEInstance, role: ours, needs: Inputs{Features: true}, shares: bySize, run: (*selector).tive},
	{name: Random, role: baseline, shares: pooled, run: pooledBy((*selector).random)},
	{name: "random-per-task", role: baseline, shares: bySize, run: (*selector).perTask},
	{name: "length", role: baseline, shares: pooled, run: pooledBy((*selector).length)},
	{name: "perplexity", role: baseline, needs: Inputs{Vector: "loss"}, shares: pooled, run: pooledBy((*selector).vector)},
	{name: "el2n", role: baseline, needs: Inputs{Vector: "el2n"}, shares: pooled, run: pooledBy((*selector).vector)},
	{name: "grand", role: baseline, needs: Inputs{Norms: true}, shares: pooled, run: pooledBy((*selector).grand)},
	{name: "less", role: baseline, needs: Inputs{Features: true, Validation: true}, shares: pooled, run: pooledBy((*selector).less)},
	{name: Keep, role: study, shares: whole, run: (*selector).keep},
}

// Methods lists every method name, in the order documentation shows them.
var Methods = namesOf(func(method) bool { return true })

// Baselines lists the methods the paper compares TIVE with, in order.
var Baselines = namesOf(func(m method) bool { return m.role == baseline })

func namesOf(keep func(method) bool) []string {
	var out []string
	for _, m := range methods {
		if keep(m) {
			out = append(out, m.name)
		}
	}
	return out
}

// lookup is the method named name, false when there is none.
func lookup(name string) (method, bool) {
	for _, m := range methods {
		if m.name == name {
			return m, true
		}
	}
	return method{}, false
}

// Inputs says which per-record inputs a method reads beyond task labels.
type Inputs struct {
	Features bool   // projected gradients
	Norms    bool   // unprojected gradient norms
	Vector   string // a per-example reference-model value: "loss" or "el2n"
	// Validation: projected gradients of validation examples, grouped by
	// benchmark (LESS).
	Validation bool
}

// Any reports whether the method needs a reference model's outputs at all.
func (in Inputs) Any() bool { return in.Features || in.Norms || in.Vector != "" || in.Validation }

// Needs says which inputs a method reads (none for an unknown one).
func Needs(name string) Inputs {
	m, _ := lookup(name)
	return m.needs
}

// Pool is what selection sees of an instruction pool of N records.
type Pool struct {
	Tasks    []string      // task label of record i (required)
	Words    []int         // response length in words ("length")
	Norms    []float64     // unprojected gradient L2 norm ("tive", "tive-task", "tive-instance", "grand")
	Features grad.Features // projected gradients [N, d] ("tive", "tive-instance")
	Loss     []float64     // mean response-token loss of the reference model ("perplexity")
	EL2N     []float64     // token-averaged EL2N of the reference model ("el2n")
	// Validation holds projected gradients of validation examples and
	// ValidationGroups the benchmark of each row ("less").
	Validation       grad.Features
	ValidationGroups []string
	Workers          int // goroutines for feature scans; <= 0: GOMAXPROCS
}

// Options configures a selection. A spec's selection section is an
// Options (its yaml keys; Seed is the run's), checked by Validate.
type Options struct {
	Method     string             `yaml:"method" json:"method"`
	Budget     float64            `yaml:"budget" json:"budget"`         // p, fraction of N in (0, 1]; unused by full and keep
	Q          float64            `yaml:"q" json:"q"`                   // softmax temperature factor (released: 0.001)
	Within     string             `yaml:"within" json:"within"`         // "sample" (weighted draws) or "topk" (highest influence)
	Difficulty string             `yaml:"difficulty" json:"difficulty"` // "norm" (released) or "sqnorm"
	Exclude    []string           `yaml:"exclude" json:"exclude"`       // tasks that get nothing but still count in N
	Keep       map[string]float64 `yaml:"keep" json:"keep"`             // keep: fraction of each named task to keep (others: all)
	Order      string             `yaml:"order" json:"order"`           // perplexity: "high" (hardest first) or "low" (easiest first)
	Seed       uint64             `yaml:"-" json:"-"`
}

// Defaults returns the released TIVE settings for method.
func Defaults(method string) Options {
	return Options{Method: method, Budget: 0.15, Q: 0.001, Within: "sample", Difficulty: "norm", Order: "high"}
}

// TaskStat summarises one task.
type TaskStat struct {
	Task       string  `json:"task"`
	N          int     `json:"n"`
	Difficulty float64 `json:"difficulty"` // d_t (0 when the method does not use it)
	Budget     float64 `json:"budget"`     // B_t before truncation
	Selected   int     `json:"selected"`   // records chosen, repeats counted
}

// Result is a selection.
type Result struct {
	Order     []int      // chosen record indices in output order; repeats for upsampling
	Count     []int      // Count[i]: times record i was chosen
	Influence []float64  // I(s) where computed (tive, tive-instance), else nil
	Tasks     []TaskStat // per task, in order of first appearance
}

// Error is a problem with the inputs of a selection. Input names the pool
// input it is about ("norms", "features" or "validation"; "" for the
// options or the pool as a whole), so that a caller can name its file.
type Error struct {
	Input string
	Msg   string
}

func (e *Error) Error() string { return e.Msg }

func errorf(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// inputErrorf is errorf about one input of the pool.
func inputErrorf(input, format string, args ...any) error {
	return &Error{Input: input, Msg: fmt.Sprintf(format, args...)}
}

// Select runs opt.Method on pool.
func Select(pool Pool, opt Options) (*Result, error) {
	n := len(pool.Tasks)
	if n == 0 {
		return nil, errorf("the pool is empty")
	}
	if err := opt.Validate(); err != nil {
		return nil, errorf("%v", err)
	}
	tasks, index := taskIndex(pool.Tasks)
	excluded := make([]bool, len(tasks))
	for _, x := range opt.Exclude {
		k, ok := index[x]
		if !ok {
			return nil, errorf("exclude: task %q has no records (tasks: %s)", x, strings.Join(tasks, ", "))
		}
		excluded[k] = true
	}
	s := &selector{pool: pool, opt: opt, stream: "per-task", tasks: tasks, index: index, excluded: excluded, members: make([][]int, len(tasks))}
	for i, t := range pool.Tasks {
		s.members[index[t]] = append(s.members[index[t]], i)
	}
	res := &Result{Count: make([]int, n)}
	s.m, _ = lookup(opt.Method)
	if err := s.m.run(s, res); err != nil {
		return nil, err
	}
	if len(res.Order) == 0 {
		return nil, errorf("%s with budget %g selects nothing from %d records (every task's budget rounds down to zero)", opt.Method, opt.Budget, n)
	}
	for _, i := range res.Order {
		res.Count[i]++
	}
	return res, nil
}

// SelectsNothing says, before any score is computed, whether opt selects
// nothing from a pool whose tasks have these sizes (Select then fails), with
// Select's message; depends is true when that turns on scores not known
// yet (the task difficulties of tive and tive-task, with a budget of fewer
// records than included tasks). keep and full are never refused here.
func SelectsNothing(opt Options, sizes map[string]int) (msg string, depends bool) {
	n, incTotal, included := 0, 0, 0
	excluded := map[string]bool{}
	for _, x := range opt.Exclude {
		excluded[x] = true
	}
	for t, c := range sizes {
		n += c
		if !excluded[t] && c > 0 {
			incTotal += c
			included++
		}
	}
	b := opt.Budget * float64(n)
	nothing := false
	m, _ := lookup(opt.Method)
	switch m.shares {
	case whole:
		return "", false
	case pooled:
		nothing = int(b) == 0 || incTotal == 0
	case bySize:
		// Shares by task size: int(n_t/Σn_t'·p·N) draws per included task.
		nothing = true
		for t, c := range sizes {
			if !excluded[t] && c > 0 && int(float64(c)/float64(incTotal)*b) > 0 {
				nothing = false
			}
		}
	case byDifficulty:
		switch {
		case b < 1 || incTotal == 0:
			nothing = true
		case b < float64(included):
			return "", true
		}
	}
	if nothing {
		return fmt.Sprintf("%s with budget %g selects nothing from %d records (every task's budget rounds down to zero)", opt.Method, opt.Budget, n), false
	}
	return "", false
}

// Validate returns every setting of o that Select rejects before it looks
// at a pool, one field.Error each: a known method, a budget in (0, 1]
// (but for full and keep), a finite q, within sample or topk, difficulty
// norm or sqnorm, order high or low, and for keep at least one task, each
// fraction in [0, 1] (keep.<task>, in task order).
func (o Options) Validate() error {
	var l field.List
	m, ok := lookup(o.Method)
	if !ok {
		l.Add("method", "unknown method %q (want one of %s)", o.Method, strings.Join(Methods, ", "))
	}
	if ok && m.shares != whole && !(o.Budget > 0 && o.Budget <= 1) {
		l.Add("budget", "%g is outside (0, 1] (a fraction of the pool, e.g. 0.15)", o.Budget)
	}
	if math.IsNaN(o.Q) || math.IsInf(o.Q, 0) {
		l.Add("q", "%g is not finite", o.Q)
	}
	if o.Within != "sample" && o.Within != "topk" {
		l.Add("within", "%q (want sample or topk)", o.Within)
	}
	if o.Difficulty != "norm" && o.Difficulty != "sqnorm" {
		l.Add("difficulty", "%q (want norm or sqnorm)", o.Difficulty)
	}
	if o.Order != "high" && o.Order != "low" {
		l.Add("order", "%q (want high or low)", o.Order)
	}
	if o.Method == Keep && len(o.Keep) == 0 {
		l.Add("keep", "method keep needs at least one task: fraction")
	}
	for _, t := range slices.Sorted(maps.Keys(o.Keep)) {
		if f := o.Keep[t]; !(f >= 0 && f <= 1) {
			l.Add("keep."+t, "%g is outside [0, 1] (the fraction of the task to keep)", f)
		}
	}
	return l.Err()
}

type selector struct {
	pool     Pool
	opt      Options
	m        method // opt.Method's
	stream   string // the first element of each task's stream path (seeds.Rand(Seed, stream, task)): "per-task" for every method, "warmup"
	tasks    []string
	index    map[string]int
	excluded []bool
	members  [][]int // record indices per task, in pool order
}

func taskIndex(labels []string) ([]string, map[string]int) {
	index := map[string]int{}
	var tasks []string
	for _, t := range labels {
		if _, ok := index[t]; !ok {
			index[t] = len(tasks)
			tasks = append(tasks, t)
		}
	}
	return tasks, index
}

func (s *selector) needNorms() error {
	if len(s.pool.Norms) != len(s.pool.Tasks) {
		return inputErrorf("norms", "%s needs one gradient norm per record: %d norms for %d records", s.opt.Method, len(s.pool.Norms), len(s.pool.Tasks))
	}
	for i, v := range s.pool.Norms {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return inputErrorf("norms", "norm of record %d is %v (want finite, >= 0)", i, v)
		}
	}
	return nil
}

// all runs full: every record once, in pool order.
func (s *selector) all(res *Result) error {
	res.Order = make([]int, len(s.pool.Tasks))
	for i := range res.Order {
		res.Order[i] = i
	}
	res.Tasks = s.stats(res.Order, nil)
	return nil
}

// tive runs tive, tive-task and tive-instance: the task difficulties where
// the method reads norms, the instance influences where it reads features.
func (s *selector) tive(res *Result) error {
	n := float64(len(s.pool.Tasks))
	useDifficulty, useInfluence := s.m.needs.Norms, s.m.needs.Features
	if useDifficulty {
		if err := s.needNorms(); err != nil {
			return err
		}
	}
	if useInfluence {
		inf, err := Influence(s.pool.Features, s.pool.Tasks, s.excluded, s.index, s.pool.Workers)
		if err != nil {
			return err
		}
		res.Influence = inf
	}
	weights := make([]float64, len(s.tasks))
	total := 0.0
	for k, m := range s.members {
		st := TaskStat{Task: s.tasks[k], N: len(m)}
		if useDifficulty {
			for _, i := range m {
				v := s.pool.Norms[i]
				if s.opt.Difficulty == "sqnorm" {
					v *= v
				}
				st.Difficulty += v
			}
			st.Difficulty /= float64(len(m))
			weights[k] = st.Difficulty
		} else {
			weights[k] = float64(len(m))
		}
		if !s.excluded[k] {
			total += weights[k]
		}
		res.Tasks = append(res.Tasks, st)
	}
	if !(total > 0) {
		return inputErrorf("norms", "%s: every included task has difficulty 0 (all gradient norms are zero)", s.opt.Method)
	}
	for k, m := range s.members {
		if s.excluded[k] {
			continue
		}
		b := weights[k] / total * s.opt.Budget * n
		res.Tasks[k].Budget = b
		copies := 0
		draws := int(b)
		if b >= float64(len(m)) {
			copies = int(math.Floor(b / float64(len(m))))
			draws = int(math.Mod(b, float64(len(m))))
		}
		for c := 0; c < copies; c++ {
			res.Order = append(res.Order, m...)
		}
		var picked []int
		switch {
		case !useInfluence:
			picked = s.draw(k, m, nil, draws)
		case s.opt.Within == "topk":
			picked = topK(m, res.Influence, draws)
		default:
			w := make([]float64, len(m))
			for j, i := range m {
				w[j] = s.opt.Q * res.Influence[i]
			}
			picked = s.draw(k, m, w, draws)
		}
		res.Order = append(res.Order, picked...)
		res.Tasks[k].Selected = copies*len(m) + len(picked)
	}
	return nil
}

// draw picks k of members without replacement with probabilities
// softmax(logits) (uniform when logits is nil), in draw order, from the
// task's random numbers (seeds.Rand(seed, s.stream, task): the same for every
// selection method).
func (s *selector) draw(task int, members []int, logits []float64, k int) []int {
	if k <= 0 {
		return nil
	}
	rng := seeds.Rand(s.opt.Seed, s.stream, s.tasks[task])
	type key struct {
		v float64
		i int
	}
	mx := math.Inf(-1)
	for _, l := range logits {
		mx = math.Max(mx, l)
	}
	keys := make([]key, len(members))
	for j, i := range members {
		e := rng.ExpFloat64()
		if logits != nil {
			e /= math.Exp(logits[j] - mx)
		}
		keys[j] = key{e, i}
	}
	sort.Slice(keys, func(a, b int) bool {
		if keys[a].v != keys[b].v {
			return keys[a].v < keys[b].v
		}
		return keys[a].i < keys[b].i
	})
	out := make([]int, k)
	for j := range out {
		out[j] = keys[j].i
	}
	return out
}

// topK returns the k members of highest score, ties to the lower index, in
// descending score order.
func topK(members []int, score []float64, k int) []int {
	if k <= 0 {
		return nil
	}
	m := append([]int(nil), members...)
	sort.SliceStable(m, func(a, b int) bool { return score[m[a]] > score[m[b]] })
	return m[:min(k, len(m))]
}

// pooledBy runs a pooled method, whose pick chooses k of the candidates
// (the included tasks' records, in pool order): int(p·N) records, listed
// in pool order.
func pooledBy(pick func(s *selector, cand []int, k int, res *Result) ([]int, error)) func(*selector, *Result) error {
	return func(s *selector, res *Result) error {
		var cand []int
		for k, m := range s.members {
			if !s.excluded[k] {
				cand = append(cand, m...)
			}
		}
		sort.Ints(cand)
		picked, err := pick(s, cand, int(s.opt.Budget*float64(len(s.pool.Tasks))), res)
		if err != nil {
			return err
		}
		sort.Ints(picked)
		res.Order = picked
		res.Tasks = s.stats(picked, nil)
		return nil
	}
}

// random picks k candidates uniformly (one permutation of the random
// stream "random").
func (s *selector) random(cand []int, k int, _ *Result) ([]int, error) {
	rng := seeds.Rand(s.opt.Seed, "random")
	perm := rng.Perm(len(cand))
	var picked []int
	for _, j := range perm[:min(k, len(cand))] {
		picked = append(picked, cand[j])
	}
	return picked, nil
}

// length picks the k candidates of longest response.
func (s *selector) length(cand []int, k int, _ *Result) ([]int, error) {
	if len(s.pool.Words) != len(s.pool.Tasks) {
		return nil, errorf("length needs response lengths: %d for %d records", len(s.pool.Words), len(s.pool.Tasks))
	}
	score := make([]float64, len(s.pool.Words))
	for i, w := range s.pool.Words {
		score[i] = float64(w)
	}
	return topK(cand, score, k), nil
}

// grand picks the k candidates of largest gradient norm.
func (s *selector) grand(cand []int, k int, _ *Result) ([]int, error) {
	if err := s.needNorms(); err != nil {
		return nil, err
	}
	return topK(cand, s.pool.Norms, k), nil
}

// vector runs perplexity and el2n: the k candidates of highest reference
// loss or EL2N (perplexity with order low: of lowest loss).
func (s *selector) vector(cand []int, k int, _ *Result) ([]int, error) {
	v := s.pool.Loss
	if s.m.needs.Vector == "el2n" {
		v = s.pool.EL2N
	}
	if len(v) != len(s.pool.Tasks) {
		return nil, inputErrorf("features", "%s needs the reference model's per-example %s: %d values for %d records", s.opt.Method, s.m.needs.Vector, len(v), len(s.pool.Tasks))
	}
	score := v
	if s.opt.Order == "low" && s.m.needs.Vector == "loss" {
		score = make([]float64, len(v))
		for i, x := range v {
			score[i] = -x
		}
	}
	return topK(cand, score, k), nil
}

// less picks the k candidates of highest LESS score (res.Influence).
func (s *selector) less(cand []int, k int, res *Result) ([]int, error) {
	score, err := LESS(s.pool.Features, s.pool.Validation, s.pool.ValidationGroups, s.pool.Workers)
	if err != nil {
		return nil, err
	}
	res.Influence = score
	return topK(cand, score, k), nil
}

// LESS scores every training example by its largest mean cosine to a
// validation group (Xia et al., LESS, with plain SGD gradients):
//
//	score(s) = max_b ĝ(s) · m_b,  m_b = mean_{v in b} ĝ(v)
//
// ĝ the L2-normalised projected gradients (train and validation must share
// the projector). One pass over the training features: O(N·d·B).
func LESS(train, val grad.Features, groups []string, workers int) ([]float64, error) {
	if train == nil || val == nil {
		return nil, errorf("less needs training and validation gradient features")
	}
	if val.Len() != len(groups) || val.Len() == 0 {
		return nil, inputErrorf("validation", "less: %d validation rows for %d group labels", val.Len(), len(groups))
	}
	d := train.Dim()
	if val.Dim() != d {
		return nil, inputErrorf("validation", "less: validation features have %d dimensions, training ones %d (they must share the projector)", val.Dim(), d)
	}
	names, index := taskIndex(groups)
	nb := len(names)
	workers = grad.Workers(workers)
	group := make([]int, len(groups))
	for i, g := range groups {
		group[i] = index[g]
	}
	mean, _, err := groupMeans(val, group, nb, workers, "validation features row %d")
	if err != nil {
		return nil, err
	}
	score := make([]float64, train.Len())
	err = train.Scan(workers, func(w, i int, row []float32) error {
		ss := sumSquares(row)
		if math.IsNaN(ss) || math.IsInf(ss, 0) {
			return inputErrorf("features", "features row %d (record %d) holds a NaN or infinite value", i, i)
		}
		inv := 1 / math.Max(math.Sqrt(ss), 1e-12)
		best := math.Inf(-1)
		for k := 0; k < nb; k++ {
			best = math.Max(best, dot(row, mean[k*d:(k+1)*d])*inv)
		}
		score[i] = best
		return nil
	})
	return score, err
}

// perTask runs random-per-task: budgets proportional to task size
// (B_t = n_t / Σ_included n_t' · p·N), int(B_t) uniform draws per task.
func (s *selector) perTask(res *Result) error {
	total := 0
	for k, m := range s.members {
		if !s.excluded[k] {
			total += len(m)
		}
	}
	budgets := make([]float64, len(s.tasks))
	var picked []int
	for k, m := range s.members {
		if s.excluded[k] {
			continue
		}
		budgets[k] = float64(len(m)) / float64(total) * s.opt.Budget * float64(len(s.pool.Tasks))
		picked = append(picked, s.draw(k, m, nil, min(int(budgets[k]), len(m)))...)
	}
	sort.Ints(picked)
	res.Order = picked
	res.Tasks = s.stats(picked, budgets)
	return nil
}

// keep runs the redundancy ablation: int(f·n_t) uniform draws from each task
// named in Keep, every record of the other tasks, in pool order.
func (s *selector) keep(res *Result) error {
	budgets := make([]float64, len(s.tasks))
	for t := range s.opt.Keep {
		if _, ok := s.index[t]; !ok {
			return errorf("keep: task %q has no records (tasks: %s)", t, strings.Join(s.tasks, ", "))
		}
	}
	var picked []int
	for k, m := range s.members {
		f, ok := s.opt.Keep[s.tasks[k]]
		if !ok {
			f = 1
		}
		if s.excluded[k] {
			f = 0
		}
		budgets[k] = f * float64(len(m))
		if f == 1 {
			picked = append(picked, m...)
		} else {
			picked = append(picked, s.draw(k, m, nil, int(budgets[k]))...)
		}
	}
	sort.Ints(picked)
	res.Order = picked
	res.Tasks = s.stats(picked, budgets)
	return nil
}

func (s *selector) stats(picked []int, budgets []float64) []TaskStat {
	out := make([]TaskStat, len(s.tasks))
	for k, m := range s.members {
		out[k] = TaskStat{Task: s.tasks[k], N: len(m)}
		if budgets != nil {
			out[k].Budget = budgets[k]
		}
	}
	for _, i := range picked {
		out[s.index[s.pool.Tasks[i]]].Selected++
	}
	return out
}

// Influence computes I(s) = ĝ(s) · m_t for every record of an included task
// (0 for excluded ones) in two sequential passes over the features: O(N·d)
// time, O(T·d) memory. A row with a NaN or infinite value is an error naming it.
func Influence(f grad.Features, labels []string, excluded []bool, index map[string]int, workers int) ([]float64, error) {
	if f == nil {
		return nil, errorf("instance influence needs gradient features")
	}
	n := len(labels)
	if f.Len() != n {
		return nil, inputErrorf("features", "features have %d rows but the pool has %d records (row i must be record i)", f.Len(), n)
	}
	d := f.Dim()
	workers = grad.Workers(workers)
	task := make([]int, n) // -1: an excluded task's record, skipped
	for i, t := range labels {
		if task[i] = index[t]; excluded[task[i]] {
			task[i] = -1
		}
	}
	mean, inv, err := groupMeans(f, task, len(excluded), workers, "features row %d (record %[1]d)")
	if err != nil {
		return nil, err
	}
	inf := make([]float64, n)
	err = f.Scan(workers, func(w, i int, row []float32) error {
		if k := task[i]; k >= 0 {
			inf[i] = dot(row, mean[k*d:(k+1)*d]) * inv[i]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return inf, nil
}

// Warmup draws TIVE's warm-up set (select_warm_up_data.py): from every task,
// int(N·r/T) records uniformly without replacement, T the number of task
// labels, tasks in order of first appearance, records in draw order. A task
// with fewer records than that is an error, as in the released script.
func Warmup(labels []string, ratio float64, seed uint64) ([]int, error) {
	if !(ratio > 0 && ratio <= 1) {
		return nil, errorf("warm-up ratio %g is outside (0, 1]", ratio)
	}
	tasks, index := taskIndex(labels)
	per := int(float64(len(labels)) * ratio / float64(len(tasks)))
	if per == 0 {
		return nil, errorf("warm-up ratio %g of %d records over %d tasks gives 0 records per task", ratio, len(labels), len(tasks))
	}
	s := &selector{opt: Options{Method: "warmup", Seed: seed}, stream: "warmup", tasks: tasks, members: make([][]int, len(tasks))}
	for i, t := range labels {
		s.members[index[t]] = append(s.members[index[t]], i)
	}
	var out []int
	for k, m := range s.members {
		if len(m) < per {
			return nil, errorf("warm-up: task %q has %d records, fewer than the %d each task gives", tasks[k], len(m), per)
		}
		out = append(out, s.draw(k, m, nil, per)...)
	}
	return out, nil
}
