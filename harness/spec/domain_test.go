package spec

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tive-dev/tive/harness/grad"
	"github.com/tive-dev/tive/harness/model"
	"github.com/tive-dev/tive/harness/selection"
	"github.com/tive-dev/tive/harness/world"
)

// The tests here hold validate to the domain: every section that a domain
// constructor rejects is a problem of the spec at the key that is wrong
// (FILE:LINE:COL: path.key), and one it accepts is none. Each case is a
// flow mapping written on line 4 (3 for selection) of a spec; col is the
// column of the wrong key's value there, or of the section where the key
// is missing.

// loadSection loads a spec of lines head and then line, and says whether
// validate put a problem at path on the line's position col.
func loadSection(t *testing.T, head, line, path string, col int) (ok bool, err error) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(file, []byte(head+line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(file, "")
	at := strings.Count(head, "\n") + 1
	var ps Problems
	errors.As(err, &ps)
	return slices.ContainsFunc(ps, func(p Problem) bool { return p.File == file && p.Path == path && p.Line == at && p.Col == col }), err
}

// valueCol is the column of key's value in line, or section's where line
// lacks key (its value starts after "section: ").
func valueCol(line, section, key string) int {
	if i := strings.Index(line, key+":"); i >= 0 {
		return i + len(key) + 3
	}
	return strings.Index(line, section+":") + len(section) + 3
}

// agree checks one case: rejected is the domain's verdict, key the key the
// problem names ("" when the domain accepts).
func agree(t *testing.T, head, section, line, key string, rejected error) {
	t.Helper()
	if (rejected == nil) != (key == "") {
		t.Fatalf("%s: the domain says %v, want an error %v", line, rejected, key != "")
	}
	ok, err := loadSection(t, head, line, section+"."+key, valueCol(line, section, key[strings.LastIndex(key, ".")+1:]))
	switch {
	case key == "" && err != nil:
		t.Errorf("%s: validate rejects what the domain accepts: %v", line, err)
	case key != "" && !ok:
		t.Errorf("%s: Load = %v\nwant a problem at %s:%d (the domain: %v)", line, err, section+"."+key, valueCol(line, section, key), rejected)
	}
}

const head = "name: x\ndata: {records: a.json}\nselection: {method: random}\n"

// TestModelAgreesWithTheDomain holds validate to model.New.
func TestModelAgreesWithTheDomain(t *testing.T) {
	for _, tc := range []struct{ model, key string }{
		{"{max_len: 20}", "max_len"},
		{"{max_len: 0}", "max_len"},
		{"{image_size: 0}", "image_size"},
		{"{patch_size: 0}", "patch_size"},
		{"{patch_size: 24}", "patch_size"},
		{"{width: -64}", "width"},
		{"{width: 62}", "heads"},
		{"{heads: 0}", "heads"},
		{"{layers: 0}", "layers"},
		{"{mlp_ratio: 0}", "mlp_ratio"},
		{"{vision_layers: -1}", "vision_layers"},
		{"{projector_width: -8}", "projector_width"},
		{"{vision_width: 30}", "vision_width"},
		{"{vision_width: -4}", "vision_width"},
		{"{rope: true, width: 36, heads: 4}", "rope"},
		{"{init: xavier}", "init"},
		{"{stem: cnn}", "stem"},
		{"{stem: conv, patch_size: 12, image_size: 48}", "patch_size"},
		{"{}", ""},
		{"{init: gpt2, stem: patch}", ""},
		{"{stem: conv, rope: true, init: fanin, sink: true, vision_width: 128, projector_width: 256, max_len: 25}", ""},
	} {
		t.Run(tc.model, func(t *testing.T) {
			cfg := model.DefaultConfig()
			if err := yaml.Unmarshal([]byte(tc.model), &cfg); err != nil {
				t.Fatal(err)
			}
			_, err := model.New(cfg, model.NewVocab([]string{"a"}), 0)
			agree(t, head, "model", "model: "+tc.model, tc.key, err)
		})
	}
}

// TestLoRAAgreesWithTheDomain holds validate to model.AttachLoRA, for the
// reference model's adapters and for instruction tuning's (mode lora).
func TestLoRAAgreesWithTheDomain(t *testing.T) {
	for _, tc := range []struct{ lora, key string }{
		{"{rank: 0}", "rank"},
		{"{rank: -4}", "rank"},
		{"{dropout: 1}", "dropout"},
		{"{dropout: -0.1}", "dropout"},
		{"{rank: 16, alpha: 32, dropout: 0, mlp: true}", ""},
	} {
		t.Run(tc.lora, func(t *testing.T) {
			cfg := model.DefaultLoRA()
			if err := yaml.Unmarshal([]byte(tc.lora), &cfg); err != nil {
				t.Fatal(err)
			}
			m, err := model.New(model.DefaultConfig(), model.NewVocab([]string{"a"}), 0)
			if err != nil {
				t.Fatal(err)
			}
			err = m.AttachLoRA(cfg, 0)
			key := tc.key
			if key != "" {
				key = "lora." + key
			}
			agree(t, head, "reference", "reference: {lora: "+tc.lora+"}", key, err)
			agree(t, head, "train", "train: {mode: lora, lora: "+tc.lora+"}", key, err)
		})
	}
}

// TestSelectionAgreesWithTheDomain holds validate to selection.Select, for
// what it rejects before it looks at the pool.
func TestSelectionAgreesWithTheDomain(t *testing.T) {
	pool := selection.Pool{Tasks: []string{"a", "a", "a", "a", "b", "b", "b", "b"}}
	for _, tc := range []struct{ sel, key string }{
		{"{method: random, budget: 1.5}", "budget"},
		{"{method: random, budget: 0}", "budget"},
		{"{method: random, budget: -0.2}", "budget"},
		{"{method: best}", "method"},
		{"{method: random, within: all}", "within"},
		{"{method: random, difficulty: sq}", "difficulty"},
		{"{method: random, order: mid}", "order"},
		{"{method: random, q: .nan}", "q"},
		{"{method: keep}", "keep"},
		{"{method: keep, keep: {a: 1.5}}", "keep.a"},
		{"{method: keep, keep: {a: 0.5}}", ""},
		{"{method: full, budget: 0}", ""},
		{"{method: random, budget: 0.5, within: topk, difficulty: sqnorm, order: low, q: 10}", ""},
	} {
		t.Run(tc.sel, func(t *testing.T) {
			opt := selection.Defaults("tive")
			if err := yaml.Unmarshal([]byte(tc.sel), &opt); err != nil {
				t.Fatal(err)
			}
			_, err := selection.Select(pool, opt)
			agree(t, "name: x\ndata: {records: a.json}\n", "selection", "selection: "+tc.sel, tc.key, err)
		})
	}
}

// TestWorldAgreesWithTheDomain holds validate to world.Config.Validate,
// which world.Generate and the vision and language streams run first.
func TestWorldAgreesWithTheDomain(t *testing.T) {
	for _, tc := range []struct{ world, key string }{
		{"{profile: huge}", "profile"},
		{"{assets: clipart}", "assets"},
		{"{image_size: 16}", "image_size"},
		{"{exact_duplicates: 0.6}", "exact_duplicates"},
		{"{near_duplicates: -0.1}", "near_duplicates"},
		{"{exact_duplicates: 0.3, near_duplicates: 0.3}", "near_duplicates"},
		{"{profile: tiny, assets: shapes, exact_duplicates: 0.2, near_duplicates: 0.1}", ""},
	} {
		t.Run(tc.world, func(t *testing.T) {
			cfg := world.Config{Profile: "quick"}
			if err := yaml.Unmarshal([]byte(tc.world), &cfg); err != nil {
				t.Fatal(err)
			}
			agree(t, "name: x\ndata: {source: world}\nselection: {method: random}\n", "world", "world: "+tc.world, tc.key, cfg.Validate())
		})
	}
}

// TestProjectorAgreesWithTheDomain holds validate to grad.NewProjector, in
// all it can check without the gradients' factors (a factored projector's
// dim, when given, must be factors·side², which only the features stage
// knows).
func TestProjectorAgreesWithTheDomain(t *testing.T) {
	shapes := []model.FactorShape{{In: 8, Out: 4}, {In: 4, Out: 4}}
	for _, tc := range []struct{ projector, key string }{
		{"{kind: rademacher, dim: 0}", "dim"},
		{"{kind: rademacher, dim: -3}", "dim"},
		{"{kind: factored, side: 0}", "side"},
		{"{kind: dense}", "kind"},
		{"{dtype: int8}", "dtype"},
		{"{kind: factored, side: 2, dim: 0}", ""},
		{"{kind: rademacher, dim: 16, dtype: float64}", ""},
	} {
		t.Run(tc.projector, func(t *testing.T) {
			p := defaults().Features.Projector
			if err := yaml.Unmarshal([]byte(tc.projector), &p); err != nil {
				t.Fatal(err)
			}
			_, err := grad.NewProjector(p.Spec(), shapes)
			agree(t, "name: x\ndata: {source: world}\nselection: {method: tive}\nfeatures:\n", "features.projector", "  projector: "+tc.projector, tc.key, err)
		})
	}
}
