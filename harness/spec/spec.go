// Package spec reads YAML experiment specs: strict decoding with positioned
// problems, `include:` of base specs, named profiles, sweeps, seeds and a
// canonical hash.
//
// A spec file is a mapping. Three keys are structural and read first:
//
//	include: base.yaml        # or a list; bases are merged first, in order,
//	                          # then this file's keys override theirs (mappings
//	                          # merge key by key, anything else is replaced)
//	profiles:                 # named overrides, applied after includes by
//	  quick: {selection: {budget: 0.05}}   # `tive run --profile quick`
//	sweep:                    # key path -> values; runs are the cartesian
//	  selection.method: [tive, random]     # product, first key slowest
//	  seed: [0, 1, 2]
//
// A swept key replaces whatever an earlier key of the sweep set under it:
// with `selection.method` from a base and `selection: [{...}, {...}]` here,
// the whole sections win and the method axis is dropped (it would only
// repeat every run once per method).
//
// The rest decodes into Spec; unknown keys, wrong types, missing required
// values and out-of-range values are Problems "FILE:LINE:COL: key.path: what
// is wrong (what would be valid)". Relative file paths are resolved against
// the folder of the file that wrote them, and kept relative to the top spec's
// folder so the canonical hash does not depend on where the checkout lives.
//
// Seeds: each run has a root seed (key `seed`); a stage's seed is
// seeds.Derive(root, stage name). The world's seed (world.seed) and the
// gradient projector's (features.projector.seed) hang off the root too,
// as seeds.Derive(root, seeds.World) and seeds.Derive(root,
// seeds.Projector), unless the spec pins them.
package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"

	"github.com/tive-dev/tive/harness/grad"
	"github.com/tive-dev/tive/harness/model"
	"github.com/tive-dev/tive/harness/selection"
	"github.com/tive-dev/tive/harness/world"
)

// Benchmarks names every benchmark a spec may list (the scorers of benchmarks/).
var Benchmarks = []string{"gqa", "llavabench", "mmbench", "mmbench-cn", "mme", "mmvet", "pope", "scienceqa", "seed", "textvqa", "vizwiz", "vqav2"}

// Spec is one fully resolved experiment (one run of a sweep).
type Spec struct {
	Name        string       `yaml:"name" json:"name" tive:"required"`
	Description string       `yaml:"description" json:"description,omitempty"`
	Seed        uint64       `yaml:"seed" json:"seed"`
	Workers     int          `yaml:"workers" json:"workers"`
	Data        Data         `yaml:"data" json:"data" tive:"required"`
	World       world.Config `yaml:"world" json:"world"` // the built-in world, for data.source: world (its keys and checks)
	Model       Model        `yaml:"model" json:"model"`
	Vision      Vision       `yaml:"vision" json:"vision"`
	Language    Language     `yaml:"language" json:"language"`
	Align       Align        `yaml:"align" json:"align"`
	Pretrain    Train        `yaml:"pretrain" json:"pretrain"`
	Reference   Reference    `yaml:"reference" json:"reference"`
	Features    Features     `yaml:"features" json:"features"`
	Backend     Backend      `yaml:"backend" json:"backend"`
	Train       Finetune     `yaml:"train" json:"train"`
	Predict     Predict      `yaml:"predict" json:"predict"`
	Warmup      Warmup       `yaml:"warmup" json:"warmup"`
	Selection   Selection    `yaml:"selection" json:"selection"`
	Benchmarks  []string     `yaml:"benchmarks" json:"benchmarks,omitempty"`

	// Dir is the folder of the top spec file; relative paths are relative to it.
	Dir string `yaml:"-" json:"-"`
}

// Data names the instruction pool.
type Data struct {
	Source  string `yaml:"source" json:"source"`                         // "file" (records below) or "world" (the built-in world's mixture)
	Records string `yaml:"records" json:"records,omitempty" tive:"path"` // LLaVA JSON/JSONL, for source: file
	Labels  string `yaml:"labels" json:"labels,omitempty"`               // built-in rule set name or rule file path
}

