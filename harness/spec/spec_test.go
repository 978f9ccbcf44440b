package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tive-dev/tive/harness/seeds"
)

func TestIncludeProfilesAndSweep(t *testing.T) {
	st, err := Load("testdata/study.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, r := range st.Runs {
		labels = append(labels, r.Label)
	}
	want := []string{"selection.method=tive seed=0", "selection.method=tive seed=1", "selection.method=random seed=0", "selection.method=random seed=1"}
	if strings.Join(labels, "|") != strings.Join(want, "|") {
		t.Fatalf("runs %q, want %q", labels, want)
	}
	r := st.Runs[2]
	if r.Name != "study" || r.Selection.Method != "random" || r.Selection.Q != 0.5 || r.Selection.Budget != 0.15 || r.Seed != 0 {
		t.Errorf("run 2 = %+v", r.Spec)
	}
	if r.Data.Records != "pool.jsonl" || r.Data.Labels != "llava665k" || r.Selection.Exclude[0] != "textcaps" {
		t.Errorf("include not merged: %+v", r.Spec)
	}
	if got := r.Path(r.Data.Records); !filepath.IsAbs(got) || !strings.HasSuffix(got, "testdata/pool.jsonl") {
		t.Errorf("Path = %s", got)
	}
	q, err := Load("testdata/study.yaml", "quick")
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Runs) != 2 || q.Runs[0].Selection.Budget != 0.05 || q.Runs[1].Seed != 7 || q.Runs[1].Selection.Method != "random" {
		t.Errorf("profile quick: %+v", q.Runs)
	}
	if st.Runs[0].Hash() == st.Runs[1].Hash() || st.Hash() == q.Hash() {
		t.Error("different runs share a hash")
	}
	again, _ := Load("testdata/study.yaml", "")
	if again.Hash() != st.Hash() {
		t.Error("hash is not stable")
	}
}

