package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tive-dev/tive/harness/atomic"
	"github.com/tive-dev/tive/harness/internal/kernels"
)

// An Invocation is one stage invocation of a batch: its call (inputs
// committed, Out the folder its outputs go to) and its key.
type Invocation struct {
	Call *Call
	Key  string
}

// An Executor runs a batch of independent invocations of one stage kind
// (the ready stages of a sweep's runs). It calls done(i, seconds, err) once
// for each invocation i that ended, as it ends, with a nil err when its
// outputs are complete in its Call.Out (the Runner checks and commits them
// in done), and never for an invocation it did not run to an end. A non-nil
// result means it stopped early (a cancelled context, a timeout) and says why.
type Executor interface {
	Execute(ctx context.Context, stg *Stage, batch []Invocation, done func(i int, seconds float64, err error)) error
}

// Local runs a batch in this process. With Jobs ≤ 1 it runs the stages one
// after the other, in batch order; with Jobs > 1 up to Jobs of them run at
// once (a batch's stages are independent, and every stage gives the same
// bytes however many run beside it), done is called for one stage at a time
// as each ends, per-stage progress bars are left out so that they do not
// interleave, and the stages running side by side share the cores
// (kernels.Share). After the first failure no further stage starts; the
// ones running are waited for.
type Local struct {
	Jobs int
}

// Execute implements Executor.
func (l Local) Execute(ctx context.Context, stg *Stage, batch []Invocation, done func(int, float64, error)) error {
	if l.Jobs <= 1 || len(batch) == 1 {
		for i, inv := range batch {
			start := time.Now()
			err := stg.Run(ctx, inv.Call)
			done(i, time.Since(start).Seconds(), err)
			if err != nil {
				return nil
			}
		}
		return nil
	}
	var (
		mu     sync.Mutex
		next   int
		failed bool
		wg     sync.WaitGroup
	)
	for range min(l.Jobs, len(batch)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if failed || next == len(batch) {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				c := batch[i].Call
				c.Progress = nil
				start := time.Now()
				release := kernels.Share()
				err := stg.Run(ctx, c)
				release()
				mu.Lock()
				done(i, time.Since(start).Seconds(), err)
				failed = failed || err != nil
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return nil
}

// Job is one stage invocation as a file, for `tive stage exec`: everything a
// process on another machine of the cluster needs (paths are absolute).
type Job struct {
	Stage   string            `json:"stage"`
	Version string            `json:"version"`
	Arith   string            `json:"arith,omitempty"` // the planner's product back end, for Arith stages
	Key     string            `json:"key"`
	Params  json.RawMessage   `json:"params"`
	Runtime json.RawMessage   `json:"runtime,omitempty"`
	Seed    uint64            `json:"seed"`
	Inputs  map[string]string `json:"inputs"`
	Out     string            `json:"out"`
	Workers int               `json:"workers"`
	Tasks   int               `json:"tasks"` // array tasks of a sharded stage; 1 otherwise
}

// ExecJob runs task (0 <= task < Tasks) of the job in path and, on success,
// writes the task's done marker beside it. It is the body of `tive stage
// exec`. hook, when not nil (crash tests), is called at "exec:STAGE:TASK"
// and at the stage's own points.
func ExecJob(ctx context.Context, path string, task int, hook func(point string)) error {
	var j Job
	if err := ReadJSON(path, &j); err != nil {
		return err
	}
	stg, ok := stages[j.Stage]
	switch {
	case !ok:
		return fmt.Errorf("%s: unknown stage %q", path, j.Stage)
	case stg.Version != j.Version:
		return fmt.Errorf("%s: stage %s is version %s here but the job was planned with version %s (mixed tive versions on the cluster)", path, j.Stage, stg.Version, j.Version)
	case stg.Arith && j.Arith != Arith():
		return fmt.Errorf("%s: stage %s computes its matrix products with %s here but the job was planned with %s; its key would name the wrong back end (install the same OpenBLAS on every node, or set TIVE_BLAS alike)", path, j.Stage, Arith(), j.Arith)
	case task < 0 || task >= max(j.Tasks, 1):
		return fmt.Errorf("%s: task %d of %d", path, task, j.Tasks)
	}
	c := &Call{Params: j.Params, Runtime: j.Runtime, Seed: j.Seed, Inputs: j.Inputs, Out: j.Out, Workers: j.Workers, Task: task, Tasks: max(j.Tasks, 1), Log: os.Stderr, Hook: hook}
	c.At(fmt.Sprintf("exec:%s:%d", j.Stage, task))
	if err := stg.Run(ctx, c); err != nil {
		return err
	}
	return atomic.WriteFile(DoneMarker(path, task), []byte("ok\n"), 0o644)
}

// DoneMarker is the file that ExecJob writes beside the job file job when
// its task has succeeded.
func DoneMarker(job string, task int) string {
	return strings.TrimSuffix(job, ".json") + ".task-" + strconv.Itoa(task) + ".done"
}

// JobOf is inv, an invocation of stg, as a job of tasks array tasks, its
// paths made absolute.
func JobOf(stg *Stage, inv Invocation, tasks int) Job {
	c := inv.Call
	inputs := map[string]string{}
	for k, v := range c.Inputs {
		inputs[k] = abs(v)
	}
	j := Job{Stage: stg.Name, Version: stg.Version, Key: inv.Key, Params: c.Params, Runtime: c.Runtime, Seed: c.Seed, Inputs: inputs, Out: abs(c.Out), Workers: c.Workers, Tasks: tasks}
	if stg.Arith {
		j.Arith = Arith()
	}
	return j
}

// abs is p made absolute (p itself if that fails).
func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