// Features says where per-example gradient features come from: imported
// files (path, norms), or the built-in reference model (source: builtin).
type Features struct {
	Source    string    `yaml:"source" json:"source"`                     // "import" or "builtin"; default: import when path or norms is set
	Path      string    `yaml:"path" json:"path,omitempty" tive:"path"`   // [N, d] .npy or sharded store folder
	Norms     string    `yaml:"norms" json:"norms,omitempty" tive:"path"` // [N] .npy
	Params    string    `yaml:"params" json:"params"`                     // builtin: lora-attn (TIVE), lora or attn
	Projector Projector `yaml:"projector" json:"projector"`               // builtin: the projection of the gradients
	BatchSize int       `yaml:"batch_size" json:"batch_size"`             // builtin: records per backward pass
	ShardSize int       `yaml:"shard_size" json:"shard_size"`             // builtin: records per feature shard
	// Precondition, builtin only: "adam" projects LESS's Adam gradient
	// features of the pool (the reference run's final AdamW moments
	// applied to each gradient, package grad); "none" (or unset) the plain
	// gradients. Norms and validation gradients stay plain.
	Precondition string `yaml:"precondition" json:"precondition,omitempty"`
}

// Projector configures a gradient projector: the keys of a
// grad.ProjectorSpec (Spec), which checks them. The section keeps a type of
// its own because its JSON names every key, zero or not, and the reports'
// condition labels (projector.kind=..., projector.dim=..., projector.side=...)
// are read off that JSON; grad.ProjectorSpec leaves zero sizes out.
type Projector struct {
	Kind  string `yaml:"kind" json:"kind"` // rademacher or factored
	Dim   int    `yaml:"dim" json:"dim"`   // rademacher: output dimension
	Side  int    `yaml:"side" json:"side"` // factored: per-layer side (dim = layers·side²)
	Seed  uint64 `yaml:"seed" json:"seed"`
	Dtype string `yaml:"dtype" json:"dtype"` // float16, float32 or float64
}

// Spec is the projector p asks for.
func (p Projector) Spec() grad.ProjectorSpec {
	return grad.ProjectorSpec{Kind: p.Kind, Seed: p.Seed, Dim: p.Dim, Side: p.Side, Dtype: grad.Dtype(p.Dtype)}
}

// Model sizes the built-in model: a model.Config (its keys, its defaults
// model.DefaultConfig, its checks Config.Validate) and the vocabulary's
// cut-off.
type Model struct {
	model.Config  `yaml:",inline"`
	VocabMinCount int `yaml:"vocab_min_count" json:"vocab_min_count"` // words seen fewer times map to <unk>
}

// Vision configures the built-in model's vision tower (CLIP's role in
// LLaVA's recipe): it trains first, alone, on Images fresh labelled scenes
// of the world's vision stream in every art style (world.VisionScenes),
// and stays frozen afterwards (the pretrain stage then trains the projector
// only, and instruction tuning leaves the tower as it is). Images 0 (the
// default) skips it: the tower trains with the rest of the model.
type Vision struct {
	Images int `yaml:"images" json:"images"`
	// Probe is the number of scenes the stage's linear probes fit on (and
	// as many they are scored on, per art style: eval.json).
	Probe int `yaml:"probe" json:"probe"`
	Train `yaml:",inline" json:"schedule"`
}

// Align configures the pretrain stage's word alignment of the projector
// (model.AlignWords), which replaces its pass over the captions: on Images
// fresh scenes of the world's vision stream, the projector learns to round
// each visual token to the language model's word that names what covers its
// patch. It needs vision.images, language.records and model.word_tokens.
// Images 0 (the default) skips it.
type Align struct {
	Images int `yaml:"images" json:"images"`
	// Eval is the number of new scenes on which the stage scores the
	// aligned model (eval.json): its words per token, and zero-shot
	// "Is there ...?" with the image and with a black one.
	Eval  int `yaml:"eval" json:"eval"`
	Train `yaml:",inline" json:"schedule"`
}

