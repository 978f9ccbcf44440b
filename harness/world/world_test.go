package world

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"image"
	_ "image/png"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/world/assets"
)

// generate makes a world in a temporary folder and returns the folder.
func generate(t testing.TB, cfg Config) string {
	t.Helper()
	dir := t.TempDir()
	if err := Generate(context.Background(), cfg, dir, nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

func readMixture(t testing.TB, dir string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "mixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatalf("mixture.json is not a JSON list: %v", err)
	}
	return recs
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string // "" = valid
	}{
		{Config{Profile: "quick"}, ""},
		{Config{Profile: "full", Assets: "shapes", Redundancy: Redundancy{Exact: 0.2, Near: 0.1}}, ""},
		{Config{Profile: "huge"}, `unknown profile "huge"`},
		{Config{Profile: ""}, `unknown profile ""`},
		{Config{Profile: "quick", Assets: "clipart"}, `unknown assets "clipart"`},
		{Config{Profile: "quick", ImageSize: 16}, "image size 16 is impossible"},
		{Config{Profile: "quick", Redundancy: Redundancy{Exact: 1.5}}, "exact_duplicates: 1.5 is impossible"},
		{Config{Profile: "quick", Redundancy: Redundancy{Near: math.NaN()}}, "near_duplicates: NaN is impossible"},
		{Config{Profile: "quick", Redundancy: Redundancy{Exact: 0.3, Near: 0.3}}, "exact+near = 0.6 is impossible"},
	} {
		err := tc.cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Validate(%+v) = %v, want nil", tc.cfg, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Validate(%+v) = %v, want error containing %q", tc.cfg, err, tc.want)
		}
	}
}

// TestParts: the pretrained parts' world drops planted copies and takes the
// medium pool to the quick world; every other field stays.
func TestParts(t *testing.T) {
	for _, tc := range []struct{ cfg, want Config }{
		{Config{Profile: "quick"}, Config{Profile: "quick", Assets: "emoji", ImageSize: 64}},
		{Config{Profile: "medium", Seed: 3, Assets: "shapes", ImageSize: 96, Redundancy: Redundancy{Exact: 0.2}}, Config{Profile: "quick", Seed: 3, Assets: "shapes", ImageSize: 96}},
		{Config{Profile: "tiny", Redundancy: Redundancy{Near: 0.1}}, Config{Profile: "tiny", Assets: "emoji", ImageSize: 64}},
		{Config{Profile: "full"}, Config{Profile: "full", Assets: "emoji", ImageSize: 64}},
	} {
		if got := tc.cfg.Parts(); got != tc.want {
			t.Errorf("%+v.Parts() = %+v, want %+v", tc.cfg, got, tc.want)
		}
	}
}

