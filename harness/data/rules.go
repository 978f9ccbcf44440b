package data

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed rules/*.yaml
var builtinRules embed.FS

// Rules is a labelling rule file: the first rule whose every condition holds
// gives the record its label. A YAML file:
//
//	rules:
//	  - label: vqav2
//	    image: present            # present | absent
//	    image_prefix: [coco/]     # the image path starts with one of these
//	    first_human_suffix: ["Answer the question using a single word or phrase."]
//	    first_human_in: [...]     # H0 equals one of these
//	    any_human_prefix: [...]   # some human turn (without <image>) starts with one of these
//	    min_pairs: 3              # at least this many (human, gpt) pairs
//	    max_pairs: 2              # at most this many
//	fallback: unknown             # label for records no rule matches; empty: an error
//
// H0 is Record.FirstHuman: the first human value without "<image>", trimmed.
type Rules struct {
	Rules    []Rule `yaml:"rules"`
	Fallback string `yaml:"fallback"`
	name     string
}

// Rule is one labelling rule; unset conditions always hold.
type Rule struct {
	Label            string   `yaml:"label"`
	Image            string   `yaml:"image"`
	ImagePrefix      []string `yaml:"image_prefix"`
	FirstHumanSuffix []string `yaml:"first_human_suffix"`
	FirstHumanIn     []string `yaml:"first_human_in"`
	AnyHumanPrefix   []string `yaml:"any_human_prefix"`
	MinPairs         int      `yaml:"min_pairs"`
	MaxPairs         int      `yaml:"max_pairs"`
}

// LoadRules reads a rule file, or a built-in one by name ("llava665k": the
// ten sources of LLaVA-1.5's llava_v1_5_mix665k.json).
func LoadRules(nameOrPath string) (*Rules, error) {
	b, err := builtinRules.ReadFile("rules/" + nameOrPath + ".yaml")
	if err != nil {
		if b, err = os.ReadFile(nameOrPath); err != nil {
			return nil, fmt.Errorf("labelling rules %q: not a built-in rule set (%s) and %v", nameOrPath, strings.Join(BuiltinRules(), ", "), err)
		}
	}
	return ParseRules(nameOrPath, b)
}

// BuiltinRules names the rule sets shipped with the harness.
func BuiltinRules() []string {
	ents, _ := builtinRules.ReadDir("rules")
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	return out
}

// ParseRules decodes a rule file strictly (unknown keys are errors).
func ParseRules(name string, b []byte) (*Rules, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var rs Rules
	if err := dec.Decode(&rs); err != nil {
		return nil, yamlError(name, err)
	}
	rs.name = name
	if len(rs.Rules) == 0 {
		return nil, fmt.Errorf("%s: rules: no rules", name)
	}
	for i, r := range rs.Rules {
		switch {
		case r.Label == "":
			return nil, fmt.Errorf("%s: rules[%d].label: missing (every rule names the label it gives)", name, i)
		case r.Image != "" && r.Image != "present" && r.Image != "absent":
			return nil, fmt.Errorf("%s: rules[%d].image: %q (want present or absent)", name, i, r.Image)
		case r.MinPairs < 0 || r.MaxPairs < 0:
			return nil, fmt.Errorf("%s: rules[%d]: min_pairs and max_pairs must be >= 0", name, i)
		}
	}
	return &rs, nil
}

// Label returns the label of the first matching rule, the fallback, or an
// error when neither applies.
func (rs *Rules) Label(r *Record) (string, error) {
	for i := range rs.Rules {
		if rs.Rules[i].match(r) {
			return rs.Rules[i].Label, nil
		}
	}
	if rs.Fallback != "" {
		return rs.Fallback, nil
	}
	return "", fmt.Errorf("matches no rule of %s (id %q, image %q); add a rule or a fallback label", rs.name, r.ID, r.Image)
}

func (ru *Rule) match(r *Record) bool {
	switch ru.Image {
	case "present":
		if !r.HasImage() {
			return false
		}
	case "absent":
		if r.HasImage() {
			return false
		}
	}
	if len(ru.ImagePrefix) > 0 && !anyPrefix(r.Image, ru.ImagePrefix) {
		return false
	}
	p := r.Pairs()
	if ru.MinPairs > 0 && p < ru.MinPairs || ru.MaxPairs > 0 && p > ru.MaxPairs {
		return false
	}
	if len(ru.FirstHumanSuffix) > 0 || len(ru.FirstHumanIn) > 0 {
		h0 := r.FirstHuman()
		if len(ru.FirstHumanSuffix) > 0 && !anySuffix(h0, ru.FirstHumanSuffix) {
			return false
		}
		if len(ru.FirstHumanIn) > 0 && !slices.Contains(ru.FirstHumanIn, h0) {
			return false
		}
	}
	if len(ru.AnyHumanPrefix) > 0 {
		found := false
		for _, t := range r.Conversations {
			if t.From == "human" && anyPrefix(strings.TrimSpace(strings.ReplaceAll(t.Value, "<image>", "")), ru.AnyHumanPrefix) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func anyPrefix(s string, ps []string) bool {
	for _, p := range ps {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func anySuffix(s string, ps []string) bool {
	for _, p := range ps {
		if strings.HasSuffix(s, p) {
			return true
		}
	}
	return false
}

// yamlError rewrites yaml.v3's "line N: msg" errors as "name:N: msg", one
// problem per line.
func yamlError(name string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs := make([]string, len(te.Errors))
		for i, m := range te.Errors {
			msgs[i] = name + ":" + strings.TrimPrefix(m, "line ")
		}
		return errors.New(strings.Join(msgs, "\n"))
	}
	return fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
}
