package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tive-dev/tive/harness/spec"
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
	Store    *Store
	Progress io.Writer // progress lines; nil: silent
	Workers  int
	Executor Executor // where stages run; nil: Local
}

// Run runs every stage of every run of st that the store lacks, in order,
// and writes the study's results file. Output of finished stages survives
// any failure or kill; a rerun reuses it.
func (r *Runner) Run(ctx context.Context, st *spec.Study) (*Summary, error) {
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
		nodes := Plan(run)
		for _, n := range nodes {
			key, ids, err := r.Store.computeKey(n)
			if err != nil {
				return sum, err
			}
			n.key, n.inputIDs = key, ids
			if !seen[key] {
				seen[key] = true
				order = append(order, n)
			}
		}
		plans = append(plans, planned{run, nodes})
	}
	for i, n := range order {
		res := StageResult{Stage: n.Stage, Key: n.key, Run: n.Label}
		if r.Store.Has(n.key) {
			res.Status = "cached"
			r.logf("[%d/%d] %s: cached %s\n", i+1, len(order), n, n.key[:12])
			sum.Stages = append(sum.Stages, res)
			continue
		}
		r.logf("[%d/%d] %s: running\n", i+1, len(order), n)
		start := time.Now()
		err := r.runNode(ctx, n, st, i+1, len(order))
		res.Seconds = time.Since(start).Seconds()
		if err != nil {
			res.Status = "failed"
			sum.Stages = append(sum.Stages, res)
			r.logf("[%d/%d] %s: failed after %.1fs\n", i+1, len(order), n, res.Seconds)
			return sum, fmt.Errorf("stage %s: %w", n, err)
		}
		res.Status = "ran"
		sum.Stages = append(sum.Stages, res)
		r.logf("[%d/%d] %s: ran in %.2fs -> %s\n", i+1, len(order), n, res.Seconds, n.key[:12])
	}
	out := Results{Spec: st.File, Profile: st.Profile, Hash: st.Hash(), Finished: time.Now().UTC()}
	for _, p := range plans {
		rr := RunResult{Label: p.run.Label, Seed: p.run.Seed, SpecHash: p.run.Hash(), Outputs: map[string]string{}, Keys: map[string]string{}}
		for _, n := range p.nodes {
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
	return sum, writeJSON(sum.Results, out)
}

func (r *Runner) logf(format string, args ...any) {
	if r.Progress != nil {
		fmt.Fprintf(r.Progress, format, args...)
	}
}

func (r *Runner) runNode(ctx context.Context, n *Node, st *spec.Study, i, total int) error {
	stg := stages[n.Stage]
	params, err := canonical(n.Params)
	if err != nil {
		return err
	}
	key, inputIDs := n.key, n.inputIDs
	tmp, err := r.Store.Begin(key, stg.Resumable)
	if err != nil {
		return err
	}
	c := &Call{Params: params, Seed: n.Seed, Inputs: map[string]string{}, Out: tmp, Workers: r.Workers, Tasks: 1, Log: r.Progress}
	if n.Runtime != nil {
		if c.Runtime, err = json.Marshal(n.Runtime); err != nil {
			return err
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
		c.Progress = progressPrinter(r.Progress, fmt.Sprintf("[%d/%d] %s", i, total, n))
	}
	hook("stage-start:" + n.Stage)
	start := time.Now()
	ex := r.Executor
	if ex == nil {
		ex = Local{}
	}
	err = ex.Execute(ctx, stg, c, key)
	if err == nil && stg.Check != nil {
		err = stg.Check(c)
	}
	if err != nil {
		if !stg.Resumable {
			os.RemoveAll(tmp)
		}
		return err
	}
	m := &Manifest{Key: key, Stage: n.Stage, Version: stg.Version, Params: params, Seed: n.Seed, Inputs: inputIDs,
		Spec: st.File, Run: n.Label, Code: Version(), Created: time.Now().UTC(), Seconds: time.Since(start).Seconds()}
	if len(st.Runs) > 0 {
		m.SpecHash = st.Hash()
	}
	if err := r.Store.Commit(tmp, m); err != nil {
		os.RemoveAll(tmp)
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
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	return &r, json.Unmarshal(b, &r)
}
