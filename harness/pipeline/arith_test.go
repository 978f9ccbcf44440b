package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tive-dev/tive/harness/internal/kernels"
	"github.com/tive-dev/tive/harness/internal/kernels/kernelstest"
	"github.com/tive-dev/tive/harness/store"
)

// TestArithStagesKeyTheBackend: a stage that runs the model's matrix
// products (Arith) is keyed by the back end that computed them; others are
// not. (stages.TestModelStagesAreArith checks which stages say so.)
func TestArithStagesKeyTheBackend(t *testing.T) {
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	run := func(context.Context, *Call) error { return nil }
	for _, st := range []*Stage{{Name: "test-key-arith", Version: "1", Arith: true, Run: run}, {Name: "test-key-plain", Version: "1", Run: run}} {
		Register(st)
		defer delete(stages, st.Name)
	}
	keys := map[string]map[string]string{} // stage -> back end -> key
	for _, be := range kernels.Available() {
		restore := kernelstest.Use(t, be)
		for _, stage := range []string{"test-key-arith", "test-key-plain"} {
			k, _, err := computeKey(s, &Node{Stage: stage, Params: map[string]int{"x": 1}, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			if keys[stage] == nil {
				keys[stage] = map[string]string{}
			}
			keys[stage][be] = k
		}
		restore()
	}
	if len(kernels.Available()) < 2 {
		t.Skip("only the gonum back end in this binary (no OpenBLAS): nothing to tell apart")
	}
	for stage, byBackend := range keys {
		same := byBackend["gonum"] == byBackend["openblas"]
		if arith := stages[stage].Arith; same == arith {
			t.Errorf("stage %s (Arith %v): key the same under both back ends: %v", stage, arith, same)
		}
	}
}

// TestExecJobRefusesAnotherBackend: a cluster node whose product back end
// differs from the planner's refuses a model stage's job (its output would
// be stored under a key that names the other back end), and runs it when
// they agree.
func TestExecJobRefusesAnotherBackend(t *testing.T) {
	dir := t.TempDir()
	ran := 0
	Register(&Stage{Name: "test-arith", Version: "1", Arith: true, Run: func(context.Context, *Call) error { ran++; return nil }})
	defer delete(stages, "test-arith")
	for _, c := range []struct {
		arith string
		ok    bool
	}{{"openblas 9.9 Imaginary", false}, {Arith(), true}} {
		job := filepath.Join(dir, "job.json")
		b, _ := json.Marshal(Job{Stage: "test-arith", Version: "1", Arith: c.arith, Params: json.RawMessage("{}"), Out: dir, Tasks: 1})
		os.WriteFile(job, b, 0o644)
		err := ExecJob(context.Background(), job, 0, nil)
		if c.ok != (err == nil) || !c.ok && !strings.Contains(err.Error(), "matrix products") {
			t.Errorf("job planned with %q on a node with %q: %v", c.arith, Arith(), err)
		}
	}
	if ran != 1 {
		t.Errorf("the stage ran %d times, want once", ran)
	}
}
