package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tive-dev/tive/harness/spec"
	"github.com/tive-dev/tive/harness/store"
)

// StageResult reports one stage of a run.
type StageResult struct {
	Stage   string  `json:"stage"`
	Key     string  `json:"key"`
	Status  string  `json:"status"` // "ran", "cached" or "failed"
	Seconds float64 `json:"seconds"`
	Run     string  `json:"run,omitempty"`
}

// Summary is what `tive run --json` prints.
type Summary struct {
	Spec    string        `json:"spec"`
	Runs    int           `json:"runs"`
	Stages  []StageResult `json:"stages"`
	Results string        `json:"results"`
}

// RunResult lists one run's stage outputs, in the study's results file.
type RunResult struct {
	Label    string            `json:"label"`
	Seed     uint64            `json:"seed"`
	SpecHash string            `json:"spec_hash"`
	Outputs  map[string]string `json:"outputs"` // stage -> output folder
	Keys     map[string]string `json:"keys"`    // stage -> key
}

// Results is the study's results file: results/<name>-<hash>.json in the store.
type Results struct {
	Spec     string      `json:"spec"`
	Name     string      `json:"name"`
	Profile  string      `json:"profile,omitempty"`
	Hash     string      `json:"hash"`
	Runs     []RunResult `json:"runs"`
	Finished time.Time   `json:"finished"`
}

// Runner runs studies through a store.
type Runner struct {
	Store *store.Store
	// Plan lists the stage invocations of one run, in dependency order
	// (stages.Plan, which also registers the stages it plans).
	Plan     func(*spec.Run) []*Node
	Progress io.Writer // progress lines; nil: silent
	Workers  int
	Executor Executor // where stages run; nil: Local
}

// Run runs every stage of every run of st that the store lacks and writes
// the study's results file. Stages run in waves: the first stage kind in
// dependency order that has a stage ready (its inputs committed) goes to the
// executor as one batch together with every other ready stage of that kind,
// so a sweep's independent runs go out together (one job array on Slurm).
// Output of finished stages survives any failure or kill; a rerun reuses it.
func (r *Runner) Run(ctx context.Context, st *spec.Study) (*Summary, error) {
	if r.Plan == nil {
		return nil, errors.New("pipeline: a Runner needs a Plan (stages.Plan)")
	}
	lock, err := r.Store.Lock(r.Progress)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	if err := r.Store.CleanTmp(); err != nil {
		return nil, err
	}
	sum := &Summary{Spec: st.File, Runs: len(st.Runs)}
	type planned struct {
		run   *spec.Run
		nodes []*Node
	}
	var plans []planned
	var order []*Node
	seen := map[string]bool{}
	for i := range st.Runs {
		run := &st.Runs[i]
		nodes := r.Plan(run)
		if err := Keys(r.Store, nodes); err != nil {
			return sum, err
		}
		for _, n := range nodes {
			if !seen[n.key] {
				seen[n.key] = true
				order = append(order, n)
			}
		}
		plans = append(plans, planned{run, nodes})
	}
	results := make([]*StageResult, len(order))
	done := map[string]bool{}
	var pending []int // positions in order of the stages still to run
	for i, n := range order {
		if r.Store.Has(n.key) {
			// Trust nothing on disk: a stored output that no longer matches
			// its manifest goes aside and is recomputed before any stage (or
			// the report) reads it.
			if verr := r.Store.Verify(n.key); verr != nil {
				dst, err := r.Store.Quarantine(n.key)
				if err != nil {
					return sum, fmt.Errorf("stage %s: %s is corrupt (%v) and could not be moved aside: %w", n, n.key[:12], verr, err)
				}
				r.logf("[%d/%d] %s: %s is corrupt: %v; moved to %s, recomputing it\n", i+1, len(order), n, n.key[:12], verr, dst)
				pending = append(pending, i)
				continue
			}
			results[i] = &StageResult{Stage: n.Stage, Key: n.key, Run: n.Label, Status: "cached"}
			r.logf("[%d/%d] %s: cached %s\n", i+1, len(order), n, n.key[:12])
			done[n.key] = true
			continue
		}
		pending = append(pending, i)
	}
	for len(pending) > 0 && err == nil {
		var wave, rest []int
		for _, i := range pending {
			if order[i].Stage == order[pending[0]].Stage && ready(order[i], done) {
				wave = append(wave, i)
			} else {
				rest = append(rest, i)
			}
		}
		pending = rest
		err = r.runWave(ctx, st, order, wave, results, done)
	}
	for _, res := range results {
		if res != nil {
			sum.Stages = append(sum.Stages, *res)
		}
	}
	if err != nil {
		return sum, err
	}
	out := Results{Spec: st.File, Profile: st.Profile, Hash: st.Hash(), Finished: time.Now().UTC()}
	for _, p := range plans {
		rr := RunResult{Label: p.run.Label, Seed: p.run.Seed, SpecHash: p.run.Hash(), Outputs: map[string]string{}, Keys: map[string]string{}}
		for _, n := range p.nodes {
			if _, ok := rr.Keys[n.Stage]; ok {
				continue // a stage planned twice (Plan: a planted world's parts) names its first node
			}
			rr.Outputs[n.Stage] = r.Store.Path(n.key)
			rr.Keys[n.Stage] = n.key
		}
		out.Runs = append(out.Runs, rr)
	}
	if len(st.Runs) > 0 {
		out.Name = st.Runs[0].Name
	}
	name := out.Name
	if st.Profile != "" {
		name += "-" + st.Profile
	}
	sum.Results = filepath.Join(r.Store.Dir, "results", name+".json")
	return sum, WriteJSON(sum.Results, out)
}

