package spec

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/seeds"
	"go.yaml.in/yaml/v3"
)

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
	d.resolve(&s)
	d.validate(s)
	return &s, d.problems
}

// resolve fills in what a decoded spec leaves to be derived: features.source
// from the other keys (import where a path or norms is given or the data
// are a file, builtin otherwise), precondition none as unset, a rule
// file named in data.labels relative to the top spec's folder, and the
// world's and the projector's seeds from the run's where the spec does not
// pin them (package seeds).
func (d *decoder) resolve(s *Spec) {
	if d.pos["world.seed"] == nil {
		s.World.Seed = seeds.Derive(s.Seed, seeds.World)
	}
	if d.pos["features.projector.seed"] == nil {
		s.Features.Projector.Seed = seeds.Derive(s.Seed, seeds.Projector)
	}
	f := &s.Features
	if f.Source == "" {
		f.Source = "builtin"
		if f.Path != "" || f.Norms != "" || s.Data.Source != "world" {
			f.Source = "import"
		}
	}
	if f.Precondition == "none" {
		f.Precondition = ""
	}
	if l := s.Data.Labels; l != "" && !slices.Contains(data.BuiltinRules(), l) {
		s.Data.Labels = d.rel(d.fileOf(d.at("data.labels")), l)
	}
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
