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
// Seed(root, stage, shard) = the first 8 bytes (big-endian) of
// SHA-256("tive-seed/1\x00" + root as decimal + "\x00" + stage + "\x00" + shard as decimal).
package spec

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/field"
	"github.com/tive-dev/tive/harness/model"
	"github.com/tive-dev/tive/harness/selection"
	"github.com/tive-dev/tive/harness/world"
	"go.yaml.in/yaml/v3"
)

// Benchmarks names every benchmark a spec may list (the scorers of benchmarks/).
var Benchmarks = []string{"gqa", "llavabench", "mmbench", "mmbench-cn", "mme", "mmvet", "pope", "scienceqa", "seed", "textvqa", "vizwiz", "vqav2"}

// Spec is one fully resolved experiment (one run of a sweep).
type Spec struct {
	Name        string    `yaml:"name" json:"name" tive:"required"`
	Description string    `yaml:"description" json:"description,omitempty"`
	Seed        uint64    `yaml:"seed" json:"seed"`
	Workers     int       `yaml:"workers" json:"workers"`
	Data        Data      `yaml:"data" json:"data" tive:"required"`
	World       World     `yaml:"world" json:"world"`
	Model       Model     `yaml:"model" json:"model"`
	Vision      Vision    `yaml:"vision" json:"vision"`
	Language    Language  `yaml:"language" json:"language"`
	Align       Align     `yaml:"align" json:"align"`
	Pretrain    Train     `yaml:"pretrain" json:"pretrain"`
	Reference   Reference `yaml:"reference" json:"reference"`
	Features    Features  `yaml:"features" json:"features"`
	Backend     Backend   `yaml:"backend" json:"backend"`
	Train       Finetune  `yaml:"train" json:"train"`
	Predict     Predict   `yaml:"predict" json:"predict"`
	Warmup      Warmup    `yaml:"warmup" json:"warmup"`
	Selection   Selection `yaml:"selection" json:"selection"`
	Benchmarks  []string  `yaml:"benchmarks" json:"benchmarks,omitempty"`

	// Dir is the folder of the top spec file; relative paths are relative to it.
	Dir string `yaml:"-" json:"-"`
}

// Data names the instruction pool.
type Data struct {
	Source  string `yaml:"source" json:"source"`                         // "file" (records below) or "world" (the built-in world's mixture)
	Records string `yaml:"records" json:"records,omitempty" tive:"path"` // LLaVA JSON/JSONL, for source: file
	Labels  string `yaml:"labels" json:"labels,omitempty"`               // built-in rule set name or rule file path
}

// World configures the built-in visual world (package world), for data.source: world.
type World struct {
	Seed      uint64  `yaml:"seed" json:"seed"`
	Profile   string  `yaml:"profile" json:"profile"` // tiny, quick or full
	Assets    string  `yaml:"assets" json:"assets"`   // emoji or shapes
	ImageSize int     `yaml:"image_size" json:"image_size"`
	Exact     float64 `yaml:"exact_duplicates" json:"exact_duplicates"` // planted exact-duplicate fraction per task
	Near      float64 `yaml:"near_duplicates" json:"near_duplicates"`   // planted near-duplicate fraction per task
}