// checkWorld checks the acceptance properties of a generated world.
func checkWorld(t *testing.T, dir string, cfg Config) {
	cfg = cfg.WithDefaults()
	recs := readMixture(t, dir)
	// Counts per task follow the 665K ratios within rounding, in block order.
	div := float64(profiles[cfg.Profile].divisor)
	count := map[string]int{}
	var order []string
	for _, r := range recs {
		d, _ := r["dataset"].(string)
		if count[d] == 0 {
			order = append(order, d)
		}
		count[d]++
	}
	if got, want := strings.Join(order, ","), strings.Join(TaskNames(), ","); got != want {
		t.Errorf("block order %s, want %s", got, want)
	}
	for _, tk := range tasks {
		want := float64(tk.count) / div
		if d := math.Abs(float64(count[tk.name]) - want); d > float64(tk.groups)/2+0.5 && count[tk.name] > tk.groups {
			t.Errorf("%s: %d records, want %.1f within rounding", tk.name, count[tk.name], want)
		}
	}
	// The harness's own LLaVA loader reads the mixture, and its built-in
	// llava665k labelling rules give every record its dataset label.
	loaded, err := data.Load(filepath.Join(dir, "mixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := data.LoadRules("llava665k")
	if err != nil {
		t.Fatal(err)
	}
	if err := data.AssignTasks("mixture.json", loaded, rules); err != nil {
		t.Fatal(err)
	}
	for _, r := range loaded {
		if r.Task != r.Dataset {
			t.Errorf("record %d: the llava665k rules label it %s, dataset is %s", r.Index, r.Task, r.Dataset)
		}
	}
	// Every record parses as LLaVA JSON and follows its source's conventions.
	trainImages := map[[32]byte]string{}
	for i, r := range recs {
		if got := label665k(r); got != r["dataset"] {
			t.Errorf("record %d: the LLaVA-665K labelling rules say %s, dataset is %v: %v", i, got, r["dataset"], r["conversations"])
		}
		conv, ok := r["conversations"].([]any)
		if !ok || len(conv) == 0 || len(conv)%2 != 0 {
			t.Fatalf("record %d: conversations %v", i, r["conversations"])
		}
		d := r["dataset"].(string)
		for k, c := range conv {
			m := c.(map[string]any)
			want := []string{"human", "gpt"}[k%2]
			v, _ := m["value"].(string)
			if m["from"] != want || v == "" {
				t.Fatalf("record %d turn %d: %v", i, k, m)
			}
			n := strings.Count(v, "<image>")
			if k == 0 && d != "sharegpt" && n != 1 || (k > 0 || d == "sharegpt") && n != 0 {
				t.Fatalf("record %d (%s) turn %d has %d <image> tokens: %q", i, d, k, n, v)
			}
			for _, m := range boxRE.FindAllStringSubmatch(v, -1) {
				var x [4]float64
				for j := range x {
					json.Unmarshal([]byte(m[j+1]), &x[j])
				}
				if x[0] < 0 || x[1] < 0 || x[2] > 1 || x[3] > 1 || x[0] >= x[2] || x[1] >= x[3] {
					t.Fatalf("record %d: box %s not inside its image", i, m[0])
				}
			}
		}
		img, hasImg := r["image"].(string)
		switch {
		case d == "sharegpt":
			if hasImg || r["model"] != "" {
				t.Fatalf("sharegpt record %d: image %v model %v", i, r["image"], r["model"])
			}
			continue
		case !hasImg:
			t.Fatalf("record %d (%s) has no image", i, d)
		case d == "gqa":
			if _, ok := r["id"].(float64); !ok {
				t.Fatalf("gqa record %d id %v is not a number", i, r["id"])
			}
		}
		b, err := os.ReadFile(filepath.Join(dir, "images", img))
		if err != nil {
			t.Fatal(err)
		}
		trainImages[sha256.Sum256(b)] = img
	}
	// Images decode at the configured size; no benchmark image is a training image.
	filepath.WalkDir(filepath.Join(dir, "benchmarks"), func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(p, ".png") {
			return err
		}
		b, _ := os.ReadFile(p)
		if tr, ok := trainImages[sha256.Sum256(b)]; ok {
			t.Errorf("benchmark image %s equals training image %s", p, tr)
		}
		im, _, err := image.Decode(bytes.NewReader(b))
		if err != nil || im.Bounds().Dx() != cfg.ImageSize || im.Bounds().Dy() != cfg.ImageSize {
			t.Errorf("%s: %v, bounds %v", p, err, im)
		}
		return nil
	})
	// Every suite has an oracle answer for every question.
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, "world.json"))
	if err != nil || json.Unmarshal(b, &m) != nil {
		t.Fatalf("world.json: %v", err)
	}
	for _, c := range m.Benchmarks {
		ans, err := OracleAnswers(c.Name, filepath.Join(dir, "benchmarks", c.Name))
		if err != nil {
			t.Fatal(err)
		}
		if len(ans) != c.N || c.N == 0 {
			t.Errorf("%s: %d oracle answers, world.json says %d questions", c.Name, len(ans), c.N)
		}
	}
}

func TestTinyShapesWorld(t *testing.T) {
	cfg := Config{Seed: 1, Profile: "tiny", Assets: "shapes"}
	checkWorld(t, generate(t, cfg), cfg)
}

// treeHash hashes every file path and content under dir.
func treeHash(t *testing.T, dir string) [32]byte {
	t.Helper()
	h := sha256.New()
	var paths []string
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			paths = append(paths, p)
		}
		return err
	})
	sort.Strings(paths)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		h.Write([]byte(rel + "\x00"))
		s := sha256.Sum256(b)
		h.Write(s[:])
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func TestDeterminism(t *testing.T) {
	cfg := Config{Seed: 7, Profile: "tiny", Assets: "shapes", Redundancy: Redundancy{Exact: 0.05, Near: 0.05}}
	a, b := generate(t, cfg), generate(t, cfg)
	if treeHash(t, a) != treeHash(t, b) {
		t.Fatal("same seed and profile gave different worlds")
	}
	cfg.Seed = 8
	c := generate(t, cfg)
	ma, _ := os.ReadFile(filepath.Join(a, "mixture.json"))
	mc, _ := os.ReadFile(filepath.Join(c, "mixture.json"))
	if bytes.Equal(ma, mc) || treeHash(t, a) == treeHash(t, c) {
		t.Fatal("a different seed gave the same world")
	}
}