// TestProblems is the table of validate's messages: FILE:LINE:COL: key.path: what.
func TestProblems(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		want       []string
	}{
		{"unknown key", "name: x\ndata: {records: a.json}\nselection:\n  methd: tive\n  budget: 0.1\nfeatures: {path: f.npy}\n",
			[]string{"s.yaml:4:3: selection.methd: unknown key (valid keys: method, budget, q, within, difficulty, exclude, keep, order, validation_per_suite)"}},
		{"wrong type", "name: x\ndata: {records: a.json}\nseed: abc\nselection: {method: random, budget: [1]}\n",
			[]string{`s.yaml:3:7: seed: is the string "abc" (want a non-negative integer)`, "s.yaml:4:37: selection.budget: is a list (want a number)"}},
		{"missing required", "data:\n  labels: llava665k\nselection: {method: random}\n",
			[]string{"s.yaml:1:1: name: missing (required)", "s.yaml:2:3: data.records: missing (required with data.source: file)"}},
		{"world profile", "name: x\ndata: {source: world}\nworld: {profile: huge}\nselection: {method: random}\n",
			[]string{`s.yaml:3:18: world.profile: unknown profile "huge" (valid: tiny, small, quick, medium, full)`}},
		{"world and records", "name: x\ndata: {source: world, records: a.json}\nselection: {method: random}\n",
			[]string{"s.yaml:2:32: data.records: is set, but data.source is world"}},
		{"data source", "name: x\ndata: {source: web, records: a.json}\nselection: {method: random}\n",
			[]string{`s.yaml:2:16: data.source: "web" (want file or world)`}},
		{"budget range", "name: x\ndata: {records: a.json}\nselection:\n  method: random\n  budget: 1.5\n",
			[]string{"s.yaml:5:11: selection.budget: 1.5 is outside (0, 1] (a fraction of the pool, e.g. 0.15)"}},
		{"zero budget", "name: x\ndata: {records: a.json}\nselection: {method: random, budget: 0}\n",
			[]string{"s.yaml:3:37: selection.budget: 0 is outside (0, 1]"}},
		{"negative workers", "name: x\nworkers: -2\ndata: {records: a.json}\nselection: {method: random}\n",
			[]string{"s.yaml:2:10: workers: -2 is negative (0 means all cores)"}},
		{"unknown method", "name: x\ndata: {records: a.json}\nselection: {method: best}\n",
			[]string{`s.yaml:3:21: selection.method: unknown method "best" (want one of full, tive, tive-task, tive-instance, random, random-per-task, length, perplexity, el2n, grand, less, keep)`}},
		{"unknown benchmark", "name: x\ndata: {source: world}\nselection: {method: random}\nbenchmarks: [pope, mmbnch]\n",
			[]string{`s.yaml:4:20: benchmarks[1]: unknown benchmark "mmbnch" (want one of gqa, llavabench, mmbench, mmbench-cn, mme, mmvet, pope, scienceqa, seed, textvqa, vizwiz, vqav2)`}},
		{"benchmark not in the world", "name: x\ndata: {source: world}\nselection: {method: random}\nbenchmarks: [mmvet]\n",
			[]string{`s.yaml:4:14: benchmarks[0]: the built-in world has no "mmvet" suite (it has mme, mmbench, seed, scienceqa, pope, textvqa, gqa, vizwiz)`}},
		{"sweep unknown key", "name: x\ndata: {records: a.json}\nselection: {method: random}\nsweep:\n  selection.bugdet: [0.1]\n",
			[]string{`s.yaml:5:3: sweep.selection.bugdet: sweeps over a key that does not exist: "selection" has no key "bugdet" (valid keys: method, budget, q, within, difficulty, exclude, keep, order, validation_per_suite)`}},
		{"sweep bad value", "name: x\ndata: {records: a.json}\nselection: {method: random}\nsweep:\n  selection.budget: [0.1, 2]\n",
			[]string{"s.yaml:5:27: selection.budget: 2 is outside (0, 1]"}},
		{"sweep not list", "name: x\ndata: {records: a.json}\nselection: {method: random}\nsweep:\n  seed: 3\n",
			[]string{"s.yaml:5:9: sweep.seed: is the number 3 (want a non-empty list of values)"}},
		{"keep fraction", "name: x\ndata: {records: a.json}\nselection:\n  method: keep\n  keep: {vqav2: 1.2}\n",
			[]string{"s.yaml:5:17: selection.keep.vqav2: 1.2 is outside [0, 1]"}},
		{"features needed", "name: x\ndata: {records: a.json}\nselection: {method: tive}\n",
			[]string{"s.yaml:3:21: selection.method: method tive needs gradient features (set features.path, or use data.source: world for built-in ones)"}},
		{"bad profile", "name: x\ndata: {records: a.json}\nselection: {method: random}\nprofiles:\n  quick:\n    selection: {within: all}\n",
			[]string{`s.yaml:6:25: selection.within: "all" (want sample or topk)`}},
		{"adam needs rademacher", "name: x\ndata: {source: world}\nselection: {method: less}\nfeatures: {precondition: adam, projector: {kind: factored, side: 4}}\n",
			[]string{"s.yaml:4:26: features.precondition: adam needs the rademacher projector"}},
		{"adam needs builtin", "name: x\ndata: {source: world}\nselection: {method: less}\nbackend: {kind: external, argv: [w]}\nfeatures: {precondition: adam}\n",
			[]string{"s.yaml:5:26: features.precondition: adam needs the builtin backend"}},
		{"unknown precondition", "name: x\ndata: {source: world}\nselection: {method: less}\nfeatures: {precondition: sgd}\n",
			[]string{`s.yaml:4:26: features.precondition: "sgd" (want none or adam)`}},
		{"unknown stem", "name: x\ndata: {source: world}\nselection: {method: random}\nmodel: {stem: cnn}\n",
			[]string{`s.yaml:4:15: model.stem: "cnn" (want patch or conv)`}},
		{"conv stem patch size", "name: x\ndata: {source: world}\nselection: {method: random}\nmodel: {stem: conv, patch_size: 12, image_size: 48}\nworld: {image_size: 48}\n",
			[]string{"s.yaml:4:33: model.patch_size: 12 is not a power of two"}},
		{"rope odd head width", "name: x\ndata: {source: world}\nselection: {method: random}\nmodel: {rope: true, width: 36, heads: 4}\n",
			[]string{"s.yaml:4:15: model.rope: needs an even head width, and width 36 / heads 4 is odd"}},
		{"unknown init", "name: x\ndata: {source: world}\nselection: {method: random}\nmodel: {init: xavier}\n",
			[]string{`s.yaml:4:15: model.init: "xavier" (want gpt2 or fanin)`}},
		{"negative prompt weight", "name: x\ndata: {source: world}\nselection: {method: random}\nlanguage: {records: 10, prompt_weight: -1}\n",
			[]string{"s.yaml:4:40: language.prompt_weight: -1 (want a weight >= 0)"}},
		{"unknown drill skill", "name: x\ndata: {source: world}\nselection: {method: random}\nlanguage: {records: 10, drills: [{skill: yesno, texts: 5}, {skill: poetry, texts: 5}]}\n",
			[]string{`s.yaml:4:60: language.drills[1]: skill "poetry" is not one of yesno, colour, count, side, choice, copy, echo, unanswerable, caption`}},
		{"drill without texts", "name: x\ndata: {source: world}\nselection: {method: random}\nlanguage: {records: 10, drills: [{skill: yesno, max_objects: 1}]}\n",
			[]string{"s.yaml:4:34: language.drills[0].texts: 0 (want a positive number of texts)"}},
		{"drill with five objects", "name: x\ndata: {source: world}\nselection: {method: random}\nlanguage: {records: 10, drills: [{max_objects: 5, texts: 9}]}\n",
			[]string{"s.yaml:4:34: language.drills[0]: max_objects 5 is not between 1 and 4"}},
		{"negative rehearsal", "name: x\ndata: {source: world}\nselection: {method: random}\nlanguage: {records: 10, drills: [{skill: yesno, texts: 9, rehearse: -3}]}\n",
			[]string{"s.yaml:4:69: language.drills[0].rehearse: -3 (want a number of texts >= 0)"}},
		{"grid drill of colours", "name: x\ndata: {source: world}\nselection: {method: random}\nlanguage: {records: 10, drills: [{skill: colour, grid: true, texts: 9}]}\n",
			[]string{"s.yaml:4:56: language.drills[0].grid: grid texts are yes/no questions about scenes of 1-4 objects: leave skill (or set yesno) and max_objects out"}},
		{"grid drill without word tokens", "name: x\ndata: {source: world}\nselection: {method: random}\nlanguage: {records: 10, drills: [{grid: true, texts: 9}]}\n",
			[]string{"s.yaml:4:41: language.drills[0].grid: grid texts state the scene as word tokens read it: needs model.word_tokens"}},
		{"first drill joins", "name: x\ndata: {source: world}\nselection: {method: random}\nlanguage: {records: 10, drills: [{skill: yesno, texts: 9, join: true}]}\n",
			[]string{"s.yaml:4:65: language.drills[0].join: the first drill has no drill before it to join"}},
		{"align without its parts", "name: x\ndata: {source: world}\nselection: {method: random}\nmodel: {word_tokens: true}\nalign: {images: 100}\n",
			[]string{"s.yaml:5:17: align.images: the word alignment needs vision.images, language.records and model.word_tokens"}},
		{"word tokens without align", "name: x\ndata: {source: world}\nselection: {method: random}\nmodel: {word_tokens: true}\n",
			[]string{"s.yaml:4:22: model.word_tokens: needs align.images (only the word alignment trains a word-token projector)"}},
		{"negative projector width", "name: x\ndata: {source: world}\nselection: {method: random}\nmodel: {projector_width: -8}\n",
			[]string{"s.yaml:4:26: model.projector_width: -8 is negative"}},
		{"drills without records", "name: x\ndata: {source: world}\nselection: {method: random}\nlanguage: {drills: [{skill: yesno, texts: 9}]}\n",
			[]string{"s.yaml:4:20: language.drills: drills follow the first phase: set language.records too"}},
		{"instruct past records", "name: x\ndata: {source: world}\nselection: {method: random}\nlanguage: {records: 10, instruct: 20}\n",
			[]string{"language: records, max_fill and eval must be >= 0, and instruct in [0, records]"}},
		{"rehearsal without the language corpus", "name: x\ndata: {source: world}\nselection: {method: random}\ntrain: {rehearse: 1}\n",
			[]string{"s.yaml:4:19: train.rehearse: rehearses the language corpus: set language.records too"}},
		{"negative tuning rehearsal", "name: x\ndata: {source: world}\nselection: {method: random}\nlanguage: {records: 10}\ntrain: {rehearse: -0.5}\n",
			[]string{"s.yaml:5:19: train.rehearse: -0.5 (want language texts per subset record, 0 to 100)"}},
		{"grid share out of range", "name: x\ndata: {source: world}\nselection: {method: random}\nlanguage: {records: 10}\nmodel: {word_tokens: true}\nvision: {images: 9}\nalign: {images: 9}\ntrain: {rehearse: 1, rehearse_grid: 1.5}\n",
			[]string{"s.yaml:8:37: train.rehearse_grid: 1.5 (want the share of rehearsal texts from the grid corpus, 0 to 1)"}},
		{"grid share without rehearsal", "name: x\ndata: {source: world}\nselection: {method: random}\nlanguage: {records: 10}\nmodel: {word_tokens: true}\nvision: {images: 9}\nalign: {images: 9}\ntrain: {rehearse_grid: 0.5}\n",
			[]string{"s.yaml:8:24: train.rehearse_grid: a share of the rehearsal texts: set train.rehearse too"}},
		{"grid share without word tokens", "name: x\ndata: {source: world}\nselection: {method: random}\nlanguage: {records: 10}\ntrain: {rehearse: 1, rehearse_grid: 0.5}\n",
			[]string{"s.yaml:5:37: train.rehearse_grid: grid texts state the scene as word tokens read it: needs model.word_tokens"}},
		{"not yaml", "name: x\n  bad: [\n", []string{"s.yaml:2:1: (top): not valid YAML"}},
		{"duplicate key", "name: x\ndata: {records: a.json}\nselection: {method: random}\nseed: 1\nseed: 2\n", []string{"s.yaml:"}},
	} {
		dir := t.TempDir()
		p := filepath.Join(dir, "s.yaml")
		os.WriteFile(p, []byte(tc.spec), 0o644)
		_, err := Load(p, "")
		var ps Problems
		if !errors.As(err, &ps) {
			t.Errorf("%s: error %v is not Problems", tc.name, err)
			continue
		}
		got := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: problems\n%s\nwant a line containing\n%s", tc.name, got, w)
			}
		}
		if len(ps) != len(tc.want) && tc.name != "duplicate key" {
			t.Errorf("%s: %d problems, want %d:\n%s", tc.name, len(ps), len(tc.want), got)
		}
	}
}

func TestIncludeProblemsNameTheBaseFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "base.yaml"), []byte("name: b\ndata: {records: a.json}\nselection: {method: random, within: maybe}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "top.yaml"), []byte("include: base.yaml\nname: t\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "loop.yaml"), []byte("include: loop.yaml\nname: t\n"), 0o644)
	_, err := Load(filepath.Join(dir, "top.yaml"), "")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "base.yaml")+`:3:37: selection.within: "maybe"`) {
		t.Errorf("base problem: %v", err)
	}
	_, err = Load(filepath.Join(dir, "loop.yaml"), "")
	if err == nil || !strings.Contains(err.Error(), "include cycle") {
		t.Errorf("cycle: %v", err)
	}
	_, err = Load(filepath.Join(dir, "top.yaml"), "fast")
	if err == nil || !strings.Contains(err.Error(), `no profile "fast"`) {
		t.Errorf("unknown profile: %v", err)
	}
}

func TestSweepOverMappingsLabelsRuns(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s.yaml")
	os.WriteFile(p, []byte("name: x\ndata: {records: a.json}\nselection: {method: random}\nsweep:\n  selection.keep: [{vqav2: 0.5}, {gqa: 0.2, vg: 0.1}]\n"), 0o644)
	st, err := Load(p, "")
	if err != nil {
		t.Fatal(err)
	}
	if st.Runs[0].Label != "selection.keep={vqav2: 0.5}" || st.Runs[1].Label != "selection.keep={gqa: 0.2, vg: 0.1}" {
		t.Errorf("labels %q, %q", st.Runs[0].Label, st.Runs[1].Label)
	}
	if st.Runs[1].Selection.Keep["vg"] != 0.1 {
		t.Errorf("keep %v", st.Runs[1].Selection.Keep)
	}
}

