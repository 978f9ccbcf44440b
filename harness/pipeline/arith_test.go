package pipeline

import (
	"testing"

	"github.com/tive-dev/tive/harness/internal/kernels"
	"github.com/tive-dev/tive/harness/internal/kernels/kernelstest"
)

// TestArithStagesKeyTheBackend: a stage that runs the model's matrix
// products is keyed by the back end that computed them; others are not.
func TestArithStagesKeyTheBackend(t *testing.T) {
	s, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]map[string]string{} // stage -> back end -> key
	for _, be := range kernels.Available() {
		restore := kernelstest.Use(t, be)
		for _, stage := range []string{"world", "select", "train", "features", "predict"} {
			k, _, err := s.computeKey(&Node{Stage: stage, Params: map[string]int{"x": 1}, Seed: 3})
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