// Config converts the section to a world configuration.
func (w World) Config() world.Config {
	return world.Config{Seed: w.Seed, Profile: w.Profile, Assets: w.Assets, ImageSize: w.ImageSize, Redundancy: world.Redundancy{Exact: w.Exact, Near: w.Near}}
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

// Projector configures a gradient projector (package grad).
type Projector struct {
	Kind  string `yaml:"kind" json:"kind"` // rademacher or factored
	Dim   int    `yaml:"dim" json:"dim"`   // rademacher: output dimension
	Side  int    `yaml:"side" json:"side"` // factored: per-layer side (dim = layers·side²)
	Seed  uint64 `yaml:"seed" json:"seed"`
	Dtype string `yaml:"dtype" json:"dtype"` // float16 or float32
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
// With Grid the drill's texts are world.GridLanguage's instead: yes/no
// questions about a scene stated as the words its visual tokens read as
// (model.word_tokens), so that the language model reads the image in the
// form the aligned projector hands it. Skill is then "" or yesno, and
// MaxObjects 0.
type Drill struct {
	world.TextKind `yaml:",inline"`
	Grid           bool `yaml:"grid" json:"grid,omitempty"`
	Texts          int  `yaml:"texts" json:"texts"`
	Rehearse       int  `yaml:"rehearse" json:"rehearse,omitempty"`
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
type Finetune struct {
	Mode     string           `yaml:"mode" json:"mode"` // full or lora
	LoRA     model.LoRAConfig `yaml:"lora" json:"lora"`
	Rehearse float64          `yaml:"rehearse" json:"rehearse,omitempty"`
	Train    `yaml:",inline" json:"schedule"`
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
		World:     World{Profile: "quick", Assets: "emoji", ImageSize: 64},
		Model:     Model{Config: model.DefaultConfig(), VocabMinCount: 1},
		Reference: Reference{LoRA: model.DefaultLoRA()},
		Train:     Finetune{Mode: "full", LoRA: model.DefaultLoRA()},
		Backend:   Backend{Kind: "builtin", Retries: 1},
		Predict:   Predict{MaxNewTokens: 16},
		Features:  Features{Params: "lora-attn", Projector: Projector{Kind: "rademacher", Dim: 1024, Dtype: "float16"}, BatchSize: 32, ShardSize: 1024},
		Warmup:    Warmup{Ratio: 0.08},
		Selection: Selection{Options: selection.Defaults("tive"), ValidationPerSuite: 8},
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

// Seed derives the seed of a stage (and shard) of a run from its root seed.
func Seed(root uint64, stage string, shard int) uint64 {
	h := sha256.Sum256([]byte("tive-seed/1\x00" + strconv.FormatUint(root, 10) + "\x00" + stage + "\x00" + strconv.Itoa(shard)))
	return binary.BigEndian.Uint64(h[:8])
}

// loader reads and merges spec files.
type loader struct {
	files    map[*yaml.Node]string
	problems Problems
}

func (l *loader) addf(n *yaml.Node, path, format string, args ...any) {
	l.problems = append(l.problems, Problem{File: l.files[n], Line: n.Line, Col: n.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// read parses a file into its mapping node with includes merged in.
func (l *loader) read(file string, stack []string) *yaml.Node {
	for _, s := range stack {
		if s == file {
			l.problems = append(l.problems, Problem{File: stack[len(stack)-1], Line: 1, Col: 1, Path: "include", Msg: fmt.Sprintf("include cycle: %s", strings.Join(append(stack, file), " -> "))})
			return nil
		}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		at := "(command line)"
		if len(stack) > 0 {
			at = stack[len(stack)-1]
		}
		l.problems = append(l.problems, Problem{File: at, Line: 1, Col: 1, Path: "include", Msg: err.Error()})
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		line := 1
		fmt.Sscanf(strings.TrimPrefix(err.Error(), "yaml: "), "line %d:", &line)
		l.problems = append(l.problems, Problem{File: file, Line: line, Col: 1, Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")})
		return nil
	}
	var root *yaml.Node
	if len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	tag(l.files, root, file)
	if root == nil || root.Kind != yaml.MappingNode {
		n := root
		if n == nil {
			n = &yaml.Node{Line: 1, Column: 1}
			l.files[n] = file
		}
		l.addf(n, "", "a spec is a mapping of keys (name:, data:, selection:, ...)")
		return nil
	}
	inc := take(root, "include")
	if inc == nil {
		return root
	}
	var bases []*yaml.Node
	switch {
	case inc.Kind == yaml.ScalarNode && inc.ShortTag() == "!!str":
		bases = []*yaml.Node{inc}
	case inc.Kind == yaml.SequenceNode:
		bases = inc.Content
	default:
		l.addf(inc, "include", "is %s (want a file name or a list of them)", kindName(inc))
		return root
	}
	var merged *yaml.Node
	for i, b := range bases {
		if b.Kind != yaml.ScalarNode || b.ShortTag() != "!!str" {
			l.addf(b, fmt.Sprintf("include[%d]", i), "is %s (want a file name)", kindName(b))
			continue
		}
		p := b.Value
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(file), p)
		}
		base := l.read(p, append(stack, file))
		if base == nil {
			continue
		}
		merged = merge(merged, base)
	}
	return merge(merged, root)
}

// tag records the file of every node under n.
func tag(files map[*yaml.Node]string, n *yaml.Node, file string) {
	if n == nil {
		return
	}
	files[n] = file
	for _, c := range n.Content {
		tag(files, c, file)
	}
}

// take removes key from mapping m and returns its value node (nil if absent).
func take(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			m.Content = append(m.Content[:i:i], m.Content[i+2:]...)
			return v
		}
	}
	return nil
}

// merge returns base overridden by over: mappings merge key by key; any
// other node replaces. Neither input is modified.
func merge(base, over *yaml.Node) *yaml.Node {
	if base == nil {
		return over
	}
	if over == nil {
		return base
	}
	if base.Kind != yaml.MappingNode || over.Kind != yaml.MappingNode {
		return over
	}
	out := *base
	out.Content = append([]*yaml.Node(nil), base.Content...)
	for i := 0; i+1 < len(over.Content); i += 2 {
		k, v := over.Content[i], over.Content[i+1]
		found := false
		for j := 0; j+1 < len(out.Content); j += 2 {
			if out.Content[j].Value == k.Value {
				out.Content[j+1] = merge(out.Content[j+1], v)
				found = true
				break
			}
		}
		if !found {
			out.Content = append(out.Content, k, v)
		}
	}
	return &out
}

// Override changes a spec as it loads, after its profile (Load): Set gives
// a key path one value in every run, Sweep replaces the values a sweep takes.
type Override struct {
	path   string
	values []any
	sweep  bool
}

// Set gives the key path ("selection.budget", "train.lr") the value v in
// every run, as if the spec file said so after its profile. A sweep over the
// same path, or over a key below it, is dropped; a path below a swept key
// ("selection.q" when the sweep lists whole selection sections) is set in
// each swept value.
func Set(path string, v any) Override { return Override{path: path, values: []any{v}} }

// Sweep makes the sweep take values at the key path: it replaces the values
// of a swept key in place and adds a key the sweep lacks as its last (fastest)
// key, as a profile's sweep merges over the spec's.
func Sweep(path string, values ...any) Override {
	return Override{path: path, values: values, sweep: true}
}

// Load reads a spec file, applies the named profile ("" for none) and the
// overrides, and expands its sweep into runs. Every problem found is
// returned as Problems; an override's problems are reported at the file name
// followed by "(override PATH)".
func Load(file, profile string, over ...Override) (*Study, error) {
	l := &loader{files: map[*yaml.Node]string{}}
	root := l.read(file, nil)
	if root == nil {
		return nil, l.problems
	}
	profiles := take(root, "profiles")
	sweep := take(root, "sweep")
	names := l.profileNames(profiles)
	if profile != "" {
		p, ok := names[profile]
		if !ok {
			valid := sortedKeys(names)
			n := root
			if profiles != nil {
				n = profiles
			}
			l.addf(n, "profiles", "no profile %q (profiles: %s)", profile, strings.Join(append(valid, "none defined")[:max(1, len(valid))], ", "))
			return nil, l.problems
		}
		root = merge(root, p)
		// A profile's sweep merges over the spec's, key by key.
		if ps := take(root, "sweep"); ps != nil {
			sweep = merge(sweep, ps)
		}
	}
	sets, sweep := l.override(file, over, sweep)
	if len(l.problems) > 0 {
		return nil, l.problems
	}
	st := &Study{File: file, Profile: profile}
	top, _ := filepath.Abs(filepath.Dir(file))
	for _, a := range l.expand(sweep) {
		node := root
		var label []string
		for _, kv := range a {
			node = setPath(node, kv.path, kv.value)
			label = append(label, kv.path+"="+flowText(kv.value))
		}
		for _, kv := range sets {
			node = setPath(node, kv.path, kv.value)
		}
		s, problems := decodeSpec(l.files, node, file, top)
		if len(problems) > 0 {
			l.add(problems)
			continue
		}
		st.Runs = append(st.Runs, Run{Spec: *s, Label: strings.Join(label, " ")})
	}
	if profile == "" {
		// Validate every profile too, so `tive validate` catches them all.
		for _, name := range sortedKeys(names) {
			node := merge(root, names[name])
			take(node, "sweep")
			_, problems := decodeSpec(l.files, node, file, top)
			l.add(problems)
		}
	}
	if len(l.problems) > 0 {
		return nil, l.problems
	}
	return st, nil
}

// override turns overrides into the assignments of every run and the
// sweep they leave (a new mapping; sweep itself is not modified). The nodes
// of an override are attributed to "FILE (override PATH)", at line 1,
// column 1, so that relative paths resolve against the spec's folder.
func (l *loader) override(file string, over []Override, sweep *yaml.Node) ([]assign, *yaml.Node) {
	var sets []assign
	for _, o := range over {
		at := &yaml.Node{Kind: yaml.ScalarNode, Line: 1, Column: 1}
		l.files[at] = file + " (override " + o.path + ")"
		if ok, why := schemaHas(reflect.TypeOf(Spec{}), o.path); !ok {
			l.addf(at, o.path, "overrides a key that does not exist: %s", why)
			continue
		}
		var vals []*yaml.Node
		for _, v := range o.values {
			n := &yaml.Node{}
			if err := n.Encode(v); err != nil {
				l.addf(at, o.path, "value %v: %v", v, err)
				continue
			}
			position(n)
			tag(l.files, n, l.files[at])
			vals = append(vals, n)
		}
		if !o.sweep {
			if len(vals) == 1 {
				sets = append(sets, assign{o.path, vals[0]})
			}
			continue
		}
		if len(o.values) == 0 {
			l.addf(at, o.path, "sweeps over no values (want at least one)")
			continue
		}
		seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: 1, Column: 1, Content: vals}
		l.files[seq] = l.files[at]
		key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: o.path, Line: 1, Column: 1}
		l.files[key] = l.files[at]
		sweep = merge(sweep, &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{key, seq}})
	}
	if sweep == nil || sweep.Kind != yaml.MappingNode || len(sets) == 0 {
		return sets, sweep
	}
	kept := *sweep
	kept.Content = nil
	for i := 0; i+1 < len(sweep.Content); i += 2 {
		k := sweep.Content[i].Value
		if !slices.ContainsFunc(sets, func(a assign) bool { return k == a.path || strings.HasPrefix(k, a.path+".") }) {
			kept.Content = append(kept.Content, sweep.Content[i], sweep.Content[i+1])
		}
	}
	if len(kept.Content) == 0 {
		return sets, nil
	}
	return sets, &kept
}

// position puts n and every node under it at line 1, column 1.
func position(n *yaml.Node) {
	n.Line, n.Column = 1, 1
	for _, c := range n.Content {
		position(c)
	}
}

// add records problems not already recorded (runs of a sweep share most).
func (l *loader) add(ps Problems) {
	for _, p := range ps {
		dup := false
		for _, q := range l.problems {
			dup = dup || q == p
		}
		if !dup {
			l.problems = append(l.problems, p)
		}
	}
}

func (l *loader) profileNames(profiles *yaml.Node) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if profiles == nil {
		return out
	}
	if profiles.Kind != yaml.MappingNode {
		l.addf(profiles, "profiles", "is %s (want a mapping of profile names to overrides)", kindName(profiles))
		return out
	}
	for i := 0; i+1 < len(profiles.Content); i += 2 {
		k, v := profiles.Content[i], profiles.Content[i+1]
		if v.Kind != yaml.MappingNode {
			l.addf(v, "profiles."+k.Value, "is %s (want a mapping of overrides)", kindName(v))
			continue
		}
		out[k.Value] = v
	}
	return out
}

type assign struct {
	path  string
	value *yaml.Node
}

// expand returns the cartesian product of the sweep, first key slowest; one
// empty assignment without a sweep.
func (l *loader) expand(sweep *yaml.Node) [][]assign {
	runs := [][]assign{nil}
	if sweep == nil {
		return runs
	}
	if sweep.Kind != yaml.MappingNode {
		l.addf(sweep, "sweep", "is %s (want a mapping of key paths to lists of values)", kindName(sweep))
		return runs
	}
	for i := 0; i+1 < len(sweep.Content); i += 2 {
		k, v := sweep.Content[i], sweep.Content[i+1]
		if replacedLater(sweep.Content[i+2:], k.Value) {
			continue
		}
		path := "sweep." + k.Value
		if ok, why := schemaHas(reflect.TypeOf(Spec{}), k.Value); !ok {
			l.addf(k, path, "sweeps over a key that does not exist: %s", why)
			continue
		}
		if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
			l.addf(v, path, "is %s (want a non-empty list of values)", kindName(v))
			continue
		}
		var next [][]assign
		for _, r := range runs {
			for _, val := range v.Content {
				next = append(next, append(append([]assign(nil), r...), assign{k.Value, val}))
			}
		}
		runs = next
	}
	return runs
}

