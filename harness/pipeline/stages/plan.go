package stages

import (
	"slices"
	"time"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/model"
	"github.com/tive-dev/tive/harness/pipeline"
	"github.com/tive-dev/tive/harness/seeds"
	"github.com/tive-dev/tive/harness/selection"
	"github.com/tive-dev/tive/harness/spec"
	"github.com/tive-dev/tive/harness/world"
)

// Plan lists the stage invocations of one run, in dependency order; nodes of
// different runs with the same key are run once. The full chain, on the
// built-in world with a method that needs gradients and with benchmarks:
//
//	world -> warmup -> pretrain -> reference -> features [-> valfeatures]
//	      -> select -> train -> predict -> score, and chance
//
// with the vision tower and the language model (stages vision and
// language) before pretrain when the spec sets vision.images and
// language.records; with the vision tower, the tokens stage (the frozen
// tower's output for every image of the world) feeds every stage after
// pretrain that runs the model on images (reference, features, train,
// predict) unless the backend is external.
//
// Stages a run does not need are left out: a pool read from a file has no
// world, a method without gradients no reference model, a run without
// benchmarks no training.
func Plan(r *spec.Run) []*pipeline.Node {
	p := &planner{r: r, inputs: map[string]pipeline.Ref{}}
	p.pool()
	sel := p.selection()
	if len(r.Benchmarks) > 0 {
		p.evaluation(sel)
	}
	return p.nodes
}

type planner struct {
	r      *spec.Run
	nodes  []*pipeline.Node
	world  *pipeline.Node          // nil for a pool read from a file
	warm   *pipeline.Node          // the warm-up sample
	labels poolParams              // how records get their task labels
	inputs map[string]pipeline.Ref // the pool: records (and a labelling rule file)
	tokens *pipeline.Node          // the frozen tower's outputs (tokens stage), nil without a vision stage
}

func (p *planner) add(n ...*pipeline.Node) { p.nodes = append(p.nodes, n...) }

// pool plans the records (a file, or the world's mixture) and the warm-up set.
func (p *planner) pool() {
	r := p.r
	if r.Data.Source == "world" {
		p.world = &pipeline.Node{Stage: "world", Params: r.World.WithDefaults()}
		p.add(p.world)
		p.inputs["records"] = pipeline.Ref{Node: p.world, File: world.MixtureFile}
	} else {
		p.inputs["records"] = pipeline.Ref{File: r.Path(r.Data.Records)}
	}
	if l := r.Data.Labels; l != "" {
		if slices.Contains(data.BuiltinRules(), l) {
			p.labels.Labels = l
		} else {
			p.inputs["labels"] = pipeline.Ref{File: r.Path(l)}
		}
	}
	p.warm = &pipeline.Node{Stage: "warmup", Params: warmupParams{p.labels, r.Warmup.Ratio}, Seed: seeds.Derive(r.Seed, "warmup"), Inputs: p.inputs}
	p.add(p.warm)
}

// base is the world's base model: pretrained once per world, its seed
// derived from the world's; on the language model and the vision tower
// (planned here, before the caller adds the base) when the spec has
// language records and vision images.
//
// The pretrained parts are the world's, not its mixture's: they train on
// the world's streams, which neither planted copies (world.Redundancy) nor
// the pool's size change, and the language model's vocabulary comes from
// the parts' world (world.Config.Parts: without planted copies, whose
// mixture has every word a copy repeats, and at the profile whose parts a
// larger pool shares). So a world with planted copies, or a larger pool of
// the same world, shares them: the run plans the parts' world too, after
// its own, for the language stage and the pretrain stage on the language
// model to read.
func (p *planner) base() *pipeline.Node {
	r := p.r
	in := map[string]pipeline.Ref{"world": {Node: p.world}}
	parts := r.World.Parts()
	partsWorld := p.world
	if parts != p.world.Params {
		partsWorld = &pipeline.Node{Stage: "world", Params: parts}
	}
	if v := r.Vision; v.Images > 0 {
		vis := &pipeline.Node{Stage: "vision", Seed: seeds.Derive(r.World.Seed, "vision"),
			Params: visionParams{World: parts, Model: towerConfig(r.Model), Images: v.Images, Probe: v.Probe, Train: trainConfig(v.Train)}}
		p.add(vis)
		in["vision"] = pipeline.Ref{Node: vis}
		if r.Backend.Kind != "external" && p.world != nil {
			p.tokens = &pipeline.Node{Stage: "tokens", Params: tokensParams{}, Inputs: map[string]pipeline.Ref{"vision": {Node: vis}, "world": {Node: p.world}}}
			p.add(p.tokens)
		}
	}
	if l := r.Language; l.Records > 0 {
		if partsWorld != p.world {
			p.add(partsWorld)
			in["world"] = pipeline.Ref{Node: partsWorld}
		}
		tc := trainConfig(l.Train)
		tc.PromptWeight = l.PromptWeight
		lang := &pipeline.Node{Stage: "language", Seed: seeds.Derive(r.World.Seed, "language"), Inputs: map[string]pipeline.Ref{"world": {Node: partsWorld}},
			Params: languageParams{World: parts, Model: decoderConfig(r.Model), VocabMinCount: r.Model.VocabMinCount,
				Records: l.Records, Instruct: l.Instruct, Drills: l.Drills, MaxFill: l.MaxFill, Eval: l.Eval, Train: tc}}
		p.add(lang)
		in["language"] = pipeline.Ref{Node: lang}
	}
	pp := pretrainParams{Model: r.Model.Config, VocabMinCount: r.Model.VocabMinCount, Train: trainConfig(r.Pretrain)}
	if a := r.Align; a.Images > 0 {
		pp.Align = &alignParams{World: parts, Images: a.Images, Eval: a.Eval, Train: trainConfig(a.Train)}
	}
	return &pipeline.Node{Stage: "pretrain", Seed: seeds.Derive(r.World.Seed, "pretrain"), Inputs: in, Params: pp}
}

