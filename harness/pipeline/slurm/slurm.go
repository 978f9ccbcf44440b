// Package slurm runs a study's stages on a Slurm cluster: a
// pipeline.Executor that sends each batch of ready stages out as job arrays
// of `tive stage exec` tasks (pipeline.ExecJob).
package slurm

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tive-dev/tive/harness/atomic"
	"github.com/tive-dev/tive/harness/pipeline"
	"github.com/tive-dev/tive/harness/store"
)

// Slurm runs each batch as one sbatch job array of `tive stage exec` tasks:
// one array index per invocation, or Tasks consecutive indices per
// invocation of a sharded stage (pipeline.Stage.Sharded), so the independent runs of
// a sweep go out together. It polls the array's per-index state with squeue
// (no accounting storage needed) until every index has ended, takes a
// task's done marker (written by ExecJob on success) as the only proof of
// success, reports each invocation whose tasks are all done, and resubmits
// only the failed indices, up to Retries times. A submission that has not
// ended within Timeout, or a cancelled context, cancels the array (scancel)
// and ends Execute with an error naming the job and stage.
//
// Each invocation's job file and its tasks' logs (slurm-JOB_INDEX.log) are
// in the store's jobs/KEY/ folder; the array's script (array.sh), Slurm's
// own output for each index and submissions.log (every sbatch, job id and
// final state per index) are in jobs/STAGE-HASH/, HASH naming the batch.
type Slurm struct {
	Store   *store.Store
	Tive    []string      // argv prefix that runs tive on the nodes (default: this executable)
	Tasks   int           // array indices per invocation of a sharded stage (default 4)
	Retries int           // resubmissions of failed indices (0: none)
	Sbatch  []string      // extra sbatch arguments, e.g. --partition=gpu
	Poll    time.Duration // squeue interval (default 10 s)
	Timeout time.Duration // per submission, from sbatch to its last index's end (default 24 h)
	Log     io.Writer     // submission lines; nil: silent
	// MaxArray is how many array indices one sbatch may use (indices
	// 0..MaxArray−1); 0 asks Slurm (MaxArraySize in scontrol show config),
	// 1001, Slurm's default, when it does not answer. Larger batches go out
	// as several job arrays.
	MaxArray int
}

// arrayTask is what one array index runs: task of the job in dir/job.json.
type arrayTask struct {
	inv, task int
	dir       string
}

// Execute implements pipeline.Executor.
func (s *Slurm) Execute(ctx context.Context, stg *pipeline.Stage, batch []pipeline.Invocation, done func(int, float64, error)) error {
	start := time.Now()
	tasks := 1
	if stg.Sharded {
		tasks = s.Tasks
		if tasks <= 0 {
			tasks = 4
		}
	}
	var idx []arrayTask // by array index
	keys := make([]string, len(batch))
	for b, inv := range batch {
		dir, err := s.writeJob(stg, inv, tasks)
		if err != nil {
			return err
		}
		for k := 0; k < tasks; k++ {
			idx = append(idx, arrayTask{b, k, dir})
		}
		keys[b] = inv.Key
	}
	sum := sha256.Sum256([]byte(strings.Join(keys, "\n")))
	dir := filepath.Join(s.jobs(), stg.Name+"-"+hex.EncodeToString(sum[:])[:12])
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	script, err := s.writeScript(stg, dir, idx, len(batch), tasks)
	if err != nil {
		return err
	}
	pending := make([]int, len(idx))
	for a := range pending {
		pending[a] = a
	}
	reported := make([]bool, len(batch))
	for attempt := 0; ; attempt++ {
		ends, err := s.run(ctx, stg.Name, dir, script, pending)
		if err != nil {
			return err
		}
		var failed []int
		var failedJobs []string
		why := map[int][]string{} // invocation -> its failed indices, described
		jobOf := map[int]string{} // invocation -> the job of its (last) failed index
		for _, a := range pending {
			e := ends[a]
			if _, err := os.Stat(pipeline.DoneMarker(filepath.Join(idx[a].dir, "job.json"), idx[a].task)); err == nil {
				continue
			}
			failed = append(failed, a)
			if !slices.Contains(failedJobs, e.job) {
				failedJobs = append(failedJobs, e.job)
			}
			jobOf[idx[a].inv] = e.job
			why[idx[a].inv] = append(why[idx[a].inv], fmt.Sprintf("index %d (task %d) ended %s, log %s", a, idx[a].task,
				cmp.Or(e.state, "no longer listed by squeue"), filepath.Join(idx[a].dir, fmt.Sprintf("slurm-%s_%d.log", e.job, e.local))))
		}
		for b := range batch {
			if reported[b] || len(why[b]) > 0 && attempt < s.Retries {
				continue
			}
			reported[b] = true
			if len(why[b]) == 0 {
				done(b, time.Since(start).Seconds(), nil)
			} else {
				done(b, time.Since(start).Seconds(), fmt.Errorf("slurm: %s: job %s failed after %d submissions: %s", stg.Name, jobOf[b], attempt+1, strings.Join(why[b], "; ")))
			}
		}
		if len(failed) == 0 || attempt >= s.Retries {
			return nil
		}
		s.record(dir, "slurm: %s: job %s: indices %v failed; resubmitting them (retry %d of %d)\n", stg.Name, strings.Join(failedJobs, ","), failed, attempt+1, s.Retries)
		pending = failed
	}
}