// replacedLater reports whether a key of the sweep's remaining key-value
// pairs sets a section that holds path (so path's values would be lost).
func replacedLater(rest []*yaml.Node, path string) bool {
	for j := 0; j+1 < len(rest); j += 2 {
		if strings.HasPrefix(path, rest[j].Value+".") {
			return true
		}
	}
	return false
}

// flowText renders a sweep value for run labels: a scalar as written, a
// mapping or list in YAML flow style ({kind: factored, side: 8}).
func flowText(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	c := *n
	c.Style = yaml.FlowStyle
	b, err := yaml.Marshal(&c)
	if err != nil {
		return n.Value
	}
	return strings.TrimSpace(string(b))
}

// setPath returns a copy of root with the value at a dotted key path replaced
// by val (intermediate mappings are created as needed).
func setPath(root *yaml.Node, path string, val *yaml.Node) *yaml.Node {
	key, rest, nested := strings.Cut(path, ".")
	out := *root
	out.Content = append([]*yaml.Node(nil), root.Content...)
	for i := 0; i+1 < len(out.Content); i += 2 {
		if out.Content[i].Value == key {
			if nested && out.Content[i+1].Kind == yaml.MappingNode {
				out.Content[i+1] = setPath(out.Content[i+1], rest, val)
			} else if nested {
				out.Content[i+1] = setPath(&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: val.Line, Column: val.Column}, rest, val)
			} else {
				out.Content[i+1] = val
			}
			return &out
		}
	}
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key, Line: val.Line, Column: val.Column}
	if nested {
		val = setPath(&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: val.Line, Column: val.Column}, rest, val)
	}
	out.Content = append(out.Content, k, val)
	return &out
}