// withTokens adds the tower's outputs (the tokens stage) to the inputs of
// a stage that runs the model on the world's images with the tower frozen.
func (p *planner) withTokens(in map[string]pipeline.Ref) map[string]pipeline.Ref {
	if p.tokens != nil {
		in["tokens"] = pipeline.Ref{Node: p.tokens, File: tokensFile}
	}
	return in
}

// selection plans the select stage and whatever gradients its method reads.
// Only the inputs the method reads are inputs (and so part of its key).
func (p *planner) selection() *pipeline.Node {
	r, sel := p.r, p.r.Selection
	in := map[string]pipeline.Ref{}
	for k, v := range p.inputs {
		in[k] = v
	}
	need := selection.Needs(sel.Method)
	switch f := r.Features; {
	case !need.Any():
	case f.Source == "builtin":
		feat, val := p.gradients(need.Validation)
		in["features"] = pipeline.Ref{Node: feat}
		if val != nil {
			in["validation"] = pipeline.Ref{Node: val}
		}
	default:
		if f.Path != "" && (need.Features || need.Norms && f.Norms == "") {
			in["features"] = pipeline.Ref{File: r.Path(f.Path)}
		}
		if f.Norms != "" && need.Norms {
			in["norms"] = pipeline.Ref{File: r.Path(f.Norms)}
		}
	}
	n := &pipeline.Node{
		Stage:  "select",
		Params: selectParams{p.labels, sel.Options},
		Seed:   seeds.Derive(r.Seed, "select"),
		Inputs: in,
		Label:  r.Label,
	}
	p.add(n)
	return n
}

// gradients plans TIVE's reference model and the pool's gradient features
// (and, for LESS, the validation set's).
func (p *planner) gradients(validation bool) (feat, val *pipeline.Node) {
	r, f := p.r, p.r.Features
	base := p.base()
	ref := &pipeline.Node{Stage: "reference", Seed: seeds.Derive(r.Seed, "reference"), Runtime: backendRuntimeOf(r),
		Inputs: p.withTokens(map[string]pipeline.Ref{"base": {Node: base}, "world": {Node: p.world}, "warmup": {Node: p.warm, File: warmupFile}}),
		Params: referenceParams{Backend: backendOf(r), LoRA: r.Reference.LoRA, Train: p.tuning(r.Reference.Train),
			SaveOptimizer: f.Precondition == "adam"}}
	fp := featuresParams{Backend: backendOf(r), Params: model.ParamSet(f.Params), BatchSize: f.BatchSize, ShardSize: f.ShardSize,
		Projector: f.Projector.Spec()}
	pool := fp // the validation gradients (valfeatures) stay plain
	pool.Precondition = f.Precondition
	feat = &pipeline.Node{Stage: "features", Params: pool, Runtime: backendRuntimeOf(r), Inputs: p.withTokens(map[string]pipeline.Ref{"model": {Node: ref}, "world": {Node: p.world}, "records": p.inputs["records"]})}
	p.add(base, ref, feat)
	if validation {
		suites := r.Benchmarks
		if len(suites) == 0 {
			suites = world.Suites()
		}
		val = &pipeline.Node{Stage: "valfeatures", Seed: seeds.Derive(r.Seed, "valfeatures"), Inputs: map[string]pipeline.Ref{"model": {Node: ref}, "world": {Node: p.world}},
			Params: valParams{featuresParams: fp, Benchmarks: suites, PerSuite: r.Selection.ValidationPerSuite}}
		p.add(val)
	}
	return feat, val
}

