package stages

import (
	"context"
	"image"
	"path/filepath"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/model"
	"github.com/tive-dev/tive/harness/pipeline"
	"github.com/tive-dev/tive/harness/world"
)

// The vision stage pretrains the built-in model's vision tower (CLIP's role
// in LLaVA's recipe), once per world and model shape.
func init() {
	pipeline.Register(&pipeline.Stage{Name: "vision", Version: "2", Arith: true, Run: runVision}) // 2: random streams of package seeds
}

type visionParams struct {
	World  world.Config      `json:"world"`
	Model  model.Config      `json:"model"`
	Images int               `json:"images"` // scenes of the vision stream it trains on
	Probe  int               `json:"probe"`  // scenes the probes fit on, and as many they are scored on
	Train  model.TrainConfig `json:"train"`
}

// Vision outputs model/, a model whose vision tower trained on Images fresh
// scenes of the world's vision stream, in every art style
// (model.PretrainTower with a concept head and a colour head; its decoder,
// projector and vocabulary stay as drawn and are not used), and eval.json,
// TowerEval's per-style probe accuracies.
func runVision(ctx context.Context, c *pipeline.Call) error {
	var p visionParams
	if err := c.Decode(&p); err != nil {
		return err
	}
	concepts, colours, err := world.VisionLabels(p.World)
	if err != nil {
		return err
	}
	scenes, err := world.VisionScenes(p.World, "vision", 0, p.Images)
	if err != nil {
		return err
	}
	m, err := model.New(p.Model, model.NewVocab(nil), c.Seed)
	if err != nil {
		return err
	}
	p.Train.Seed = c.Seed
	if _, err := model.PretrainTower(ctx, m, towerImages(scenes), []int{len(concepts), len(colours)}, p.Train, c.Progress); err != nil {
		return err
	}
	eval, err := TowerEval(m, p.World, p.Probe)
	if err != nil {
		return err
	}
	if err := pipeline.WriteJSON(filepath.Join(c.Out, evalFile), eval); err != nil {
		return err
	}
	return model.Save(filepath.Join(c.Out, "model"), m, stageMeta("vision", c.Seed))
}

// towerImages labels scenes for model.PretrainTower: head 0 the concept,
// head 1 the colour.
func towerImages(scenes []world.VisionScene) []model.TowerImage {
	out := make([]model.TowerImage, len(scenes))
	for i, s := range scenes {
		out[i].Image = s.Image
		for _, o := range s.Objects {
			out[i].Objects = append(out[i].Objects, model.TowerObject{Box: o.Box, Labels: []int{o.Concept, o.Colour}})
		}
	}
	return out
}

// TowerScore is the linear probes' top-1 accuracy on one art style's
// objects.
type TowerScore struct {
	Style   string  `json:"style"`
	Objects int     `json:"objects"`
	Concept float64 `json:"concept"`
	Colour  float64 `json:"colour"`
}

// TowerEval measures what m's vision tower tells apart: it fits a linear
// probe of each object's feature (model.Config.ObjectFeatures of the tower's
// output tokens) to the object's concept and one to its colour on n scenes
// of the world's vision stream (purpose "vision-probe"), and scores both on
// n other scenes ("vision-eval") per art style; the last row, style "all",
// pools the styles. With n = 0 there is nothing to score: no rows.
func TowerEval(m *model.Model, cfg world.Config, n int) ([]TowerScore, error) {
	if n <= 0 {
		return []TowerScore{}, nil
	}
	concepts, colours, err := world.VisionLabels(cfg)
	if err != nil {
		return nil, err
	}
	feats := func(purpose string) (x [][]float32, con, col []int, style []string, err error) {
		scenes, err := world.VisionScenes(cfg, purpose, 0, n)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		imgs := make([]image.Image, len(scenes))
		for i, s := range scenes {
			imgs[i] = s.Image
		}
		tok := model.TowerFeatures(m, imgs)
		for i, ti := range towerImages(scenes) {
			x = append(x, m.Cfg.ObjectFeatures(tok[i], ti.Objects)...)
			for _, o := range scenes[i].Objects {
				con, col, style = append(con, o.Concept), append(col, o.Colour), append(style, scenes[i].Style)
			}
		}
		return x, con, col, style, nil
	}
	xt, cont, colt, _, err := feats("vision-probe")
	if err != nil {
		return nil, err
	}
	xe, cone, cole, style, err := feats("vision-eval")
	if err != nil {
		return nil, err
	}
	pc := model.FitLinearProbe(xt, cont, len(concepts), 30, 1).Predict(xe)
	pk := model.FitLinearProbe(xt, colt, len(colours), 30, 2).Predict(xe)
	var rows []TowerScore
	index := map[string]int{}
	all := TowerScore{Style: "all"}
	for i, s := range style {
		k, ok := index[s]
		if !ok {
			k = len(rows)
			index[s] = k
			rows = append(rows, TowerScore{Style: s})
		}
		for _, r := range []*TowerScore{&rows[k], &all} {
			r.Objects++
			if pc[i] == cone[i] {
				r.Concept++
			}
			if pk[i] == cole[i] {
				r.Colour++
			}
		}
	}
	rows = append(rows, all)
	for i := range rows {
		rows[i].Concept /= float64(rows[i].Objects)
		rows[i].Colour /= float64(rows[i].Objects)
	}
	return rows, nil
}

// The tokens stage runs the vision stage's tower once over every image a
// run on the world reads, so that instruction tuning, the reference model,
// the gradient features and prediction (which keep the tower frozen) pay
// only for the projector and the decoder.
func init() {
	pipeline.Register(&pipeline.Stage{Name: "tokens", Version: "2", Arith: true, Run: runTokens})
}

// tokensFile is the tokens stage's output.
const tokensFile = "tokens.safetensors"

// tokensParams has no settings: the inputs (the tower and the world) are
// the key.
type tokensParams struct{}

// Tokens outputs tokens.safetensors (model.TowerTokens): the tower's output
// for the image file of every record of the world's mixture, then of every
// question of its suites (MMBench's as predict writes them out from its
// TSV, embeddedPNG).
func runTokens(ctx context.Context, c *pipeline.Call) error {
	m, err := model.Load(filepath.Join(c.Inputs["vision"], "model"))
	if err != nil {
		return err
	}
	w := c.Inputs["world"]
	recs, err := data.Load(filepath.Join(w, world.MixtureFile))
	if err != nil {
		return err
	}
	var files []func() ([]byte, error)
	for _, r := range recs {
		if r.Image != "" {
			files = append(files, func() ([]byte, error) { return worldImages(w).File(r.Image) })
		}
	}
	for _, b := range world.Suites() {
		f, err := world.Files(w, b)
		if err != nil {
			return err
		}
		qs, err := world.Questions(w, b)
		if err != nil {
			return err
		}
		for _, q := range qs {
			switch {
			case q.Embedded != nil:
				files = append(files, func() ([]byte, error) { return embeddedPNG(q.Embedded) })
			case q.Image != "":
				files = append(files, func() ([]byte, error) { return model.DirImages{Root: f.Images}.File(q.Image) })
			}
		}
	}
	t, err := model.ComputeTowerTokens(m, len(files), func(i int) ([]byte, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return files[i]()
	}, c.Progress)
	if err != nil {
		return err
	}
	return t.Save(filepath.Join(c.Out, tokensFile))
}