// TestSweepOfASectionReplacesItsKeys: a base sweeps selection.method, the
// spec sweeps whole selection sections; the sections win and the method
// axis is dropped, rather than repeating every run once per method (which
// a report would count as seeds). The other order crosses the two.
func TestSweepOfASectionReplacesItsKeys(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "base.yaml"), []byte("name: b\ndata: {records: a.json}\nselection: {method: random}\nsweep:\n  selection.method: [full, tive, random]\n  seed: [0, 1]\n"), 0o644)
	p := filepath.Join(dir, "s.yaml")
	os.WriteFile(p, []byte("include: base.yaml\nname: x\nsweep:\n  selection: [{method: random, budget: 0.05}, {method: full}]\n"), 0o644)
	st, err := Load(p, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range st.Runs {
		got = append(got, fmt.Sprintf("%s %s %g", r.Label, r.Selection.Method, r.Selection.Budget))
	}
	want := []string{"seed=0 selection={method: random, budget: 0.05} random 0.05", "seed=0 selection={method: full} full 0.15",
		"seed=1 selection={method: random, budget: 0.05} random 0.05", "seed=1 selection={method: full} full 0.15"}
	if !slices.Equal(got, want) {
		t.Errorf("runs\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	os.WriteFile(p, []byte("include: base.yaml\nname: x\nsweep:\n  selection.method: [random]\n  seed: [0]\n  selection.budget: [0.05, 0.1]\n"), 0o644)
	if st, err = Load(p, ""); err != nil {
		t.Fatal(err)
	}
	if len(st.Runs) != 2 || st.Runs[1].Label != "selection.method=random seed=0 selection.budget=0.1" {
		t.Errorf("keys under one section cross: %+v", st.Runs)
	}
}

// The world's and the projector's seeds hang off the run's seed unless the
// spec pins them; a sweep over seed then draws a world per seed, and a
// pinned world seed keeps one world (and its pretraining) for every seed.
func TestUnpinnedSeedsHangOffTheRunSeed(t *testing.T) {
	p := filepath.Join(t.TempDir(), "s.yaml")
	for _, c := range []struct {
		yaml             string
		world, projector func(root uint64) uint64
	}{
		{"", func(r uint64) uint64 { return seeds.Derive(r, seeds.World) }, func(r uint64) uint64 { return seeds.Derive(r, seeds.Projector) }},
		{"world: {seed: 0}\nfeatures: {projector: {seed: 9}}\n", func(uint64) uint64 { return 0 }, func(uint64) uint64 { return 9 }},
	} {
		os.WriteFile(p, []byte("name: x\ndata: {source: world}\nselection: {method: random}\nsweep:\n  seed: [0, 4]\n"+c.yaml), 0o644)
		st, err := Load(p, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range st.Runs {
			if w, pr := c.world(r.Seed), c.projector(r.Seed); r.World.Seed != w || r.Features.Projector.Seed != pr {
				t.Errorf("%q, seed %d: world seed %#x, projector seed %#x; want %#x, %#x", c.yaml, r.Seed, r.World.Seed, r.Features.Projector.Seed, w, pr)
			}
		}
	}
}

func TestInlineScheduleKeys(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s.yaml")
	os.WriteFile(p, []byte("name: x\ndata: {source: world}\nselection: {method: random}\ntrain: {mode: lora, epochs: 3, lr: 0.005}\n"), 0o644)
	st, err := Load(p, "")
	if err != nil {
		t.Fatal(err)
	}
	if tr := st.Runs[0].Train; tr.Mode != "lora" || tr.Epochs != 3 || tr.LR != 0.005 {
		t.Errorf("train = %+v", tr)
	}
	os.WriteFile(p, []byte("name: x\ndata: {source: world}\nselection: {method: random}\ntrain: {epoch: 3}\n"), 0o644)
	_, err = Load(p, "")
	if err == nil || !strings.Contains(err.Error(), "train.epoch: unknown key (valid keys: mode, lora, rehearse, rehearse_grid, epochs, batch_size, lr, warmup_ratio, weight_decay)") {
		t.Errorf("error = %v", err)
	}
}

func TestOverrides(t *testing.T) {
	labels := func(st *Study) string {
		var out []string
		for _, r := range st.Runs {
			out = append(out, r.Label)
		}
		return strings.Join(out, "|")
	}
	// Sweep replaces a swept key's values in place and appends a new key.
	st, err := Load("testdata/study.yaml", "", Sweep("seed", 5), Sweep("selection.budget", 0.1, 0.2))
	if err != nil {
		t.Fatal(err)
	}
	want := "selection.method=tive seed=5 selection.budget=0.1|selection.method=tive seed=5 selection.budget=0.2|" +
		"selection.method=random seed=5 selection.budget=0.1|selection.method=random seed=5 selection.budget=0.2"
	if got := labels(st); got != want {
		t.Errorf("runs %s, want %s", got, want)
	}
	if r := st.Runs[1]; r.Seed != 5 || r.Selection.Budget != 0.2 || r.Selection.Q != 0.5 {
		t.Errorf("run 1 = %+v", r.Spec)
	}
	// Set applies after the profile and drops the sweep over its key.
	st, err = Load("testdata/study.yaml", "quick", Set("selection.method", "random"), Set("selection.q", 2))
	if err != nil {
		t.Fatal(err)
	}
	if got := labels(st); got != "seed=7" {
		t.Errorf("runs %s, want seed=7", got)
	}
	if r := st.Runs[0].Selection; r.Method != "random" || r.Q != 2 || r.Budget != 0.05 {
		t.Errorf("selection = %+v", r)
	}
	// A set key below a swept section is set in every swept value.
	st, err = Load("testdata/study.yaml", "", Sweep("selection", map[string]any{"method": "tive"}, map[string]any{"method": "random", "q": 3}), Set("selection.budget", 0.3))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range st.Runs {
		if r.Selection.Budget != 0.3 {
			t.Errorf("%s: budget %g, want 0.3", r.Label, r.Selection.Budget)
		}
	}
	// (The spec also sweeps selection.method, which the section sweep, later, replaces.)
	if len(st.Runs) != 4 || st.Runs[1].Selection.Q != 3 || st.Runs[1].Selection.Method != "random" || st.Runs[0].Selection.Method != "tive" {
		t.Errorf("runs %s", labels(st))
	}
	// The same overrides give the same hash as the same spec written out.
	a, _ := Load("testdata/study.yaml", "", Sweep("seed", 0, 1))
	b, _ := Load("testdata/study.yaml", "")
	if a.Hash() != b.Hash() {
		t.Error("sweeping the values the spec already sweeps changed the hash")
	}
}

func TestOverrideProblems(t *testing.T) {
	for _, tc := range []struct {
		name string
		over []Override
		want string
	}{
		{"unknown key", []Override{Set("selection.bugdet", 0.1)},
			`testdata/study.yaml (override selection.bugdet):1:1: selection.bugdet: overrides a key that does not exist: "selection" has no key "bugdet"`},
		{"bad value", []Override{Set("selection.budget", 1.5)},
			"testdata/study.yaml (override selection.budget):1:1: selection.budget: 1.5 is outside (0, 1]"},
		{"wrong type", []Override{Sweep("seed", "x")},
			`testdata/study.yaml (override seed):1:1: seed: is the string "x"`},
		{"empty sweep", []Override{Sweep("seed")},
			"testdata/study.yaml (override seed):1:1: seed: sweeps over no values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("testdata/study.yaml", "", tc.over...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
