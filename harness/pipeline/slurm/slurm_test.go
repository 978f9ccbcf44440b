package slurm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tive-dev/tive/harness/pipeline"
	"github.com/tive-dev/tive/harness/store"
)

// needSlurm skips a test unless a Slurm controller answers.
func needSlurm(t *testing.T) {
	t.Helper()
	if err := exec.Command("sinfo", "-h").Run(); err != nil {
		t.Skip("no Slurm cluster answers sinfo here: start one with scripts/slurm-local.sh")
	}
}

// fakeBatch writes n invocations' output folders into s's tmp.
func fakeBatch(t *testing.T, s *store.Store, n int) []pipeline.Invocation {
	t.Helper()
	var batch []pipeline.Invocation
	for i := range n {
		sum := sha256.Sum256(fmt.Appendf(nil, "%s-%d", t.Name(), i))
		key := hex.EncodeToString(sum[:])
		out, err := s.Begin(key, false)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, pipeline.Invocation{Call: &pipeline.Call{Params: []byte("{}"), Inputs: map[string]string{}, Out: out, Tasks: 1}, Key: key})
	}
	return batch
}

// fakeTive is a stand-in for `tive stage exec JOB --task K` in array jobs:
// it writes the task's done marker unless the shell condition fail holds
// ($job is the job file without .json, $task the task).
func fakeTive(fail string) []string {
	return []string{"/bin/sh", "-c", `job=${3%.json} task=$5; if ` + fail + `; then echo failing; exit 3; fi; echo ok >"$job.task-$task.done"`, "tive"}
}

// TestSlurmRetriesOnlyFailedIndices runs two invocations of a sharded stage
// (2 tasks each: array indices 0-3) whose index 3 fails on its first run,
// and checks that only index 3 was resubmitted and that both invocations
// were reported done; with index 3 failing every time, only the second
// invocation fails, naming the index, its state and its log.
func TestSlurmRetriesOnlyFailedIndices(t *testing.T) {
	needSlurm(t)
	stg := &pipeline.Stage{Name: "fake", Version: "1", Sharded: true}
	for _, tc := range []struct {
		name, fail string
		wantErr    []bool
	}{
		{"once", `[ "$task" = 1 ] && [ -e "$job.second" ] && mkdir "$job.failed-once" 2>/dev/null`, []bool{false, false}},
		{"always", `[ "$task" = 1 ] && [ -e "$job.second" ]`, []bool{false, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := store.Open(t.TempDir())
			batch := fakeBatch(t, s, 2)
			ex := &Slurm{Store: s, Tive: fakeTive(tc.fail), Tasks: 2, Retries: 2, Poll: 200 * time.Millisecond, Timeout: 2 * time.Minute}
			// Only the second invocation's task 1 (array index 3) fails.
			os.MkdirAll(filepath.Join(s.Dir, "jobs", batch[1].Key), 0o755)
			os.WriteFile(filepath.Join(s.Dir, "jobs", batch[1].Key, "job.second"), nil, 0o644)
			errs := make([]error, len(batch))
			calls := 0
			err := ex.Execute(context.Background(), stg, batch, func(i int, _ float64, err error) { calls++; errs[i] = err })
			if err != nil {
				t.Fatal(err)
			}
			if calls != 2 {
				t.Fatalf("done called %d times for 2 invocations", calls)
			}
			for i, e := range errs {
				if (e != nil) != tc.wantErr[i] {
					t.Errorf("invocation %d: err %v", i, e)
				}
			}
			subs := submissions(t, s, "fake")
			want := []string{"--array=0-3", "--array=3"}
			if tc.name == "always" {
				want = append(want, "--array=3")
				if e := errs[1]; e == nil || !strings.Contains(e.Error(), "index 3 (task 1) ended FAILED") || !strings.Contains(e.Error(), "after 3 submissions") {
					t.Errorf("error: %v", e)
				} else if log := regexp.MustCompile(`log (\S+)`).FindStringSubmatch(e.Error()); log == nil || !fileHas(log[1], "failing") {
					t.Errorf("the error names no log holding the task's output: %v", e)
				}
			}
			if len(subs) != len(want) {
				t.Fatalf("submissions %v, want %v", subs, want)
			}
			for i, w := range want {
				if !strings.Contains(subs[i], " "+w+" ") {
					t.Errorf("submission %d: %s; want %s", i, subs[i], w)
				}
			}
		})
	}
}