// decodeSpec decodes and validates one resolved mapping of the spec file
// (problems at nodes that no file holds, such as the top mapping that a
// sweep or a profile rebuilt, are reported at file).
func decodeSpec(files map[*yaml.Node]string, node *yaml.Node, file, top string) (*Spec, Problems) {
	s := defaults()
	s.Dir = top
	d := &decoder{files: files, pos: map[string]*yaml.Node{}, rel: func(file, p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		abs := filepath.Join(filepath.Dir(file), p)
		if absf, err := filepath.Abs(abs); err == nil {
			abs = absf
		}
		if r, err := filepath.Rel(top, abs); err == nil {
			return r
		}
		return abs
	}}
	// Nodes created by setPath and merge have no file: attribute them to
	// their parent's, the top one to the spec file.
	fill(files, node, cmp.Or(files[node], file))
	d.decode(node, reflect.ValueOf(&s).Elem(), "")
	d.validate(&s)
	return &s, d.problems
}

// fill gives nodes without a recorded file the file of their parent.
func fill(files map[*yaml.Node]string, n *yaml.Node, parent string) {
	if f, ok := files[n]; ok && f != "" {
		parent = f
	} else {
		files[n] = parent
	}
	for _, c := range n.Content {
		fill(files, c, parent)
	}
}