// evaluation plans instruction tuning on the subset from the world's base
// model, prediction and scoring on the benchmark suites, and their chance levels.
func (p *planner) evaluation(sel *pipeline.Node) {
	r, t := p.r, p.r.Train
	base := p.base()
	tp := trainParams{Backend: backendOf(r), Mode: t.Mode, LoRA: t.LoRA, Train: p.tuning(t.Train)}
	if t.Rehearse > 0 {
		tp.Rehearse = &rehearseParams{World: r.World.WithDefaults(), PerRecord: t.Rehearse, MaxFill: r.Language.MaxFill}
		if t.RehearseGrid > 0 {
			cfg := decoderConfig(r.Model)
			tp.Rehearse.Grid, tp.Rehearse.Model = t.RehearseGrid, &cfg
		}
	}
	train := &pipeline.Node{Stage: "train", Seed: seeds.Derive(r.Seed, "train"), Label: r.Label, Runtime: backendRuntimeOf(r),
		Inputs: p.withTokens(map[string]pipeline.Ref{"base": {Node: base}, "world": {Node: p.world}, "subset": {Node: sel, File: subsetFile}}),
		Params: tp}
	pp := predictParams{Backend: backendOf(r), Benchmarks: r.Benchmarks, MaxNewTokens: r.Predict.MaxNewTokens}
	pred := &pipeline.Node{Stage: "predict", Label: r.Label, Params: pp, Runtime: backendRuntimeOf(r), Inputs: p.withTokens(map[string]pipeline.Ref{"model": {Node: train}, "world": {Node: p.world}})}
	score := &pipeline.Node{Stage: "score", Label: r.Label, Params: predictParams{Benchmarks: r.Benchmarks}, Inputs: map[string]pipeline.Ref{"answers": {Node: pred, File: "answers"}, "world": {Node: p.world}}}
	chance := &pipeline.Node{Stage: "chance", Params: predictParams{Benchmarks: r.Benchmarks}, Inputs: map[string]pipeline.Ref{"world": {Node: p.world}}}
	p.add(base, train, pred, score, chance)
}

// tuning is the schedule of a run on the base model: a pretrained vision
// tower stays frozen, as LLaVA keeps CLIP fixed.
func (p *planner) tuning(t spec.Train) model.TrainConfig {
	tc := trainConfig(t)
	tc.FreezeVision = p.r.Vision.Images > 0
	return tc
}

func backendOf(r *spec.Run) backendParams {
	return backendParams{Kind: r.Backend.Kind, Argv: r.Backend.Argv}
}

// backendRuntimeOf is the external backend's timeout and retries.
func backendRuntimeOf(r *spec.Run) backendRuntime {
	return backendRuntime{Timeout: time.Duration(r.Backend.Timeout) * time.Minute, Retries: r.Backend.Retries}
}

// partConfig is the model configuration of the vision and language stages:
// they train the tower and the decoder alone, so the projector's settings,
// the pretrain stage's to choose, are left out of their keys.
func partConfig(m spec.Model) model.Config {
	c := m.Config
	c.ProjectorWidth, c.WordTokens = 0, false
	return c
}

// towerConfig is the vision stage's model configuration: partConfig with
// the decoder's width at model.DefaultConfig's where the tower has its own
// (vision_width > 0) and the default is valid with the other settings (the
// heads divide it). model.New draws the tower first, from TowerWidth, and
// model.PretrainTower trains the tower alone, so the decoder's width reaches
// neither the tower nor, then, its key: a wider decoder reuses the tower.
// The decoder's other settings stay in the key (layers sets the scale of
// the tower blocks' initial residual weights; heads and mlp_ratio shape
// both).
func towerConfig(m spec.Model) model.Config {
	c := partConfig(m)
	if c.VisionWidth == 0 {
		return c
	}
	d := c
	d.Width = model.DefaultConfig().Width
	if d.Validate() != nil {
		return c
	}
	return d
}

// decoderConfig is the language stage's model configuration: partConfig
// with the tower's own settings at their smallest (the patch embedding, no
// encoder blocks, the decoder's width). The stage trains the decoder alone
// and the pretrain stage keeps nothing else of it, so a change of tower
// neither changes its key nor, through the order of the initial draws, its
// decoder. The patch grid stays: the grid drill's texts are laid out on it.
func decoderConfig(m spec.Model) model.Config {
	c := partConfig(m)
	c.Stem, c.VisionWidth, c.VisionLayers = "", 0, 0
	return c
}

func trainConfig(t spec.Train) model.TrainConfig {
	return model.TrainConfig{Epochs: t.Epochs, BatchSize: t.BatchSize, LR: t.LR, WarmupRatio: t.WarmupRatio, WeightDecay: t.WeightDecay}
}