func TestRedundancyPlantsGroups(t *testing.T) {
	cfg := Config{Seed: 3, Profile: "tiny", Assets: "shapes", Redundancy: Redundancy{Exact: 0.1, Near: 0.1}}
	dir := generate(t, cfg)
	checkWorld(t, dir, cfg)
	recs := readMixture(t, dir)
	groups := map[string][]map[string]any{}
	for _, r := range recs {
		if g, ok := r["dup_group"].(string); ok {
			groups[g] = append(groups[g], r)
		}
	}
	if len(groups) == 0 {
		t.Fatal("no dup_group planted")
	}
	near := 0
	for g, rs := range groups {
		if len(rs) < 2 {
			t.Errorf("dup_group %s has %d record", g, len(rs))
		}
		for _, r := range rs[1:] {
			c0, _ := json.Marshal(rs[0]["conversations"])
			c1, _ := json.Marshal(r["conversations"])
			if !bytes.Equal(c0, c1) {
				t.Errorf("dup_group %s: conversations differ", g)
			}
			if r["image"] != rs[0]["image"] {
				near++
			}
		}
	}
	if near == 0 {
		t.Error("no near-duplicate (re-rendered) copies planted")
	}
	// Default: nothing planted.
	for _, r := range readMixture(t, generate(t, Config{Seed: 3, Profile: "tiny", Assets: "shapes"})) {
		if _, ok := r["dup_group"]; ok {
			t.Fatal("default world has a dup_group")
		}
	}
}

func TestMissingAssetsError(t *testing.T) {
	err := Generate(context.Background(), Config{Profile: "tiny", Assets: "emoji", AssetsDir: t.TempDir()}, t.TempDir(), nil)
	var me *assets.MissingError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "scripts/fetch-assets.sh") {
		t.Fatalf("want a MissingError naming scripts/fetch-assets.sh, got %v", err)
	}
}

// TestTinyEmojiWorld needs the fetched emoji assets and fails without them.
func TestTinyEmojiWorld(t *testing.T) {
	if _, err := assets.Open("emoji", ""); err != nil {
		t.Fatalf("this test needs the emoji assets: run scripts/fetch-assets.sh from the repository root: %v", err)
	}
	cfg := Config{Seed: 2, Profile: "tiny", Assets: "emoji"}
	dir := generate(t, cfg)
	checkWorld(t, dir, cfg)
	var m Manifest
	b, _ := os.ReadFile(filepath.Join(dir, "world.json"))
	json.Unmarshal(b, &m)
	if len(m.Versions) != 5 || m.HeldOutStyle != "emojione" {
		t.Errorf("world.json versions %v, held-out style %q", m.Versions, m.HeldOutStyle)
	}
}

// TestHeldOutStyle: no benchmark scene graph is a training scene graph;
// training and pretraining scenes never use the held-out style; SEED uses only it (as do MMBench images except image_style ones).
func TestHeldOutStyle(t *testing.T) {
	cfg := Config{Seed: 4, Profile: "tiny", Assets: "shapes"}.WithDefaults()
	g := &gen{world: newWorld(cfg, assets.Shapes()), trainKeys: map[uint64]bool{}}
	g.mixture(1000)
	g.pretrain(50)
	nTrain := len(g.jobs)
	for _, j := range g.jobs {
		for _, o := range j.scene.Objects {
			if o.Style == g.heldOut {
				t.Fatalf("training image %s uses the held-out style", j.path)
			}
		}
	}
	g.benchmarks(40)
	seen := 0
	for _, j := range g.jobs[nTrain:] {
		if g.trainKeys[j.scene.key()] {
			t.Fatalf("benchmark image %s shows a training scene", j.path)
		}
		if !strings.HasPrefix(j.path, "benchmarks/seed/") {
			continue
		}
		for _, o := range j.scene.Objects {
			seen++
			if o.Style != g.heldOut {
				t.Fatalf("SEED image %s uses training style %d", j.path, o.Style)
			}
		}
	}
	if seen == 0 {
		t.Fatal("no SEED objects")
	}
}

