package stages

import (
	"context"
	"path/filepath"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/pipeline"
	"github.com/tive-dev/tive/harness/selection"
	"github.com/tive-dev/tive/harness/world"
)

// The spine's stages: the built-in world, and warmup and select over a pool.
func init() {
	pipeline.Register(&pipeline.Stage{Name: "world", Version: "3", Run: runWorld})        // 3: random streams of package seeds
	pipeline.Register(&pipeline.Stage{Name: "warmup", Version: "2", Run: runWarmup})      // 2: random streams of package seeds
	pipeline.Register(&pipeline.Stage{Name: "select", Version: "3", Run: runSelectStage}) // 3: random streams of package seeds
}

// poolParams are the parameters shared by stages that read the pool.
type poolParams struct {
	Labels string `json:"labels"` // built-in rule set name, or "" for the records' dataset field
}

// World outputs: the generated world (package world), mixture.json included.
func runWorld(ctx context.Context, c *pipeline.Call) error {
	var cfg world.Config
	if err := c.Decode(&cfg); err != nil {
		return err
	}
	return world.Generate(ctx, cfg, c.Out, c.Progress)
}

type warmupParams struct {
	poolParams
	Ratio float64 `json:"ratio"`
}

// Warm-up outputs: warmup.json (LLaVA JSON list) and warmup-index.json.
func runWarmup(ctx context.Context, c *pipeline.Call) error {
	var p warmupParams
	if err := c.Decode(&p); err != nil {
		return err
	}
	recs, pool, err := LoadPool(SelectFiles{Records: c.Inputs["records"], Labels: labelsArg(p.Labels, c)}, selection.Random, c.Workers)
	if err != nil {
		return err
	}
	idx, err := selection.Warmup(pool.Tasks, p.Ratio, c.Seed)
	if err != nil {
		return err
	}
	if err := data.WriteJSON(filepath.Join(c.Out, warmupFile), recs, idx); err != nil {
		return err
	}
	return pipeline.WriteJSON(filepath.Join(c.Out, "warmup-index.json"), idx)
}

type selectParams struct {
	poolParams
	selection.Options // its Seed is the stage's
}

// Select outputs: subset.json, scores.jsonl, tasks.json.
func runSelectStage(ctx context.Context, c *pipeline.Call) error {
	var p selectParams
	if err := c.Decode(&p); err != nil {
		return err
	}
	opt := p.Options
	opt.Seed = c.Seed
	in := SelectFiles{Records: c.Inputs["records"], Labels: labelsArg(p.Labels, c), Features: c.Inputs["features"], Norms: c.Inputs["norms"], Validation: c.Inputs["validation"]}
	_, err := RunSelect(in, opt, selectOutputs(c.Out), c.Workers)
	return err
}

// The warm-up and select stages' files that later stages read.
const (
	warmupFile = "warmup.json" // the warm-up sample (LLaVA JSON)
	subsetFile = "subset.json" // the selected subset (LLaVA JSON)
)

// selectOutputs are the select stage's files in its folder dir.
func selectOutputs(dir string) SelectOutputs {
	return SelectOutputs{Subset: filepath.Join(dir, subsetFile), Scores: filepath.Join(dir, "scores.jsonl"), Tasks: filepath.Join(dir, "tasks.json")}
}

// ReadSelection reads a select stage's output folder dir: a line per
// record of the pool (scores.jsonl) and the per-task table (tasks.json).
func ReadSelection(dir string) ([]ScoreLine, []selection.TaskStat, error) {
	out := selectOutputs(dir)
	lines, err := ReadScores(out.Scores)
	if err != nil {
		return nil, nil, err
	}
	var tasks []selection.TaskStat
	return lines, tasks, pipeline.ReadJSON(out.Tasks, &tasks)
}

// labelsArg gives the rules to label with: a rule file input, or a built-in name.
func labelsArg(name string, c *pipeline.Call) string {
	if f, ok := c.Inputs["labels"]; ok {
		return f
	}
	return name
}
