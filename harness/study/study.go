// Package study runs a study and summarises what its stages wrote: the step
// between package pipeline, which runs stages through the run store, and
// package report, which only reads their outputs and renders them (spec →
// stages → store → report → notebook). The tive command and the notebooks'
// Project run studies through it.
package study

import (
	"context"
	"fmt"

	"github.com/tive-dev/tive/harness/pipeline"
	"github.com/tive-dev/tive/harness/report"
	"github.com/tive-dev/tive/harness/spec"
)

// Reproduction is the reproduction's spec files, under the experiments
// folder, in the order they run (cost reuses main's runs).
var Reproduction = []string{"main.yaml", "redundancy.yaml", "ratio.yaml", "ablation.yaml", "ablation-warmup.yaml", "ablation-projector.yaml", "planted.yaml", "cost.yaml"}

// Outcome is one study run: its summary (report.Study), the pipeline's
// account of the run, and how many of its stages ran and how many the
// store held already.
type Outcome struct {
	Study       *report.Study
	Summary     *pipeline.Summary
	Ran, Cached int
}

// Run runs every stage of st that the store lacks through r and summarises
// the study from the results file the run writes (report.BuildFile).
func Run(ctx context.Context, r *pipeline.Runner, st *spec.Study) (*Outcome, error) {
	sum, err := r.Run(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", st.File, err)
	}
	o := &Outcome{Summary: sum}
	for _, x := range sum.Stages {
		switch x.Status {
		case "ran":
			o.Ran++
		case "cached":
			o.Cached++
		}
	}
	o.Study, err = report.BuildFile(st, sum.Results)
	return o, err
}
