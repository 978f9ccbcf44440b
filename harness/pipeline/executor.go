package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tive-dev/tive/harness/atomic"
)

// An Executor runs one stage invocation whose inputs are committed, writing
// its outputs into c.Out; the Runner commits them. Local runs it in this
// process; Slurm submits it to a cluster.
type Executor interface {
	Execute(ctx context.Context, stg *Stage, c *Call, key string) error
}

// Local runs stages in this process.
type Local struct{}

// Execute implements Executor.
func (Local) Execute(ctx context.Context, stg *Stage, c *Call, key string) error {
	return stg.Run(ctx, c)
}

// Job is one stage invocation as a file, for `tive stage exec`: everything a
// process on another machine of the cluster needs (paths are absolute).
type Job struct {
	Stage   string            `json:"stage"`
	Version string            `json:"version"`
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
// writes the task's done marker beside it. It is the body of `tive stage exec`.
func ExecJob(ctx context.Context, path string, task int) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var j Job
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	stg, ok := stages[j.Stage]
	switch {
	case !ok:
		return fmt.Errorf("%s: unknown stage %q", path, j.Stage)
	case stg.Version != j.Version:
		return fmt.Errorf("%s: stage %s is version %s here but the job was planned with version %s (mixed tive versions on the cluster)", path, j.Stage, stg.Version, j.Version)
	case task < 0 || task >= max(j.Tasks, 1):
		return fmt.Errorf("%s: task %d of %d", path, task, j.Tasks)
	}
	c := &Call{Params: j.Params, Runtime: j.Runtime, Seed: j.Seed, Inputs: j.Inputs, Out: j.Out, Workers: j.Workers, Task: task, Tasks: max(j.Tasks, 1), Log: os.Stderr}
	hook(fmt.Sprintf("exec:%s:%d", j.Stage, task))
	if err := stg.Run(ctx, c); err != nil {
		return err
	}
	return atomic.WriteFile(doneMarker(path, task), []byte("ok\n"), 0o644)
}

func doneMarker(job string, task int) string {
	return strings.TrimSuffix(job, ".json") + ".task-" + strconv.Itoa(task) + ".done"
}

// Slurm submits each stage as an sbatch job running `tive stage exec` and
// each sharded stage (Stage.Sharded) as a job array of Tasks tasks, waits for it (sbatch --wait), checks every task's done marker and
// resubmits only the failed indices, up to Retries times. Job files and logs
// live in the store's jobs/KEY/ folder. A sharded stage's tasks write their
// parts into the stage's resumable folder; the Runner checks the whole
// (Stage.Check) before the commit.
type Slurm struct {
	Store   *Store
	Tive    []string      // argv prefix that runs tive (default: this executable)
	Tasks   int           // array tasks of sharded stages (default 4)
	Retries int           // resubmissions of failed tasks (default 2)
	Sbatch  []string      // extra sbatch arguments, e.g. --partition=gpu
	Timeout time.Duration // per submission (default 24 h)
	Log     io.Writer     // submission lines; nil: silent
}

// Execute implements Executor.
func (s *Slurm) Execute(ctx context.Context, stg *Stage, c *Call, key string) error {
	tasks := 1
	if stg.Sharded {
		tasks = s.Tasks
		if tasks <= 0 {
			tasks = 4
		}
	}
	dir := filepath.Join(s.Store.Dir, "jobs", key)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	inputs := map[string]string{}
	for k, v := range c.Inputs {
		inputs[k] = abs(v)
	}
	j := Job{Stage: stg.Name, Version: stg.Version, Key: key, Params: c.Params, Runtime: c.Runtime, Seed: c.Seed, Inputs: inputs, Out: abs(c.Out), Workers: c.Workers, Tasks: tasks}
	jb, _ := json.MarshalIndent(j, "", "  ")
	jobFile := filepath.Join(dir, "job.json")
	if err := atomic.WriteFile(jobFile, jb, 0o644); err != nil {
		return err
	}
	for k := 0; k < tasks; k++ {
		os.Remove(doneMarker(jobFile, k))
	}
	argv := s.Tive
	if len(argv) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		argv = []string{exe}
	}
	var q []string
	for _, a := range append(argv, "stage", "exec", jobFile) {
		q = append(q, shellQuote(a))
	}
	script := "#!/bin/sh\n# " + stg.Name + " " + key + "\nexec " + strings.Join(q, " ") + " --task \"${SLURM_ARRAY_TASK_ID:-0}\"\n"
	scriptFile := filepath.Join(dir, "job.sh")
	if err := atomic.WriteFile(scriptFile, []byte(script), 0o755); err != nil {
		return err
	}
	pending := make([]int, tasks)
	for k := range pending {
		pending[k] = k
	}
	retries := s.Retries
	if retries == 0 {
		retries = 2
	}
	for attempt := 0; ; attempt++ {
		if err := s.submit(ctx, stg.Name, dir, scriptFile, pending); err != nil {
			return err
		}
		var failed []int
		for _, k := range pending {
			if _, err := os.Stat(doneMarker(jobFile, k)); err != nil {
				failed = append(failed, k)
			}
		}
		if len(failed) == 0 {
			return nil
		}
		if attempt >= retries {
			return fmt.Errorf("slurm: %s: tasks %v failed %d times; logs in %s", stg.Name, failed, attempt+1, dir)
		}
		s.logf("slurm: %s: tasks %v failed; resubmitting them (retry %d of %d)\n", stg.Name, failed, attempt+1, retries)
		pending = failed
	}
}

// submit runs sbatch --wait for the given array indices of script.
func (s *Slurm) submit(ctx context.Context, stage, dir, script string, indices []int) error {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 24 * time.Hour
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	idx := make([]string, len(indices))
	for i, k := range indices {
		idx[i] = strconv.Itoa(k)
	}
	args := append([]string{"--wait", "--parsable", "--job-name=tive-" + stage, "--array=" + strings.Join(idx, ","),
		"--output=" + filepath.Join(dir, "slurm-%A_%a.log")}, s.Sbatch...)
	args = append(args, script)
	s.logf("slurm: sbatch %s\n", strings.Join(args, " "))
	out, err := exec.CommandContext(ctx, "sbatch", args...).CombinedOutput()
	if ctx.Err() != nil {
		return fmt.Errorf("slurm: %s: no answer from sbatch --wait within %s: %v", stage, timeout, ctx.Err())
	}
	// A non-zero exit of sbatch --wait means some task failed (the done
	// markers say which); any other error means sbatch did not run.
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return fmt.Errorf("slurm: sbatch: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (s *Slurm) logf(format string, args ...any) {
	if s.Log != nil {
		fmt.Fprintf(s.Log, format, args...)
	}
}

func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// shellQuote quotes an argument for /bin/sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