// BenchmarkGenerateQuick generates the quick world with the emoji assets.
func BenchmarkGenerateQuick(b *testing.B) {
	if _, err := assets.Open("emoji", ""); err != nil {
		b.Fatalf("needs the emoji assets: run scripts/fetch-assets.sh: %v", err)
	}
	for b.Loop() {
		dir := b.TempDir()
		if err := Generate(context.Background(), Config{Seed: 1, Profile: "quick"}, dir, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// label665k applies the deterministic source-labelling rules of
// shared/reference/llava665k.md section 6 to a record.
func label665k(r map[string]any) string {
	img, _ := r["image"].(string)
	conv := r["conversations"].([]any)
	human := func(i int) string { return conv[i].(map[string]any)["value"].(string) }
	h0 := strings.TrimSpace(strings.ReplaceAll(human(0), "<image>", ""))
	pairs := len(conv) / 2
	switch {
	case img == "":
		return "sharegpt"
	case strings.HasPrefix(img, "ocr_vqa/"):
		return "ocrvqa"
	case strings.HasPrefix(img, "textvqa/"):
		return "textcaps"
	case strings.HasPrefix(img, "gqa/"):
		return "gqa"
	case strings.HasPrefix(img, "vg/"):
		if r["id"] != strings.TrimSuffix(strings.TrimPrefix(img, "vg/"), ".png") {
			return "vg with a bad id"
		}
		return "vg"
	case !strings.HasPrefix(img, "coco/"):
		return "unknown"
	}
	if r["id"] != strings.TrimSuffix(filepath.Base(img), ".png") || len(r["id"].(string)) != 12 {
		return "coco with a bad id"
	}
	for i := 0; i < len(conv); i += 2 {
		if strings.HasPrefix(human(i), recPrompt) || strings.HasPrefix(strings.TrimPrefix(human(i), "<image>\n"), recPrompt) ||
			strings.HasPrefix(strings.TrimPrefix(human(i), "<image>\n"), regPrompt) {
			return "refcoco"
		}
	}
	switch {
	case strings.HasSuffix(h0, mcHint):
		return "aokvqa"
	case strings.HasSuffix(h0, shortHint) && pairs >= 3:
		return "vqav2"
	case strings.HasSuffix(h0, shortHint):
		return "okvqa"
	}
	return "llava_instruct"
}

// TestTaskCounts: every profile's counts per task are the LLaVA-665K counts
// divided by the profile's divisor, rounded (A-OKVQA in whole groups of 4).
func TestTaskCounts(t *testing.T) {
	for _, name := range Profiles() {
		div := profiles[name].divisor
		total := 0
		for _, tk := range tasks {
			n := taskCount(tk, div)
			total += n
			want := float64(tk.count) / float64(div)
			if math.Abs(float64(n)-want) > float64(tk.groups)/2+1e-9 || n%tk.groups != 0 {
				t.Errorf("%s %s: %d records, want %.2f rounded", name, tk.name, n, want)
			}
		}
		if want := 665298.0 / float64(div); math.Abs(float64(total)-want) > 5 {
			t.Errorf("%s: %d records, want about %.0f", name, total, want)
		}
	}
}

func TestProgressAndCancel(t *testing.T) {
	cfg := Config{Seed: 9, Profile: "tiny", Assets: "shapes"}
	last, total := 0, 0
	gen := t.TempDir()
	err := Generate(context.Background(), cfg, gen, func(d, n int) {
		if d != last+1 || (total != 0 && n != total) {
			t.Fatalf("progress %d/%d after %d/%d", d, n, last, total)
		}
		last, total = d, n
	})
	if err != nil || last != total || total == 0 {
		t.Fatalf("err %v, progress ended at %d/%d", err, last, total)
	}
	// TaskSizes knows the mixture's task sizes without generating it.
	recs, err := data.Load(filepath.Join(gen, "mixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range recs {
		got[r.Dataset]++
	}
	if want, err := TaskSizes("tiny"); err != nil || !maps.Equal(got, want) {
		t.Errorf("TaskSizes(tiny) = %v, %v; the generated mixture has %v", want, err, got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	if err := Generate(ctx, cfg, dir, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Generate returned %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "world.json")); !os.IsNotExist(err) {
		t.Fatal("a cancelled world has world.json")
	}
}
