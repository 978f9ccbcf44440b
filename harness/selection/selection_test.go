package selection

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tive-dev/tive/harness/grad"
)

// testPool builds a pool of tasks with the given sizes, random features and
// norms that differ by task.
func testPool(seed uint64, sizes map[string]int, order []string, d int) Pool {
	rng := rand.New(rand.NewPCG(seed, 1))
	var p Pool
	for _, t := range order {
		for j := 0; j < sizes[t]; j++ {
			p.Tasks = append(p.Tasks, t)
		}
	}
	// Interleave tasks a little so "first appearance" matters.
	rng.Shuffle(len(p.Tasks), func(a, b int) { p.Tasks[a], p.Tasks[b] = p.Tasks[b], p.Tasks[a] })
	n := len(p.Tasks)
	f := &grad.Dense{N: n, D: d, Data: make([]float32, n*d)}
	for i := range f.Data {
		f.Data[i] = float32(rng.NormFloat64())
	}
	for i := 0; i < n; i++ { // a shared direction per task makes cosines task-specific
		bias := float32(len(p.Tasks[i])) / 4
		for j := 0; j < d; j += 3 {
			f.Row(i)[j] += bias
		}
	}
	p.Features = f
	for i := 0; i < n; i++ {
		p.Norms = append(p.Norms, float64(len(p.Tasks[i]))+rng.Float64())
		p.Words = append(p.Words, rng.IntN(100))
	}
	return p
}

// bruteInfluence is the released code's n x n cosine matrix, row means.
func bruteInfluence(p Pool) []float64 {
	f := p.Features.(*grad.Dense)
	norm := func(i int) []float64 {
		r := f.Row(i)
		s := 0.0
		for _, x := range r {
			s += float64(x) * float64(x)
		}
		out := make([]float64, len(r))
		for j, x := range r {
			out[j] = float64(x) / math.Max(math.Sqrt(s), 1e-12)
		}
		return out
	}
	out := make([]float64, len(p.Tasks))
	for i := range p.Tasks {
		a, sum, cnt := norm(i), 0.0, 0
		for j := range p.Tasks {
			if p.Tasks[j] != p.Tasks[i] {
				continue
			}
			b := norm(j)
			for k := range a {
				sum += a[k] * b[k]
			}
			cnt++
		}
		out[i] = sum / float64(cnt)
	}
	return out
}

var sizes = map[string]int{"vqav2": 120, "gqa": 90, "refcoco": 40, "textcaps": 25, "ocrvqa": 8}
var order = []string{"vqav2", "gqa", "refcoco", "textcaps", "ocrvqa"}

func TestInfluenceMatchesBruteForce(t *testing.T) {
	p := testPool(1, sizes, order, 33)
	want := bruteInfluence(p)
	for _, workers := range []int{1, 2, 3} {
		tasks, index := taskIndex(p.Tasks)
		got, err := Influence(p.Features, p.Tasks, make([]bool, len(tasks)), index, workers)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-12 {
				t.Fatalf("workers=%d: I[%d] = %.15f, brute force %.15f", workers, i, got[i], want[i])
			}
		}
	}
}

// TestTiveBudgetsMatchReleasedFormula recomputes the task budgets, counts and
// order independently of the implementation.
func TestTiveBudgetsMatchReleasedFormula(t *testing.T) {
	p := testPool(2, sizes, order, 16)
	for _, tc := range []struct {
		budget  float64
		exclude []string
	}{{0.15, nil}, {0.15, []string{"textcaps"}}, {0.5, []string{"textcaps"}}, {0.9, nil}} {
		opt := Defaults("tive")
		opt.Budget, opt.Exclude, opt.Seed = tc.budget, tc.exclude, 7
		res, err := Select(p, opt)
		if err != nil {
			t.Fatal(err)
		}
		// Reference: d_t, total over included tasks, B_t, counts.
		tasks, _ := taskIndex(p.Tasks)
		sum, cnt := map[string]float64{}, map[string]int{}
		for i, task := range p.Tasks {
			sum[task] += p.Norms[i]
			cnt[task]++
		}
		total := 0.0
		for _, task := range tasks {
			if !slices.Contains(tc.exclude, task) {
				total += sum[task] / float64(cnt[task])
			}
		}
		var wantTaskOrder []string
		for k, task := range tasks {
			st := res.Tasks[k]
			if st.Task != task || st.N != cnt[task] {
				t.Fatalf("task %d: %+v, want %s n=%d", k, st, task, cnt[task])
			}
			want := 0
			if !slices.Contains(tc.exclude, task) {
				b := sum[task] / float64(cnt[task]) / total * tc.budget * float64(len(p.Tasks))
				if math.Abs(st.Budget-b) > 1e-9 {
					t.Errorf("%s budget %v, want %v", task, st.Budget, b)
				}
				n := cnt[task]
				if b < float64(n) {
					want = int(b)
				} else {
					want = int(math.Floor(b/float64(n)))*n + int(math.Mod(b, float64(n)))
				}
				for j := 0; j < want; j++ {
					wantTaskOrder = append(wantTaskOrder, task)
				}
			}
			if st.Selected != want {
				t.Errorf("budget %v exclude %v: %s selected %d, want %d", tc.budget, tc.exclude, task, st.Selected, want)
			}
		}
		var gotTaskOrder []string
		for _, i := range res.Order {
			gotTaskOrder = append(gotTaskOrder, p.Tasks[i])
		}
		if d := cmp.Diff(wantTaskOrder, gotTaskOrder); d != "" {
			t.Errorf("output is not task by task in order of first appearance (-want +got):\n%s", d)
		}
	}
}