// Language configures the built-in model's language model (Vicuna's role in
// LLaVA's recipe): its decoder trains first on Records texts of the world's
// language corpus (world.Language) with the loss on every next token (a base
// language model's pretraining), then with the loss on the answers only on
// each drill's fresh texts and on the first Instruct of them (instruction
// tuning), and the pretrain stage then aligns the vision encoder and
// projector to it with the decoder frozen. Records 0 (the default) skips
// it: the pretrain stage trains the whole model from scratch.
type Language struct {
	Records  int `yaml:"records" json:"records"`
	Instruct int `yaml:"instruct" json:"instruct"`
	// PromptWeight weights the loss of the first phase's predictions
	// outside the answers against the answers' (model.TrainConfig.
	// PromptWeight; 0 or 1: every token alike).
	PromptWeight float64 `yaml:"prompt_weight" json:"prompt_weight,omitempty"`
	// Drills are answer-only phases between the two, in order, each on
	// fresh texts of one kind (world.LanguageOf): a skill the mixed corpus
	// gives too few answers, or a curriculum from one object up.
	Drills []Drill `yaml:"drills" json:"drills,omitempty"`
	// MaxFill is the most filler sentences before a text (positions vary).
	MaxFill int `yaml:"max_fill" json:"max_fill"`
	// Eval is the number of held-out texts, with up to MaxFill+3 fillers,
	// whose answers the stage scores per skill (eval.json).
	Eval  int `yaml:"eval" json:"eval"`
	Train `yaml:",inline" json:"schedule"`
}

// Drill is one answer-only phase of the language stage: Texts fresh texts
// of a kind of the language corpus, shuffled with Rehearse fresh texts of
// the whole corpus (every skill), which keep the skills the drill does not
// ask in use (rehearsal: without it a drill of one skill wears the others
// down, and the instruct phase that restores them wears the drilled one).
//
// With Grid the drill's texts are world.GridLanguage's instead: questions
// (half of them "Is there X ...?") about a scene stated as the words its
// visual tokens read as (model.word_tokens), so that the language model
// reads the image in the form the aligned projector hands it. Skill is then "" or yesno, and
// MaxObjects 0.
//
// With Join the drill's texts are shuffled into the phase of the drill
// before it instead of making a phase of their own: one optimizer and one
// learning-rate schedule for all of them (multi-task training), so no
// later phase's warm-up to the peak rate falls on what an earlier one
// taught. The first drill has no drill before it to join.
type Drill struct {
	world.TextKind `yaml:",inline"`
	Grid           bool `yaml:"grid" json:"grid,omitempty"`
	Texts          int  `yaml:"texts" json:"texts"`
	Rehearse       int  `yaml:"rehearse" json:"rehearse,omitempty"`
	Join           bool `yaml:"join" json:"join,omitempty"`
}

// Train configures one training run of the built-in model; zero values take
// the model package's defaults.
type Train struct {
	Epochs      int     `yaml:"epochs" json:"epochs"`
	BatchSize   int     `yaml:"batch_size" json:"batch_size"`
	LR          float64 `yaml:"lr" json:"lr"`
	WarmupRatio float64 `yaml:"warmup_ratio" json:"warmup_ratio"`
	WeightDecay float64 `yaml:"weight_decay" json:"weight_decay"`
}

// Backend says what trains models and extracts features for the reference,
// features and train stages: the built-in model in process, or an external
// worker (a process speaking the worker protocol, e.g. the PyTorch worker in
// scripts/worker for LLaVA-architecture models on GPUs).
type Backend struct {
	Kind    string   `yaml:"kind" json:"kind"`                       // builtin or external
	Argv    []string `yaml:"argv" json:"argv,omitempty"`             // external: the worker command
	Timeout int      `yaml:"timeout_minutes" json:"timeout_minutes"` // external: per request (0: none); not part of stage keys
	Retries int      `yaml:"retries" json:"retries"`                 // external: extra attempts after a crash, hang or bad shard
}

