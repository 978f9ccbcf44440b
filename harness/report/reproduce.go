package report

import (
	"context"
	"fmt"

	"github.com/tive-dev/tive/harness/pipeline"
	"github.com/tive-dev/tive/harness/spec"
)

// Studies are the reproduction's spec files, under the experiments folder,
// in the order they run (cost reuses main's runs).
var Studies = []string{"main.yaml", "redundancy.yaml", "ratio.yaml", "ablation.yaml", "ablation-warmup.yaml", "ablation-projector.yaml", "planted.yaml", "cost.yaml"}

// RunStudy runs every stage of st that the store lacks through r and
// summarises the study from the results file the run writes (Build). The
// pipeline summary says which stages ran and which were cached.
func RunStudy(ctx context.Context, r *pipeline.Runner, st *spec.Study) (*Study, *pipeline.Summary, error) {
	res, err := r.Run(ctx, st)
	if err != nil {
		return nil, res, fmt.Errorf("%s: %w", st.File, err)
	}
	b, err := BuildFile(st, res.Results)
	return b, res, err
}