func TestUpsamplingCopiesEveryRecordThenDraws(t *testing.T) {
	// One cheap task (norm 1) and one hard task (norm 30): at p=0.9 the hard
	// task's budget exceeds its size.
	p := Pool{}
	for i := 0; i < 100; i++ {
		p.Tasks = append(p.Tasks, "easy")
		p.Norms = append(p.Norms, 1)
	}
	for i := 0; i < 10; i++ {
		p.Tasks = append(p.Tasks, "hard")
		p.Norms = append(p.Norms, 30)
	}
	opt := Defaults("tive-task")
	opt.Budget = 0.9
	res, err := Select(p, opt)
	if err != nil {
		t.Fatal(err)
	}
	// B_hard = 30/31 * 99 = 95.806...: 9 full copies + int(5.806) = 5 draws.
	hard := res.Tasks[1]
	if hard.Selected != 95 || math.Abs(hard.Budget-30.0/31*99) > 1e-9 {
		t.Fatalf("hard: %+v", hard)
	}
	for i := 100; i < 110; i++ {
		if c := res.Count[i]; c != 9 && c != 10 {
			t.Errorf("hard record %d chosen %d times, want 9 or 10", i, c)
		}
	}
	easyOut := res.Order[:3]
	hardOut := res.Order[3:]
	if len(easyOut) != 3 || !reflect.DeepEqual(hardOut[:10], []int{100, 101, 102, 103, 104, 105, 106, 107, 108, 109}) {
		t.Errorf("order: %v", res.Order)
	}
}

func TestTopKIsDeterministicAndHighestInfluence(t *testing.T) {
	p := testPool(3, sizes, order, 16)
	opt := Defaults("tive")
	opt.Within = "topk"
	a, err := Select(p, opt)
	if err != nil {
		t.Fatal(err)
	}
	opt.Seed = 99
	b, _ := Select(p, opt)
	if !reflect.DeepEqual(a.Order, b.Order) {
		t.Fatal("topk depends on the seed")
	}
	for _, st := range a.Tasks {
		var chosen, rest []float64
		for i, task := range p.Tasks {
			if task != st.Task {
				continue
			}
			if a.Count[i] > 0 {
				chosen = append(chosen, a.Influence[i])
			} else {
				rest = append(rest, a.Influence[i])
			}
		}
		for _, c := range chosen {
			for _, r := range rest {
				if r > c {
					t.Fatalf("%s: unchosen influence %v above chosen %v", st.Task, r, c)
				}
			}
		}
	}
}

func TestSameSeedSameSubsetOtherSeedOtherSubset(t *testing.T) {
	p := testPool(4, sizes, order, 16)
	for _, m := range []string{"tive", "tive-task", "tive-instance", "random", "random-per-task"} {
		opt := Defaults(m)
		opt.Seed = 5
		a, err := Select(p, opt)
		if err != nil {
			t.Fatal(m, err)
		}
		b, _ := Select(p, opt)
		if !reflect.DeepEqual(a.Order, b.Order) {
			t.Errorf("%s: same seed, different subsets", m)
		}
		opt.Seed = 6
		c, _ := Select(p, opt)
		if reflect.DeepEqual(a.Order, c.Order) {
			t.Errorf("%s: seeds 5 and 6 give the same subset", m)
		}
	}
}

