package pipeline

import (
	"context"
	"encoding/json"
	"path/filepath"

	"github.com/tive-dev/tive/harness/atomic"
	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/grad"
	"github.com/tive-dev/tive/harness/model"
	"github.com/tive-dev/tive/harness/selection"
	"github.com/tive-dev/tive/harness/spec"
	"github.com/tive-dev/tive/harness/world"
)

// The spine's stages: the built-in world, and warmup and select over a pool.
func init() {
	Register(&Stage{Name: "world", Version: "1", Run: runWorld})
	Register(&Stage{Name: "warmup", Version: "1", Run: runWarmup})
	Register(&Stage{Name: "select", Version: "1", Run: runSelectStage})
}

// poolParams are the parameters shared by stages that read the pool.
type poolParams struct {
	Labels string `json:"labels"` // built-in rule set name, or "" for the records' dataset field
}

// World outputs: the generated world (package world), mixture.json included.
func runWorld(ctx context.Context, c *Call) error {
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
func runWarmup(ctx context.Context, c *Call) error {
	var p warmupParams
	if err := c.Decode(&p); err != nil {
		return err
	}
	recs, pool, err := LoadPool(SelectFiles{Records: c.Inputs["records"], Labels: labelsArg(p.Labels, c)}, "random", c.Workers)
	if err != nil {
		return err
	}
	idx, err := selection.Warmup(pool.Tasks, p.Ratio, c.Seed)
	if err != nil {
		return err
	}
	if err := data.WriteJSON(filepath.Join(c.Out, "warmup.json"), recs, idx); err != nil {
		return err
	}
	return writeJSON(filepath.Join(c.Out, "warmup-index.json"), idx)
}

type selectParams struct {
	poolParams
	Method     string             `json:"method"`
	Budget     float64            `json:"budget"`
	Q          float64            `json:"q"`
	Within     string             `json:"within"`
	Difficulty string             `json:"difficulty"`
	Exclude    []string           `json:"exclude"`
	Keep       map[string]float64 `json:"keep"`
	Order      string             `json:"order"`
}

// Select outputs: subset.json, scores.jsonl, tasks.json.
func runSelectStage(ctx context.Context, c *Call) error {
	var p selectParams
	if err := c.Decode(&p); err != nil {
		return err
	}
	opt := selection.Options{Method: p.Method, Budget: p.Budget, Q: p.Q, Within: p.Within, Difficulty: p.Difficulty, Exclude: p.Exclude, Keep: p.Keep, Order: p.Order, Seed: c.Seed}
	in := SelectFiles{Records: c.Inputs["records"], Labels: labelsArg(p.Labels, c), Features: c.Inputs["features"], Norms: c.Inputs["norms"], Validation: c.Inputs["validation"]}
	out := SelectOutputs{Subset: filepath.Join(c.Out, "subset.json"), Scores: filepath.Join(c.Out, "scores.jsonl"), Tasks: filepath.Join(c.Out, "tasks.json")}
	_, err := RunSelect(in, opt, out, c.Workers)
	return err
}

// labelsArg gives the rules to label with: a rule file input, or a built-in name.
func labelsArg(name string, c *Call) string {
	if f, ok := c.Inputs["labels"]; ok {
		return f
	}
	return name
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomic.WriteFile(path, append(b, '\n'), 0o644)
}

// Plan lists the stage invocations of one run, in dependency order. Nodes of
// different runs with the same key are run once. With the built-in world and
// a method that needs gradients, the run is TIVE's whole pipeline:
//
//	world -> pretrain -> warmup -> reference -> features -> select
func Plan(r *spec.Run) []*Node {
	pool := poolParams{}
	var nodes []*Node
	var w *Node
	inputs := map[string]Ref{}
	if r.Data.Source == "world" {
		w = &Node{Stage: "world", Params: r.World.Config()}
		nodes = append(nodes, w)
		inputs["records"] = Ref{Node: w, File: "mixture.json"}
	} else {
		inputs["records"] = Ref{File: r.Path(r.Data.Records)}
	}
	if l := r.Data.Labels; l != "" {
		if contains(data.BuiltinRules(), l) {
			pool.Labels = l
		} else {
			inputs["labels"] = Ref{File: r.Path(l)}
		}
	}
	warm := &Node{Stage: "warmup", Params: warmupParams{pool, r.Warmup.Ratio}, Seed: spec.Seed(r.Seed, "warmup", 0), Inputs: inputs}
	nodes = append(nodes, warm)
	sel := r.Selection
	selIn := map[string]Ref{}
	for k, v := range inputs {
		selIn[k] = v
	}
	need := selection.Needs(sel.Method)
	needF, needN := need.Features, need.Norms
	switch f := r.Features; {
	case !need.Any():
	case f.Source == "builtin":
		base := basePlan(r, w)
		ref := &Node{Stage: "reference", Seed: spec.Seed(r.Seed, "reference", 0),
			Inputs: map[string]Ref{"base": {Node: base}, "world": {Node: w}, "warmup": {Node: warm, File: "warmup.json"}},
			Params: referenceParams{LoRA: model.LoRAConfig(r.Reference.LoRA), Train: trainConfig(r.Reference.Train)}}
		feat := &Node{Stage: "features", Inputs: map[string]Ref{"model": {Node: ref}, "world": {Node: w}, "records": inputs["records"]},
			Params: featuresParams{Params: model.ParamSet(f.Params), BatchSize: f.BatchSize, ShardSize: f.ShardSize,
				Projector: grad.ProjectorSpec{Kind: f.Projector.Kind, Seed: f.Projector.Seed, Dim: f.Projector.Dim, Side: f.Projector.Side, Dtype: grad.Dtype(f.Projector.Dtype)}}}
		nodes = append(nodes, base, ref, feat)
		selIn["features"] = Ref{Node: feat}
		if need.Validation {
			suites := r.Benchmarks
			if len(suites) == 0 {
				suites = world.Suites()
			}
			val := &Node{Stage: "valfeatures", Seed: spec.Seed(r.Seed, "valfeatures", 0), Inputs: map[string]Ref{"model": {Node: ref}, "world": {Node: w}},
				Params: valParams{featuresParams: feat.Params.(featuresParams), Benchmarks: suites, PerSuite: sel.ValidationPerSuite}}
			nodes = append(nodes, val)
			selIn["validation"] = Ref{Node: val}
		}
	default:
		// Only the inputs the method reads are inputs (and so part of its key).
		if f.Path != "" && (needF || needN && f.Norms == "") {
			selIn["features"] = Ref{File: r.Path(f.Path)}
		}
		if f.Norms != "" && needN {
			selIn["norms"] = Ref{File: r.Path(f.Norms)}
		}
	}
	selNode := &Node{
		Stage:  "select",
		Params: selectParams{pool, sel.Method, sel.Budget, sel.Q, sel.Within, sel.Difficulty, sel.Exclude, sel.Keep, sel.Order},
		Seed:   spec.Seed(r.Seed, "select", 0),
		Inputs: selIn,
		Label:  r.Label,
	}
	nodes = append(nodes, selNode)
	if len(r.Benchmarks) == 0 {
		return nodes
	}
	// Instruction tuning on the subset, from the world's base model, then
	// prediction and scoring on the benchmark suites.
	base := basePlan(r, w)
	t := r.Train
	train := &Node{Stage: "train", Seed: spec.Seed(r.Seed, "train", 0), Label: r.Label,
		Inputs: map[string]Ref{"base": {Node: base}, "world": {Node: w}, "subset": {Node: selNode, File: "subset.json"}},
		Params: trainParams{Mode: t.Mode, LoRA: model.LoRAConfig(t.LoRA), Train: trainConfig(t.Schedule())}}
	pp := predictParams{Benchmarks: r.Benchmarks, MaxNewTokens: r.Predict.MaxNewTokens}
	pred := &Node{Stage: "predict", Label: r.Label, Params: pp, Inputs: map[string]Ref{"model": {Node: train}, "world": {Node: w}}}
	score := &Node{Stage: "score", Label: r.Label, Params: pp, Inputs: map[string]Ref{"answers": {Node: pred, File: "answers"}, "world": {Node: w}}}
	chance := &Node{Stage: "chance", Params: predictParams{Benchmarks: r.Benchmarks}, Inputs: map[string]Ref{"world": {Node: w}}}
	return append(nodes, base, train, pred, score, chance)
}

// basePlan is the world's base model: pretrained once per world, its seed
// derived from the world's.
func basePlan(r *spec.Run, w *Node) *Node {
	return &Node{Stage: "pretrain", Seed: spec.Seed(r.World.Seed, "pretrain", 0), Inputs: map[string]Ref{"world": {Node: w}},
		Params: pretrainParams{Model: modelConfig(r.Model), VocabMinCount: r.Model.VocabMinCount, Train: trainConfig(r.Pretrain)}}
}

func modelConfig(m spec.Model) model.Config {
	return model.Config{ImageSize: m.ImageSize, PatchSize: m.PatchSize, Width: m.Width, Heads: m.Heads, Layers: m.Layers,
		VisionLayers: m.VisionLayers, MLPRatio: m.MLPRatio, MaxLen: m.MaxLen}
}

func trainConfig(t spec.Train) model.TrainConfig {
	return model.TrainConfig{Epochs: t.Epochs, BatchSize: t.BatchSize, LR: t.LR, WarmupRatio: t.WarmupRatio, WeightDecay: t.WeightDecay}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
