package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tive-dev/tive/harness/model"
	"github.com/tive-dev/tive/harness/selection"
)

// TestModelAgreesWithTheDomain holds validate to model.New: every model
// section the constructor rejects is a problem of the spec at the key that
// is wrong (FILE:LINE:COL: model.<key>), and one it accepts is none.
func TestModelAgreesWithTheDomain(t *testing.T) {
	for _, tc := range []struct {
		model string // the spec's model section, a flow mapping
		key   string // the key the problem names ("" for a valid section)
		col   int    // the column of its value
	}{
		{"{max_len: 20}", "max_len", 18},
		{"{max_len: 0}", "max_len", 18},
		{"{image_size: 0}", "image_size", 21},
		{"{patch_size: 0}", "patch_size", 21},
		{"{patch_size: 24}", "patch_size", 21},
		{"{width: -64}", "width", 16},
		{"{width: 62}", "heads", 8},
		{"{heads: 0}", "heads", 16},
		{"{layers: 0}", "layers", 17},
		{"{mlp_ratio: 0}", "mlp_ratio", 20},
		{"{vision_layers: -1}", "vision_layers", 24},
		{"{projector_width: -8}", "projector_width", 26},
		{"{vision_width: 30}", "vision_width", 23},
		{"{vision_width: -4}", "vision_width", 23},
		{"{rope: true, width: 36, heads: 4}", "rope", 15},
		{"{init: xavier}", "init", 15},
		{"{stem: cnn}", "stem", 15},
		{"{stem: conv, patch_size: 12, image_size: 48}", "patch_size", 33},
		{"{}", "", 0},
		{"{init: gpt2, stem: patch}", "", 0},
		{"{stem: conv, rope: true, init: fanin, sink: true, vision_width: 128, projector_width: 256, max_len: 25}", "", 0},
	} {
		t.Run(tc.model, func(t *testing.T) {
			cfg := model.DefaultConfig()
			if err := yaml.Unmarshal([]byte(tc.model), &cfg); err != nil {
				t.Fatal(err)
			}
			_, newErr := model.New(cfg, model.NewVocab([]string{"a"}), 0)
			if (newErr == nil) != (tc.key == "") {
				t.Fatalf("model.New(%s) = %v, want an error %v", tc.model, newErr, tc.key != "")
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "s.yaml")
			src := "name: x\ndata: {records: a.json}\nselection: {method: random}\nmodel: " + tc.model + "\n"
			if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(file, "")
			if tc.key == "" {
				if err != nil {
					t.Fatalf("validate rejects what model.New accepts: %v", err)
				}
				return
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Load = %v, want problems (model.New: %v)", err, newErr)
			}
			want := fmt.Sprintf("%s:4:%d: model.%s", file, tc.col, tc.key)
			for _, p := range ps {
				if got := fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Path); got == want {
					return
				}
			}
			t.Errorf("Load = %v\nwant a problem at %s (model.New: %v)", err, want, newErr)
		})
	}
}

// TestLoRAAgreesWithTheDomain holds validate to model.AttachLoRA, for the
// reference model's adapters and for instruction tuning's (mode lora).
func TestLoRAAgreesWithTheDomain(t *testing.T) {
	for _, tc := range []struct {
		lora string // a lora section, a flow mapping
		key  string // the key the problem names ("" for a valid section)
	}{
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
			if err := m.AttachLoRA(cfg, 0); (err == nil) != (tc.key == "") {
				t.Fatalf("AttachLoRA(%s) = %v, want an error %v", tc.lora, err, tc.key != "")
			}
			for _, section := range []string{"reference: {lora: %s}", "train: {mode: lora, lora: %s}"} {
				line := fmt.Sprintf(section, tc.lora)
				file := filepath.Join(t.TempDir(), "s.yaml")
				if err := os.WriteFile(file, []byte("name: x\ndata: {records: a.json}\nselection: {method: random}\n"+line+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				_, err := Load(file, "")
				if tc.key == "" {
					if err != nil {
						t.Errorf("%s: validate rejects what AttachLoRA accepts: %v", line, err)
					}
					continue
				}
				prefix := line[:strings.Index(line, ":")]
				col := strings.Index(line, tc.key+":") + len(tc.key) + 3 // the value's column
				var ps Problems
				errors.As(err, &ps)
				if !slices.ContainsFunc(ps, func(p Problem) bool {
					return p.Path == prefix+".lora."+tc.key && p.Line == 4 && p.Col == col
				}) {
					t.Errorf("%s: Load = %v, want a problem at 4:%d: %s.lora.%s", line, err, col, prefix, tc.key)
				}
			}
		})
	}
}

// TestSelectionAgreesWithTheDomain holds validate to selection.Select:
// every selection section it rejects before looking at the pool is a
// problem at the key that is wrong, and one it runs is none.
func TestSelectionAgreesWithTheDomain(t *testing.T) {
	pool := selection.Pool{Tasks: []string{"a", "a", "a", "a", "b", "b", "b", "b"}}
	for _, tc := range []struct {
		sel string // the selection section, a flow mapping
		key string // the key the problem names ("" for a valid section)
	}{
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
			if _, err := selection.Select(pool, opt); (err == nil) != (tc.key == "") {
				t.Fatalf("Select(%s) = %v, want an error %v", tc.sel, err, tc.key != "")
			}
			line := "selection: " + tc.sel
			file := filepath.Join(t.TempDir(), "s.yaml")
			if err := os.WriteFile(file, []byte("name: x\ndata: {records: a.json}\n"+line+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(file, "")
			if tc.key == "" {
				if err != nil {
					t.Fatalf("validate rejects what Select accepts: %v", err)
				}
				return
			}
			key := tc.key[strings.LastIndex(tc.key, ".")+1:]
			col := strings.Index(line, key+":") + len(key) + 3 // the value's column
			if !strings.Contains(line, key+":") {
				col = len("selection: ") + 1 // a missing key: the section's
			}
			var ps Problems
			errors.As(err, &ps)
			if !slices.ContainsFunc(ps, func(p Problem) bool {
				return p.Path == "selection."+tc.key && p.Line == 3 && p.Col == col
			}) {
				t.Errorf("Load = %v, want a problem at 3:%d: selection.%s", err, col, tc.key)
			}
		})
	}
}