// validate checks values and cross-field rules of a decoded spec.
func (d *decoder) validate(s *Spec) {
	at := func(path string) *yaml.Node {
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
	bad := func(path, format string, args ...any) { d.addf(at(path), path, format, args...) }
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
	f := &s.Features
	if f.Source == "" {
		f.Source = "builtin"
		if f.Path != "" || f.Norms != "" || s.Data.Source != "world" {
			f.Source = "import"
		}
	}
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
		switch {
		case pj.Kind == "rademacher" && pj.Dim <= 0:
			bad("features.projector.dim", "%d (want a positive dimension)", pj.Dim)
		case pj.Kind == "factored" && pj.Side <= 0:
			bad("features.projector.side", "%d (want a positive side)", pj.Side)
		case pj.Kind != "rademacher" && pj.Kind != "factored":
			bad("features.projector.kind", "%q (want rademacher or factored)", pj.Kind)
		}
		if pj.Dtype != "float16" && pj.Dtype != "float32" {
			bad("features.projector.dtype", "%q (want float16 or float32)", pj.Dtype)
		}
		if f.BatchSize <= 0 {
			bad("features.batch_size", "%d (want a positive number of records)", f.BatchSize)
		}
		if f.ShardSize <= 0 {
			bad("features.shard_size", "%d (want a positive number of records)", f.ShardSize)
		}
		switch f.Precondition {
		case "", "none":
			f.Precondition = ""
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
		if err := world.Validate(s.World.Config()); err != nil {
			bad("world", "%s", strings.TrimPrefix(err.Error(), "world: "))
		}
	default:
		bad("data.source", "%q (want file or world)", s.Data.Source)
	}
	if l := s.Data.Labels; l != "" && !slices.Contains(data.BuiltinRules(), l) {
		s.Data.Labels = d.rel(d.fileOf(at("data.labels")), l)
	}
}
