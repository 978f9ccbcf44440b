package stages

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tive-dev/tive/harness/backend"
	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/model"
	"github.com/tive-dev/tive/harness/pipeline"
	"github.com/tive-dev/tive/harness/world"
)

// TestTokensPlanned: with a vision stage, the tokens stage reads the tower
// and the run's world, and reference, features, train and predict read its
// file; an external backend, whose model is not the built-in one, plans no
// tokens stage.
func TestTokensPlanned(t *testing.T) {
	const base = "name: x\ndata: {source: world}\nworld: {profile: tiny, assets: shapes}\nselection: {method: tive}\nbenchmarks: [pope]\nvision: {images: 10}\n"
	nodes := planned(t, base)
	tok := nodes["tokens"]
	if tok == nil {
		t.Fatal("no tokens stage planned")
	}
	if v, w := tok.Inputs["vision"].Node, tok.Inputs["world"].Node; v == nil || v.Stage != "vision" || w == nil || w.Stage != "world" {
		t.Errorf("tokens inputs %+v", tok.Inputs)
	}
	for _, stage := range []string{"reference", "features", "train", "predict"} {
		if in := nodes[stage].Inputs["tokens"]; in.Node == nil || in.Node.Stage != "tokens" || in.File != "tokens.safetensors" {
			t.Errorf("%s reads tokens %+v", stage, in)
		}
	}
	for _, n := range planned(t, base+"backend: {kind: external, argv: [worker]}\n") {
		if n.Stage == "tokens" || n.Inputs["tokens"].Node != nil {
			t.Errorf("external backend: %s plans or reads tokens", n.Stage)
		}
	}
	if _, ok := planned(t, "name: x\ndata: {source: world}\nworld: {profile: tiny, assets: shapes}\nselection: {method: tive}\nbenchmarks: [pope]\n")["tokens"]; ok {
		t.Error("a run without a vision stage plans tokens")
	}
}

// TestTokensCoverEveryImage: the tokens stage holds the tower output of
// every image a run on the world reads: each record's of the mixture, and
// each question's of every suite as predict hands it to the backend
// (MMBench's written out from its TSV); and a model on the tower reads
// them all from it.
func TestTokensCoverEveryImage(t *testing.T) {
	w := t.TempDir()
	if err := world.Generate(context.Background(), world.Config{Profile: "tiny", Assets: "shapes"}, w, nil); err != nil {
		t.Fatal(err)
	}
	mc := model.Config{ImageSize: 64, PatchSize: 16, Width: 32, Heads: 2, Layers: 1, VisionLayers: 1, MLPRatio: 2, MaxLen: 48, Stem: "conv"}
	m, err := model.New(mc, model.NewVocab(nil), 1)
	if err != nil {
		t.Fatal(err)
	}
	vis := t.TempDir()
	if err := model.Save(filepath.Join(vis, "model"), m, nil); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := runTokens(context.Background(), &pipeline.Call{Params: []byte("{}"), Inputs: map[string]string{"vision": vis, "world": w}, Out: out}); err != nil {
		t.Fatal(err)
	}
	tok, err := model.LoadTowerTokens(filepath.Join(out, "tokens.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.UseTowerTokens(tok); err != nil {
		t.Fatal(err)
	}
	check := func(what string, src model.DirImages, path string) {
		t.Helper()
		reads, err := m.ReadsTokens(src, path)
		if err != nil {
			t.Fatal(err)
		}
		if !reads {
			t.Errorf("%s: image %s not in the tokens", what, path)
		}
	}
	recs, err := data.Load(filepath.Join(w, world.MixtureFile))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Image != "" {
			check("mixture", worldImages(w), r.Image)
			n++
		}
	}
	for _, b := range world.Suites() {
		qs, err := world.Questions(w, b)
		if err != nil {
			t.Fatal(err)
		}
		qfile, root, err := questionFile(w, t.TempDir(), b, qs)
		if err != nil {
			t.Fatal(err)
		}
		bq, err := backend.ReadQuestions(qfile)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range bq {
			if q.Image != "" {
				check(b, model.DirImages{Root: root}, q.Image)
				n++
			}
		}
	}
	if n == 0 || tok.Len() == 0 || tok.Len() > n {
		t.Errorf("%d images held for %d read", tok.Len(), n)
	}
}
