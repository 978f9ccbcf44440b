package stages

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tive-dev/tive/harness/pipeline"
	"github.com/tive-dev/tive/harness/spec"
	"github.com/tive-dev/tive/harness/store"
)

// batchRecorder runs batches locally and records each one's stage and size.
type batchRecorder struct{ batches []string }

func (b *batchRecorder) Execute(ctx context.Context, stg *pipeline.Stage, batch []pipeline.Invocation, done func(int, float64, error)) error {
	b.batches = append(b.batches, fmt.Sprintf("%s x%d", stg.Name, len(batch)))
	return pipeline.Local{}.Execute(ctx, stg, batch, done)
}

// sweepStudy writes a pool of n records of three tasks (responses of 1..7
// words) and a spec selecting from it with selection over the seeds, and
// loads it.
func sweepStudy(t *testing.T, dir string, n int, selection, seeds string) *spec.Study {
	t.Helper()
	var pool strings.Builder
	for i := range n {
		fmt.Fprintf(&pool, `{"id": "r%d", "image": "i/%d.png", "conversations": [{"from": "human", "value": "<image>\nq%d"}, {"from": "gpt", "value": "%s"}], "dataset": %q}`+"\n",
			i, i, i, strings.Repeat("w ", 1+i%7), []string{"vqav2", "gqa", "ocrvqa"}[i%3])
	}
	os.WriteFile(filepath.Join(dir, "pool.jsonl"), []byte(pool.String()), 0o644)
	file := filepath.Join(dir, "sweep.yaml")
	os.WriteFile(file, []byte("name: sweep\ndata: {records: pool.jsonl}\nselection: "+selection+"\nsweep:\n  seed: "+seeds+"\n"), 0o644)
	st, err := spec.Load(file, "")
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestSweepStagesGoOutTogether runs a three-run sweep and checks that the
// executor got each stage kind once, as one batch of the three runs' stages,
// and that the outputs equal one-stage-at-a-time runs of the same spec.
func TestSweepStagesGoOutTogether(t *testing.T) {
	dir := t.TempDir()
	st := sweepStudy(t, dir, 60, "{method: random-per-task, budget: 0.3}", "[0, 1, 2]")
	rec := &batchRecorder{}
	s, _ := store.Open(filepath.Join(dir, "batched"))
	sum, err := (&pipeline.Runner{Store: s, Plan: Plan, Executor: rec}).Run(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rec.batches, ", "); got != "warmup x3, select x3" {
		t.Errorf("batches: %s; want warmup x3, select x3", got)
	}
	var order []string
	for _, r := range sum.Stages {
		order = append(order, r.Stage+":"+r.Status)
	}
	if got := strings.Join(order, " "); got != "warmup:ran select:ran warmup:ran select:ran warmup:ran select:ran" {
		t.Errorf("summary stages (in plan order): %s", got)
	}
	// One run per study: every batch has one stage.
	single, _ := store.Open(filepath.Join(dir, "single"))
	for i := range st.Runs {
		one := &spec.Study{File: st.File, Runs: st.Runs[i : i+1]}
		if _, err := (&pipeline.Runner{Store: single, Plan: Plan}).Run(context.Background(), one); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range sum.Stages {
		for _, f := range []string{"warmup.json", "subset.json"} {
			a, errA := os.ReadFile(filepath.Join(s.Path(r.Key), f))
			b, errB := os.ReadFile(filepath.Join(single.Path(r.Key), f))
			if errA == nil && (errB != nil || string(a) != string(b)) {
				t.Errorf("%s %s/%s differs from a one-run study's", r.Stage, r.Key[:12], f)
			}
		}
	}
}

// TestLocalJobsSameBytes: a sweep run three stages at a time writes the
// same outputs as one stage at a time.
func TestLocalJobsSameBytes(t *testing.T) {
	dir := t.TempDir()
	st := sweepStudy(t, dir, 90, "{method: random, budget: 0.2}", "[0, 1, 2, 3]")
	var err error
	stores := map[int]*store.Store{}
	var sum *pipeline.Summary
	for _, jobs := range []int{1, 3} {
		s, _ := store.Open(filepath.Join(dir, fmt.Sprint(jobs)))
		stores[jobs] = s
		if sum, err = (&pipeline.Runner{Store: s, Plan: Plan, Executor: pipeline.Local{Jobs: jobs}}).Run(context.Background(), st); err != nil {
			t.Fatal(err)
		}
	}
	compared := 0
	for _, r := range sum.Stages {
		for _, f := range []string{"warmup.json", "subset.json"} {
			a, errA := os.ReadFile(filepath.Join(stores[3].Path(r.Key), f))
			b, errB := os.ReadFile(filepath.Join(stores[1].Path(r.Key), f))
			if errA == nil {
				compared++
				if errB != nil || string(a) != string(b) {
					t.Errorf("%s %s/%s: three at a time differs from one at a time", r.Stage, r.Key[:12], f)
				}
			}
		}
	}
	if compared != 8 {
		t.Errorf("compared %d files, want 8 (4 warm-up sets, 4 subsets)", compared)
	}
}