// writeJob writes inv's job file into the store's jobs/KEY/ folder, removes
// done markers of earlier attempts, and returns the folder.
func (s *Slurm) writeJob(stg *pipeline.Stage, inv pipeline.Invocation, tasks int) (string, error) {
	dir := filepath.Join(s.jobs(), inv.Key)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	jb, _ := json.MarshalIndent(pipeline.JobOf(stg, inv, tasks), "", "  ")
	jobFile := filepath.Join(dir, "job.json")
	if err := atomic.WriteFile(jobFile, jb, 0o644); err != nil {
		return "", err
	}
	for k := 0; k < tasks; k++ {
		os.Remove(pipeline.DoneMarker(jobFile, k))
	}
	return dir, nil
}

// writeScript writes the array's script: index a runs task idx[a].task of
// the job in idx[a].dir, its output going to that folder. An array that
// starts at index OFFSET of the batch gets OFFSET as its argument, so its
// array index i is the batch's index i + OFFSET.
func (s *Slurm) writeScript(stg *pipeline.Stage, dir string, idx []arrayTask, invocations, tasks int) (string, error) {
	argv := s.Tive
	if len(argv) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return "", err
		}
		argv = []string{exe}
	}
	var q []string
	for _, a := range append(argv, "stage", "exec") {
		q = append(q, shellQuote(a))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\n# tive: %s, %d invocations x %d tasks, one array index each (plus the offset $1)\ncase \"$(( ${SLURM_ARRAY_TASK_ID:-0} + ${1:-0} ))\" in\n", stg.Name, invocations, tasks)
	for a, t := range idx {
		fmt.Fprintf(&b, "%d) dir=%s task=%d ;;\n", a, shellQuote(t.dir), t.task)
	}
	b.WriteString("*) echo \"tive: no array index ${SLURM_ARRAY_TASK_ID:-} in this batch\" >&2; exit 2 ;;\nesac\n")
	b.WriteString("exec >\"$dir/slurm-${SLURM_ARRAY_JOB_ID:-0}_${SLURM_ARRAY_TASK_ID:-0}.log\" 2>&1\n")
	b.WriteString("echo \"tive: slurm job ${SLURM_ARRAY_JOB_ID:-0}_${SLURM_ARRAY_TASK_ID:-0} on $(hostname): task $task of $dir/job.json\"\n")
	fmt.Fprintf(&b, "exec %s \"$dir/job.json\" --task \"$task\"\n", strings.Join(q, " "))
	script := filepath.Join(dir, "array.sh")
	return script, atomic.WriteFile(script, []byte(b.String()), 0o755)
}

// indexEnd is how one index of a batch ended: the job array that ran it,
// its index in that array, and the last state squeue showed ("" once Slurm
// forgot it).
type indexEnd struct {
	job   string
	local int
	state string
}

