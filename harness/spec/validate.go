package spec

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tive-dev/tive/harness/field"
	"github.com/tive-dev/tive/harness/selection"
	"github.com/tive-dev/tive/harness/world"
	"go.yaml.in/yaml/v3"
)

// validate checks values and cross-field rules of a resolved spec; it
// changes nothing.
func (d *decoder) validate(s Spec) {
	bad := func(path, format string, args ...any) { d.addf(d.at(path), path, format, args...) }
	// domain puts a domain configuration's field errors (field.List) at
	// their keys under prefix.
	domain := func(prefix string, err error) {
		var l field.List
		if !errors.As(err, &l) {
			if err != nil {
				bad(prefix, "%v", err)
			}
			return
		}
		for _, e := range l {
			bad(prefix+"."+e.Name, "%s", e.Msg)
		}
	}
	sel := s.Selection
	domain("selection", sel.Validate())
	if !(s.Warmup.Ratio > 0 && s.Warmup.Ratio <= 1) {
		bad("warmup.ratio", "%g is outside (0, 1] (the released value is 0.08)", s.Warmup.Ratio)
	}
	if s.Workers < 0 {
		bad("workers", "%d is negative (0 means all cores)", s.Workers)
	}
	for i, b := range s.Benchmarks {
		switch {
		case !slices.Contains(Benchmarks, b):
			bad(fmt.Sprintf("benchmarks[%d]", i), "unknown benchmark %q (want one of %s)", b, strings.Join(Benchmarks, ", "))
		case s.Data.Source == "world" && !slices.Contains(world.Suites(), b):
			bad(fmt.Sprintf("benchmarks[%d]", i), "the built-in world has no %q suite (it has %s)", b, strings.Join(world.Suites(), ", "))
		}
	}
	f := s.Features
	need := selection.Needs(sel.Method)
	needF, needN := need.Features, need.Norms
	if sel.ValidationPerSuite <= 0 {
		bad("selection.validation_per_suite", "%d (want a positive number of questions)", sel.ValidationPerSuite)
	}
	if need.Validation && f.Source == "import" {
		bad("selection.method", "method %s needs validation gradients from the built-in world: use features.source: builtin", sel.Method)
	}
	if need.Vector != "" && f.Source == "import" {
		bad("selection.method", "method %s needs the reference model's per-example %s: use features.source: builtin", sel.Method, need.Vector)
	}
	switch f.Source {
	case "import":
		if needF && f.Path == "" {
			bad("selection.method", "method %s needs gradient features (set features.path, or use data.source: world for built-in ones)", sel.Method)
		}
		if needN && !needF && f.Norms == "" && f.Path == "" {
			bad("selection.method", "method %s needs gradient norms (set features.norms, or features.path to a store with norms)", sel.Method)
		}
	case "builtin":
		if s.Data.Source != "world" {
			bad("features.source", "builtin features need the built-in world (data.source: world)")
		}
		if f.Path != "" || f.Norms != "" {
			bad("features.path", "is set, but features.source is builtin")
		}
		if f.Params != "lora-attn" && f.Params != "lora" && f.Params != "attn" {
			bad("features.params", "%q (want lora-attn, lora or attn)", f.Params)
		}
		pj := f.Projector
		domain("features.projector", pj.Spec().Validate())
		if f.BatchSize <= 0 {
			bad("features.batch_size", "%d (want a positive number of records)", f.BatchSize)
		}
		if f.ShardSize <= 0 {
			bad("features.shard_size", "%d (want a positive number of records)", f.ShardSize)
		}
		switch f.Precondition {
		case "", "none":
		case "adam":
			if pj.Kind != "rademacher" {
				bad("features.precondition", "adam needs the rademacher projector (factored projects per-token factors and never forms the gradient Adam's moments act on)")
			}
			if s.Backend.Kind == "external" {
				bad("features.precondition", "adam needs the builtin backend (the external worker saves no optimizer state)")
			}
		default:
			bad("features.precondition", "%q (want none or adam)", f.Precondition)
		}
	default:
		bad("features.source", "%q (want import or builtin)", f.Source)
	}
	m := s.Model
	domain("model", m.Validate())
	if m.VocabMinCount <= 0 {
		bad("model.vocab_min_count", "%d (want a positive number)", m.VocabMinCount)
	}
	if s.Data.Source == "world" && m.ImageSize != s.World.ImageSize {
		bad("model.image_size", "%d differs from world.image_size %d", m.ImageSize, s.World.ImageSize)
	}
	if s.Train.Mode != "full" && s.Train.Mode != "lora" {
		bad("train.mode", "%q (want full or lora)", s.Train.Mode)
	}
	if s.Train.Mode == "lora" {
		domain("train.lora", s.Train.LoRA.Validate())
	}
	if r := s.Train.Rehearse; !(r >= 0 && r <= 100) {
		bad("train.rehearse", "%g (want language texts per subset record, 0 to 100)", r)
	} else if r > 0 && s.Language.Records == 0 {
		bad("train.rehearse", "rehearses the language corpus: set language.records too")
	}
	if g := s.Train.RehearseGrid; !(g >= 0 && g <= 1) {
		bad("train.rehearse_grid", "%g (want the share of rehearsal texts from the grid corpus, 0 to 1)", g)
	} else if g > 0 && s.Train.Rehearse == 0 {
		bad("train.rehearse_grid", "a share of the rehearsal texts: set train.rehearse too")
	} else if g > 0 && !s.Model.WordTokens {
		bad("train.rehearse_grid", "grid texts state the scene as word tokens read it: needs model.word_tokens")
	}
	switch b := s.Backend; {
	case b.Kind == "builtin" && len(b.Argv) > 0:
		bad("backend.argv", "is set, but backend.kind is builtin")
	case b.Kind == "external" && len(b.Argv) == 0:
		bad("backend.argv", "missing: the worker command, e.g. [python3, scripts/worker/tive_worker.py]")
	case b.Kind != "builtin" && b.Kind != "external":
		bad("backend.kind", "%q (want builtin or external)", b.Kind)
	case b.Timeout < 0 || b.Retries < 0:
		bad("backend", "timeout_minutes and retries must be >= 0")
	}
	if s.Predict.MaxNewTokens <= 0 {
		bad("predict.max_new_tokens", "%d (want a positive number of tokens)", s.Predict.MaxNewTokens)
	}
	if len(s.Benchmarks) > 0 && s.Data.Source != "world" {
		bad("benchmarks", "training and scoring run on the built-in world only (data.source: world); external models use the worker")
	}
	if l := s.Language; l.Records < 0 || l.MaxFill < 0 || l.Eval < 0 || l.Instruct < 0 || l.Instruct > l.Records {
		bad("language", "records, max_fill and eval must be >= 0, and instruct in [0, records]")
	} else if l.PromptWeight < 0 {
		bad("language.prompt_weight", "%g (want a weight >= 0)", l.PromptWeight)
	} else if l.Records > 0 && s.Data.Source != "world" {
		bad("language.records", "the language corpus is the built-in world's (data.source: world)")
	} else if len(l.Drills) > 0 && l.Records == 0 {
		bad("language.drills", "drills follow the first phase: set language.records too")
	}
	for i, d := range s.Language.Drills {
		path := fmt.Sprintf("language.drills[%d]", i)
		if err := d.Validate(); err != nil {
			bad(path, "%v", strings.TrimPrefix(err.Error(), "world: "))
		} else if d.Texts <= 0 {
			bad(path+".texts", "%d (want a positive number of texts)", d.Texts)
		} else if d.Rehearse < 0 {
			bad(path+".rehearse", "%d (want a number of texts >= 0)", d.Rehearse)
		} else if d.Grid && (d.Skill != "" && d.Skill != "yesno" || d.MaxObjects != 0) {
			bad(path+".grid", "grid texts are yes/no questions about scenes of 1-4 objects: leave skill (or set yesno) and max_objects out")
		} else if d.Grid && !s.Model.WordTokens {
			bad(path+".grid", "grid texts state the scene as word tokens read it: needs model.word_tokens")
		} else if d.Join && i == 0 {
			bad(path+".join", "the first drill has no drill before it to join")
		}
	}
	if v := s.Vision; v.Images < 0 || v.Probe < 0 {
		bad("vision", "images and probe must be >= 0")
	} else if v.Images > 0 && s.Data.Source != "world" {
		bad("vision.images", "the vision stream is the built-in world's (data.source: world)")
	}
	if a := s.Align; a.Images < 0 || a.Eval < 0 {
		bad("align", "images and eval must be >= 0")
	} else if a.Images > 0 && (s.Vision.Images == 0 || s.Language.Records == 0 || !s.Model.WordTokens) {
		bad("align.images", "the word alignment needs vision.images, language.records and model.word_tokens")
	} else if a.Images == 0 && s.Model.WordTokens {
		bad("model.word_tokens", "needs align.images (only the word alignment trains a word-token projector)")
	}
	for path, t := range map[string]Train{"vision": s.Vision.Train, "language": s.Language.Train, "align": s.Align.Train, "pretrain": s.Pretrain, "reference.train": s.Reference.Train, "train": s.Train.Train} {
		if t.Epochs < 0 || t.BatchSize < 0 || t.LR < 0 || t.WarmupRatio < 0 || t.WarmupRatio >= 1 || t.WeightDecay < 0 {
			bad(path, "epochs, batch_size, lr and weight_decay must be >= 0 and warmup_ratio in [0, 1)")
		}
	}
	domain("reference.lora", s.Reference.LoRA.Validate())
	switch s.Data.Source {
	case "file":
		if s.Data.Records == "" {
			bad("data.records", "missing (required with data.source: file)")
		}
	case "world":
		if s.Data.Records != "" {
			bad("data.records", "is set, but data.source is world (the world's mixture is the pool)")
		}
		domain("world", s.World.Validate())
	default:
		bad("data.source", "%q (want file or world)", s.Data.Source)
	}
}

// at is the node of key path, or of its nearest enclosing key that a file
// wrote (the top mapping at the last).
func (d *decoder) at(path string) *yaml.Node {
	for p := path; p != ""; {
		if n, ok := d.pos[p]; ok {
			return n
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return d.pos[""]
}