// TestWeightedDrawFollowsSoftmax checks that Efraimidis–Spirakis keys give the
// first draw with probability softmax(q·I), as np.random.choice does.
func TestWeightedDrawFollowsSoftmax(t *testing.T) {
	logits := []float64{0, 1, 2, -1}
	members := []int{0, 1, 2, 3}
	z := 0.0
	for _, l := range logits {
		z += math.Exp(l)
	}
	counts := make([]int, 4)
	trials := 20000
	for s := 0; s < trials; s++ {
		sel := &selector{opt: Options{Method: "t", Seed: uint64(s)}, tasks: []string{"x"}}
		counts[sel.draw(0, members, logits, 1)[0]]++
	}
	for j, l := range logits {
		want := math.Exp(l) / z
		got := float64(counts[j]) / float64(trials)
		sd := math.Sqrt(want * (1 - want) / float64(trials))
		if math.Abs(got-want) > 5*sd {
			t.Errorf("P(first = %d) = %.4f, want %.4f ± %.4f", j, got, want, 5*sd)
		}
	}
}

func TestBaselines(t *testing.T) {
	p := testPool(5, sizes, order, 8)
	n := len(p.Tasks)
	for _, m := range []string{"random", "length", "grand"} {
		opt := Defaults(m)
		opt.Budget = 0.2
		res, err := Select(p, opt)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Order) != int(0.2*float64(n)) {
			t.Errorf("%s chose %d, want %d", m, len(res.Order), int(0.2*float64(n)))
		}
		for k := 1; k < len(res.Order); k++ {
			if res.Order[k] <= res.Order[k-1] {
				t.Fatalf("%s: output not in pool order", m)
			}
		}
		if m == "grand" || m == "length" {
			score := func(i int) float64 {
				if m == "grand" {
					return p.Norms[i]
				}
				return float64(p.Words[i])
			}
			lo := math.Inf(1)
			for _, i := range res.Order {
				lo = math.Min(lo, score(i))
			}
			for i := range p.Tasks {
				if res.Count[i] == 0 && score(i) > lo {
					t.Fatalf("%s: unchosen %v above chosen minimum %v", m, score(i), lo)
				}
			}
		}
	}
	opt := Defaults("random-per-task")
	opt.Budget = 0.25
	res, _ := Select(p, opt)
	for _, st := range res.Tasks {
		if st.Selected != int(0.25*float64(st.N)) {
			t.Errorf("random-per-task %s: %d of %d", st.Task, st.Selected, st.N)
		}
	}
	opt = Defaults("keep")
	opt.Keep = map[string]float64{"gqa": 0.2, "refcoco": 0}
	res, _ = Select(p, opt)
	for _, st := range res.Tasks {
		want := st.N
		switch st.Task {
		case "gqa":
			want = 18
		case "refcoco":
			want = 0
		}
		if st.Selected != want {
			t.Errorf("keep %s: %d, want %d", st.Task, st.Selected, want)
		}
	}
}

func TestPerplexityAndEL2N(t *testing.T) {
	p := Pool{Tasks: []string{"a", "a", "b", "b", "a", "b", "a", "b", "a", "b"}}
	p.Loss = []float64{5, 1, 9, 3, 7, 2, 8, 6, 4, 0}
	p.EL2N = []float64{0, 9, 1, 8, 2, 7, 3, 6, 4, 5}
	for _, tc := range []struct {
		method, order string
		want          []int
	}{
		{"perplexity", "high", []int{2, 4, 6}},
		{"perplexity", "low", []int{1, 5, 9}},
		{"el2n", "high", []int{1, 3, 5}},
	} {
		opt := Defaults(tc.method)
		opt.Budget, opt.Order = 0.3, tc.order
		res, err := Select(p, opt)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(tc.want, res.Order); d != "" {
			t.Errorf("%s %s (-want +got):\n%s", tc.method, tc.order, d)
		}
	}
	p.EL2N = nil
	if _, err := Select(p, Defaults("el2n")); err == nil || !strings.Contains(err.Error(), "el2n needs the reference model's per-example el2n") {
		t.Errorf("missing el2n: %v", err)
	}
}

