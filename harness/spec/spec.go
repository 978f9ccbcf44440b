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
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/tive-dev/tive/harness/data"
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
	Features    Features  `yaml:"features" json:"features"`
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

// Features names imported per-example gradient features.
type Features struct {
	Path  string `yaml:"path" json:"path,omitempty" tive:"path"`   // [N, d] .npy or sharded store folder
	Norms string `yaml:"norms" json:"norms,omitempty" tive:"path"` // [N] .npy
}

// Warmup configures TIVE's warm-up sample.
type Warmup struct {
	Ratio float64 `yaml:"ratio" json:"ratio"`
}

// Selection configures the selection method (package selection).
type Selection struct {
	Method     string             `yaml:"method" json:"method"`
	Budget     float64            `yaml:"budget" json:"budget"`
	Q          float64            `yaml:"q" json:"q"`
	Within     string             `yaml:"within" json:"within"`
	Difficulty string             `yaml:"difficulty" json:"difficulty"`
	Exclude    []string           `yaml:"exclude" json:"exclude,omitempty"`
	Keep       map[string]float64 `yaml:"keep" json:"keep,omitempty"`
}

// Options converts the section to selection options with the run's seed for
// the select stage.
func (s Selection) Options(seed uint64) selection.Options {
	return selection.Options{Method: s.Method, Budget: s.Budget, Q: s.Q, Within: s.Within, Difficulty: s.Difficulty, Exclude: s.Exclude, Keep: s.Keep, Seed: seed}
}

func defaults() Spec {
	d := selection.Defaults("tive")
	return Spec{
		Data:      Data{Source: "file"},
		World:     World{Profile: "quick", Assets: "emoji", ImageSize: 64},
		Warmup:    Warmup{Ratio: 0.08},
		Selection: Selection{Method: d.Method, Budget: d.Budget, Q: d.Q, Within: d.Within, Difficulty: d.Difficulty},
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

// Load reads a spec file, applies the named profile ("" for none) and
// expands its sweep into runs. Every problem found is returned as Problems.
func Load(file, profile string) (*Study, error) {
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
	st := &Study{File: file, Profile: profile}
	top, _ := filepath.Abs(filepath.Dir(file))
	for _, a := range l.expand(sweep) {
		node := root
		var label []string
		for _, kv := range a {
			node = setPath(node, kv.path, kv.value)
			label = append(label, kv.path+"="+kv.value.Value)
		}
		s, problems := decodeSpec(l.files, node, top)
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
			_, problems := decodeSpec(l.files, node, top)
			l.add(problems)
		}
	}
	if len(l.problems) > 0 {
		return nil, l.problems
	}
	return st, nil
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

// decodeSpec decodes and validates one resolved mapping.
func decodeSpec(files map[*yaml.Node]string, node *yaml.Node, top string) (*Spec, Problems) {
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
	// Nodes created by setPath have no file: attribute them to their value's.
	fill(files, node, files[node])
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
	sel := s.Selection
	if !contains(selection.Methods, sel.Method) {
		bad("selection.method", "unknown method %q (want one of %s)", sel.Method, strings.Join(selection.Methods, ", "))
	}
	if sel.Method != "keep" && !(sel.Budget > 0 && sel.Budget <= 1) {
		bad("selection.budget", "%g is outside (0, 1] (a fraction of the pool, e.g. 0.15)", sel.Budget)
	}
	if sel.Within != "sample" && sel.Within != "topk" {
		bad("selection.within", "%q (want sample or topk)", sel.Within)
	}
	if sel.Difficulty != "norm" && sel.Difficulty != "sqnorm" {
		bad("selection.difficulty", "%q (want norm or sqnorm)", sel.Difficulty)
	}
	for _, t := range sortedKeys(sel.Keep) {
		if f := sel.Keep[t]; f < 0 || f > 1 {
			bad("selection.keep."+t, "%g is outside [0, 1] (the fraction of the task to keep)", f)
		}
	}
	if sel.Method == "keep" && len(sel.Keep) == 0 {
		bad("selection.keep", "method keep needs at least one task: fraction")
	}
	if !(s.Warmup.Ratio > 0 && s.Warmup.Ratio <= 1) {
		bad("warmup.ratio", "%g is outside (0, 1] (the released value is 0.08)", s.Warmup.Ratio)
	}
	if s.Workers < 0 {
		bad("workers", "%d is negative (0 means all cores)", s.Workers)
	}
	for i, b := range s.Benchmarks {
		if !contains(Benchmarks, b) {
			bad(fmt.Sprintf("benchmarks[%d]", i), "unknown benchmark %q (want one of %s)", b, strings.Join(Benchmarks, ", "))
		}
	}
	needF := sel.Method == "tive" || sel.Method == "tive-instance"
	needN := sel.Method == "tive" || sel.Method == "tive-task" || sel.Method == "grand"
	if needF && s.Features.Path == "" {
		bad("selection.method", "method %s needs gradient features (set features.path)", sel.Method)
	}
	if needN && !needF && s.Features.Norms == "" && s.Features.Path == "" {
		bad("selection.method", "method %s needs gradient norms (set features.norms, or features.path to a store with norms)", sel.Method)
	}
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
	if l := s.Data.Labels; l != "" && !contains(data.BuiltinRules(), l) {
		s.Data.Labels = d.rel(d.fileOf(at("data.labels")), l)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