// ready reports whether every upstream stage of n is committed.
func ready(n *Node, done map[string]bool) bool {
	for _, ref := range n.Inputs {
		if ref.Node != nil && !done[ref.Node.key] {
			return false
		}
	}
	return true
}

func (r *Runner) logf(format string, args ...any) {
	if r.Progress != nil {
		fmt.Fprintf(r.Progress, format, args...)
	}
}

// runWave runs the stages order[wave] (one stage kind, inputs committed) as
// one batch through the executor, checking and committing each output as it
// ends and recording its result. It returns the executor's error, or else
// the first failed stage's (in wave order).
func (r *Runner) runWave(ctx context.Context, st *spec.Study, order []*Node, wave []int, results []*StageResult, done map[string]bool) error {
	stg := stages[order[wave[0]].Stage]
	batch := make([]Invocation, len(wave))
	for b, i := range wave {
		n := order[i]
		c, err := r.call(n, stg, fmt.Sprintf("[%d/%d] %s", i+1, len(order), n))
		if err != nil {
			return fmt.Errorf("stage %s: %w", n, err)
		}
		batch[b] = Invocation{Call: c, Key: n.key}
		r.logf("[%d/%d] %s: running\n", i+1, len(order), n)
		r.Store.At("stage-start:" + n.Stage)
	}
	failed := make([]error, len(wave))
	finish := func(b int, seconds float64, err error) {
		i, n, c := wave[b], order[wave[b]], batch[b].Call
		if err == nil && stg.Check != nil {
			err = stg.Check(c)
		}
		if err == nil {
			err = r.commit(n, stg, st, c, seconds)
		} else if !stg.Resumable {
			os.RemoveAll(c.Out)
		}
		results[i] = &StageResult{Stage: n.Stage, Key: n.key, Run: n.Label, Seconds: seconds, Status: "ran"}
		if err != nil {
			results[i].Status = "failed"
			failed[b] = fmt.Errorf("stage %s: %w", n, err)
			r.logf("[%d/%d] %s: failed after %.1fs\n", i+1, len(order), n, seconds)
			return
		}
		done[n.key] = true
		r.logf("[%d/%d] %s: ran in %.2fs -> %s\n", i+1, len(order), n, seconds, n.key[:12])
	}
	ex := r.Executor
	if ex == nil {
		ex = Local{}
	}
	if err := ex.Execute(ctx, stg, batch, finish); err != nil {
		for _, i := range wave {
			if results[i] == nil {
				return fmt.Errorf("stage %s: %w", order[i], err)
			}
		}
		return err
	}
	for _, err := range failed {
		if err != nil {
			return err
		}
	}
	return nil
}

// call prepares n's invocation: a temporary output folder in the store and
// its inputs' paths.
func (r *Runner) call(n *Node, stg *Stage, prefix string) (*Call, error) {
	params, err := canonical(n.Params)
	if err != nil {
		return nil, err
	}
	tmp, err := r.Store.Begin(n.key, stg.Resumable)
	if err != nil {
		return nil, err
	}
	c := &Call{Params: params, Seed: n.Seed, Inputs: map[string]string{}, Out: tmp, Workers: r.Workers, Tasks: 1, Log: r.Progress, Hook: r.Store.Hook}
	if n.Runtime != nil {
		if c.Runtime, err = json.Marshal(n.Runtime); err != nil {
			return nil, err
		}
	}
	for name, ref := range n.Inputs {
		if ref.Node != nil {
			c.Inputs[name] = filepath.Join(r.Store.Path(ref.Node.key), ref.File)
		} else {
			c.Inputs[name] = ref.File
		}
	}
	if r.Progress != nil {
		c.Progress = progressPrinter(r.Progress, prefix)
	}
	return c, nil
}

// commit writes n's manifest and moves its checked output c.Out into the store.
func (r *Runner) commit(n *Node, stg *Stage, st *spec.Study, c *Call, seconds float64) error {
	m := &store.Manifest{Key: n.key, Stage: n.Stage, Version: stg.Version, Params: c.Params, Seed: n.Seed, Inputs: n.inputIDs,
		Spec: st.File, Run: n.Label, Code: Version(), Created: time.Now().UTC(), Seconds: seconds}
	if len(st.Runs) > 0 {
		m.SpecHash = st.Hash()
	}
	if err := r.Store.Commit(c.Out, m); err != nil {
		os.RemoveAll(c.Out)
		return err
	}
	return nil
}

// progressPrinter returns a Progress func that prints at most every 10% (and
// at the end), so logs stay short when stderr is not a terminal.
func progressPrinter(w io.Writer, prefix string) func(done, total int) {
	last := -1
	return func(done, total int) {
		if total <= 0 {
			return
		}
		pct := done * 100 / total
		if pct/10 == last/10 && done != total {
			return
		}
		last = pct
		bar := strings.Repeat("#", pct/5) + strings.Repeat(".", 20-pct/5)
		fmt.Fprintf(w, "%s [%s] %3d%% (%d/%d)\n", prefix, bar, pct, done, total)
	}
}

// ReadResults reads a study's results file.
func ReadResults(path string) (*Results, error) {
	var r Results
	return &r, ReadJSON(path, &r)
}