// run submits script for the given indices of the batch and polls squeue
// until every one of them has ended. They go out as few job arrays as the
// array size limit M allows: index a as index a mod M of the array for
// indices ⌊a/M⌋·M.., whose script gets that offset as its argument, each
// array's indices listed as ranges (--array=0-3,7).
func (s *Slurm) run(ctx context.Context, stage, dir, script string, indices []int) (map[int]indexEnd, error) {
	m := s.maxArray(ctx)
	type array struct {
		id     string
		offset int
		of     []int // the batch's indices it runs
	}
	indices = slices.Sorted(slices.Values(indices))
	var arrays []array
	for _, a := range indices {
		if n := len(arrays); n == 0 || arrays[n-1].offset != a/m*m {
			arrays = append(arrays, array{offset: a / m * m})
		}
		arrays[len(arrays)-1].of = append(arrays[len(arrays)-1].of, a)
	}
	cancel := func() {
		for _, ar := range arrays {
			if ar.id != "" {
				s.cancel(dir, stage, ar.id)
			}
		}
	}
	for k, ar := range arrays {
		local := make([]int, len(ar.of))
		for i, a := range ar.of {
			local[i] = a - ar.offset
		}
		args := append([]string{"--parsable", "--job-name=tive-" + stage, "--array=" + arraySpec(local),
			"--output=" + filepath.Join(dir, "slurm-%A_%a.log")}, s.Sbatch...)
		args = append(args, script, strconv.Itoa(ar.offset))
		var stderr strings.Builder
		cmd := exec.CommandContext(ctx, "sbatch", args...)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			cancel()
			return nil, fmt.Errorf("slurm: %s: sbatch %s: %v: %s", stage, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		id, _, _ := strings.Cut(strings.TrimSpace(string(out)), ";") // JOBID[;CLUSTER]
		if _, err := strconv.ParseUint(id, 10, 64); err != nil {
			cancel()
			return nil, fmt.Errorf("slurm: %s: sbatch --parsable answered %q, not a job id", stage, out)
		}
		arrays[k].id = id
		s.record(dir, "slurm: %s: job %s: sbatch %s\n", stage, id, strings.Join(args, " "))
	}
	timeout, poll := s.Timeout, s.Poll
	if timeout <= 0 {
		timeout = 24 * time.Hour
	}
	if poll <= 0 {
		poll = 10 * time.Second
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	states := map[int]string{} // by the batch's index
	var ids []string
	for _, ar := range arrays {
		ids = append(ids, ar.id)
	}
	for {
		select {
		case <-ctx.Done():
			cancel()
			return nil, fmt.Errorf("slurm: %s: interrupted; cancelled job %s: %w", stage, strings.Join(ids, ","), ctx.Err())
		case <-deadline.C:
			cancel()
			return nil, fmt.Errorf("slurm: %s: job %s (array indices %s) had not ended after %s; cancelled it; logs in %s", stage, strings.Join(ids, ","), arraySpec(indices), timeout, dir)
		case <-tick.C:
		}
		ended := true
		for _, ar := range arrays {
			now, err := squeue(ctx, ar.id)
			if err != nil {
				s.logf("slurm: %s: job %s: %v (polling on)\n", stage, ar.id, err)
				ended = false
				continue
			}
			for _, a := range ar.of {
				st, listed := now[a-ar.offset]
				if listed {
					states[a] = st
				}
				ended = ended && (!listed || !active(st))
			}
		}
		if ended {
			ends := map[int]indexEnd{}
			for _, ar := range arrays {
				for _, a := range ar.of {
					ends[a] = indexEnd{ar.id, a - ar.offset, states[a]}
					s.record(dir, "slurm: %s: job %s_%d: %s\n", stage, ar.id, a-ar.offset, cmp.Or(states[a], "no longer listed by squeue"))
				}
			}
			return ends, nil
		}
	}
}

// maxArray is how many array indices one submission may use: MaxArray,
// else Slurm's MaxArraySize, else 1001 (Slurm's default).
func (s *Slurm) maxArray(ctx context.Context) int {
	if s.MaxArray > 0 {
		return s.MaxArray
	}
	out, err := exec.CommandContext(ctx, "scontrol", "show", "config").Output()
	if err == nil {
		for line := range strings.Lines(string(out)) {
			if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "MaxArraySize" {
				if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
					return n
				}
			}
		}
	}
	return 1001
}

// arraySpec writes sorted indices as sbatch --array ranges: 0-3,7,9-10.
func arraySpec(idx []int) string {
	var parts []string
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", idx[i], idx[j]))
		} else {
			parts = append(parts, strconv.Itoa(idx[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// squeue returns the state of each listed index of array job id, as
// "STATE (REASON)"; an empty map once Slurm no longer knows the job.
func squeue(ctx context.Context, id string) (map[int]string, error) {
	out, err := exec.CommandContext(ctx, "squeue", "-h", "-r", "-t", "all", "-j", id, "-o", "%K|%T|%r").CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "Invalid job id") {
			return map[int]string{}, nil
		}
		return nil, fmt.Errorf("squeue: %v: %s", err, strings.TrimSpace(string(out)))
	}
	states := map[int]string{}
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) != 3 {
			continue
		}
		a, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		states[a] = f[1]
		if f[2] != "" && f[2] != "None" {
			states[a] += " (" + f[2] + ")"
		}
	}
	return states, nil
}

// active reports whether a squeue state ("STATE (REASON)") is one a job
// leaves again: anything but Slurm's final states.
func active(state string) bool {
	st, _, _ := strings.Cut(state, " ")
	switch st {
	case "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", "PREEMPTED", "SPECIAL_EXIT":
		return false
	}
	return true
}

// cancel cancels job id (every index still pending or running); it is
// called when ctx may already be done, so it has a context of its own.
func (s *Slurm) cancel(dir, stage, id string) {
	ctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	out, err := exec.CommandContext(ctx, "scancel", id).CombinedOutput()
	if err != nil {
		s.record(dir, "slurm: %s: scancel %s: %v: %s\n", stage, id, err, strings.TrimSpace(string(out)))
		return
	}
	s.record(dir, "slurm: %s: scancel %s\n", stage, id)
}

// record writes a line to Log and appends it to dir/submissions.log.
func (s *Slurm) record(dir, format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	s.logf("%s", line)
	f, err := os.OpenFile(filepath.Join(dir, "submissions.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		s.logf("slurm: %v\n", err)
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %s", time.Now().UTC().Format(time.RFC3339), line)
}

func (s *Slurm) logf(format string, args ...any) {
	if s.Log != nil {
		fmt.Fprintf(s.Log, format, args...)
	}
}

// shellQuote quotes an argument for /bin/sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// jobs is the store's jobs folder, absolute: job files name their paths
// for processes on other machines.
func (s *Slurm) jobs() string {
	dir := filepath.Join(s.Store.Dir, "jobs")
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return dir
}
