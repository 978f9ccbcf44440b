package spec

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong with a spec, at a position of a file.
type Problem struct {
	File string
	Line int
	Col  int
	Path string // key path, e.g. "selection.budget" or "sweep[selection.method][1]"
	Msg  string // what is wrong (and what would be valid)
}

func (p Problem) Error() string {
	path := p.Path
	if path == "" {
		path = "(top)"
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", p.File, p.Line, p.Col, path, p.Msg)
}

// Problems is every problem found in a spec; it is the error type of Load.
type Problems []Problem

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Error()
	}
	return strings.Join(s, "\n")
}

// decoder turns yaml nodes into Go values strictly: unknown keys, wrong
// types and missing required values are problems with positions. Struct
// fields use `yaml:"name"` and optionally `tive:"required"` and/or
// `tive:"path"` (a file path, resolved against the folder of the file that
// wrote it), comma-separated.
type decoder struct {
	files    map[*yaml.Node]string // node -> file it came from
	rel      func(file, p string) string
	problems Problems
	pos      map[string]*yaml.Node // key path -> value node, for later checks
}

func (d *decoder) fileOf(n *yaml.Node) string { return d.files[n] }

func (d *decoder) addf(n *yaml.Node, path, format string, args ...any) {
	d.problems = append(d.problems, Problem{File: d.fileOf(n), Line: n.Line, Col: n.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "empty"
		case "!!str":
			return fmt.Sprintf("the string %q", n.Value)
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		}
		return "the value " + n.Value
	}
	return "an alias"
}

// yamlFields lists the yaml keys of a struct type, in declaration order,
// with the index path of each field; an embedded struct tagged
// `yaml:",inline"` contributes its own keys.
func yamlFields(t reflect.Type) (names []string, index map[string][]int) {
	index = map[string][]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opt, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if opt == "inline" && f.Type.Kind() == reflect.Struct {
			sub, subIndex := yamlFields(f.Type)
			for _, n := range sub {
				names = append(names, n)
				index[n] = append([]int{i}, subIndex[n]...)
			}
			continue
		}
		if name == "" || name == "-" {
			continue
		}
		names = append(names, name)
		index[name] = []int{i}
	}
	return names, index
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	d.pos[path] = n
	switch v.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.addf(n, path, "is %s (want a mapping)", kindName(n))
			return
		}
		names, index := yamlFields(v.Type())
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			fi, ok := index[k.Value]
			if !ok {
				d.addf(k, join(path, k.Value), "unknown key (valid keys: %s)", strings.Join(names, ", "))
				continue
			}
			if seen[k.Value] {
				d.addf(k, join(path, k.Value), "key given twice")
			}
			seen[k.Value] = true
			f := v.Type().FieldByIndex(fi)
			if hasOpt(f, "path") && val.Kind == yaml.ScalarNode && val.ShortTag() == "!!str" {
				d.pos[join(path, k.Value)] = val
				v.FieldByIndex(fi).SetString(d.rel(d.fileOf(val), val.Value))
				continue
			}
			d.decode(val, v.FieldByIndex(fi), join(path, k.Value))
		}
		for _, name := range names {
			f := v.Type().FieldByIndex(index[name])
			if hasOpt(f, "required") && !seen[name] {
				d.addf(n, join(path, name), "missing (required)")
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.addf(n, path, "is %s (want a mapping)", kindName(n))
			return
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			ev := reflect.New(v.Type().Elem()).Elem()
			d.decode(val, ev, join(path, k.Value))
			v.SetMapIndex(reflect.ValueOf(k.Value), ev)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.addf(n, path, "is %s (want a list)", kindName(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.Pointer:
		if n.ShortTag() == "!!null" {
			return
		}
		p := reflect.New(v.Type().Elem())
		d.decode(n, p.Elem(), path)
		v.Set(p)
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
			d.addf(n, path, "is %s (want a string)", kindName(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			d.addf(n, path, "is %s (want true or false)", kindName(n))
			return
		}
		v.SetBool(n.Value == "true")
	case reflect.Int, reflect.Int64:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			d.addf(n, path, "is %s (want an integer)", kindName(n))
			return
		}
		x, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err != nil {
			d.addf(n, path, "is %s (want an integer)", kindName(n))
			return
		}
		v.SetInt(x)
	case reflect.Uint64:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			d.addf(n, path, "is %s (want a non-negative integer)", kindName(n))
			return
		}
		x, err := strconv.ParseUint(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err != nil {
			d.addf(n, path, "is %s (want a non-negative integer)", kindName(n))
			return
		}
		v.SetUint(x)
	case reflect.Float64:
		tag := n.ShortTag()
		if n.Kind != yaml.ScalarNode || tag != "!!float" && tag != "!!int" {
			d.addf(n, path, "is %s (want a number)", kindName(n))
			return
		}
		var x float64
		if err := n.Decode(&x); err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			d.addf(n, path, "is %s (want a finite number)", kindName(n))
			return
		}
		v.SetFloat(x)
	default:
		panic("spec: field type not supported: " + v.Type().String())
	}
}

// hasOpt reports whether a struct field's `tive:"..."` tag lists opt.
func hasOpt(f reflect.StructField, opt string) bool {
	for _, o := range strings.Split(f.Tag.Get("tive"), ",") {
		if o == opt {
			return true
		}
	}
	return false
}

// schemaHas reports whether a key path ("selection.keep.vqav2") names a
// field of t: struct keys must exist, map keys may be anything.
func schemaHas(t reflect.Type, path string) (bool, string) {
	parts := strings.Split(path, ".")
	for i, p := range parts {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Struct:
			names, index := yamlFields(t)
			fi, ok := index[p]
			if !ok {
				return false, fmt.Sprintf("%q has no key %q (valid keys: %s)", strings.Join(parts[:i], "."), p, strings.Join(names, ", "))
			}
			t = t.FieldByIndex(fi).Type
		case reflect.Map:
			t = t.Elem()
		default:
			return false, fmt.Sprintf("%q is a value, not a section", strings.Join(parts[:i], "."))
		}
	}
	return true, ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