func TestTiveInstanceBudgetsFollowTaskSize(t *testing.T) {
	p := testPool(6, sizes, order, 8)
	opt := Defaults("tive-instance")
	opt.Budget = 0.5
	res, err := Select(p, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range res.Tasks {
		if want := int(float64(st.N) * 0.5); st.Selected != want && st.Selected != want-1 {
			t.Errorf("%s: %d of %d", st.Task, st.Selected, st.N)
		}
	}
}

func TestBadInput(t *testing.T) {
	p := testPool(7, sizes, order, 8)
	nanPool := testPool(7, sizes, order, 8)
	nanPool.Features.(*grad.Dense).Data[8*5+3] = float32(math.NaN())
	short := testPool(7, sizes, order, 8)
	short.Features = &grad.Dense{N: 3, D: 8, Data: make([]float32, 24)}
	infNorm := testPool(7, sizes, order, 8)
	infNorm.Norms[4] = math.Inf(1)
	for _, tc := range []struct {
		name string
		pool Pool
		mut  func(*Options)
		want string
	}{
		{"nan feature", nanPool, nil, "features row 5 (record 5) holds a NaN"},
		{"row count", short, nil, "features have 3 rows but the pool has 283 records"},
		{"inf norm", infNorm, nil, "norm of record 4 is +Inf"},
		{"budget", p, func(o *Options) { o.Budget = 1.5 }, "budget: 1.5 is outside (0, 1]"},
		{"zero budget", p, func(o *Options) { o.Budget = 0.001 }, "selects nothing"},
		{"exclude unknown", p, func(o *Options) { o.Exclude = []string{"vizwiz"} }, `exclude: task "vizwiz" has no records`},
		{"keep unknown", p, func(o *Options) { o.Method = "keep"; o.Keep = map[string]float64{"nope": 0.5} }, `keep: task "nope" has no records`},
		{"method", p, func(o *Options) { o.Method = "best" }, `method: unknown method "best"`},
		{"within", p, func(o *Options) { o.Within = "all" }, `within: "all"`},
	} {
		opt := Defaults("tive")
		if tc.mut != nil {
			tc.mut(&opt)
		}
		_, err := Select(tc.pool, opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestWarmup(t *testing.T) {
	p := testPool(8, sizes, order, 4)
	idx, err := Warmup(p.Tasks, 0.08, 1)
	if err != nil {
		t.Fatal(err)
	}
	per := int(float64(len(p.Tasks)) * 0.08 / 5) // 4
	if len(idx) != 5*per {
		t.Fatalf("%d records, want %d", len(idx), 5*per)
	}
	tasks, _ := taskIndex(p.Tasks)
	for k, task := range tasks {
		for _, i := range idx[k*per : (k+1)*per] {
			if p.Tasks[i] != task {
				t.Fatalf("warm-up block %d holds %s", k, p.Tasks[i])
			}
		}
	}
	if _, err := Warmup(p.Tasks, 0.5, 1); err == nil || !strings.Contains(err.Error(), "fewer than the 28 each task gives") {
		t.Errorf("too-small task: %v", err)
	}
}

func Example() {
	pool := Pool{
		Tasks: []string{"vqa", "vqa", "vqa", "vqa", "ocr", "ocr"},
		Norms: []float64{1, 1, 1, 1, 3, 3},
	}
	opt := Defaults("tive-task") // TIVE budgets, uniform within tasks
	opt.Budget = 0.5
	res, _ := Select(pool, opt)
	for _, st := range res.Tasks {
		fmt.Printf("%s: d=%g budget=%.2f selected=%d\n", st.Task, st.Difficulty, st.Budget, st.Selected)
	}
	// Output:
	// vqa: d=1 budget=0.75 selected=0
	// ocr: d=3 budget=2.25 selected=2
}

func TestLESSMatchesBruteForce(t *testing.T) {
	p := testPool(9, sizes, order, 12)
	rng := rand.New(rand.NewPCG(9, 9))
	val := &grad.Dense{N: 7, D: 12, Data: make([]float32, 7*12)}
	for i := range val.Data {
		val.Data[i] = float32(rng.NormFloat64())
	}
	groups := []string{"pope", "mme", "pope", "gqa", "mme", "pope", "gqa"}
	p.Validation, p.ValidationGroups = val, groups
	unit := func(r []float32) []float64 {
		s := 0.0
		for _, x := range r {
			s += float64(x) * float64(x)
		}
		out := make([]float64, len(r))
		for j, x := range r {
			out[j] = float64(x) / math.Sqrt(s)
		}
		return out
	}
	f := p.Features.(*grad.Dense)
	opt := Defaults("less")
	opt.Budget = 0.1
	res, err := Select(p, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < f.N; i++ {
		a := unit(f.Row(i))
		best := math.Inf(-1)
		for _, g := range []string{"pope", "mme", "gqa"} {
			sum, n := 0.0, 0
			for v, vg := range groups {
				if vg != g {
					continue
				}
				b := unit(val.Row(v))
				for j := range a {
					sum += a[j] * b[j]
				}
				n++
			}
			best = math.Max(best, sum/float64(n))
		}
		if math.Abs(res.Influence[i]-best) > 1e-12 {
			t.Fatalf("LESS score of %d = %v, brute force %v", i, res.Influence[i], best)
		}
	}
	if len(res.Order) != int(0.1*float64(f.N)) {
		t.Errorf("less chose %d", len(res.Order))
	}
}

// TestSelectsNothingAgreesWithSelect: on random pools, budgets and
// exclusions, SelectsNothing refuses exactly what Select refuses for every
// method whose shares do not depend on scores, and for tive and tive-task
// it refuses only what Select refuses (and is unsure only in between).
func TestSelectsNothingAgreesWithSelect(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	names := []string{"a", "bb", "ccc", "dddd"}
	refused := map[string]int{}
	for trial := range 300 {
		sizes := map[string]int{}
		for _, nm := range names[:1+rng.IntN(4)] {
			sizes[nm] = 1 + rng.IntN(40)
		}
		order := slices.Sorted(maps.Keys(sizes))
		pool := testPool(uint64(trial), sizes, order, 4)
		var exclude []string
		if len(order) > 1 && rng.IntN(3) == 0 {
			exclude = []string{order[0]}
		}
		budget := math.Pow(10, -3*rng.Float64()) // 0.001 .. 1
		for _, m := range []string{"random", "length", "random-per-task", "tive-instance", "tive", "tive-task"} {
			opt := Options{Method: m, Budget: budget, Q: 0.5, Within: "sample", Difficulty: "norm", Order: "high", Exclude: exclude, Seed: 1}
			_, err := Select(pool, opt)
			empty := err != nil && strings.Contains(err.Error(), "selects nothing")
			if empty {
				refused[m]++
			}
			if err != nil && !empty {
				t.Fatalf("trial %d %s: %v", trial, m, err)
			}
			msg, depends := SelectsNothing(opt, sizes)
			switch {
			case depends && (m != "tive" && m != "tive-task"):
				t.Fatalf("trial %d %s: unsure, but its shares do not depend on scores", trial, m)
			case !depends && (msg != "") != empty:
				t.Fatalf("trial %d %s budget %g sizes %v exclude %v: SelectsNothing %q, Select %v", trial, m, budget, sizes, exclude, msg, err)
			case msg != "" && msg != err.Error():
				t.Fatalf("trial %d %s: message %q, Select's %q", trial, m, msg, err)
			}
		}
	}
	for m, k := range refused {
		if k < 10 || k > 290 {
			t.Errorf("%s refused in %d of 300 trials: the trials do not test both sides", m, k)
		}
	}
	if len(refused) != 6 {
		t.Errorf("refusals by method %v: every method should be refused in some trials", refused)
	}
}

// TestPerTaskDrawsShareRandomNumbers: every method draws a task from the
// same random numbers, so tive with q = 0 picks exactly tive-task's
// records in the same order, tive-instance with q = 0 random-per-task's
// records, and with the released q = 0.001 tive picks (nearly) tive-task's;
// a large q moves the draw away from the uniform one.
func TestPerTaskDrawsShareRandomNumbers(t *testing.T) {
	p := testPool(3, sizes, order, 16)
	sel := func(method string, q float64) []int {
		opt := Defaults(method)
		opt.Seed, opt.Q = 9, q
		res, err := Select(p, opt)
		if err != nil {
			t.Fatal(method, err)
		}
		return res.Order
	}
	if d := cmp.Diff(sel("tive-task", 0), sel("tive", 0)); d != "" {
		t.Errorf("tive at q = 0 picks other records than tive-task (-tive-task +tive):\n%s", d)
	}
	a, b := slices.Clone(sel("tive-instance", 0)), sel("random-per-task", 0)
	slices.Sort(a)
	if d := cmp.Diff(b, a); d != "" {
		t.Errorf("tive-instance at q = 0 picks other records than random-per-task (-random-per-task +tive-instance):\n%s", d)
	}
	shared := func(x, y []int) float64 {
		n := 0
		for _, i := range x {
			if slices.Contains(y, i) {
				n++
			}
		}
		return float64(n) / float64(len(x))
	}
	uniform := sel("tive-task", 0)
	if f := shared(sel("tive", 0.001), uniform); f < 0.95 {
		t.Errorf("tive at q = 0.001 shares %.2f of its records with tive-task, want ≥ 0.95", f)
	}
	if f := shared(sel("tive", 100), uniform); f > 0.8 {
		t.Errorf("tive at q = 100 shares %.2f of its records with tive-task, want ≤ 0.8", f)
	}
}