// Finetune configures instruction tuning of the base model on the selected
// subset (the train stage): the mode, and the schedule keys of Train.
//
// Rehearse r > 0 shuffles round(r·n) texts of the world's language corpus
// into the n records of the subset (every method alike): the language
// model's reading skills, which instruction tuning on the mixture alone
// wears down, stay in use, as ShareGPT's text keeps Vicuna's in LLaVA's
// mixture. It needs the language stage (language.records).
//
// RehearseGrid g in (0, 1] draws round(g·round(r·n)) of those texts from the
// grid corpus instead (world.GridLanguage, as a grid drill of the language
// stage draws them: a scene stated as the words its visual tokens round to,
// and a question about it), the rest from the language corpus: the
// questions about the image in the form the aligned projector hands it stay
// in use too, which the mixture's "Is there" questions, mostly answerable
// from the conversation's earlier turns, otherwise wear down (README,
// "Rehearsing the grid"). It needs model.word_tokens.
type Finetune struct {
	Mode         string           `yaml:"mode" json:"mode"` // full or lora
	LoRA         model.LoRAConfig `yaml:"lora" json:"lora"`
	Rehearse     float64          `yaml:"rehearse" json:"rehearse,omitempty"`
	RehearseGrid float64          `yaml:"rehearse_grid" json:"rehearse_grid,omitempty"`
	Train        `yaml:",inline" json:"schedule"`
}

// Predict configures decoding on the benchmark suites.
type Predict struct {
	MaxNewTokens int `yaml:"max_new_tokens" json:"max_new_tokens"`
}

// Reference configures TIVE's reference model: LoRA on the warm-up set,
// starting from the pretrained base model.
type Reference struct {
	LoRA  model.LoRAConfig `yaml:"lora" json:"lora"`
	Train Train            `yaml:"train" json:"train"`
}

// Warmup configures TIVE's warm-up sample.
type Warmup struct {
	Ratio float64 `yaml:"ratio" json:"ratio"`
}

// Selection configures the selection method: a selection.Options (its
// keys and checks; the seed is the run's) and the size of less's
// validation set.
type Selection struct {
	selection.Options `yaml:",inline"`
	// ValidationPerSuite is the number of questions per benchmark suite in
	// less's validation set.
	ValidationPerSuite int `yaml:"validation_per_suite" json:"validation_per_suite"`
}

func defaults() Spec {
	return Spec{
		Data:      Data{Source: "file"},
		World:     world.Config{Profile: "quick"}.WithDefaults(),
		Model:     Model{Config: model.DefaultConfig(), VocabMinCount: 1},
		Reference: Reference{LoRA: model.DefaultLoRA()},
		Train:     Finetune{Mode: "full", LoRA: model.DefaultLoRA()},
		Backend:   Backend{Kind: "builtin", Retries: 1},
		Predict:   Predict{MaxNewTokens: 16},
		Features:  Features{Params: "lora-attn", Projector: Projector{Kind: "rademacher", Dim: 1024, Dtype: "float16"}, BatchSize: 32, ShardSize: 1024},
		Warmup:    Warmup{Ratio: 0.08},
		Selection: Selection{Options: selection.Defaults(selection.TIVE), ValidationPerSuite: 8},
	}
}

// Path resolves a spec path (relative to the top spec's folder).
func (s *Spec) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(s.Dir, p)
}

// Hash is the canonical hash of the resolved spec: SHA-256 of its JSON.
func (s *Spec) Hash() string {
	b, _ := json.Marshal(s)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Run is one run of a study: a resolved spec and the sweep values that made it.
type Run struct {
	Spec
	Label string // "selection.method=tive seed=0"; "" without a sweep
}

// Study is a loaded spec file: its runs, in sweep order.
type Study struct {
	File    string
	Profile string
	Runs    []Run
}

// Hash is the canonical hash of the whole study (all runs).
func (st *Study) Hash() string {
	h := sha256.New()
	for _, r := range st.Runs {
		h.Write([]byte(r.Label + "\x00" + r.Spec.Hash() + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}