// TestSlurmSplitsAtMaxArray runs three invocations of two tasks (batch
// indices 0-5) with at most four indices per job array: indices 0-3 go out
// as one array, 4-5 as a second whose script is told offset 4; index 5
// fails once and alone is resubmitted, as index 1 of a new array at offset 4.
func TestSlurmSplitsAtMaxArray(t *testing.T) {
	needSlurm(t)
	s, _ := store.Open(t.TempDir())
	batch := fakeBatch(t, s, 3)
	os.MkdirAll(filepath.Join(s.Dir, "jobs", batch[2].Key), 0o755)
	os.WriteFile(filepath.Join(s.Dir, "jobs", batch[2].Key, "job.second"), nil, 0o644)
	ex := &Slurm{Store: s, Tive: fakeTive(`[ "$task" = 1 ] && [ -e "$job.second" ] && mkdir "$job.failed-once" 2>/dev/null`),
		Tasks: 2, Retries: 1, MaxArray: 4, Poll: 200 * time.Millisecond, Timeout: 2 * time.Minute}
	var errs []error
	if err := ex.Execute(context.Background(), &pipeline.Stage{Name: "split", Version: "1", Sharded: true}, batch, func(_ int, _ float64, err error) { errs = append(errs, err) }); err != nil {
		t.Fatal(err)
	}
	if len(errs) != 3 || errors.Join(errs...) != nil {
		t.Fatalf("invocations ended %v, want three successes", errs)
	}
	subs := submissions(t, s, "split")
	want := []string{"--array=0-3 .* 0$", "--array=0-1 .* 4$", "--array=1 .* 4$"}
	if len(subs) != len(want) {
		t.Fatalf("submissions %q, want %d", subs, len(want))
	}
	for i, w := range want {
		if !regexp.MustCompile(w).MatchString(strings.TrimSpace(subs[i])) {
			t.Errorf("submission %d: %s; want %s", i, subs[i], w)
		}
	}
	for _, inv := range batch {
		for task := range 2 {
			if _, err := os.Stat(pipeline.DoneMarker(filepath.Join(s.Dir, "jobs", inv.Key, "job.json"), task)); err != nil {
				t.Errorf("%s task %d: %v", inv.Key[:8], task, err)
			}
		}
	}
}

func TestArraySpec(t *testing.T) {
	for _, tc := range []struct {
		idx  []int
		want string
	}{{[]int{0, 1, 2, 3, 7, 9, 10}, "0-3,7,9-10"}, {[]int{5}, "5"}, {[]int{1, 3}, "1,3"}} {
		if got := arraySpec(tc.idx); got != tc.want {
			t.Errorf("arraySpec(%v) = %q, want %q", tc.idx, got, tc.want)
		}
	}
}

// TestSlurmTimeoutAndInterrupt submits an array whose tasks never end and
// checks that a submission past its timeout, or a cancelled context,
// cancels the job and fails with an error naming the stage and job.
func TestSlurmTimeoutAndInterrupt(t *testing.T) {
	needSlurm(t)
	s, _ := store.Open(t.TempDir())
	stg := &pipeline.Stage{Name: "hang", Version: "1"}
	hang := []string{"/bin/sh", "-c", "sleep 600"}
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		ctx     time.Duration
		want    string
	}{
		{"timeout", 3 * time.Second, time.Hour, `slurm: hang: job (\d+) \(array indices 0-1\) had not ended after 3s; cancelled it`},
		{"interrupt", time.Hour, 3 * time.Second, `slurm: hang: interrupted; cancelled job (\d+): context deadline exceeded`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tc.ctx)
			defer cancel()
			ex := &Slurm{Store: s, Tive: hang, Poll: 200 * time.Millisecond, Timeout: tc.timeout}
			err := ex.Execute(ctx, stg, fakeBatch(t, s, 2), func(i int, _ float64, err error) { t.Errorf("invocation %d reported done (%v)", i, err) })
			if err == nil {
				t.Fatal("no error")
			}
			m := regexp.MustCompile(tc.want).FindStringSubmatch(err.Error())
			if m == nil {
				t.Fatalf("error %q does not match %q", err, tc.want)
			}
			if tc.name == "interrupt" && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v does not wrap the context's", err)
			}
			// scancel is asynchronous: wait (up to 30 s: under a loaded CI
			// machine 10 s was once too short) for both indices to end cancelled.
			var states map[int]string
			for range 150 {
				if states, err = squeue(context.Background(), m[1]); err == nil && !active(states[0]) && !active(states[1]) {
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			for a := range 2 {
				if !strings.HasPrefix(states[a], "CANCELLED") {
					t.Errorf("job %s_%d: %q after the error, want CANCELLED", m[1], a, states[a])
				}
			}
		})
	}
}

// submissions returns the sbatch lines of the stage's batch folders.
func submissions(t *testing.T, s *store.Store, stage string) []string {
	t.Helper()
	logs, _ := filepath.Glob(filepath.Join(s.Dir, "jobs", stage+"-*", "submissions.log"))
	var subs []string
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		for line := range strings.Lines(string(b)) {
			if strings.Contains(line, ": sbatch ") {
				subs = append(subs, line)
			}
		}
	}
	return subs
}

func fileHas(path, s string) bool {
	b, err := os.ReadFile(path)
	return err == nil && strings.Contains(string(b), s)
}
